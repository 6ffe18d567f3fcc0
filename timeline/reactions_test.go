package timeline

import (
	"slices"
	"testing"

	"github.com/lenta-dev/lenta/objects"
)

func TestSetReactions(t *testing.T) {
	counts := []objects.Counts{
		{Class: 2, Other: []objects.KindCount{{Kind: "love", N: 1}, {Kind: "wow", N: 3}}},
		{},
		{Other: []objects.KindCount{{Kind: "sad", N: 1}}},
		{Class: 1},
	}
	mine := []string{"love", "", "sad", ""}
	want := []struct {
		class, total int64
		kinds        ReactionCounts
		mine         string
	}{
		{2, 6, ReactionCounts{{Kind: "class", N: 2}, {Kind: "love", N: 1}, {Kind: "wow", N: 3}}, "love"},
		{0, 0, nil, ""},
		{0, 1, ReactionCounts{{Kind: "sad", N: 1}}, "sad"},
		{1, 1, ReactionCounts{{Kind: "class", N: 1}}, ""},
	}
	items := make([]Item, len(counts))
	var buf ReactionCounts
	for i := range counts {
		buf = items[i].setReactions(&counts[i], mine[i], buf, len(counts))
	}
	for i, w := range want {
		it := &items[i]
		if it.ClassCount != w.class || it.ReactionCount != w.total || !slices.Equal(it.Reactions, w.kinds) || it.MyReaction != w.mine {
			t.Errorf("item %d: class %d total %d kinds %v mine %q; want %+v", i, it.ClassCount, it.ReactionCount, it.Reactions, it.MyReaction, w)
		}
	}
	// The lists share one backing array, and none can grow into the next.
	if &items[0].Reactions[0] == &items[2].Reactions[0] || cap(items[0].Reactions) != len(items[0].Reactions) {
		t.Errorf("lists overlap or may grow into each other: caps %d", cap(items[0].Reactions))
	}
	if allocs := testing.AllocsPerRun(100, func() {
		var b ReactionCounts
		var it Item
		for i := range counts {
			b = it.setReactions(&counts[i], mine[i], b, 20)
		}
	}); allocs > 1 {
		t.Errorf("setReactions for a page: %v allocations, want at most 1", allocs)
	}
}
