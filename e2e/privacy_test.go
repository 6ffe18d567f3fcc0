package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDerivedViewsFollowVisibility: a Class aggregate (recent and ranked
// feed, ranking snapshot) and a notification are views of their object
// and show only what the object's own read-time rule allows; a mark on an
// object its actor may not see is dead-lettered (issue 11, item 6).
func TestDerivedViewsFollowVisibility(t *testing.T) { eachBackend(t, derivedViewsFollowVisibility) }

func derivedViewsFollowVisibility(t *testing.T, args []string) {
	f := startFeedd(t, args...)
	now := time.Now().UnixMilli()
	const anna, boris, vera = 1, 2, 3 // anna–boris and boris–vera are friends
	short := now + 20_000             // l2 ends 20 s from now: after the first checks even on a loaded machine
	n := 0
	at := func(e ev) ev { n++; e["ts"] = now - 60_000 + int64(n)*100; return e }
	graphEvs := []ev{
		at(ev{"id": "g1", "type": "friend", "actor": anna, "target": boris}),
		at(ev{"id": "g2", "type": "friend", "actor": boris, "target": vera}),
		at(ev{"id": "g3", "type": "group_add", "actor": anna, "target": boris, "object": "close"}),
	}
	f.publish(graphEvs...)
	f.settle(3)
	items := []ev{
		at(ev{"id": "p1", "type": "post", "actor": anna, "object": "p1", "text": "public text"}),
		at(ev{"id": "s1", "type": "post", "actor": anna, "object": "s1", "text": "secret private text", "audience": "private"}),
		at(ev{"id": "s2", "type": "post", "actor": anna, "object": "s2", "text": "secret friends text", "audience": "friends"}),
		at(ev{"id": "s3", "type": "post", "actor": anna, "object": "s3", "text": "secret group text", "audience": "group:close"}),
		at(ev{"id": "l1", "type": "live", "actor": anna, "object": "l1", "until": now + 3600_000}),
		at(ev{"id": "l2", "type": "live", "actor": anna, "object": "l2", "until": short}),
	}
	f.publish(items...)
	f.settle(9)
	cls := func(id string, actor int64, object string) ev {
		return at(ev{"id": id, "type": "class", "actor": actor, "target": anna, "object": object})
	}
	dead0 := f.metric("lenta_fanout_dead_lettered_total")
	f.publish(
		cls("c1", boris, "s1"), // boris may not see anna's private item: refused
		cls("c2", boris, "s2"),
		cls("c3", boris, "s3"),
		cls("c4", boris, "p1"),
		cls("c5", boris, "l1"),
		cls("c6", boris, "l2"),
		cls("c7", vera, "s2"), // vera is no friend of anna: refused
		cls("c8", vera, "p1"), // public: allowed
	)
	f.settle(17)
	if d := f.metric("lenta_fanout_dead_lettered_total") - dead0; d != 2 {
		t.Fatalf("dead-lettered %v marks, want 2 (c1, c7)", d)
	}

	// vera sees the aggregates of what she may see only: no text of a
	// private, friends or group item of anna's reaches her.
	got := f.eventually(vera, "c6", "c5", "c4")
	for _, it := range got {
		if strings.Contains(it.Text, "secret") {
			t.Fatalf("vera sees %+v", it)
		}
	}
	rp := f.rankedPage(vera, 100, "", false)
	if ids := rankedIDs(rp.Items); !sameSet(ids, []string{"c4", "c5", "c6"}) {
		t.Fatalf("vera's ranked feed: %v, want c4 c5 c6", ids)
	}
	// boris, who may see them, keeps seeing vera's mark on p1; anna's
	// counts hold only the marks accepted.
	counts := map[string]int64{}
	for _, it := range f.feed(anna) {
		if it.Type == "post" {
			counts[it.Object] = it.ClassCount
		}
	}
	if counts["s1"] != 0 || counts["s2"] != 1 || counts["s3"] != 1 || counts["p1"] != 2 {
		t.Fatalf("anna's class counts: %v, want s1 0, s2 1, s3 1, p1 2", counts)
	}
	// anna's inbox: one Class group per accepted mark's object, none from
	// a refused mark.
	inbox := func() (objs []string, actors []int64) {
		code, body := f.do("GET", "/v1/notifications?limit=50", token(t, anna, false), "", nil)
		var p struct {
			Items []struct {
				Type   string
				Object string
				Actors []int64
			}
		}
		if code != 200 || json.Unmarshal(body, &p) != nil {
			t.Fatalf("inbox: %d %s", code, body)
		}
		for _, it := range p.Items {
			objs = append(objs, it.Object)
			actors = append(actors, it.Actors...)
		}
		return objs, actors
	}
	unread := func() int {
		_, b := f.do("GET", "/v1/notifications/unread_count", token(t, anna, false), "", nil)
		var u struct{ Count int }
		if err := json.Unmarshal(b, &u); err != nil {
			t.Fatalf("unread: %s", b)
		}
		return u.Count
	}
	objs, _ := inbox()
	if !sameSet(objs, []string{"s2", "s3", "p1", "l1", "l2"}) {
		t.Fatalf("anna's notifications about %v, want s2 s3 p1 l1 l2", objs)
	}
	if u := unread(); u != 5 {
		t.Fatalf("anna's unread = %d, want 5", u)
	}

	// A ranked page taken now; ended broadcasts leave its later pages too.
	first := f.rankedPage(vera, 1, "", false)
	if first.NextCursor == "" || len(first.Items) != 1 {
		t.Fatalf("vera's first ranked page: %+v", first)
	}
	// Ended broadcasts: l1 by live_end, l2 by its until.
	f.publish(at(ev{"id": "e1", "type": "live_end", "actor": anna, "object": "l1"}))
	f.settle(18)
	time.Sleep(time.Until(time.UnixMilli(short)) + 200*time.Millisecond)
	f.eventually(vera, "c4")
	rest := f.rankedPage(vera, 100, first.NextCursor, false)
	for _, id := range rankedIDs(rest.Items) {
		if id != "c4" || first.Items[0].EventID == "c4" {
			t.Fatalf("vera's ranked snapshot after the broadcasts ended: %v after %s", rankedIDs(rest.Items), first.Items[0].EventID)
		}
	}
	if ids := rankedIDs(f.rankedPage(vera, 100, "", false).Items); !slices.Equal(ids, []string{"c4"}) {
		t.Fatalf("vera's ranked feed after the broadcasts ended: %v", ids)
	}

	// A block reaches the inbox: boris's marks leave anna's notifications
	// and unread count; vera's mark on p1 stays.
	f.publish(at(ev{"id": "b1", "type": "block", "actor": anna, "target": boris}))
	f.settle(19)
	objs, actors := inbox()
	if slices.Contains(actors, boris) || !slices.Equal(objs, []string{"p1"}) {
		t.Fatalf("anna's notifications after blocking boris: objects %v actors %v", objs, actors)
	}
	if u := unread(); u != 1 {
		t.Fatalf("anna's unread after blocking boris = %d, want 1", u)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
