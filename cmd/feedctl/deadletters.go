package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// cmdDeadLetters is feedctl deadletters list|replay: the operator's view of
// the fan-out dead letters, through the admin routes of a running feedd
// (which reads its embedded store or the Kafka dead-letter topic).
func cmdDeadLetters(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stderr, `Usage: feedctl deadletters list [--reason CODE] [--id ID]... [--limit N] [--json]
       feedctl deadletters replay (--id ID... | --reason CODE) [--json]

list prints each dead letter: time, reason code, event id, source position,
whether it was replayed, and the detail. replay puts the chosen letters back
onto the event log and marks them replayed; replaying twice changes nothing.
Reason codes: malformed, invalid, not_owner, blocked, not_visible,
id_conflict, other. Run "feedctl deadletters list -h" for the flags.
`)
		if len(args) == 0 {
			return usagef("deadletters needs list or replay")
		}
		return nil
	}
	switch args[0] {
	case "list":
		return deadList(ctx, e, args[1:])
	case "replay":
		return deadReplay(ctx, e, args[1:])
	}
	return usagef("unknown deadletters command %q (list or replay)", args[0])
}

// multiFlag collects a repeated flag; a value may also hold ids separated
// by commas.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*m = append(*m, s)
		}
	}
	return nil
}

type deadFlags struct {
	addr, token, secretFile, reason *string
	ids                             multiFlag
	raw                             *bool
	limit                           *int
}

func newDeadFlags(e *env, name, synopsis string) (*deadFlags, func([]string) error) {
	fs := newFlags(e, "deadletters "+name, synopsis)
	d := &deadFlags{
		addr:   addrFlag(e, fs),
		token:  fs.String("token", "", "service bearer token (default: mint a 15-minute service token with the secret)"),
		reason: fs.String("reason", "", "only letters with this reason code"),
		raw:    fs.Bool("json", false, "print the server's JSON"),
	}
	d.secretFile = secretFlag(fs)
	fs.Var(&d.ids, "id", "only letters of this event id (repeat, or comma-separated)")
	if name == "list" {
		d.limit = fs.Int("limit", 0, "list at most this many (0: all)")
	}
	return d, func(args []string) error {
		if err := parse(fs, args); err != nil {
			return err
		}
		if d.limit != nil && *d.limit < 0 {
			return usagef("--limit must be >= 0")
		}
		return nil
	}
}

func (d *deadFlags) tok(e *env) (string, error) {
	if *d.token != "" {
		return *d.token, nil
	}
	return mint(e, *d.secretFile, serviceUser, true)
}

type deadLetterRow struct {
	Reason   string `json:"reason"`
	EventID  string `json:"event_id"`
	Source   string `json:"source"`
	TS       int64  `json:"ts"`
	Detail   string `json:"detail"`
	Replayed bool   `json:"replayed"`
}

func deadList(ctx context.Context, e *env, args []string) error {
	d, parseArgs := newDeadFlags(e, "list", "[--reason CODE] [--id ID]... [--limit N] [--addr URL] [--json]")
	if err := parseArgs(args); err != nil {
		return err
	}
	tok, err := d.tok(e)
	if err != nil {
		return err
	}
	q := url.Values{}
	if *d.reason != "" {
		q.Set("reason", *d.reason)
	}
	for _, id := range d.ids {
		q.Add("id", id)
	}
	if *d.limit > 0 {
		q.Set("limit", strconv.Itoa(*d.limit))
	}
	body, err := send(ctx, e, "GET", baseURL(*d.addr)+"/v1/admin/deadletters?"+q.Encode(), tok, "", nil, 200)
	if err != nil {
		return err
	}
	if *d.raw {
		return printJSON(e.stdout, body)
	}
	var out struct {
		Letters []deadLetterRow `json:"letters"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("unreadable answer: %w", err)
	}
	printDeadLetters(e.stdout, out.Letters)
	return nil
}

func printDeadLetters(w io.Writer, letters []deadLetterRow) {
	fmt.Fprintf(w, "%d dead letter(s), newest first\n", len(letters))
	if len(letters) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TIME\tREASON\tEVENT ID\tSOURCE\tREPLAYED\tDETAIL")
	for _, l := range letters {
		when := time.UnixMilli(l.TS).UTC().Format("2006-01-02 15:04:05")
		replayed := "no"
		if l.Replayed {
			replayed = "yes"
		}
		// %q keeps control characters of user content off the terminal.
		fmt.Fprintf(tw, "  %s\t%s\t%q\t%s\t%s\t%q\n", when, l.Reason, l.EventID, l.Source, replayed, l.Detail)
	}
	tw.Flush()
}

func deadReplay(ctx context.Context, e *env, args []string) error {
	d, parseArgs := newDeadFlags(e, "replay", "(--id ID... | --reason CODE) [--addr URL] [--json]")
	if err := parseArgs(args); err != nil {
		return err
	}
	if len(d.ids) == 0 && *d.reason == "" {
		return usagef("replay needs --id or --reason")
	}
	tok, err := d.tok(e)
	if err != nil {
		return err
	}
	req, err := json.Marshal(map[string]any{"ids": []string(d.ids), "reason": *d.reason})
	if err != nil {
		return err
	}
	body, err := send(ctx, e, "POST", baseURL(*d.addr)+"/v1/admin/deadletters/replay", tok, "application/json", bytes.NewReader(req), 200)
	if err != nil {
		return err
	}
	if *d.raw {
		return printJSON(e.stdout, body)
	}
	var rep struct {
		Replayed []string `json:"replayed"`
		Skipped  []struct {
			EventID string `json:"event_id"`
			Source  string `json:"source"`
			Why     string `json:"why"`
		} `json:"skipped"`
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		return fmt.Errorf("unreadable answer: %w", err)
	}
	fmt.Fprintf(e.stdout, "replayed %d event(s)\n", len(rep.Replayed))
	for _, id := range rep.Replayed {
		fmt.Fprintf(e.stdout, "  %q\n", id)
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(e.stdout, "skipped %q (%s): %q\n", s.EventID, s.Source, s.Why)
	}
	return nil
}

func printJSON(w io.Writer, body []byte) error {
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		return fmt.Errorf("unreadable answer: %w", err)
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}
