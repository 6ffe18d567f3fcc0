package ranking

import (
	"math"

	"github.com/lenta-dev/lenta/timeline"
)

const msPerHour = 3_600_000

// Ranker computes the signals and the score of candidates and orders
// them. It is immutable and safe for concurrent use.
type Ranker struct {
	cfg       Config
	freshRate float64 // ln 2 / freshness half-life, per ms
	affRate   float64 // ln 2 / affinity half-life, per ms
}

// NewRanker makes a ranker of a complete, valid cfg (start from Defaults
// or ParseConfig).
func NewRanker(cfg Config) (*Ranker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Ranker{
		cfg:       cfg,
		freshRate: math.Ln2 / float64(timeDur(cfg.FreshnessHalfLife).Milliseconds()),
		affRate:   math.Ln2 / float64(timeDur(cfg.AffinityHalfLife).Milliseconds()),
	}, nil
}

// Config is the ranker's effective configuration.
func (r *Ranker) Config() Config { return r.cfg }

// Freshness is 2^(-age/half-life) for an item ageMS old (a future item
// counts as new).
func (r *Ranker) Freshness(ageMS int64) float64 {
	if ageMS <= 0 {
		return 1
	}
	return math.Exp(-float64(ageMS) * r.freshRate)
}

// Decay is what is left of an interaction ageMS old: 2^(-age/half-life)
// of the affinity half-life.
func (r *Ranker) Decay(ageMS int64) float64 {
	if ageMS <= 0 {
		return 1
	}
	return math.Exp(-float64(ageMS) * r.affRate)
}

// Affinity turns a decayed sum of interaction weights into the affinity
// factor: prior + the sum clamped to [0, cap].
func (r *Ranker) Affinity(sum float64) float64 {
	return r.cfg.AffinityPrior + min(max(sum, 0), r.cfg.AffinityCap)
}

// Engagement is 1 + w*ln(1+reactions) + g*ln(1+reactions per hour since the
// item was published, counting at least one hour): the reaction total
// (every kind, Class! included) and its growth.
func (r *Ranker) Engagement(reactions int64, ageMS int64) float64 {
	c := float64(max(reactions, 0))
	hours := max(float64(ageMS)/msPerHour, 1)
	return 1 + r.cfg.EngagementWeight*math.Log1p(c) + r.cfg.GrowthWeight*math.Log1p(c/hours)
}

// TypeWeight is the weight of the item's kind and its live boost (the
// boost is 1 unless the item is a broadcast that is live now).
func (r *Ranker) TypeWeight(it *timeline.Item) (weight, liveBoost float64) {
	t := &r.cfg.Types
	switch it.Type {
	case "photo":
		return t.Photo, 1
	case "class", "comment": // a friends' aggregate on an object: comments weigh as Class! does
		return t.Class, 1
	case "gift":
		return t.Gift, 1
	case "live":
		if it.Live {
			return t.Live, r.cfg.LiveBoost
		}
		return t.Live, 1
	}
	return t.Post, 1
}

// Signals computes every factor of an item's score at now (unix ms) given
// the decayed interaction sum of the viewer with its author; Diversity is
// 1 (the ordering pass sets it).
func (r *Ranker) Signals(now int64, it *timeline.Item, affinitySum float64) timeline.Explain {
	age := now - it.TS
	var x timeline.Explain
	x.TypeWeight, x.LiveBoost = r.TypeWeight(it)
	x.Affinity = r.Affinity(affinitySum)
	x.Freshness = r.Freshness(age)
	x.Engagement = r.Engagement(engagementCount(it), age)
	x.Diversity = 1
	x.Score = Score(&x)
	return x
}

// Score is the product of the factors.
func Score(x *timeline.Explain) float64 {
	return x.TypeWeight * x.LiveBoost * x.Affinity * x.Freshness * x.Engagement * x.Diversity
}

// diversity is the multiplier of an author's n-th further item (n = 0 for
// the first).
func (r *Ranker) diversity(n int) float64 {
	return max(math.Pow(r.cfg.DiversityDecay, float64(n)), r.cfg.DiversityFloor)
}

// AuthorOf is whose item a candidate is, for diversity: the owner of the
// object an aggregate (Class!, comment) points at, else the actor.
func AuthorOf(it *timeline.Item) int64 {
	if (it.Type == "class" || it.Type == "comment") && it.Owner != 0 {
		return it.Owner
	}
	return it.Actor
}

// relatedUsers calls fn with every user whose affinity counts for the
// item: its actor and owner, and the friends a Class aggregate names. The
// item's affinity is the strongest of theirs.
func relatedUsers(it *timeline.Item, fn func(u int64)) {
	fn(it.Actor)
	if it.Owner != 0 {
		fn(it.Owner)
	}
	for _, a := range it.Actors {
		fn(a)
	}
}

// engagementCount is what engagement counts of an item: its reaction
// total (every kind), or its Class count where only that is known (an
// item built without reactions; the total is never below it).
func engagementCount(it *timeline.Item) int64 { return max(it.ReactionCount, it.ClassCount) }

// factors recomputes the explain factors of an entry ranked at built from
// what a snapshot keeps of it: the same inputs and the same operations as
// Signals and the diversity pass, so the same bits. A candidate that was
// ranked is live exactly when it is a broadcast (ended ones never are
// candidates).
func (r *Ranker) factors(built int64, e *timeline.Entry, classes int64, affinity float64, nth int) timeline.Explain {
	it := timeline.Item{Type: e.Kind.String(), TS: e.TS, ReactionCount: classes, Live: e.Kind == timeline.KindLive}
	age := built - it.TS
	var x timeline.Explain
	x.TypeWeight, x.LiveBoost = r.TypeWeight(&it)
	x.Affinity = affinity
	x.Freshness = r.Freshness(age)
	x.Engagement = r.Engagement(engagementCount(&it), age)
	x.Diversity = r.diversity(nth)
	x.Score = Score(&x)
	return x
}
