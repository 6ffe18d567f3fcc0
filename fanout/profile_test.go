package fanout_test

import (
	"strings"
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

// TestBadProfileOnTheBus: a profile that breaks the contract and reaches
// the bus anyway (a producer that bypassed HTTP) is a dead letter with
// the reason, and the good profile beside it is applied.
func TestBadProfileOnTheBus(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	e := newEnv(t, fanout.Config{})
	engine := fanout.NewEngine(e.st.Graph(), e.st.Objects(), e.st.Timelines(), e.st.Ledger(),
		fanout.Config{Now: func() time.Time { return now }, Profiles: e.st.Profiles()})
	dead := &flakyDead{}
	p := &fanout.Processor{Engine: engine, Dead: dead}
	var msgs [][]byte
	for _, ev := range []schema.Event{
		{ID: "pr-bad", Type: schema.Profile, Actor: 1, Name: "<script>x</script>", TS: now.UnixMilli() - 1000},
		{ID: "pr-bad2", Type: schema.Profile, Actor: 1, Name: "Anna", Avatar: "javascript:alert(1)", TS: now.UnixMilli() - 1000},
		{ID: "pr-good", Type: schema.Profile, Actor: 2, Name: "Boris", TS: now.UnixMilli() - 1000},
	} {
		b, err := schema.MarshalMsgpack(&ev)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, b)
	}
	if err := p.Process(t.Context(), msgs); err != nil {
		t.Fatal(err)
	}
	if len(dead.letters) != 2 {
		t.Fatalf("%d dead letters, want 2: %+v", len(dead.letters), dead.letters)
	}
	for i, want := range []string{"name: must not contain '<' or '>'", "avatar: must be an absolute URL"} {
		if l := dead.letters[i]; l.Code != fanout.ReasonInvalid || !strings.Contains(l.Reason, want) {
			t.Errorf("letter %d: %s %q, want invalid with %q", i, l.Code, l.Reason, want)
		}
	}
	ps, err := e.st.Profiles().Profiles(t.Context(), []int64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if ps[0].Exists() || ps[1].Name != "Boris" {
		t.Errorf("profiles %+v: want none for 1 and Boris for 2", ps)
	}
}
