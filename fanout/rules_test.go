package fanout_test

// TestRules runs the rule scripts of testdata/rules: one txtar file per rule
// of docs/events.md, in the small language testdata/rules/README.md
// describes. This file is the only Go a reader of the scripts needs never
// to open.

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
	"github.com/lenta-dev/lenta/timeline"
)

func TestRules(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "rules", "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule scripts in testdata/rules (%v)", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ar := txtar.Parse(data)
			if len(ar.Files) != 1 || ar.Files[0].Name != "script" || strings.TrimSpace(string(ar.Comment)) == "" {
				t.Fatalf("%s: want a comment stating the rule, then one section named script", f)
			}
			first := strings.Count(string(data[:len(data)-len(ar.Files[0].Data)]), "\n") + 1
			runScript(t, f, first, string(ar.Files[0].Data))
		})
	}
}

// The engine's clock reads an hour after script time 0.
var (
	scriptNow   = time.UnixMilli(1_700_000_000_000)
	scriptStart = scriptNow.Add(-time.Hour)
)

// script is one script's run: a fresh engine, notify hook and store.
type script struct {
	t      *testing.T
	ctx    context.Context
	file   string
	line   int    // line being run, in the .txtar file
	text   string // its text
	cfg    fanout.Config
	st     *pebblestore.Store
	proc   *fanout.Processor
	inbox  *notify.Inbox
	ledger *forgetting
	dead   *deadLog
	clock  time.Time                // time of the latest event
	events map[string]*schema.Event // by name, for again
	author map[string]int64         // item name -> author, for class owners
	users  map[int64]bool           // every user named, for again's snapshot
	objs   map[string]bool          // every item named, for again's snapshot
	// refused are the reason codes of the last event line's refusals, until
	// an "expect refused" takes them.
	refused     []string
	refusedLine int
}

func runScript(t *testing.T, file string, first int, body string) {
	s := &script{t: t, ctx: context.Background(), file: file, clock: scriptStart,
		events: map[string]*schema.Event{}, author: map[string]int64{}, users: map[int64]bool{}, objs: map[string]bool{}}
	for i, raw := range strings.Split(body, "\n") {
		s.line, s.text = first+i, strings.TrimSpace(raw)
		if c := strings.Index(s.text, "#"); c >= 0 {
			s.text = strings.TrimSpace(s.text[:c])
		}
		if s.text == "" {
			continue
		}
		f := strings.Fields(s.text)
		if f[0] == "expect" && len(f) > 1 && f[1] == "refused" {
			s.expectRefused(f[2:])
			continue
		}
		s.checkNoRefusal()
		switch f[0] {
		case "config":
			s.config(f[1:])
		case "expect":
			s.expect(s.text[len("expect"):])
		case "again":
			s.again(f[1:])
		default:
			s.deliver(s.event(f), "")
		}
	}
	s.checkNoRefusal()
}

// fail stops the script at the current line.
func (s *script) fail(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("%s:%d: %s\n\tline: %s", s.file, s.line, fmt.Sprintf(format, args...), s.text)
}

// mismatch reports a wrong expectation and lets the script go on.
func (s *script) mismatch(what, got, want string) {
	s.t.Helper()
	s.t.Errorf("%s:%d: %s\n\tline: %s\n\tgot:  %s\n\twant: %s", s.file, s.line, what, s.text, got, want)
}

func (s *script) config(f []string) {
	if s.proc != nil {
		s.fail("config must come before the first event or expectation")
	}
	if len(f) != 2 {
		s.fail("want: config <setting> <number>")
	}
	n := s.number(f[1])
	switch f[0] {
	case "large_threshold":
		s.cfg.LargeThreshold = n
	case "merge_recent":
		s.cfg.MergeRecent = int(n)
	case "timeline_cap":
		s.cfg.Policy.Cap, s.cfg.TrimEvery = int(n), 1
	default:
		s.fail("unknown setting %q (large_threshold, merge_recent, timeline_cap)", f[0])
	}
}

// start opens the store and wires the engine, the notify hook and the
// pipeline's processor as cmd/feedd does on the embedded store.
func (s *script) start() {
	if s.proc != nil {
		return
	}
	st, err := pebblestore.Open(s.t.TempDir(), pebblestore.Options{})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { st.Close() })
	now := func() time.Time { return scriptNow }
	s.st, s.inbox = st, notify.NewInbox(st.Notify())
	s.ledger, s.dead = &forgetting{Ledger: st.Ledger()}, &deadLog{}
	s.cfg.Now = now
	s.cfg.Comments = st.Comments()
	s.cfg.Hooks = []fanout.Hook{notify.NewHook(notify.HookConfig{Inbox: s.inbox, Queue: st.Notify(), Graph: st.Graph(), Now: now, Comments: st.Comments()})}
	s.proc = &fanout.Processor{Engine: fanout.NewEngine(st.Graph(), st.Objects(), st.Timelines(), s.ledger, s.cfg)}
	s.proc.Dead = s.dead
}

