package objects

import (
	"testing"

	"github.com/lenta-dev/lenta/schema"
)

func TestNextMark(t *testing.T) {
	st := func(ts int64, id string) schema.Stamp { return schema.Stamp{TS: ts, ID: id} }
	on := Mark{Object: "p", Actor: 2, Owner: 9, On: true, Stamp: st(10, "c1"), Since: st(10, "c1")}
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NextMark(tc.cur, tc.found, tc.change)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("NextMark = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
