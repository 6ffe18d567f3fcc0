package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"
)

type explain struct {
	Score      float64 `json:"score"`
	TypeWeight float64 `json:"type_weight"`
	LiveBoost  float64 `json:"live_boost"`
	Affinity   float64 `json:"affinity"`
	Freshness  float64 `json:"freshness"`
	Engagement float64 `json:"engagement"`
	Diversity  float64 `json:"diversity"`
}

type rankedItem struct {
	item
	Explain *explain `json:"explain"`
}

type rankedPage struct {
	Items      []rankedItem `json:"items"`
	NextCursor string       `json:"next_cursor"`
}

// rankedPage reads one page of user's feed in the default (ranked) order.
func (f *feedd) rankedPage(user int64, limit int, cursor string, explain bool) rankedPage {
	f.t.Helper()
	path := "/v1/feed?limit=" + strconv.Itoa(limit)
	if cursor != "" {
		path += "&cursor=" + cursor
	}
	if explain {
		path += "&explain=1"
	}
	code, body := f.do("GET", path, token(f.t, user, false), "", nil)
	if code != 200 {
		f.t.Fatalf("ranked feed of %d: %d %s", user, code, body)
	}
	var p rankedPage
	if err := json.Unmarshal(body, &p); err != nil {
		f.t.Fatalf("ranked feed of %d: %v: %s", user, err, body)
	}
	return p
}

func rankedIDs(items []rankedItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.EventID
	}
	return out
}

func TestRankedFeed(t *testing.T) { eachBackend(t, rankedFeed) }