// deliver hands one event to the pipeline as the bus would (msgpack bytes)
// and keeps the codes of its refusals for an "expect refused".
func (s *script) deliver(ev *schema.Event, forget string) {
	s.start()
	raw, err := schema.MarshalMsgpack(ev)
	if err != nil {
		s.fail("encode: %v", err)
	}
	s.ledger.forget = forget
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	n := len(s.dead.letters)
	if err := s.proc.Process(ctx, [][]byte{raw}); err != nil {
		s.fail("the pipeline failed: %v", err)
	}
	for _, d := range s.dead.letters[n:] {
		if !slices.Contains(s.refused, d.Code) {
			s.refused = append(s.refused, d.Code)
		}
		s.t.Logf("%s:%d: refused (%s): %s", s.file, s.line, d.Code, d.Reason)
	}
	s.refusedLine = s.line
}

func (s *script) checkNoRefusal() {
	s.t.Helper()
	if len(s.refused) > 0 {
		s.t.Errorf("%s:%d: the event was refused (%s), but no \"expect refused\" follows it",
			s.file, s.refusedLine, strings.Join(s.refused, ", "))
		s.refused = nil
	}
}

func (s *script) expectRefused(f []string) {
	if len(f) != 1 {
		s.fail("want: expect refused <code>")
	}
	if got := strings.Join(s.refused, ", "); got != f[0] {
		if got == "" {
			got = "(accepted)"
		}
		s.mismatch("the event above is not refused as expected", got, f[0])
	}
	s.refused = nil
}

// again delivers a named event once more: first as a re-delivery the
// ledger remembers, then as one it has forgotten, so the engine itself
// must see it changes nothing; the whole observable state is compared.
func (s *script) again(f []string) {
	if len(f) != 1 || s.events[f[0]] == nil {
		s.fail("want: again <name of an event above>")
	}
	before := s.snapshot()
	ev := *s.events[f[0]]
	s.deliver(&ev, "")
	ev = *s.events[f[0]]
	s.deliver(&ev, ev.ID)
	if after := s.snapshot(); after != before {
		s.mismatch("delivering the event again changed the state", after, before)
	}
}

// snapshot is everything a script can observe of every user and item it
// has named.
func (s *script) snapshot() string {
	var b strings.Builder
	users := slices.Sorted(maps.Keys(s.users))
	for _, u := range users {
		fmt.Fprintf(&b, "\n\t\tfeed %d: %s / stored: %s / notifications: %s", u, s.feed(u), s.stored(u), s.notifications(u))
	}
	for _, o := range slices.Sorted(maps.Keys(s.objs)) {
		fmt.Fprintf(&b, "\n\t\tcount %s %d, reactions %s", o, s.count(o), s.reactions(o))
		fmt.Fprintf(&b, " / comments %d: %s", s.commentCount(o), s.comments(o))
	}
	return b.String()
}

// forgetting is the store's ledger, except that it has forgotten one id.
type forgetting struct {
	fanout.Ledger
	forget string
}

func (l *forgetting) Seen(ctx context.Context, ids []string) ([]fanout.LedgerMark, error) {
	marks, err := l.Ledger.Seen(ctx, ids)
	for i, id := range ids {
		if err == nil && id == l.forget {
			marks[i] = fanout.LedgerMark{}
		}
	}
	return marks, err
}

// deadLog keeps the pipeline's dead letters for the script to read.
type deadLog struct{ letters []fanout.DeadLetter }

func (d *deadLog) Put(_ context.Context, letters []fanout.DeadLetter) error {
	d.letters = append(d.letters, letters...)
	return nil
}

