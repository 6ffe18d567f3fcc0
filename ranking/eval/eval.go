package eval

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/ranking"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

const (
	minute = int64(60_000)
	hour   = 60 * minute
	day    = 24 * hour
	start  = int64(1_700_000_000_000)
)

// Params shape one simulated network.
type Params struct {
	Seed         uint64
	Users        int
	Friends      int     // average friends per user
	Days         int     // length of the log
	TrainDays    int     // interactions before this day train the signals
	PostsPerDay  float64 // average items per user per day
	CloseShare   float64 // share of friendships that are close
	CandidateAge int64   // ms: the candidate window at an evaluation time
	EvalsPerUser int     // evaluation instants per user in the test period
	K            int     // the cut-off of NDCG@K
}

// Small is the configuration the unit test runs (about a second).
func Small() Params {
	return Params{Seed: 42, Users: 300, Friends: 20, Days: 12, TrainDays: 7, PostsPerDay: 1.5,
		CloseShare: 0.1, CandidateAge: 48 * hour, EvalsPerUser: 2, K: 20}
}

// Full is the configuration docs/ranking.md reports.
func Full() Params {
	return Params{Seed: 7, Users: 2000, Friends: 40, Days: 21, TrainDays: 14, PostsPerDay: 1.5,
		CloseShare: 0.1, CandidateAge: 48 * hour, EvalsPerUser: 3, K: 20}
}

// Result is what an evaluation measured.
type Result struct {
	Params      Params
	Items       int
	Classes     int // Class marks in the whole log
	TrainEvents int // events played through the hook
	Evaluations int // (viewer, instant) pairs with at least one held-out Class among the candidates
	Candidates  float64
	Relevant    float64 // average held-out Classes among the candidates
	NDCGRanked  float64
	NDCGChrono  float64
	NDCGRandom  float64
	PrecRanked  float64 // precision@K
	PrecChrono  float64
}

// Lift is the relative NDCG gain of ranked over chronological order.
func (r Result) Lift() float64 { return r.NDCGRanked/r.NDCGChrono - 1 }

func (r Result) String() string {
	return fmt.Sprintf("users=%d friends≈%d days=%d (train %d) items=%d classes=%d evaluations=%d candidates≈%.0f relevant≈%.1f\n"+
		"NDCG@%d ranked=%.4f chronological=%.4f random=%.4f lift=%+.1f%%\nprecision@%d ranked=%.4f chronological=%.4f",
		r.Params.Users, r.Params.Friends, r.Params.Days, r.Params.TrainDays, r.Items, r.Classes, r.Evaluations,
		r.Candidates, r.Relevant, r.Params.K, r.NDCGRanked, r.NDCGChrono, r.NDCGRandom, 100*r.Lift(),
		r.Params.K, r.PrecRanked, r.PrecChrono)
}

type item struct {
	id      string
	author  int64
	kind    string
	ts      int64
	until   int64 // live: end
	quality float64
	classes []int64 // times of Class marks, ascending
}

type mark struct {
	viewer int64
	item   int
	ts     int64
}

// typeAppeal is how much users like each kind (the hidden truth the type
// weights approximate).
var typeAppeal = map[string]float64{"post": 1, "photo": 1.4, "live": 2.5}

