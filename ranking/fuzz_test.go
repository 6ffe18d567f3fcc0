package ranking

import (
	"testing"

	"github.com/lenta-dev/lenta/timeline"
)

// FuzzCursorDecode: any string is either refused with ErrBadCursor or
// decodes to a cursor that re-encodes to itself.
func FuzzCursorDecode(f *testing.F) {
	cs := NewCursors([]byte("fuzz"))
	f.Add(cs.Encode(1, Cursor{Snapshot: 3, Offset: 20}))
	f.Add(cs.Encode(1, Cursor{Tail: timeline.Position{TS: 9, ID: "e"}}))
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := cs.Decode(1, s)
		if err != nil {
			return
		}
		if back := cs.Encode(1, c); back != s {
			t.Fatalf("decoded %q to %+v, which encodes to %q", s, c, back)
		}
	})
}

// FuzzParseConfig: a weights file either fails or gives a valid config.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"window": 50, "freshness_half_life": "90m", "types": {"photo": 2}, "diversity_floor": 0.3}`))
	f.Add([]byte(`{"interactions": {"unclass": -2}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted an invalid config: %v", err)
		}
		if _, err := NewRanker(c); err != nil {
			t.Fatalf("NewRanker refused a parsed config: %v", err)
		}
	})
}

// FuzzSnapshot: decoding stored bytes never panics and never reads past
// the count it announces.
func FuzzSnapshot(f *testing.F) {
	items := []timeline.Item{post("a", 1, 10), {EventID: "c", Type: "class", Actor: 2, Owner: 3, Object: "x", TS: 5}}
	f.Add(appendSnapshot(nil, 99, timeline.Position{TS: 4, ID: "z"}, items, []Ranked{{Index: 1}, {Index: 0, Nth: 3}}))
	f.Add(v1Snapshot(timeline.Position{TS: 4, ID: "z"}, items, []Ranked{{Index: 1}, {Index: 0}}))
	f.Add([]byte{1, 0, 0, 0})
	f.Add([]byte{2, 0, 0, 0, 0})
	rk, err := NewRanker(Defaults())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var sr snapReader
		if sr.init(data, rk) != nil {
			return
		}
		var e timeline.Entry
		var x timeline.Explain
		for sr.read < sr.count {
			if sr.next(sr.read%2 == 0, &e, &x) != nil {
				return
			}
		}
	})
}
