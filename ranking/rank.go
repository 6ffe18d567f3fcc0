package ranking

import (
	"cmp"
	"slices"
	"time"

	"github.com/lenta-dev/lenta/timeline"
)

func timeDur(d Duration) time.Duration { return time.Duration(d) }

// Ranked is one candidate in ranked order.
type Ranked struct {
	Index   int // into the candidates
	Explain timeline.Explain
	// Nth is how many items of the same author rank before it (its
	// diversity factor is the ranker's for Nth).
	Nth int
}

// rankScratch is reused between Rank calls (pooled by the Reader) so that
// ranking allocates nothing per candidate once warm.
type rankScratch struct {
	ranked  []Ranked
	authors map[int64]int
	objects map[string]struct{}
}

func (s *rankScratch) reset() {
	s.ranked = s.ranked[:0]
	clear(s.authors)
	clear(s.objects)
}

// Rank scores items (affSum[i] is the viewer's decayed interaction sum
// for items[i]) and returns them in ranked order: by score, then author
// diversity, keeping one Class aggregate per object. Ties go to the newer
// item, then the larger event id, so the order is deterministic.
func (r *Ranker) Rank(now int64, items []timeline.Item, affSum []float64) []Ranked {
	var sc rankScratch
	return r.rank(now, items, affSum, &sc)
}

func (r *Ranker) rank(now int64, items []timeline.Item, affSum []float64, sc *rankScratch) []Ranked {
	sc.reset()
	if sc.authors == nil {
		sc.authors = make(map[int64]int, 64)
		sc.objects = make(map[string]struct{}, 16)
	}
	out := slices.Grow(sc.ranked[:0], len(items))
	for i := range items {
		out = append(out, Ranked{Index: i, Explain: r.Signals(now, &items[i], affSum[i])})
	}
	byScore := func(a, b Ranked) int {
		if c := cmp.Compare(b.Explain.Score, a.Explain.Score); c != 0 {
			return c
		}
		ia, ib := &items[a.Index], &items[b.Index]
		if c := cmp.Compare(ib.TS, ia.TS); c != 0 {
			return c
		}
		return cmp.Compare(ib.EventID, ia.EventID)
	}
	slices.SortFunc(out, byScore)
	// Diversity, as X's home mixer: walk the order by base score; an
	// author's n-th further item is multiplied by max(decay^n, floor).
	// A second aggregate (Class! or comment) of an object already listed
	// is dropped: a ranked page shows one friends' aggregate per object.
	kept := out[:0]
	for _, rk := range out {
		it := &items[rk.Index]
		if it.Type == "class" || it.Type == "comment" {
			if _, dup := sc.objects[it.Object]; dup {
				continue
			}
			sc.objects[it.Object] = struct{}{}
		}
		a := AuthorOf(it)
		n := sc.authors[a]
		sc.authors[a] = n + 1
		rk.Nth = n
		rk.Explain.Diversity = r.diversity(n)
		rk.Explain.Score = Score(&rk.Explain)
		kept = append(kept, rk)
	}
	slices.SortStableFunc(kept, byScore)
	sc.ranked = kept
	return kept
}
