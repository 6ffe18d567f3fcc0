package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	kafkabus "github.com/lenta-dev/lenta/bus/kafka"
	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
	"github.com/lenta-dev/lenta/timeline"
)

// logContents is what the events topic holds, read back after a run.
type logContents struct {
	records    int
	duplicates int              // records whose event id an earlier record had
	byPhase    [][]schema.Event // graph, posts, deletes, marks; partition then offset order
	dead       int              // records on the dead-letter topic
	deadReason []string
}

func phaseOf(id string) int {
	switch {
	case strings.HasPrefix(id, "f-"):
		return 0
	case strings.HasPrefix(id, "p-"):
		return 1
	case strings.HasPrefix(id, "d-"):
		return 2
	default:
		return 3
	}
}

// readLog reads the deployment's events and dead-letter topics.
func (d *deployment) readLog(ctx context.Context) logContents {
	d.t.Helper()
	cfg := kafkabus.Config{Brokers: strings.Split(d.flag("--kafka"), ","), TopicPrefix: d.flag("--topic-prefix")}
	lc := logContents{byPhase: make([][]schema.Event, 4)}
	seen := map[string]bool{}
	err := kafkabus.ReadLog(ctx, cfg, cfg.EventsTopic(), func(r kafkabus.LogRecord) error {
		lc.records++
		e, err := schema.UnmarshalMsgpack(r.Value)
		if err != nil {
			return fmt.Errorf("record %d/%d does not decode: %w", r.Partition, r.Offset, err)
		}
		if seen[e.ID] {
			lc.duplicates++
		}
		seen[e.ID] = true
		lc.byPhase[phaseOf(e.ID)] = append(lc.byPhase[phaseOf(e.ID)], e)
		return nil
	})
	if err != nil {
		d.t.Fatalf("read the event log: %v", err)
	}
	err = kafkabus.ReadLog(ctx, cfg, cfg.DeadLetterTopic(), func(r kafkabus.LogRecord) error {
		lc.dead++
		if len(lc.deadReason) < 5 {
			lc.deadReason = append(lc.deadReason, fmt.Sprint(r.Headers))
		}
		return nil
	})
	if err != nil {
		d.t.Fatalf("read the dead letters: %v", err)
	}
	return lc
}

// flag is the value of one of the deployment's common flags.
func (d *deployment) flag(name string) string {
	for i := 0; i+1 < len(d.common); i++ {
		if d.common[i] == name {
			return d.common[i+1]
		}
	}
	d.t.Fatalf("no flag %s", name)
	return ""
}

// reference applies the event log, phase by phase, to a fresh embedded
// store with the same engine feedd runs, and returns its feed reader: the
// expected state, computed from what the bus holds, by a path that saw no
// fault.
func reference(t *testing.T, lc logContents) *timeline.Reader {
	t.Helper()
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	engine := fanout.NewEngine(st.Graph(), st.Objects(), st.Timelines(), st.Ledger(), fanout.Config{Comments: st.Comments()})
	ctx := context.Background()
	now := time.Now()
	for phase, evs := range lc.byPhase {
		for i := 0; i < len(evs); i += 500 {
			batch := slices.Clone(evs[i:min(i+500, len(evs))])
			for j := range batch {
				if err := batch[j].Normalize(now); err != nil {
					t.Fatalf("reference: event %q: %v", batch[j].ID, err)
				}
			}
			res, err := engine.Apply(ctx, batch)
			if err != nil {
				t.Fatalf("reference: phase %d: %v", phase, err)
			}
			if len(res.Rejected) > 0 {
				t.Fatalf("reference: the workload has no bad event, yet %d were rejected: %+v", len(res.Rejected), res.Rejected[0])
			}
		}
	}
	return timeline.NewReader(st.Timelines(), st.Graph(), st.Objects(), timeline.ReaderConfig{Comments: st.Comments()})
}

// comparison is the outcome of comparing every user's feed.
type comparison struct {
	Users       int      `json:"users"`
	Items       int      `json:"items"`
	Posts       int      `json:"post_items"`
	ClassItems  int      `json:"class_items"`
	Mismatched  int      `json:"mismatched_users"`
	Lost        int      `json:"lost_items"`
	Extra       int      `json:"extra_items"`
	BadCounts   int      `json:"wrong_class_counts"`
	LogRecords  int      `json:"log_records"`
	LogDup      int      `json:"log_duplicates"`
	DeadLetters int      `json:"dead_letters"`
	Examples    []string `json:"examples,omitempty"`
}

func (c comparison) exact() bool {
	return c.Mismatched == 0 && c.Lost == 0 && c.Extra == 0 && c.BadCounts == 0 && c.DeadLetters == 0
}

