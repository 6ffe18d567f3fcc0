package storetest

import (
	"testing"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// objMarkOwnerKept: a mark change naming no owner (0: an unclass without
// target, as the fan-out stores it) keeps the stored owner, in what
// SetMark returns and in what it stores (read back through a stale
// change, which returns the stored mark); a change naming an owner sets
// it, also over a mark first set with none.
func objMarkOwnerKept(t *testing.T, s objects.Store) {
	const o = "photo"
	set := func(actor, owner int64, on bool, at schema.Stamp) objects.Mark {
		t.Helper()
		m, err := s.SetMark(t.Context(), objects.Mark{Object: o, Actor: actor, Owner: owner, On: on, Stamp: at})
		must(t, err)
		return m
	}
	steps := []struct {
		name      string
		actor     int64
		owner     int64 // what the change names
		on        bool
		at        schema.Stamp
		wantOwner int64
		wantOn    bool
		wantStamp schema.Stamp
	}{
		{"class naming the owner", 1, 9, true, st(10, "c1"), 9, true, st(10, "c1")},
		{"unclass naming no owner", 1, 0, false, st(20, "u1"), 9, false, st(20, "u1")},
		{"stale change naming no owner reads it back", 1, 0, true, st(5, "c0"), 9, false, st(20, "u1")},
		{"class naming no owner", 1, 0, true, st(30, "c2"), 9, true, st(30, "c2")},
		{"stale change reads it back", 1, 0, false, st(5, "u0"), 9, true, st(30, "c2")},
		{"never-set mark: unclass naming no owner", 2, 0, false, st(10, "u2"), 0, false, st(10, "u2")},
		{"then a class naming the owner", 2, 9, true, st(20, "c3"), 9, true, st(20, "c3")},
		{"stale change reads the named owner back", 2, 0, false, st(5, "u3"), 9, true, st(20, "c3")},
	}
	for _, step := range steps {
		m := set(step.actor, step.owner, step.on, step.at)
		if m.Owner != step.wantOwner || m.On != step.wantOn || m.Stamp != step.wantStamp {
			t.Errorf("%s: SetMark = %+v, want Owner %d On %v Stamp %v", step.name, m,
				step.wantOwner, step.wantOn, step.wantStamp)
		}
	}
	wantCount(t, s, o, 2)
}
