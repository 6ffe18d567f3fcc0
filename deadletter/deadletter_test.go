package deadletter_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/deadletter"
	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
)

// published records what Replay put on the log.
type published struct{ evs []schema.Event }

func (p *published) Publish(_ context.Context, evs []schema.Event) error {
	p.evs = append(p.evs, evs...)
	return nil
}

func raw(t *testing.T, ev schema.Event) []byte {
	t.Helper()
	b, err := schema.MarshalMsgpack(&ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestListAndReplay(t *testing.T) {
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	ts := time.Now().Add(-time.Minute).UnixMilli()
	follow := schema.Event{ID: "f1", Type: schema.Follow, Actor: 1, Target: 2, TS: ts}
	class := schema.Event{ID: "c1", Type: schema.Class, Actor: 1, Target: 2, Object: "o", TS: ts}
	if err := st.DeadLetters().Put(ctx, []fanout.DeadLetter{
		{Raw: raw(t, follow), EventID: "f1", Reason: "blocked", Code: fanout.ReasonBlocked, TS: 1},
		{Raw: raw(t, class), EventID: "c1", Reason: "not owner", Code: fanout.ReasonNotOwner, TS: 2},
		{Raw: raw(t, follow), EventID: "f1", Reason: "blocked", Code: fanout.ReasonBlocked, TS: 3},
		{Raw: []byte{0xc1}, Reason: "malformed", Code: fanout.ReasonMalformed, TS: 4},
		{Raw: []byte{0xc1}, Reason: "from before codes", TS: 5},
	}); err != nil {
		t.Fatal(err)
	}
	log := &published{}
	svc := &deadletter.Service{Store: st.DeadLetters(), Log: log}

	for _, tc := range []struct {
		f    deadletter.Filter
		want int
	}{
		{deadletter.Filter{}, 5},
		{deadletter.Filter{Reason: fanout.ReasonBlocked}, 2},
		{deadletter.Filter{Reason: fanout.ReasonOther}, 1},
		{deadletter.Filter{IDs: []string{"c1"}}, 1},
		{deadletter.Filter{Limit: 2}, 2},
	} {
		got, err := svc.List(ctx, tc.f)
		if err != nil || len(got) != tc.want {
			t.Errorf("List(%+v) = %d letters (%v), want %d", tc.f, len(got), err, tc.want)
		}
	}
	if _, err := svc.List(ctx, deadletter.Filter{Reason: "nope"}); !errors.Is(err, deadletter.ErrUnknownReason) {
		t.Errorf("unknown reason: %v", err)
	}
	if _, err := svc.Replay(ctx, deadletter.Filter{}); !errors.Is(err, deadletter.ErrNoSelection) {
		t.Errorf("replay of nothing: %v", err)
	}

	rep, err := svc.Replay(ctx, deadletter.Filter{Reason: fanout.ReasonBlocked})
	if err != nil || !slices.Equal(rep.Replayed, []string{"f1"}) || len(log.evs) != 1 || log.evs[0].ID != "f1" {
		t.Fatalf("replay blocked: %+v %v; published %+v", rep, err, log.evs)
	}
	rep, err = svc.Replay(ctx, deadletter.Filter{Reason: fanout.ReasonBlocked})
	if err != nil || len(rep.Replayed) != 0 || len(log.evs) != 1 {
		t.Fatalf("second replay changed something: %+v %v", rep, err)
	}
	rep, err = svc.Replay(ctx, deadletter.Filter{Reason: fanout.ReasonMalformed})
	if err != nil || len(rep.Replayed) != 0 || len(rep.Skipped) != 1 {
		t.Fatalf("replay malformed: %+v %v", rep, err)
	}
	rep, err = svc.Replay(ctx, deadletter.Filter{IDs: []string{"c1", "f1"}})
	if err != nil || !slices.Equal(rep.Replayed, []string{"c1"}) {
		t.Fatalf("replay by id: %+v %v", rep, err)
	}
	left, err := svc.List(ctx, deadletter.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range left {
		if l.Replayed != (l.EventID != "") {
			t.Errorf("letter %+v: replayed = %v", l, l.Replayed)
		}
	}
}