func (c comparison) String() string {
	return fmt.Sprintf("%d users, %d items (%d posts, %d class entries) compared: %d users differ, %d lost, %d extra, %d wrong Class counts; log %d records (%d re-sent), %d dead letters",
		c.Users, c.Items, c.Posts, c.ClassItems, c.Mismatched, c.Lost, c.Extra, c.BadCounts, c.LogRecords, c.LogDup, c.DeadLetters)
}

// verify compares every user's feed, as the deployment's reader serves it
// (base: its HTTP address), with the reference computed from the event
// log, and with the workload's own model (which posts each user sees and
// each post's Class count). It fails t unless both match exactly.
func (d *deployment) verify(w *workload, base string) comparison {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var lc logContents
	if d.embedded {
		lc = w.asLog(d.t)
	} else {
		lc = d.readLog(ctx)
	}
	var c comparison
	c.LogRecords, c.LogDup, c.DeadLetters = lc.records, lc.duplicates, lc.dead
	// Nothing accepted may be missing from the log.
	inLog := map[string]bool{}
	for _, evs := range lc.byPhase {
		for _, e := range evs {
			inLog[e.ID] = true
		}
	}
	for _, group := range [][]ev{w.graph, w.posts, w.deletes, w.marks} {
		for _, e := range group {
			if !inLog[e.ID] {
				d.t.Fatalf("accepted event %q is not in the event log", e.ID)
			}
		}
	}
	ref := reference(d.t, lc)
	counts := w.classCounts()
	reactions := w.reactionCounts()
	for u := int64(1); u <= int64(w.users); u++ {
		got, err := d.readFeed(ctx, base, u)
		if err != nil {
			d.t.Fatalf("feed of %d: %v", u, err)
		}
		want := referenceFeed(d.t, ref, u)
		c.Users++
		c.Items += len(got)
		if !reflect.DeepEqual(got, want) {
			c.Mismatched++
			gotIDs, wantIDs := itemKeys(got), itemKeys(want)
			lost, extra := diff(wantIDs, gotIDs), diff(gotIDs, wantIDs)
			c.Lost += len(lost)
			c.Extra += len(extra)
			if len(c.Examples) < 5 {
				c.Examples = append(c.Examples, fmt.Sprintf("user %d: %d items, want %d; lost %v extra %v", u, len(got), len(want), head(lost), head(extra)))
			}
		}
		// The workload's own model: the posts, and their counts.
		var posts []string
		for _, it := range got {
			switch it.Type {
			case "post":
				c.Posts++
				posts = append(posts, it.EventID)
				if it.ClassCount != counts[it.Object] {
					c.BadCounts++
					if len(c.Examples) < 5 {
						c.Examples = append(c.Examples, fmt.Sprintf("user %d: %s has class_count %d, want %d", u, it.Object, it.ClassCount, counts[it.Object]))
					}
				}
				if got, want := renderReactions(&it), renderModel(reactions[it.Object]); got != want {
					c.BadCounts++
					if len(c.Examples) < 5 {
						c.Examples = append(c.Examples, fmt.Sprintf("user %d: %s has reactions %q, want %q", u, it.Object, got, want))
					}
				}
			case "class":
				c.ClassItems++
			}
		}
		wantPosts := w.postsSeenBy(u)
		slices.Sort(posts)
		if !slices.Equal(posts, wantPosts) {
			lost, extra := diff(wantPosts, posts), diff(posts, wantPosts)
			c.Lost += len(lost)
			c.Extra += len(extra)
			if len(c.Examples) < 5 {
				c.Examples = append(c.Examples, fmt.Sprintf("user %d (model): lost posts %v extra %v", u, head(lost), head(extra)))
			}
			c.Mismatched++
		}
	}
	if lc.dead > 0 {
		c.Examples = append(c.Examples, fmt.Sprintf("dead letters: %v", lc.deadReason))
	}
	d.t.Logf("exact-state comparison: %s", c)
	if !c.exact() {
		d.t.Errorf("state differs from the event log: %s\n%s", c, strings.Join(c.Examples, "\n"))
	}
	return c
}

