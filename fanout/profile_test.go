package fanout_test

import (
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/schema"
)

var _ fanout.Profiles = people.Store(nil)

func TestProfileEvent(t *testing.T) {
	e := newEnv(t, fanout.Config{})
	// newEnv wires no profile store: profile events are refused, never
	// dropped in silence.
	res := e.apply(schema.Event{ID: "pr0", Type: schema.Profile, Actor: 1, Name: "Anna"})
	if len(res.Rejected) != 1 || res.Rejected[0].Code != fanout.ReasonOther {
		t.Fatalf("without a profile store: %+v", res)
	}

	e = newEnv(t, fanout.Config{})
	e.engine = fanout.NewEngine(e.st.Graph(), e.st.Objects(), e.st.Timelines(), e.st.Ledger(),
		fanout.Config{Now: func() time.Time { return e.now }, Profiles: e.st.Profiles()})
	ts := e.now.UnixMilli() - 60_000
	name := func() string {
		t.Helper()
		ps, err := e.st.Profiles().Profiles(t.Context(), []int64{1})
		if err != nil {
			t.Fatal(err)
		}
		return ps[0].Name
	}
	steps := []struct {
		what string
		ev   schema.Event
		want string
	}{
		{"first", schema.Event{ID: "pr1", Type: schema.Profile, Actor: 1, Name: "Anna", TS: ts}, "Anna"},
		{"rename", schema.Event{ID: "pr2", Type: schema.Profile, Actor: 1, Name: "Anya", TS: ts + 10}, "Anya"},
		{"older arrives late", schema.Event{ID: "pr0b", Type: schema.Profile, Actor: 1, Name: "Old", TS: ts - 10}, "Anya"},
		{"re-delivered first", schema.Event{ID: "pr1", Type: schema.Profile, Actor: 1, Name: "Anna", TS: ts}, "Anya"},
	}
	for _, s := range steps {
		res := e.apply(s.ev)
		if len(res.Rejected) != 0 {
			t.Fatalf("%s: rejected %+v", s.what, res.Rejected)
		}
		if got := name(); got != s.want {
			t.Errorf("%s: name %q, want %q", s.what, got, s.want)
		}
	}
}
