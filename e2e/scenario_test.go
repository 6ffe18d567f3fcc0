package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// backend is one way to run feedd under test.
type backend struct {
	name string
	args func(t *testing.T) []string
}

// backends lists the embedded store (always) and real Kafka + Cassandra
// when the environment names them (the test command does). Each run gets
// a fresh data folder, or a fresh keyspace, topics and consumer group.
func backends(t *testing.T) []backend {
	t.Helper()
	out := []backend{{name: "embedded", args: func(t *testing.T) []string {
		return []string{"--data", t.TempDir()}
	}}}
	kafka, cass := os.Getenv("LENTA_TEST_KAFKA"), os.Getenv("LENTA_TEST_CASSANDRA")
	switch {
	case kafka != "" && cass != "":
		out = append(out, backend{name: "kafka+cassandra", args: func(t *testing.T) []string {
			ns := fmt.Sprintf("e2e_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000_000)
			return []string{"--kafka", kafka, "--cassandra", cass, "--keyspace", ns,
				"--topic-prefix", ns + ".", "--group", ns, "--consistency", "ONE", "--partitions", "4"}
		}})
	case kafka != "" || cass != "":
		t.Fatal("set both LENTA_TEST_KAFKA and LENTA_TEST_CASSANDRA, or neither")
	default:
		t.Log("LENTA_TEST_KAFKA/LENTA_TEST_CASSANDRA not set: real-backend runs skipped (make test runs them)")
	}
	return out
}

// eachBackend runs test once per backend.
func eachBackend(t *testing.T, test func(t *testing.T, args []string)) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { test(t, b.args(t)) })
	}
}

// ev builds an event map in the wire format.
type ev map[string]any

// scenario is the story every backend must tell the same way.
type scenario struct {
	base  int64
	until int64 // end of the short broadcast e18
	all   []ev
	n     int
}

func (s *scenario) add(e ev) ev {
	s.n++
	e["ts"] = s.base + int64(s.n)*1000
	s.all = append(s.all, e)
	return e
}

func TestFeedSemantics(t *testing.T) { eachBackend(t, feedSemantics) }

