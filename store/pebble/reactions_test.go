package pebblestore

import (
	"slices"
	"testing"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

func TestMarkValueKinds(t *testing.T) {
	for _, m := range []objects.Mark{
		{On: true, Owner: 9, Stamp: schema.Stamp{TS: 5, ID: "c"}, Since: schema.Stamp{TS: 4, ID: "b"}},
		{On: true, Owner: 9, Stamp: schema.Stamp{TS: 5, ID: "c"}, Since: schema.Stamp{TS: 4, ID: "b"}, Kind: "love"},
		{On: false, Owner: 9, Stamp: schema.Stamp{TS: 6, ID: "u"}, Since: schema.Stamp{TS: 4, ID: "b"}, Kind: "party"},
	} {
		v := appendMarkVal(nil, &m)
		if (m.Kind == "") != (v[0] == valueV1) {
			t.Errorf("%+v: version %d (a Class! mark stays v1, byte for byte)", m, v[0])
		}
		var got objects.Mark
		if err := decodeMarkVal(v, &got); err != nil || got != m {
			t.Errorf("decode(%x) = %+v, %v; want %+v", v, got, err, m)
		}
		on, kind, err := markKindOf(v)
		if err != nil || on != m.On || (on && string(kind) != m.Kind) {
			t.Errorf("markKindOf(%+v) = %v, %q, %v", m, on, kind, err)
		}
	}
	other := []objects.KindCount{{Kind: "love", N: 3}, {Kind: "wow", N: 1}}
	got, err := decodeReactsVal(appendReactsVal(nil, other), nil)
	if err != nil || !slices.Equal(got, other) {
		t.Errorf("reaction counts = %v, %v", got, err)
	}
}

// FuzzReactionValues: the decoders of mark and reaction-count values
// never panic on a corrupt value, and what appendMarkVal writes decodes
// back.
func FuzzReactionValues(f *testing.F) {
	f.Add(appendMarkVal(nil, &objects.Mark{On: true, Kind: "love", Stamp: schema.Stamp{TS: 1, ID: "a"}}))
	f.Add(appendMarkVal(nil, &objects.Mark{On: true, Stamp: schema.Stamp{TS: 1, ID: "a"}}))
	f.Add(appendReactsVal(nil, []objects.KindCount{{Kind: "lol", N: 2}}))
	f.Add([]byte{2, 1})
	f.Fuzz(func(t *testing.T, v []byte) {
		var m objects.Mark
		if decodeMarkVal(v, &m) == nil {
			again := appendMarkVal(nil, &m)
			var m2 objects.Mark
			if err := decodeMarkVal(again, &m2); err != nil || m2 != m {
				t.Fatalf("%x: %+v re-encodes to %+v, %v", v, m, m2, err)
			}
		}
		_, _, _ = markKindOf(v)
		_, _ = decodeReactsVal(v, nil)
		_, _, _ = decodeCountsVal(v, nil)
	})
}

// TestMyReactionsBackfill: a data folder whose On marks predate the
// per-viewer index gets it on the next Open, once.
func TestMyReactionsBackfill(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	o := s.Objects()
	for _, m := range []objects.Mark{
		{Object: "p", Actor: 2, Owner: 1, On: true, Stamp: schema.Stamp{TS: 1, ID: "c"}},
		{Object: "q", Actor: 2, Owner: 1, On: true, Kind: "love", Stamp: schema.Stamp{TS: 1, ID: "r"}},
		{Object: "r", Actor: 2, Owner: 1, On: false, Stamp: schema.Stamp{TS: 1, ID: "u"}},
	} {
		if _, err := o.SetReaction(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// As a build before the index left it: no index rows, no meta.
	for _, k := range [][]byte{myReactionKey(nil, 2, "p"), myReactionKey(nil, 2, "q"), metaKey(nil, metaReactIndex)} {
		if err := s.db.Delete(k, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := o.MyReactions(ctx, 2, []string{"p", "q", "r"}); !slices.Equal(got, []string{"", "", ""}) {
		t.Fatalf("without the index: %q", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Objects().MyReactions(ctx, 2, []string{"p", "q", "r"})
	if err != nil || !slices.Equal(got, []string{"class", "love", ""}) {
		t.Fatalf("after the backfill: %q, %v", got, err)
	}
}

func TestCountsValueOfClassOnlyIsTheCounter(t *testing.T) {
	if v := appendCountsVal(nil, 3, nil); len(v) != 8 {
		t.Fatalf("a Class-only counts value is %x, want the 8-byte counter", v)
	}
	v := appendCountsVal(nil, 3, []objects.KindCount{{Kind: "love", N: 2}})
	class, other, err := decodeCountsVal(v, nil)
	if err != nil || class != 3 || !slices.Equal(other, []objects.KindCount{{Kind: "love", N: 2}}) {
		t.Fatalf("decodeCountsVal = %d, %v, %v", class, other, err)
	}
}