// expect checks one "expect" line (without its first word).
func (s *script) expect(rest string) {
	s.start()
	what, want, ok := strings.Cut(rest, ":")
	f := strings.Fields(what)
	if !ok && len(f) == 4 && f[0] == "comment" && f[1] == "count" {
		s.expectCommentCount(f[2], f[3])
		return
	}
	if len(f) == 2 && f[0] == "reactions" {
		s.objs[f[1]] = true
		s.expectReactions(f[1], want)
		return
	}
	if !ok {
		if len(f) != 3 || f[0] != "count" {
			s.fail("want: expect feed|stored feed|notifications <users>: <list>, or expect count <item> <n>")
		}
		s.objs[f[1]] = true
		if got, n := s.count(f[1]), s.number(f[2]); got != n {
			s.mismatch("Class count of "+f[1], strconv.FormatInt(got, 10), f[2])
		}
		s.countsShown(f[1], f[2])
		return
	}
	var read func(int64) string
	switch {
	case len(f) > 1 && f[0] == "feed":
		read, f = s.feed, f[1:]
	case len(f) > 2 && f[0] == "stored" && f[1] == "feed":
		read, f = s.stored, f[2:]
	case len(f) > 1 && f[0] == "notifications":
		read, f = s.notifications, f[1:]
	case len(f) == 2 && f[0] == "comments":
		s.objs[f[1]] = true
		if got := s.comments(f[1]); got != normList(want) {
			s.mismatch("comments on "+f[1], got, normList(want))
		}
		return
	case len(f) > 1 && f[0] == "mine":
		read, f = s.mine, f[1:]
	default:
		s.fail("want: expect feed|stored feed|notifications <users>: <list>")
	}
	want = normList(want)
	for _, u := range f {
		user := s.user(u)
		if got := read(user); got != want {
			s.mismatch(strings.Join(strings.Fields(what)[:len(strings.Fields(what))-len(f)], " ")+" of user "+u, got, want)
		}
	}
}

// normList spaces a "; "-separated list as the readers below print it.
func normList(l string) string {
	var parts []string
	for p := range strings.SplitSeq(l, ";") {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 || (len(parts) == 1 && parts[0] == "nothing") {
		return "nothing"
	}
	return strings.Join(parts, "; ")
}

func list(parts []string) string {
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "; ")
}

func ids(users []int64) string {
	s := make([]string, len(users))
	for i, u := range users {
		s[i] = strconv.FormatInt(u, 10)
	}
	return strings.Join(s, ",")
}

// page is user's home feed as the API reads it, newest first (a fresh
// reader each time: a reader caches the list of large authors).
func (s *script) page(user int64) []timeline.Item {
	r := timeline.NewReader(s.st.Timelines(), s.st.Graph(), s.st.Objects(),
		timeline.ReaderConfig{Now: s.cfg.Now, Policy: timeline.Policy{Cap: s.cfg.Policy.Cap}, Comments: s.st.Comments()})
	p, err := r.Page(s.ctx, user, timeline.Position{}, 100)
	if err != nil {
		s.fail("read feed of %d: %v", user, err)
	}
	return p.Items
}

// feed renders page: "post p", "class p by 3,2" (markers newest first).
func (s *script) feed(user int64) string {
	var out []string
	for _, it := range s.page(user) {
		if it.Type == "class" || it.Type == "comment" {
			out = append(out, fmt.Sprintf("%s %s by %s", it.Type, it.Object, ids(it.Actors)))
		} else {
			out = append(out, it.Type+" "+it.Object)
		}
	}
	return list(out)
}

// stored is the rows kept in user's home timeline, newest first: what the
// engine wrote and its clean-up left, before the reader's checks.
func (s *script) stored(user int64) string {
	rows, err := s.st.Timelines().Page(s.ctx, timeline.Home, user, timeline.Position{}, 1000)
	if err != nil {
		s.fail("read timeline of %d: %v", user, err)
	}
	var out []string
	for _, en := range rows {
		if en.Kind.Aggregated() {
			out = append(out, fmt.Sprintf("%s %s by %d", en.Kind, en.Object, en.Actor))
		} else {
			out = append(out, en.Kind.String()+" "+en.Object)
		}
	}
	return list(out)
}

// notifications is user's inbox, newest first.
func (s *script) notifications(user int64) string {
	p, err := s.inbox.Page(s.ctx, user, notify.Position{}, notify.MaxPageLimit)
	if err != nil {
		s.fail("read notifications of %d: %v", user, err)
	}
	var out []string
	for _, n := range p.Items {
		w := string(n.Kind)
		if n.Object != "" {
			w += " " + n.Object
		}
		w += " by " + ids(n.Actors)
		if len(n.Reactions) > 0 {
			w += " with " + strings.Join(n.Reactions, ",")
		}
		out = append(out, w)
	}
	return list(out)
}

// countsShown checks that every feed of a user the script named shows
// object's items and Class aggregates with the count want.
func (s *script) countsShown(object, want string) {
	for _, u := range slices.Sorted(maps.Keys(s.users)) {
		for _, it := range s.page(u) {
			if got := strconv.FormatInt(it.ClassCount, 10); it.Object == object && got != want {
				s.mismatch(fmt.Sprintf("Class count shown on %s %s in the feed of user %d", it.Type, object, u), got, want)
			}
		}
	}
}

