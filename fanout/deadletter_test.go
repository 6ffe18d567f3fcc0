package fanout_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
)

func TestReasonOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("decode: %w", schema.ErrMalformed), fanout.ReasonMalformed},
		{fmt.Errorf("check: %w", schema.ErrInvalid), fanout.ReasonInvalid},
		{fmt.Errorf("x: %w", fanout.ErrUnknownType), fanout.ReasonInvalid},
		{fmt.Errorf("x: %w", fanout.ErrNotOwner), fanout.ReasonNotOwner},
		{fmt.Errorf("x: %w", fanout.ErrBlocked), fanout.ReasonBlocked},
		{fmt.Errorf("x: %w", fanout.ErrNotVisibleRefusal), fanout.ReasonNotVisible},
		{fmt.Errorf("x: %w", errors.New("not_visible: hidden")), fanout.ReasonNotVisible},
		{errors.New("not_visible: user 3 may not see object o"), fanout.ReasonNotVisible},
		{fmt.Errorf("x: %w", fanout.ErrIDConflict), fanout.ReasonIDConflict},
		{errors.New("something else"), fanout.ReasonOther},
		{nil, fanout.ReasonOther},
	} {
		if got := fanout.ReasonOf(tc.err); got != tc.want {
			t.Errorf("ReasonOf(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// Each refusal site of the engine comes back with its reason code.
func TestRejectionCodes(t *testing.T) {
	e := newEnv(t, fanout.Config{})
	e.apply(
		schema.Event{ID: "p", Type: schema.Post, Actor: 1, Object: "po", Text: "hi"},
		schema.Event{ID: "b", Type: schema.Block, Actor: 5, Target: 6},
	)
	for _, tc := range []struct {
		ev   schema.Event
		want string
	}{
		{schema.Event{ID: "c", Type: schema.Class, Actor: 3, Target: 2, Object: "po"}, fanout.ReasonNotOwner},
		{schema.Event{ID: "d", Type: schema.Delete, Actor: 2, Object: "po"}, fanout.ReasonNotOwner},
		{schema.Event{ID: "f", Type: schema.Follow, Actor: 6, Target: 5}, fanout.ReasonBlocked},
		{schema.Event{ID: "fr", Type: schema.Friend, Actor: 5, Target: 6}, fanout.ReasonBlocked},
		{schema.Event{ID: "p2", Type: schema.Post, Actor: 1, Object: "po", Text: "again"}, fanout.ReasonOther},
	} {
		res := e.apply(tc.ev)
		if len(res.Rejected) != 1 || res.Rejected[0].Code != tc.want || res.Rejected[0].Reason == "" {
			t.Errorf("%s: rejected %+v, want one with code %q", tc.ev.ID, res.Rejected, tc.want)
		}
	}
}

// A refused event is not recorded in the ledger: once the cause is fixed,
// the same event (a replay) is applied, exactly once.
func TestRefusedIsNotRecorded(t *testing.T) {
	e := newEnv(t, fanout.Config{})
	e.apply(schema.Event{ID: "b", Type: schema.Block, Actor: 5, Target: 6})
	follow := schema.Event{ID: "f", Type: schema.Follow, Actor: 6, Target: 5, TS: e.now.UnixMilli() - 1000}
	if res := e.apply(follow); len(res.Rejected) != 1 {
		t.Fatalf("follow across a block: %+v", res)
	}
	seen, err := e.st.Ledger().Seen(t.Context(), []string{"f"})
	if err != nil || seen[0].Found {
		t.Fatalf("refused event in the ledger: %+v %v", seen, err)
	}
	e.apply(schema.Event{ID: "u", Type: schema.Unblock, Actor: 5, Target: 6})
	if res := e.apply(follow); res.Applied != 1 || len(res.Rejected) != 0 {
		t.Fatalf("replay after the fix: %+v", res)
	}
	if res := e.apply(follow); res.Duplicates != 1 || res.Applied != 0 {
		t.Fatalf("second replay: %+v", res)
	}
}

// An applied id re-sent with other content is refused as id_conflict; the
// same content again is a plain duplicate; the first content stays.
func TestIDConflict(t *testing.T) {
	e := newEnv(t, fanout.Config{})
	e.apply(schema.Event{ID: "g", Type: schema.Friend, Actor: 1, Target: 2})
	orig := schema.Event{ID: "p", Type: schema.Post, Actor: 1, Object: "po", Text: "first", TS: e.now.UnixMilli() - 5000}
	if res := e.apply(orig); res.Applied != 1 {
		t.Fatalf("first: %+v", res)
	}
	if res := e.apply(orig); res.Duplicates != 1 || len(res.Rejected) != 0 {
		t.Fatalf("same content again: %+v", res)
	}
	changed := orig
	changed.Text = "second"
	res := e.apply(changed)
	if len(res.Rejected) != 1 || res.Rejected[0].Code != fanout.ReasonIDConflict || res.Duplicates != 0 {
		t.Fatalf("other content: %+v", res)
	}
	// Within one batch too.
	a := schema.Event{ID: "q", Type: schema.Post, Actor: 1, Object: "qo", Text: "a", TS: e.now.UnixMilli() - 4000}
	b := a
	b.Text = "b"
	res = e.apply(a, b, a)
	if res.Applied != 1 || res.Duplicates != 1 || len(res.Rejected) != 1 || res.Rejected[0].Index != 1 ||
		res.Rejected[0].Code != fanout.ReasonIDConflict {
		t.Fatalf("one batch: %+v", res)
	}
	items := e.feed(2)
	if len(items) != 2 || items[0].Text != "a" || items[1].Text != "first" {
		t.Fatalf("feed of 2: %+v", items)
	}
}

// A ledger row without digest (written before digests) accepts any
// content as a duplicate.
func TestLedgerWithoutDigest(t *testing.T) {
	e := newEnv(t, fanout.Config{})
	if err := e.st.Ledger().Record(t.Context(), []string{"old"}, nil, e.now.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	res := e.apply(schema.Event{ID: "old", Type: schema.Post, Actor: 1, Object: "o", Text: "x"})
	if res.Duplicates != 1 || len(res.Rejected) != 0 {
		t.Fatalf("%+v", res)
	}
}
