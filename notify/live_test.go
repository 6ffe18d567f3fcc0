package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
)

// The wide store interfaces, and so every store, satisfy the narrow ones
// the hook and the sender take (checked when the tests compile).
var (
	_ notify.Graph   = graph.Store(nil)
	_ notify.Objects = objects.Store(nil)
)

// A large author's broadcast notifies up to LiveCap distinct users of its
// friends and followers: a friend who also follows is one user, not two
// places under the cap; and deleting the broadcast takes it out of every
// inbox it reached.
func TestLiveCapCountsEachUserOnce(t *testing.T) {
	ctx := context.Background()
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	const author, both, follower = 100, 1, 2
	s := schema.Stamp{TS: 1, ID: "setup"}
	if err := st.Graph().SetEdges(ctx, []graph.Edge{
		{Rel: graph.Friend, From: author, To: both, On: true, Stamp: s},
		{Rel: graph.Friend, From: both, To: author, On: true, Stamp: s},
		{Rel: graph.Follow, From: both, To: author, On: true, Stamp: s},
		{Rel: graph.Follow, From: follower, To: author, On: true, Stamp: s},
	}); err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_700_000_000_000)
	in := notify.NewInbox(st.Notify())
	h := notify.NewHook(notify.HookConfig{Inbox: in, Graph: st.Graph(), LiveCap: 2, Now: func() time.Time { return now }})
	ev := schema.Event{V: 1, ID: "l1", Type: schema.Live, Actor: author, Object: "l1", Audience: schema.AudiencePublic,
		TS: now.UnixMilli(), Until: now.Add(time.Hour).UnixMilli()}
	eff := &fanout.Effect{Large: true, Object: objects.Object{ID: "l1", Type: schema.Live, Author: author, TS: ev.TS}}
	if err := h.Applied(ctx, &ev, eff); err != nil {
		t.Fatal(err)
	}
	for _, u := range []int64{both, follower} {
		if n, err := in.Unread(ctx, u); err != nil || n != 1 {
			t.Fatalf("user %d: %d unread (%v), want the broadcast", u, n, err)
		}
	}
	del := schema.Event{V: 1, ID: "d1", Type: schema.Delete, Actor: author, Object: "l1", TS: now.UnixMilli() + 1}
	eff.Object.Deleted = true
	if err := h.Applied(ctx, &del, eff); err != nil {
		t.Fatal(err)
	}
	for _, u := range []int64{both, follower} {
		if n, err := in.Unread(ctx, u); err != nil || n != 0 {
			t.Fatalf("user %d after the delete: %d unread (%v), want none", u, n, err)
		}
	}
}
