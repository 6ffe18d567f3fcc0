package ranking

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/timeline"
)

// cacheFixture is a reader with an order cache over a fake timeline whose
// version the test sets, and a second reader (another process: no cache,
// the same snapshot store).
type cacheFixture struct {
	now   time.Time
	ft    *fakeTimeline
	rd    *Reader
	other *Reader
}

func newCacheFixture(t *testing.T, items, window int) *cacheFixture {
	t.Helper()
	f := &cacheFixture{now: time.UnixMilli(1_700_000_000_000)}
	clock := func() time.Time { return f.now }
	f.ft = &fakeTimeline{deleted: map[string]bool{}, version: 1}
	for i := range items {
		f.ft.items = append(f.ft.items, post(fmt.Sprintf("e%02d", items-i), int64(2+i%7), f.now.UnixMilli()-int64(i)*600_000))
	}
	cfg := Defaults()
	cfg.Window = window
	rk, err := NewRanker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mem := NewMemoryStore()
	cursors := NewCursors([]byte("k"))
	f.rd = NewReader(f.ft, mem, mem, cursors, rk, clock, WithOrderCache(newMapCache(), time.Minute))
	f.other = NewReader(f.ft, mem, mem, cursors, rk, clock)
	return f
}

func ids(p Page) []string {
	out := make([]string, len(p.Items))
	for i, it := range p.Items {
		out[i] = it.EventID
	}
	return out
}

func mustPage(t *testing.T, rd *Reader, cursor string, limit int) Page {
	t.Helper()
	p, err := rd.Ranked(t.Context(), 1, cursor, limit, true)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A first page at an unchanged version is the cached order, factors and
// all; a new version ranks again (the new item shows at once); an order
// older than the max age ranks again.
func TestCachedFirstPageFollowsTheVersion(t *testing.T) {
	f := newCacheFixture(t, 30, 25)
	p1 := mustPage(t, f.rd, "", 5)
	if s := f.rd.CacheStats(); s.FirstMisses != 1 || s.FirstHits != 0 {
		t.Fatalf("after the first load: %+v", s)
	}
	f.now = f.now.Add(10 * time.Second)
	p2 := mustPage(t, f.rd, "", 5)
	if s := f.rd.CacheStats(); s.FirstHits != 1 {
		t.Fatalf("same version: %+v, want a hit", s)
	}
	for i := range p1.Items {
		if !reflect.DeepEqual(p1.Items[i], p2.Items[i]) {
			t.Fatalf("item %d: first load %+v, cached %+v (explain %+v vs %+v)", i, p1.Items[i], p2.Items[i], *p1.Items[i].Explain, *p2.Items[i].Explain)
		}
	}

	// A new item and a new version: ranked again, the new item shows.
	f.ft.items = append([]timeline.Item{post("new", 3, f.now.UnixMilli())}, f.ft.items...)
	f.ft.version = 2
	p3 := mustPage(t, f.rd, "", 25)
	if s := f.rd.CacheStats(); s.FirstMisses != 2 {
		t.Fatalf("new version: %+v, want a miss", s)
	}
	found := false
	for _, it := range p3.Items {
		found = found || it.EventID == "new"
	}
	if !found {
		t.Fatalf("the new item is not on the next load from the top: %v", ids(p3))
	}

	// Too old: ranked again although the version is the same.
	f.now = f.now.Add(time.Minute)
	mustPage(t, f.rd, "", 5)
	if s := f.rd.CacheStats(); s.FirstMisses != 3 {
		t.Fatalf("an order older than the max age: %+v, want a miss", s)
	}
}

// What a viewer may see never comes from the cache: an item deleted
// after the order was built is left out of the cached first page even if
// the version did not change, and the page is still full.
func TestCachedFirstPageRechecksItems(t *testing.T) {
	f := newCacheFixture(t, 30, 25)
	p1 := mustPage(t, f.rd, "", 5)
	gone := p1.Items[1].EventID
	f.ft.deleted[gone] = true // the version stays 1 on purpose
	p2 := mustPage(t, f.rd, "", 5)
	if s := f.rd.CacheStats(); s.FirstHits != 1 {
		t.Fatalf("%+v, want a hit", s)
	}
	want := append(append([]string{}, ids(p1)[:1]...), ids(p1)[2:]...)
	got := ids(p2)
	if len(got) != 5 || !reflect.DeepEqual(got[:4], want) {
		t.Fatalf("cached first page %v; want %v then the next in order", got, want)
	}
}

// A cached order that fitted one page of the load that built it (so no
// snapshot was stored) is stored when a smaller page reuses it and hands
// out a cursor; another reader process continues that cursor, and the walk
// never repeats or skips.
func TestCachedOrderIsStoredWhenACursorNamesIt(t *testing.T) {
	f := newCacheFixture(t, 12, 25)
	whole := mustPage(t, f.rd, "", 20) // 12 items: fits, nothing stored
	if whole.Next != "" || f.rd.CacheStats().Stored != 0 {
		t.Fatalf("a feed that fits one page: next %q, stats %+v", whole.Next, f.rd.CacheStats())
	}
	var walked []string
	p := mustPage(t, f.rd, "", 5) // a hit with a cursor
	if s := f.rd.CacheStats(); s.FirstHits != 1 || s.Stored != 1 || p.Next == "" {
		t.Fatalf("a smaller page of the cached order: next %q, stats %+v", p.Next, s)
	}
	walked = append(walked, ids(p)...)
	for cursor, rd := p.Next, f.other; cursor != ""; rd = map[*Reader]*Reader{f.rd: f.other, f.other: f.rd}[rd] {
		p := mustPage(t, rd, cursor, 5)
		walked = append(walked, ids(p)...)
		cursor = p.Next
	}
	if !reflect.DeepEqual(walked, ids(whole)) {
		t.Fatalf("walk across two readers %v; want the order %v", walked, ids(whole))
	}
	if s := f.rd.CacheStats(); s.NextHits == 0 {
		t.Fatalf("%+v: the caching reader should serve its next page from memory", s)
	}
}

// A next page served from the cache is the page the store would serve.
func TestNextPageFromCacheEqualsFromStore(t *testing.T) {
	f := newCacheFixture(t, 40, 30)
	first := mustPage(t, f.rd, "", 6)
	fromCache := mustPage(t, f.rd, first.Next, 6)
	fromStore := mustPage(t, f.other, first.Next, 6)
	if s := f.rd.CacheStats(); s.NextHits != 1 {
		t.Fatalf("%+v, want a next-page hit", s)
	}
	if !reflect.DeepEqual(fromCache, fromStore) {
		t.Fatalf("from cache %v, from store %v", ids(fromCache), ids(fromStore))
	}
	// Past the snapshot TTL both say expired.
	f.now = f.now.Add(31 * time.Minute)
	for _, rd := range []*Reader{f.rd, f.other} {
		if _, err := rd.Ranked(t.Context(), 1, first.Next, 6, false); err != ErrExpired {
			t.Errorf("expired cursor: %v", err)
		}
	}
}
