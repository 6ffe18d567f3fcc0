package comments_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/comments"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
)

const base = 1_700_000_000_000

// world is a store with user 1's objects and a few relations:
// 1 and 2 are friends, 3 is a stranger, 4 blocked 1, 1 blocked 5,
// 2 is in 1's friend group "close".
func world(t *testing.T) (*pebblestore.Store, *comments.Reader) {
	t.Helper()
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	s := schema.Stamp{TS: base, ID: "s"}
	edges := []graph.Edge{
		{Rel: graph.Friend, From: 1, To: 2, On: true, Stamp: s}, {Rel: graph.Friend, From: 2, To: 1, On: true, Stamp: s},
		{Rel: graph.Block, From: 4, To: 1, On: true, Stamp: s},
		{Rel: graph.Block, From: 1, To: 5, On: true, Stamp: s},
		{Rel: graph.Member, From: 1, To: 2, Group: "close", On: true, Stamp: s},
	}
	if err := st.Graph().SetEdges(ctx, edges); err != nil {
		t.Fatal(err)
	}
	for _, o := range []objects.Object{
		{ID: "pub", Type: schema.Post, Author: 1, Audience: "public"},
		{ID: "fr", Type: schema.Post, Author: 1, Audience: "friends"},
		{ID: "priv", Type: schema.Post, Author: 1, Audience: "private"},
		{ID: "grp", Type: schema.Post, Author: 1, Audience: "group:close"},
		{ID: "gone", Type: schema.Post, Author: 1, Audience: "public"},
	} {
		o.TS, o.EventID, o.Text = base, o.ID, "x"
		if _, err := st.Objects().Put(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Objects().Delete(ctx, "gone", 1, schema.Stamp{TS: base + 1, ID: "d"}); err != nil {
		t.Fatal(err)
	}
	return st, comments.NewReader(st.Objects(), st.Comments(), st.Graph(), func() time.Time { return time.UnixMilli(base + 3600_000) })
}

func put(t *testing.T, st *pebblestore.Store, object, id string, author, ts int64) {
	t.Helper()
	if _, err := st.Comments().PutComment(t.Context(), objects.Comment{Object: object, ID: id, Author: author,
		Text: "text " + id, TS: base + ts}); err != nil {
		t.Fatal(err)
	}
}

func ids(p comments.Page) []string {
	out := make([]string, len(p.Items))
	for i, c := range p.Items {
		out[i] = c.ID
	}
	return out
}

func TestPageVisibility(t *testing.T) {
	st, r := world(t)
	for _, o := range []string{"pub", "fr", "priv", "grp"} {
		put(t, st, o, "c-"+o, 1, 1)
	}
	tests := []struct {
		viewer int64
		object string
		ok     bool
	}{
		{1, "priv", true}, // the owner sees everything of theirs
		{2, "pub", true},
		{3, "pub", true},
		{2, "fr", true},
		{3, "fr", false},
		{2, "priv", false},
		{2, "grp", true},
		{3, "grp", false},
		{4, "pub", false}, // 4 blocked the owner
		{5, "pub", false}, // the owner blocked 5
		{1, "gone", false},
		{1, "never", false},
	}
	for _, tt := range tests {
		p, err := r.Page(t.Context(), tt.viewer, tt.object, objects.CommentPos{}, true, 10)
		if tt.ok != (err == nil) || (!tt.ok && !errors.Is(err, comments.ErrNotFound)) {
			t.Errorf("viewer %d on %s: err %v, want ok=%v (else ErrNotFound)", tt.viewer, tt.object, err, tt.ok)
			continue
		}
		if tt.ok && len(p.Items) != 1 {
			t.Errorf("viewer %d on %s: %v", tt.viewer, tt.object, ids(p))
		}
	}
}

func TestPageOrdersCursorsAndBlocks(t *testing.T) {
	st, r := world(t)
	ctx := t.Context()
	put(t, st, "pub", "a", 2, 1)
	put(t, st, "pub", "b", 3, 2)
	put(t, st, "pub", "c", 2, 3)
	put(t, st, "pub", "d", 3, 4)
	put(t, st, "pub", "e", 2, 5)
	if _, err := st.Comments().DeleteComment(ctx, "pub", "c", schema.Stamp{TS: base + 9, ID: "x"}); err != nil {
		t.Fatal(err)
	}
	// 3 blocks 2: 3 no longer sees 2's comments, 2 no longer sees 3's.
	if err := st.Graph().SetEdges(ctx, []graph.Edge{{Rel: graph.Block, From: 3, To: 2, On: true,
		Stamp: schema.Stamp{TS: base + 10, ID: "b"}}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		viewer int64
		newest bool
		want   []string
	}{
		{1, true, []string{"e", "d", "b", "a"}},
		{1, false, []string{"a", "b", "d", "e"}},
		{2, true, []string{"e", "a"}},
		{3, false, []string{"b", "d"}},
	}
	for _, tt := range tests {
		for limit := 1; limit <= 5; limit++ {
			var got []string
			var after objects.CommentPos
			for range 10 {
				p, err := r.Page(ctx, tt.viewer, "pub", after, tt.newest, limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Items) > limit {
					t.Fatalf("page of %d items for limit %d", len(p.Items), limit)
				}
				got = append(got, ids(p)...)
				if p.Next.IsZero() {
					break
				}
				after = p.Next
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("viewer %d newest=%v limit %d: %v, want %v", tt.viewer, tt.newest, limit, got, tt.want)
			}
		}
	}
	if _, err := r.Page(ctx, 1, "pub", objects.CommentPos{}, true, comments.MaxPageLimit+1); err == nil {
		t.Fatal("a limit over the maximum was served")
	}
}

// TestPageLastHasNoCursor: a page that reaches the end of the thread has
// no cursor, also when it is exactly full.
func TestPageLastHasNoCursor(t *testing.T) {
	st, r := world(t)
	put(t, st, "pub", "a", 2, 1)
	put(t, st, "pub", "b", 2, 2)
	p, err := r.Page(context.Background(), 1, "pub", objects.CommentPos{}, true, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Next.IsZero() || len(p.Items) != 2 {
		t.Fatalf("page %v next %+v", ids(p), p.Next)
	}
}