func rankedFeed(t *testing.T, args []string) {
	f := startFeedd(t, args...)
	now := time.Now().UnixMilli()
	minute := int64(60_000)
	const (
		anna, boris, vera, gleb = 1, 2, 3, 4
		zoe                     = 20 // the diversity viewer; her friends are 21..25
	)
	total := 0
	send := func(evs ...ev) {
		t.Helper()
		f.publish(evs...)
		total += len(evs)
		f.settle(total)
	}
	// The graph first (events of different actors have no order between them).
	graph := []ev{
		{"id": "r-g1", "type": "friend", "actor": anna, "target": boris, "ts": now - 3000*minute},
		{"id": "r-g2", "type": "friend", "actor": anna, "target": vera, "ts": now - 3000*minute},
		{"id": "r-g3", "type": "friend", "actor": anna, "target": gleb, "ts": now - 3000*minute},
		{"id": "r-g4", "type": "group_add", "actor": anna, "target": vera, "object": "close", "ts": now - 3000*minute},
	}
	for u := int64(21); u <= 25; u++ {
		graph = append(graph, ev{"id": fmt.Sprintf("r-z%d", u), "type": "friend", "actor": zoe, "target": u, "ts": now - 3000*minute})
	}
	send(graph...)
	// Anna's history: she cares about vera (a gift, a Class) and a little
	// about boris (two Classes); gleb is an acquaintance.
	send(
		ev{"id": "r-v0", "type": "post", "actor": vera, "text": "vera earlier", "ts": now - 2000*minute},
		ev{"id": "r-b0", "type": "post", "actor": boris, "text": "boris earlier", "ts": now - 2000*minute},
		ev{"id": "r-b00", "type": "post", "actor": boris, "text": "boris earlier 2", "ts": now - 1990*minute},
	)
	send(
		ev{"id": "r-c1", "type": "class", "actor": anna, "target": vera, "object": "r-v0", "ts": now - 1500*minute},
		ev{"id": "r-gift", "type": "gift", "actor": anna, "target": vera, "object": "r-gift", "audience": "private", "ts": now - 1500*minute},
		ev{"id": "r-c2", "type": "class", "actor": anna, "target": boris, "object": "r-b0", "ts": now - 1499*minute},
		ev{"id": "r-c3", "type": "class", "actor": anna, "target": boris, "object": "r-b00", "ts": now - 1498*minute},
	)

	// 1. A close friend's fresh photo outranks an acquaintance's older post
	// (and even his newer one).
	send(
		ev{"id": "r-g-old", "type": "post", "actor": gleb, "text": "older", "ts": now - 120*minute},
		ev{"id": "r-v-photo", "type": "photo", "actor": vera, "media": []string{"https://img/v.jpg"}, "ts": now - 20*minute},
		ev{"id": "r-g-new", "type": "post", "actor": gleb, "text": "newer", "ts": now - 1*minute},
	)
	recent := ids(f.feed(anna))
	if pos := slices.Index(recent, "r-g-new"); pos < 0 || pos > slices.Index(recent, "r-v-photo") {
		t.Fatalf("newest first: %v", recent)
	}
	p := f.rankedPage(anna, 20, "", true)
	got := rankedIDs(p.Items)
	photo, older, newer := slices.Index(got, "r-v-photo"), slices.Index(got, "r-g-old"), slices.Index(got, "r-g-new")
	if photo < 0 || older < 0 || newer < 0 || photo > older || photo > newer {
		t.Fatalf("ranked: %v (photo %d, gleb's older %d, newer %d)", got, photo, older, newer)
	}
	// explain=1: every item carries its score, and the factors multiply to it.
	for _, it := range p.Items {
		x := it.Explain
		if x == nil {
			t.Fatalf("item %s has no explain", it.EventID)
		}
		prod := x.TypeWeight * x.LiveBoost * x.Affinity * x.Freshness * x.Engagement * x.Diversity
		if math.Abs(prod-x.Score) > 1e-9*math.Max(1, x.Score) {
			t.Fatalf("item %s: factors %+v multiply to %v, not the score", it.EventID, *x, prod)
		}
	}
	if a, b := p.Items[photo].Explain.Affinity, p.Items[newer].Explain.Affinity; a <= b {
		t.Fatalf("vera's affinity %v is not above gleb's %v", a, b)
	}
	if q := f.rankedPage(anna, 20, "", false); q.Items[0].Explain != nil {
		t.Fatal("explain without explain=1")
	}

	// 2. A live broadcast jumps up while live and drops when it ends.
	send(
		ev{"id": "r-b-post", "type": "post", "actor": boris, "text": "just a post", "ts": now},
		ev{"id": "r-live", "type": "live", "actor": boris, "object": "r-live", "until": now + 3600_000, "ts": now},
	)
	got = rankedIDs(f.rankedPage(anna, 20, "", false).Items)
	if got[0] != "r-live" || slices.Index(got, "r-b-post") < slices.Index(got, "r-v-photo") {
		t.Fatalf("while live: %v (want r-live first, boris's post of the same moment below vera's photo)", got)
	}
	send(ev{"id": "r-live-end", "type": "live_end", "actor": boris, "object": "r-live", "ts": now + 1})
	if got = rankedIDs(f.rankedPage(anna, 20, "", false).Items); slices.Contains(got, "r-live") {
		t.Fatalf("after live_end: %v", got)
	}

	// 3. Five posts in a row by one author are spread out.
	var burst []ev
	for u := int64(22); u <= 25; u++ {
		burst = append(burst,
			ev{"id": fmt.Sprintf("r-o%d", u), "type": "post", "actor": u, "text": "hi", "ts": now - (10+u-22)*minute},
			ev{"id": fmt.Sprintf("r-oo%d", u), "type": "post", "actor": u, "text": "earlier", "ts": now - (180+u-22)*minute})
	}
	for i := 1; i <= 5; i++ {
		burst = append(burst, ev{"id": fmt.Sprintf("r-d%d", i), "type": "post", "actor": 21, "text": "again", "ts": now - int64(6-i)*minute})
	}
	send(burst...)
	if top := ids(f.feedPage(zoe, 5, "").Items); !slices.Equal(top, []string{"r-d5", "r-d4", "r-d3", "r-d2", "r-d1"}) {
		t.Fatalf("newest first, zoe: %v", top)
	}
	ranked := f.rankedPage(zoe, 20, "", false).Items
	var at []int
	for i, it := range ranked {
		if it.Actor == 21 {
			at = append(at, i)
		}
	}
	if len(at) != 5 || at[1] < 2 || at[4]-at[0] < 8 {
		t.Fatalf("zoe's ranked feed %v: the burst is at %v, want it spread (no two first, at least 8 apart)", rankedIDs(ranked), at)
	}

	// 4. Ranked pages never repeat or skip an item while events keep arriving.
	before := ids(f.feed(anna))
	seen := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		if page > 30 {
			t.Fatal("ranked pagination does not end")
		}
		p := f.rankedPage(anna, 3, cursor, page%2 == 0)
		for _, it := range p.Items {
			if seen[it.EventID] {
				t.Fatalf("page %d repeats %s", page, it.EventID)
			}
			seen[it.EventID] = true
		}
		// Meanwhile: new posts, a Class that changes counts and affinities.
		send(
			ev{"id": fmt.Sprintf("r-new%d", page), "type": "post", "actor": gleb, "text": "new", "ts": time.Now().UnixMilli()},
			ev{"id": fmt.Sprintf("r-cl%d", page), "type": "class", "actor": vera, "target": gleb, "object": "r-g-old", "ts": time.Now().UnixMilli()},
		)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	for _, id := range before {
		if !seen[id] {
			t.Errorf("the ranked walk skipped %s (feed at the start: %v)", id, before)
		}
	}
	for id := range seen {
		if !slices.Contains(before, id) {
			t.Errorf("the ranked walk showed %s, which arrived after it started", id)
		}
	}
	// A newest-first cursor is not a ranked cursor.
	rc := f.feedPage(anna, 2, "").NextCursor
	if code, body := f.do("GET", "/v1/feed?cursor="+rc, token(t, anna, false), "", nil); code != 400 {
		t.Fatalf("recent cursor on the ranked feed: %d %s", code, body)
	}
}