// Run simulates and evaluates.
func Run(ctx context.Context, p Params, cfg ranking.Config) (Result, error) {
	rk, err := ranking.NewRanker(cfg)
	if err != nil {
		return Result{}, err
	}
	rng := rand.New(rand.NewPCG(p.Seed, p.Seed^0x9E3779B97F4A7C15))
	res := Result{Params: p}

	// Graph: random friendships, each direction with a hidden affinity
	// (log-normal, close friends ×6).
	friends := make([][]int64, p.Users+1)
	hidden := make(map[[2]int64]float64)
	var events []schema.Event
	evID := 0
	next := func() string { evID++; return "ev" + strconv.Itoa(evID) }
	for u := 1; u <= p.Users; u++ {
		for len(friends[u]) < p.Friends/2 {
			v := 1 + rng.IntN(p.Users)
			if v == u || slices.Contains(friends[u], int64(v)) {
				continue
			}
			friends[u] = append(friends[u], int64(v))
			friends[v] = append(friends[v], int64(u))
			for _, d := range [][2]int64{{int64(u), int64(v)}, {int64(v), int64(u)}} {
				h := math.Exp(rng.NormFloat64() * 0.8)
				if rng.Float64() < p.CloseShare {
					h *= 6
					events = append(events, schema.Event{ID: next(), Type: schema.GroupAdd, Actor: d[0], Target: d[1],
						Object: "close", TS: start + rng.Int64N(2*day)})
				}
				hidden[d] = h
			}
			events = append(events, schema.Event{ID: next(), Type: schema.Friend, Actor: int64(u), Target: int64(v), TS: start})
		}
	}
	// Items: each author posts at their own rate.
	var items []item
	for u := 1; u <= p.Users; u++ {
		rate := p.PostsPerDay * math.Exp(rng.NormFloat64()*0.7-0.25)
		n := int(rate * float64(p.Days))
		for range n {
			it := item{id: next(), author: int64(u), kind: "post", ts: start + rng.Int64N(int64(p.Days)*day),
				quality: math.Exp(rng.NormFloat64() * 0.5)}
			switch x := rng.Float64(); {
			case x < 0.3:
				it.kind = "photo"
			case x < 0.35:
				it.kind, it.until = "live", it.ts+30*minute+rng.Int64N(90*minute)
			}
			items = append(items, it)
		}
	}
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.ts, b.ts) })
	// Interactions: each friend sees each item and gives Class with a
	// probability that grows with the hidden affinity, the item's quality
	// and its kind's appeal, after a delay (within the broadcast, for a
	// live one); now and then a gift to a friend one cares about.
	end := start + int64(p.Days)*day
	var marks []mark
	for i := range items {
		it := &items[i]
		for _, v := range friends[it.author] {
			pr := min(0.9, 0.02*hidden[[2]int64{v, it.author}]*it.quality*typeAppeal[it.kind])
			if rng.Float64() >= pr {
				continue
			}
			delay := int64(rng.ExpFloat64() * float64(3*hour))
			if it.kind == "live" {
				delay = rng.Int64N(it.until - it.ts)
			}
			if ts := it.ts + delay; ts < end {
				marks = append(marks, mark{viewer: v, item: i, ts: ts})
				it.classes = append(it.classes, ts)
			}
		}
		slices.Sort(it.classes)
	}
	for u := 1; u <= p.Users; u++ {
		for d := range p.Days {
			if rng.Float64() < 0.1 && len(friends[u]) > 0 {
				// gift to the friend of highest affinity among three drawn
				best, bh := int64(0), -1.0
				for range 3 {
					f := friends[u][rng.IntN(len(friends[u]))]
					if h := hidden[[2]int64{int64(u), f}]; h > bh {
						best, bh = f, h
					}
				}
				events = append(events, schema.Event{ID: next(), Type: schema.Gift, Actor: int64(u), Target: best,
					Object: "gift" + strconv.Itoa(evID), TS: start + int64(d)*day + rng.Int64N(day)})
			}
		}
	}
	for _, m := range marks {
		events = append(events, schema.Event{ID: next(), Type: schema.Class, Actor: m.viewer,
			Target: items[m.item].author, Object: items[m.item].id, TS: m.ts})
	}
	res.Items, res.Classes = len(items), len(marks)

	// Train: play every event before the split through the hook (twice,
	// as a re-delivery would: it must change nothing).
	split := start + int64(p.TrainDays)*day
	store := ranking.NewMemoryStore()
	hook := &ranking.Hook{Store: store, Ranker: rk}
	slices.SortFunc(events, func(a, b schema.Event) int { return cmp.Compare(a.TS, b.TS) })
	var eff fanout.Effect
	for pass := range 2 {
		for i := range events {
			if events[i].TS >= split {
				break
			}
			if err := hook.Applied(ctx, &events[i], &eff); err != nil {
				return res, err
			}
			if pass == 0 {
				res.TrainEvents++
			}
		}
	}

	// Test: at random instants at least a window after the split (so every
	// candidate was posted after it and every Class on it is held out),
	// rank each viewer's candidates with signals trained before the split
	// and public counts at that instant, and score both orders against the
	// Classes the viewer gives them.
	marked := make(map[[2]int64]int64) // (viewer, item) -> when
	for _, m := range marks {
		marked[[2]int64{m.viewer, int64(m.item)}] = m.ts
	}
	var cands []timeline.Item
	var idx []int
	var sums []float64
	var rel []bool
	var sumR, sumC, sumX, precR, precC, sumCand, sumRel float64
	for v := int64(1); v <= int64(p.Users); v++ {
		for range p.EvalsPerUser {
			now := split + p.CandidateAge + rng.Int64N(end-split-p.CandidateAge)
			cands, idx = cands[:0], idx[:0]
			lo, _ := slices.BinarySearchFunc(items, now-p.CandidateAge, func(it item, ts int64) int { return cmp.Compare(it.ts, ts) })
			for i := lo; i < len(items) && items[i].ts <= now; i++ {
				it := &items[i]
				if !slices.Contains(friends[v], it.author) || (it.kind == "live" && now >= it.until) {
					continue
				}
				// The count the reader sees at now, less the viewer's own
				// mark: that is the label, hidden from the signals.
				n, _ := slices.BinarySearch(it.classes, now+1)
				if ts, ok := marked[[2]int64{v, int64(i)}]; ok && ts <= now {
					n--
				}
				cands = append(cands, timeline.Item{EventID: it.id, Type: it.kind, Actor: it.author, Object: it.id,
					TS: it.ts, Until: it.until, Live: it.kind == "live", ClassCount: int64(n), ReactionCount: int64(n)})
				idx = append(idx, i)
			}
			if len(cands) > rk.Config().Window {
				cands, idx = cands[len(cands)-rk.Config().Window:], idx[len(idx)-rk.Config().Window:]
			}
			rel = rel[:0]
			nrel := 0
			for _, i := range idx {
				_, ok := marked[[2]int64{v, int64(i)}]
				rel = append(rel, ok)
				if ok {
					nrel++
				}
			}
			if nrel == 0 {
				continue
			}
			sums, err = affinitySums(ctx, store, rk, v, now, cands, sums)
			if err != nil {
				return res, err
			}
			ranked := rk.Rank(now, cands, sums)
			order := make([]bool, len(ranked))
			for j, r := range ranked {
				order[j] = rel[r.Index]
			}
			chrono := make([]bool, len(rel))
			for j := range rel {
				chrono[j] = rel[len(rel)-1-j] // candidates are oldest first
			}
			random := slices.Clone(rel)
			rng.Shuffle(len(random), func(a, b int) { random[a], random[b] = random[b], random[a] })
			sumR += ndcg(order, nrel, p.K)
			sumC += ndcg(chrono, nrel, p.K)
			sumX += ndcg(random, nrel, p.K)
			precR += precision(order, p.K)
			precC += precision(chrono, p.K)
			sumCand += float64(len(cands))
			sumRel += float64(nrel)
			res.Evaluations++
		}
	}
	if n := float64(res.Evaluations); n > 0 {
		res.NDCGRanked, res.NDCGChrono, res.NDCGRandom = sumR/n, sumC/n, sumX/n
		res.PrecRanked, res.PrecChrono = precR/n, precC/n
		res.Candidates, res.Relevant = sumCand/n, sumRel/n
	}
	return res, nil
}