func (s *script) count(object string) int64 {
	c, err := s.st.Objects().ClassCounts(s.ctx, []string{object})
	if err != nil {
		s.fail("read Class count of %s: %v", object, err)
	}
	return c[0]
}

// event reads an event line:
//
//	post|photo|live <item> by <user>      gift <item> from <user> to <user>
//	live_end|delete|class|unclass <item> by <user>
//	friend|unfriend|follow|unfollow|block|unblock <user> <user>
//	group_add|group_remove <user> <user> group <name>
//
// then options: audience <a>, until <time>, owner <user>, at <time>,
// as <name>.
func (s *script) event(f []string) *schema.Event {
	typ := schema.Type(f[0])
	if !typ.Known() {
		s.fail("unknown word %q: an event type of docs/events.md, config, again or expect", f[0])
	}
	ev := &schema.Event{V: 1, Type: typ}
	var name string
	word := func(i int, want string) {
		if len(f) <= i || f[i] != want {
			s.fail("want %q as word %d", want, i+1)
		}
	}
	var rest []string
	switch typ {
	case schema.Post, schema.Photo, schema.Live, schema.LiveEnd, schema.Delete, schema.Class, schema.Unclass,
		schema.React, schema.Unreact:
		word(2, "by")
		ev.Object, ev.Actor, rest = f[1], s.user(f[3]), f[4:]
	case schema.Comment, schema.CommentDelete:
		word(2, "on")
		word(4, "by")
		name, ev.Object, ev.Actor, rest = f[1], f[3], s.user(f[5]), f[6:]
		s.objs[ev.Object] = true
		if typ == schema.Comment {
			ev.Text = "text of " + name
		} else {
			ev.CommentID, name = name, "delete-"+name
		}
	case schema.Gift:
		word(2, "from")
		word(4, "to")
		ev.Object, ev.Actor, ev.Target, rest = f[1], s.user(f[3]), s.user(f[5]), f[6:]
	default:
		if len(f) < 3 {
			s.fail("want: %s <user> <user>", typ)
		}
		ev.Actor, ev.Target, rest = s.user(f[1]), s.user(f[2]), f[3:]
	}
	if typ.IsItem() {
		name, s.author[ev.Object], s.objs[ev.Object] = ev.Object, ev.Actor, true
		switch typ {
		case schema.Post:
			ev.Text = "text of " + name
		case schema.Photo:
			ev.Media = []string{"media-of-" + name}
		}
	}
	at := time.Time{}
	for len(rest) > 0 {
		if len(rest) < 2 {
			s.fail("option %q has no value", rest[0])
		}
		k, v := rest[0], rest[1]
		rest = rest[2:]
		switch k {
		case "audience":
			ev.Audience = v
		case "owner":
			ev.Target = s.user(v)
		case "group":
			ev.Object = v
		case "as":
			name = v
		case "reply":
			ev.ReplyTo = v
		case "bytes":
			ev.Text = strings.Repeat("x", int(s.number(v)))
		case "with":
			ev.Reaction = v
		case "until", "at":
			d := time.Duration(s.number(v)) * time.Second
			if len(rest) > 0 && units[rest[0]] != 0 {
				d, rest = time.Duration(s.number(v))*units[rest[0]], rest[1:]
			}
			if k == "at" {
				at = scriptStart.Add(d)
			} else {
				ev.Until = scriptStart.Add(d).UnixMilli()
			}
		default:
			s.fail("unknown option %q (audience, until, owner, group, at, as, reply, bytes, with)", k)
		}
	}
	if (typ == schema.Class || typ == schema.Unclass || typ == schema.React || typ == schema.Unreact) && ev.Target == 0 {
		if ev.Target = s.author[ev.Object]; ev.Target == 0 {
			s.fail("%s of an item the script never made: say whose it is (owner <user>)", typ)
		}
	}
	if at.IsZero() {
		at = s.clock.Add(time.Second) // one second after everything before it
	}
	if at.After(s.clock) {
		s.clock = at
	}
	ev.TS = at.UnixMilli()
	if name == "" {
		name = "line" + strconv.Itoa(s.line)
	}
	ev.ID = name
	s.events[name] = ev
	cp := *ev
	return &cp
}

var units = map[string]time.Duration{"s": time.Second, "min": time.Minute, "h": time.Hour, "days": 24 * time.Hour}

func (s *script) number(v string) int64 {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		s.fail("%q is not a number", v)
	}
	return n
}

func (s *script) user(v string) int64 {
	u := s.number(v)
	s.users[u] = true
	return u
}
