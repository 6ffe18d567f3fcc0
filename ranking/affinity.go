package ranking

import (
	"context"
	"fmt"
	"slices"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
)

// Interaction is one thing a viewer did to (or got from) an author that
// says the viewer cares about the author. It is keyed by (Viewer, Author,
// EventID): recording it again changes nothing, which makes affinity
// updates idempotent under re-delivery.
type Interaction struct {
	Viewer  int64
	Author  int64
	EventID string
	TS      int64   // when it happened, unix ms
	Weight  float64 // what it adds to the affinity, before decay
	// Until (unix ms) is when it has decayed to nothing worth keeping
	// (HorizonHalfLives affinity half-lives after TS); stores may forget
	// it afterwards (Cassandra: the row's TTL).
	Until int64
}

// MaxPerPair bounds the interactions kept and read per (viewer, author):
// the newest ones. 64 Class marks already reach the default cap.
const MaxPerPair = 64

// HorizonHalfLives: an interaction is kept this many affinity half-lives
// (2^-8 < 0.4% of its weight is left after that).
const HorizonHalfLives = 8

// AffinityStore keeps interactions. Implementations must be safe for
// concurrent use.
type AffinityStore interface {
	// AddInteractions records interactions; recording one with the same
	// (Viewer, Author, EventID) again changes nothing. A store keeps about
	// MaxPerPair (the newest) per (Viewer, Author): it may keep more for a
	// while (Interactions reads the newest MaxPerPair), never unboundedly.
	AddInteractions(ctx context.Context, in []Interaction) error
	// Interactions calls fn(i, ts, weight) for the recorded interactions
	// of viewer with authors[i] (authors ascending and distinct) that are
	// not older than since (unix ms): at most MaxPerPair per author, the
	// newest, in any order.
	Interactions(ctx context.Context, viewer int64, authors []int64, since int64,
		fn func(i int, ts int64, weight float64)) error
}

// Hook keeps affinities up to date: a fanout.Hook that turns each event
// that took effect into interactions. Being keyed by event id, running it
// twice for one event (a retried batch) records nothing new.
type Hook struct {
	Store  AffinityStore
	Ranker *Ranker
}

var _ fanout.Hook = (*Hook)(nil)

// Applied implements fanout.Hook.
func (h *Hook) Applied(ctx context.Context, ev *schema.Event, eff *fanout.Effect) error {
	var buf [2]Interaction
	in := h.Interactions(ev, eff, buf[:0])
	if len(in) == 0 {
		return nil
	}
	if err := h.Store.AddInteractions(ctx, in); err != nil {
		return fmt.Errorf("record interactions of %q: %w", ev.ID, err)
	}
	return nil
}

// Interactions appends to dst the interactions an event that took effect
// stands for.
func (h *Hook) Interactions(ev *schema.Event, eff *fanout.Effect, dst []Interaction) []Interaction {
	w := &h.Ranker.cfg.Interactions
	until := ev.TS + HorizonHalfLives*timeDur(h.Ranker.cfg.AffinityHalfLife).Milliseconds()
	add := func(viewer, author int64, weight float64) {
		if viewer == author || viewer == 0 || author == 0 || weight == 0 {
			return
		}
		dst = append(dst, Interaction{Viewer: viewer, Author: author, EventID: ev.ID, TS: ev.TS,
			Weight: weight, Until: until})
	}
	switch ev.Type {
	case schema.Class:
		add(ev.Actor, ev.Target, w.Class)
	case schema.React:
		// Affinity follows Class! alone (docs/ranking.md): a react that
		// gives one counts as a class, one that replaces one as an
		// unclass; other kinds change nothing.
		if eff == nil {
			return dst
		}
		if eff.Mark.IsClass() {
			add(ev.Actor, ev.Target, w.Class)
		} else if eff.Before.IsClass() {
			add(ev.Actor, ev.Target, w.Unclass)
		}
	case schema.Unclass, schema.Unreact:
		owner := ev.Target
		if eff != nil && eff.Mark.Owner != 0 {
			owner = eff.Mark.Owner
		}
		if eff != nil && eff.Mark.Kind != "" {
			return dst // it took back an emotion, not a Class!
		}
		add(ev.Actor, owner, w.Unclass)
	case schema.Gift:
		add(ev.Actor, ev.Target, w.Gift)
		add(ev.Target, ev.Actor, w.GiftReceived)
	case schema.GroupAdd:
		add(ev.Actor, ev.Target, w.GroupAdd)
	case schema.Friend:
		add(ev.Actor, ev.Target, w.Friend)
		add(ev.Target, ev.Actor, w.Friend)
	}
	return dst
}

// affinityTable is one viewer's decayed interaction sums for the users a
// ranked read needs, as sorted parallel slices (no map, reused).
type affinityTable struct {
	users []int64
	sums  []float64
}

func (t *affinityTable) reset() {
	t.users = t.users[:0]
	t.sums = t.sums[:0]
}

// load reads the sums of t.users (sorted, distinct) at now.
func (t *affinityTable) load(ctx context.Context, st AffinityStore, r *Ranker, viewer, now int64) error {
	t.sums = slices.Grow(t.sums[:0], len(t.users))[:len(t.users)]
	clear(t.sums)
	if len(t.users) == 0 {
		return nil
	}
	since := now - HorizonHalfLives*timeDur(r.cfg.AffinityHalfLife).Milliseconds()
	err := st.Interactions(ctx, viewer, t.users, since, func(i int, ts int64, weight float64) {
		if i >= 0 && i < len(t.sums) {
			t.sums[i] += weight * r.Decay(now-ts)
		}
	})
	if err != nil {
		return fmt.Errorf("affinities of %d: %w", viewer, err)
	}
	return nil
}

// of is the sum for u (0 if unknown).
func (t *affinityTable) of(u int64) float64 {
	if i, ok := slices.BinarySearch(t.users, u); ok {
		return t.sums[i]
	}
	return 0
}