// affinitySums reads the viewer's decayed interaction sums per candidate
// author, as the ranked reader does.
func affinitySums(ctx context.Context, st ranking.AffinityStore, rk *ranking.Ranker, viewer, now int64,
	cands []timeline.Item, dst []float64) ([]float64, error) {
	authors := make([]int64, 0, len(cands))
	for i := range cands {
		authors = append(authors, cands[i].Actor)
	}
	slices.Sort(authors)
	authors = slices.Compact(authors)
	per := make([]float64, len(authors))
	since := now - ranking.HorizonHalfLives*int64(rk.Config().AffinityHalfLife)/1e6
	err := st.Interactions(ctx, viewer, authors, since, func(i int, ts int64, w float64) {
		per[i] += w * rk.Decay(now-ts)
	})
	if err != nil {
		return dst, err
	}
	dst = dst[:0]
	for i := range cands {
		j, _ := slices.BinarySearch(authors, cands[i].Actor)
		dst = append(dst, per[j])
	}
	return dst, nil
}

// ndcg is NDCG@k of a binary relevance list with nrel relevant items in
// all.
func ndcg(rel []bool, nrel, k int) float64 {
	dcg, idcg := 0.0, 0.0
	for i := 0; i < k && i < len(rel); i++ {
		if rel[i] {
			dcg += 1 / math.Log2(float64(i+2))
		}
	}
	for i := 0; i < k && i < nrel; i++ {
		idcg += 1 / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

func precision(rel []bool, k int) float64 {
	n := 0
	for i := 0; i < k && i < len(rel); i++ {
		if rel[i] {
			n++
		}
	}
	return float64(n) / float64(k)
}