func feedSemantics(t *testing.T, args []string) {
	f := startFeedd(t, append(args, "--large-threshold", "3")...)
	now := time.Now().UnixMilli()
	s := &scenario{base: now - 10*60_000}
	const (
		anna, boris, vera, gleb, dasha = 1, 2, 3, 4, 5
		club, star                     = 100, 200
	)
	// Phase A: the graph, then items.
	var phaseA []ev
	for i, e := range []ev{
		{"id": "g1", "type": "friend", "actor": anna, "target": boris},
		{"id": "g2", "type": "friend", "actor": anna, "target": vera},
		{"id": "g3", "type": "friend", "actor": boris, "target": vera},
		{"id": "g4", "type": "friend", "actor": anna, "target": gleb},
		{"id": "g5", "type": "follow", "actor": anna, "target": club},
		{"id": "g6", "type": "follow", "actor": boris, "target": club},
		{"id": "g7", "type": "follow", "actor": anna, "target": star},
		{"id": "g8", "type": "follow", "actor": boris, "target": star},
		{"id": "g9", "type": "follow", "actor": vera, "target": star},
		{"id": "g10", "type": "follow", "actor": gleb, "target": star},
		{"id": "g11", "type": "follow", "actor": dasha, "target": star},
		{"id": "g12", "type": "group_add", "actor": anna, "target": vera, "object": "close"},
		{"id": "e1", "type": "post", "actor": boris, "text": "hello", "audience": "public"},
		{"id": "e2", "type": "photo", "actor": anna, "object": "ph2", "media": []string{"https://img/2.jpg"}, "audience": "friends"},
		{"id": "e3", "type": "post", "actor": anna, "text": "close friends only", "audience": "group:close"},
		{"id": "e4", "type": "post", "actor": club, "text": "club news"},
		{"id": "e5", "type": "post", "actor": star, "text": "to my million fans"},
		{"id": "e6", "type": "class", "actor": vera, "target": anna, "object": "ph2"},
		{"id": "e7", "type": "class", "actor": boris, "target": anna, "object": "ph2"},
		{"id": "e8", "type": "gift", "actor": gleb, "target": boris, "object": "gift1"},
		{"id": "e9", "type": "live", "actor": vera, "object": "live1", "until": now + 3600_000},
		{"id": "e10", "type": "post", "actor": boris, "text": "second"},
	} {
		phaseA = append(phaseA, s.add(e))
		// Events of different actors have no order between them (only each
		// actor's own events do), so the graph settles before the items
		// that depend on it, as it would in life.
		if i == 11 {
			f.publish(phaseA...)
			f.settle(len(phaseA))
		}
	}
	f.publish(phaseA[12:]...)
	f.settle(len(phaseA))

	got := f.eventually(anna, "e10", "e9", "e8", "e7", "e5", "e4", "e3", "e2", "e1")
	agg := got[3]
	if agg.Type != "class" || agg.Object != "ph2" || agg.ActorCount != 2 || len(agg.Actors) != 2 ||
		agg.Actors[0] != boris || agg.Actors[1] != vera || agg.ClassCount != 2 || agg.Owner != anna {
		t.Fatalf("anna's Class aggregate: %+v", agg)
	}
	if got[7].ClassCount != 2 || got[7].Type != "photo" || len(got[7].Media) != 1 {
		t.Fatalf("anna's photo: %+v", got[7])
	}
	if !got[1].Live || got[1].Type != "live" {
		t.Fatalf("live item: %+v", got[1])
	}
	if got[0].Text != "second" {
		t.Fatalf("hydrated text: %+v", got[0])
	}
	got = f.eventually(boris, "e10", "e9", "e8", "e6", "e5", "e4", "e2", "e1")
	if a := got[3]; a.ActorCount != 1 || a.Actors[0] != vera || a.ClassCount != 2 {
		t.Fatalf("boris's Class aggregate: %+v", a)
	}
	f.eventually(vera, "e10", "e9", "e7", "e5", "e3", "e2", "e1")
	f.eventually(gleb, "e8", "e5", "e2")
	f.eventually(dasha, "e5")
	f.eventually(club, "e4")
	f.eventually(star, "e5")

	// Cursors: walking anna's feed two items at a time gives the same list.
	var walked []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		p := f.feedPage(anna, 2, cursor)
		walked = append(walked, ids(p.Items)...)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if strings.Join(walked, ",") != "e10,e9,e8,e7,e5,e4,e3,e2,e1" {
		t.Fatalf("paged walk: %v", walked)
	}
	// A cursor is bound to its feed: boris cannot use anna's, nobody can edit one.
	annaCursor := f.feedPage(anna, 2, "").NextCursor
	for name, c := range map[string]string{
		"foreign":  annaCursor,
		"tampered": annaCursor[:len(annaCursor)-2] + "AA",
		"garbage":  "not-a-cursor!",
	} {
		code, body := f.do("GET", "/v1/feed?order=recent&limit=2&cursor="+c, token(t, boris, false), "", nil)
		if code != http.StatusBadRequest || !strings.Contains(string(body), "cursor") {
			t.Fatalf("%s cursor: %d %s", name, code, body)
		}
	}

	// Phase B: things change.
	s.until = time.Now().UnixMilli() + 3000
	var phaseB []ev
	for _, e := range []ev{
		{"id": "e11", "type": "live_end", "actor": vera, "object": "live1"},
		{"id": "e12", "type": "delete", "actor": boris, "object": "e1"},
		{"id": "e13", "type": "unfriend", "actor": anna, "target": gleb},
		{"id": "e14", "type": "block", "actor": dasha, "target": star},
		{"id": "e15", "type": "friend", "actor": dasha, "target": boris},
		{"id": "e16", "type": "unclass", "actor": boris, "target": anna, "object": "ph2"},
		{"id": "e17", "type": "group_remove", "actor": anna, "target": vera, "object": "close"},
		{"id": "e18", "type": "live", "actor": boris, "object": "live2", "until": s.until},
	} {
		phaseB = append(phaseB, s.add(e))
	}
	f.publish(phaseB...)
	f.settle(len(phaseA) + len(phaseB))

	got = f.eventually(anna, "e18", "e10", "e6", "e5", "e4", "e3", "e2")
	if a := got[2]; a.Type != "class" || a.ActorCount != 1 || a.Actors[0] != vera || a.ClassCount != 1 {
		t.Fatalf("anna's aggregate after unclass: %+v", a)
	}
	f.eventually(boris, "e18", "e10", "e8", "e6", "e5", "e4", "e2")
	f.eventually(vera, "e18", "e10", "e5", "e2")
	f.eventually(gleb, "e8", "e5")
	f.eventually(dasha, "e18", "e10")

	// The short broadcast ends by its own clock.
	time.Sleep(time.Until(time.UnixMilli(s.until + 200)))
	f.eventually(anna, "e10", "e6", "e5", "e4", "e3", "e2")
	f.eventually(dasha, "e10")

	snapshot := func() string {
		var b strings.Builder
		for _, u := range []int64{anna, boris, vera, gleb, dasha, club, star} {
			j, _ := json.Marshal(f.feed(u))
			fmt.Fprintf(&b, "%d: %s\n", u, j)
		}
		return b.String()
	}
	before := snapshot()

	// Re-posting everything changes nothing: no duplicates, no double counts.
	f.publish(s.all...)
	f.settle(2 * len(s.all))
	if after := snapshot(); after != before {
		t.Fatalf("re-delivery changed feeds:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// A rejected request stores nothing: one bad event spoils the batch.
	bad, _ := json.Marshal([]ev{
		{"id": "x1", "type": "post", "actor": anna, "text": "never", "ts": time.Now().UnixMilli()},
		{"id": "x2", "type": "friend", "actor": anna, "target": anna, "ts": time.Now().UnixMilli()},
	})
	if code, body := f.do("POST", "/v1/events", token(t, anna, false), "application/json", bad); code != 400 {
		t.Fatalf("batch with a bad event: %d %s", code, body)
	}
	// Publishing as someone else is refused.
	forged, _ := json.Marshal(ev{"id": "x3", "type": "post", "actor": boris, "text": "as boris", "ts": time.Now().UnixMilli()})
	if code, body := f.do("POST", "/v1/events", token(t, anna, false), "application/json", forged); code != 403 {
		t.Fatalf("publishing as another user: %d %s", code, body)
	}
	time.Sleep(300 * time.Millisecond)
	if after := snapshot(); after != before {
		t.Fatalf("a refused request changed feeds:\n%s\nvs\n%s", before, after)
	}

	// Data survives a restart (embedded: the same folder; real backends:
	// the same keyspace and topics).
	f2 := f.restart()
	if after := snapshotOf(f2, anna, boris, vera, gleb, dasha, club, star); after != before {
		t.Fatalf("restart changed feeds:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func snapshotOf(f *feedd, users ...int64) string {
	var b strings.Builder
	for _, u := range users {
		j, _ := json.Marshal(f.feed(u))
		fmt.Fprintf(&b, "%d: %s\n", u, j)
	}
	return b.String()
}
