package objects

import (
	"testing"

	"github.com/lenta-dev/lenta/schema"
)

func TestNextMark(t *testing.T) {
	st := func(ts int64, id string) schema.Stamp { return schema.Stamp{TS: ts, ID: id} }
	on := Mark{Object: "p", Actor: 2, Owner: 9, On: true, Stamp: st(10, "c1"), Since: st(10, "c1")}
	off := Mark{Object: "p", Actor: 2, Owner: 9, On: false, Stamp: st(20, "u1"), Since: st(10, "c1")}
	for _, tc := range []struct {
		name   string
		cur    Mark
		found  bool
		change Mark
		want   Mark
		ok     bool
	}{
		{"a first class turns it on", Mark{Object: "p", Actor: 2}, false,
			Mark{Object: "p", Actor: 2, Owner: 9, On: true, Stamp: st(10, "c1")}, on, true},
		{"a re-delivered class changes nothing", on, true, Mark{Object: "p", Actor: 2, Owner: 9, On: true, Stamp: st(10, "c1")}, on, false},
		{"an older unclass loses", on, true, Mark{Object: "p", Actor: 2, On: false, Stamp: st(5, "u0")}, on, false},
		{"a later unclass turns it off, keeping owner and since", on, true, Mark{Object: "p", Actor: 2, On: false, Stamp: st(20, "u1")},
			Mark{Object: "p", Actor: 2, Owner: 9, On: false, Stamp: st(20, "u1"), Since: st(10, "c1")}, true},
		{"a class after an unclass starts a new since",
			Mark{Object: "p", Actor: 2, Owner: 9, On: false, Stamp: st(20, "u1"), Since: st(10, "c1")}, true,
			Mark{Object: "p", Actor: 2, Owner: 9, On: true, Stamp: st(30, "c2")},
			Mark{Object: "p", Actor: 2, Owner: 9, On: true, Stamp: st(30, "c2"), Since: st(30, "c2")}, true},
		{"a second class while on keeps since", on, true, Mark{Object: "p", Actor: 2, Owner: 9, On: true, Stamp: st(40, "c3")},
			Mark{Object: "p", Actor: 2, Owner: 9, On: true, Stamp: st(40, "c3"), Since: st(10, "c1")}, true},
		{"an equal stamp is a tie broken by id", on, true, Mark{Object: "p", Actor: 2, On: false, Stamp: st(10, "c2")},
			Mark{Object: "p", Actor: 2, Owner: 9, On: false, Stamp: st(10, "c2"), Since: st(10, "c1")}, true},
		// Owner: a change naming no owner (0: an unclass without target,
		// as stored) keeps the stored owner; one naming an owner sets it.
		{"a class naming no owner keeps the stored owner",
			Mark{Object: "p", Actor: 2, Owner: 9, On: false, Stamp: st(20, "u1"), Since: st(10, "c1")}, true,
			Mark{Object: "p", Actor: 2, On: true, Stamp: st(30, "c2")},
			Mark{Object: "p", Actor: 2, Owner: 9, On: true, Stamp: st(30, "c2"), Since: st(30, "c2")}, true},
		{"an unclass naming no owner keeps the stored owner while off", off, true,
			Mark{Object: "p", Actor: 2, On: false, Stamp: st(25, "u2")},
			Mark{Object: "p", Actor: 2, Owner: 9, On: false, Stamp: st(25, "u2"), Since: st(10, "c1")}, true},
		{"a change naming an owner sets it", Mark{Object: "p", Actor: 2, On: false, Stamp: st(5, "u0")}, true,
			Mark{Object: "p", Actor: 2, Owner: 9, On: true, Stamp: st(10, "c1")}, on, true},
		{"a stale change naming no owner changes nothing", on, true, Mark{Object: "p", Actor: 2, On: true, Stamp: st(9, "c0")}, on, false},
		// A never-set mark (found false) takes any change, whatever cur
		// holds: it has no stamp to lose to.
		{"a never-set mark takes a first unclass naming no owner", Mark{Object: "p", Actor: 2}, false,
			Mark{Object: "p", Actor: 2, On: false, Stamp: st(5, "u0")},
			Mark{Object: "p", Actor: 2, On: false, Stamp: st(5, "u0")}, true},
		{"a never-set mark takes a change stamped before what cur holds", on, false,
			Mark{Object: "p", Actor: 2, Owner: 9, On: true, Stamp: st(5, "c0")},
			Mark{Object: "p", Actor: 2, Owner: 9, On: true, Stamp: st(5, "c0"), Since: st(10, "c1")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NextMark(tc.cur, tc.found, tc.change)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("NextMark = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