// readFeed reads user's whole feed, newest first, through the HTTP API.
func (d *deployment) readFeed(ctx context.Context, base string, user int64) ([]timeline.Item, error) {
	tok := d.token(user, false)
	var out []timeline.Item
	cursor := ""
	for range 100 {
		path := base + "/v1/feed?order=recent&limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		code, body, err := request(ctx, "GET", path, tok, "", nil)
		if err != nil {
			return nil, err
		}
		if code != 200 {
			return nil, fmt.Errorf("status %d: %s", code, truncate(string(body), 200))
		}
		var p struct {
			Items      []timeline.Item `json:"items"`
			NextCursor string          `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" || len(p.Items) == 0 {
			return out, nil
		}
		cursor = p.NextCursor
	}
	return nil, fmt.Errorf("more than 100 pages")
}

// referenceFeed reads user's whole feed from the reference, normalised as
// the HTTP API's JSON would have it.
func referenceFeed(t *testing.T, r *timeline.Reader, user int64) []timeline.Item {
	t.Helper()
	var items []timeline.Item
	var after timeline.Position
	for range 100 {
		p, err := r.Page(context.Background(), user, after, 100)
		if err != nil {
			t.Fatalf("reference feed of %d: %v", user, err)
		}
		items = append(items, p.Items...)
		if p.Next.IsTop() || len(p.Items) == 0 {
			break
		}
		after = p.Next
	}
	b, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	var out []timeline.Item
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func itemKeys(items []timeline.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Type + ":" + it.EventID + ":" + strconv.FormatInt(it.ClassCount, 10) + ":" + renderReactions(&it) + ":" + it.MyReaction
	}
	slices.Sort(out)
	return out
}

// diff is the elements of a (sorted) not in b (sorted).
func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			out = append(out, x)
		}
	}
	return out
}

func head(s []string) []string { return s[:min(len(s), 3)] }

// postsSeenBy is the model's answer to which posts user sees: those not
// deleted by the user or their friends (audience friends), sorted by id.
func (w *workload) postsSeenBy(user int64) []string {
	var out []string
	for _, p := range w.posts {
		if w.deleted[p.ID] {
			continue
		}
		if p.Actor == user || slices.Contains(w.friends[user], p.Actor) {
			out = append(out, p.ID)
		}
	}
	slices.Sort(out)
	return out
}

// classCounts is the model's Class count of each object: the markers whose
// last mark (in publication order, which is ts order) is a Class! (a class,
// or a react of kind class).
func (w *workload) classCounts() map[string]int64 {
	out := map[string]int64{}
	for o, kinds := range w.reactionCounts() {
		out[o] = kinds["class"]
	}
	return out
}

// reactionCounts is the model's count of each reaction kind per object:
// each marker's last mark (class, react, unclass or unreact: one slot per
// marker and object) decides its kind, or none.
func (w *workload) reactionCounts() map[string]map[string]int64 {
	last := map[[2]string]string{}
	for _, m := range w.marks {
		k := [2]string{strconv.FormatInt(m.Actor, 10), m.Object}
		switch m.Type {
		case "class":
			last[k] = "class"
		case "react":
			last[k] = m.Reaction
		default:
			last[k] = ""
		}
	}
	out := map[string]map[string]int64{}
	for k, kind := range last {
		if kind == "" {
			continue
		}
		if out[k[1]] == nil {
			out[k[1]] = map[string]int64{}
		}
		out[k[1]][kind]++
	}
	return out
}

// renderReactions is "class=1 love=2" of an item's reactions, or of a
// model's counts (kinds in the item's order: class first, then by name).
func renderReactions(it *timeline.Item) string {
	var parts []string
	for _, k := range it.Reactions {
		parts = append(parts, k.Kind+"="+strconv.FormatInt(k.N, 10))
	}
	return strings.Join(parts, " ")
}

func renderModel(kinds map[string]int64) string {
	var parts []string
	if n := kinds["class"]; n > 0 {
		parts = append(parts, "class="+strconv.FormatInt(n, 10))
	}
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		if k != "class" && kinds[k] > 0 {
			parts = append(parts, k+"="+strconv.FormatInt(kinds[k], 10))
		}
	}
	return strings.Join(parts, " ")
}

// asLog is the workload as the log would hold it, for a deployment whose
// log cannot be read back from outside (embedded).
func (w *workload) asLog(t *testing.T) logContents {
	t.Helper()
	lc := logContents{byPhase: make([][]schema.Event, 4)}
	for i, group := range [][]ev{w.graph, w.posts, w.deletes, w.marks} {
		for j := 0; j < len(group); j += 1000 {
			b, err := json.Marshal(group[j:min(j+1000, len(group))])
			if err != nil {
				t.Fatal(err)
			}
			evs, err := schema.DecodeJSONBatch(b)
			if err != nil {
				t.Fatalf("workload does not decode: %v", err)
			}
			lc.byPhase[i] = append(lc.byPhase[i], evs...)
			lc.records += len(evs)
		}
	}
	return lc
}
