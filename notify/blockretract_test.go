package notify_test

import (
	"context"
	"slices"
	"testing"

	"github.com/lenta-dev/lenta/notify"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
)

// TestRetractActor: a block takes one actor's activities out of every
// group of an inbox; groups left empty go, shared groups stay with their
// other actors, and the unread count follows.
func TestRetractActor(t *testing.T) {
	ctx := context.Background()
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	in := notify.NewInbox(st.Notify())
	const user, blocked, other = 1, 2, 3
	add := func(kind notify.Kind, object string, actor, ts int64) {
		a := notify.Activity{User: user, Kind: kind, Object: object, Actor: actor, TS: ts,
			Group: notify.GroupKey(kind, object, 1000), EventID: object}
		if _, err := in.Add(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	add(notify.KindClass, "a", blocked, 1000) // only the blocked actor: goes
	add(notify.KindClass, "b", other, 1100)   // shared: stays with other
	add(notify.KindClass, "b", blocked, 1200)
	add(notify.KindClass, "c", other, 1300) // untouched
	if n, _ := in.Unread(ctx, user); n != 3 {
		t.Fatalf("unread before = %d, want 3", n)
	}
	for range 2 { // idempotent
		if err := in.RetractActor(ctx, user, blocked); err != nil {
			t.Fatal(err)
		}
	}
	p, err := in.Page(ctx, user, notify.Position{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var objs []string
	for _, n := range p.Items {
		if slices.Contains(n.Actors, blocked) {
			t.Fatalf("blocked actor still in %+v", n)
		}
		objs = append(objs, n.Object)
	}
	if !slices.Equal(objs, []string{"c", "b"}) {
		t.Fatalf("groups after = %v, want c b", objs)
	}
	if n, _ := in.Unread(ctx, user); n != 2 {
		t.Fatalf("unread after = %d, want 2", n)
	}
}
