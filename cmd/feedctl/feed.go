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
	"unicode/utf8"

	"github.com/lenta-dev/lenta/timeline"
)

// cmdFeed fetches one page: feedctl feed --user ID [--limit N] [--cursor C].
func cmdFeed(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "feed", "--user ID [--limit N] [--cursor C] [--addr URL] [--json]")
	addr := addrFlag(e, fs)
	user := fs.Int64("user", 0, "whose feed (required unless --token is a user token)")
	limit := fs.Int("limit", 20, fmt.Sprintf("items per page, 1..%d", timeline.MaxPageLimit))
	cursor := fs.String("cursor", "", "continue after this cursor (printed under the previous page)")
	token := fs.String("token", "", "bearer token (default: mint a 15-minute token for --user with the secret); with a service token, --user names the feed to read")
	raw := fs.Bool("json", false, "print the server's JSON as is")
	secretFile := secretFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *limit < 1 || *limit > timeline.MaxPageLimit {
		return usagef("--limit must be 1..%d", timeline.MaxPageLimit)
	}
	if *user < 0 || (*user == 0 && *token == "") {
		return usagef("--user must be a positive user id")
	}
	tok := *token
	if tok == "" {
		var err error
		if tok, err = mint(e, *secretFile, *user, false); err != nil {
			return err
		}
	}
	q := url.Values{}
	q.Set("limit", strconv.Itoa(*limit))
	if *cursor != "" {
		q.Set("cursor", *cursor)
	}
	if *token != "" && *user > 0 {
		q.Set("user", strconv.FormatInt(*user, 10))
	}
	body, err := send(ctx, e, "GET", baseURL(*addr)+"/v1/feed?"+q.Encode(), tok, "", nil, 200)
	if err != nil {
		return err
	}
	if *raw {
		var out bytes.Buffer
		if err := json.Indent(&out, body, "", "  "); err != nil {
			return fmt.Errorf("unreadable answer: %w", err)
		}
		out.WriteByte('\n')
		_, err := e.stdout.Write(out.Bytes())
		return err
	}
	var page struct {
		Items      []timeline.Item `json:"items"`
		NextCursor string          `json:"next_cursor"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return fmt.Errorf("unreadable answer: %w", err)
	}
	printPage(e.stdout, *user, page.Items, page.NextCursor, *limit)
	return nil
}

func printPage(w io.Writer, user int64, items []timeline.Item, next string, limit int) {
	who := "your feed"
	if user > 0 {
		who = fmt.Sprintf("feed of user %d", user)
	}
	fmt.Fprintf(w, "%s: %d items\n", who, len(items))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, it := range items {
		when := time.UnixMilli(it.TS).Format("2006-01-02 15:04:05")
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", when, it.Type, it.EventID, describe(it))
	}
	tw.Flush()
	if next != "" {
		fmt.Fprintf(w, "more: feedctl feed --user %d --limit %d --cursor %s\n", user, limit, next)
	} else {
		fmt.Fprintln(w, "(end of feed)")
	}
}

// describe says what an item shows in one line. Text is quoted, so control
// characters in user content cannot reach the terminal.
func describe(it timeline.Item) string {
	var b strings.Builder
	switch it.Type {
	case "class":
		others := it.ActorCount - 1
		fmt.Fprintf(&b, "user %d", it.Actor)
		if others > 0 {
			fmt.Fprintf(&b, " and %d other friend(s)", others)
		}
		fmt.Fprintf(&b, " gave Class to %s %s of user %d", orDefault(it.ObjectType, "object"), it.Object, it.Owner)
	case "comment":
		others := it.ActorCount - 1
		fmt.Fprintf(&b, "user %d", it.Actor)
		if others > 0 {
			fmt.Fprintf(&b, " and %d other friend(s)", others)
		}
		fmt.Fprintf(&b, " commented on %s %s of user %d", orDefault(it.ObjectType, "object"), it.Object, it.Owner)
	case "gift":
		fmt.Fprintf(&b, "user %d gave gift %s to user %d", it.Actor, it.Object, it.Owner)
	case "live":
		fmt.Fprintf(&b, "user %d", it.Actor)
		if it.Live {
			fmt.Fprintf(&b, " is LIVE until %s", time.UnixMilli(it.Until).Format("15:04"))
		} else {
			b.WriteString(" was live")
		}
	default:
		fmt.Fprintf(&b, "by user %d", it.Actor)
	}
	if it.Text != "" {
		fmt.Fprintf(&b, " %q", clip(it.Text, 60))
	}
	if len(it.Media) > 0 {
		fmt.Fprintf(&b, " [%d media]", len(it.Media))
	}
	if it.Audience != "" && it.Audience != "public" {
		fmt.Fprintf(&b, " (%s)", it.Audience)
	}
	if it.ClassCount > 0 && it.Type != "class" {
		fmt.Fprintf(&b, " · %d Class", it.ClassCount)
	}
	if it.CommentCount > 0 {
		fmt.Fprintf(&b, " · %d comment(s)", it.CommentCount)
	}
	for _, k := range it.Reactions {
		if k.Kind != "class" && it.Type != "class" {
			fmt.Fprintf(&b, " · %d %s", k.N, k.Kind)
		}
	}
	if it.MyReaction != "" {
		fmt.Fprintf(&b, " (you: %s)", it.MyReaction)
	}
	return b.String()
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
