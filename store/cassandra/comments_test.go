package cassandrastore

import (
	"slices"
	"testing"

	"github.com/lenta-dev/lenta/objects"
)

// TestCommentPageSkipsLingeringThreadRow: a thread row left by a crash
// between a delete's LWT and its thread removal is skipped, and the page
// still fills past it; the next call for that comment (a re-delivered
// comment here) removes the row.
func TestCommentPageSkipsLingeringThreadRow(t *testing.T) {
	s := fresh(t)
	ctx := t.Context()
	cs := s.Comments()
	for i, id := range []string{"a", "b", "c"} {
		if _, err := cs.PutComment(ctx, objects.Comment{Object: "o", ID: id, Author: 1, Text: "x", TS: int64(100 + i)}); err != nil {
			t.Fatal(err)
		}
	}
	// The crash: b's record says deleted, its thread row was never removed.
	if err := s.sess.Query(`UPDATE comments SET deleted = true, del_ts = 200, del_id = 'd' WHERE object = 'o' AND id = 'b'`).
		ExecContext(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := cs.CommentPage(ctx, "o", objects.CommentPos{}, false, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "a" || got[1].ID != "c" {
		t.Fatalf("page of 2 = %+v, want a and c", got)
	}
	if _, err := cs.PutComment(ctx, objects.Comment{Object: "o", ID: "b", Author: 1, Text: "x", TS: 101}); err != nil {
		t.Fatal(err)
	}
	ids, _, err := cs.threadIDs(ctx, "o", objects.CommentPos{}, false, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{"a", "c"}) {
		t.Fatalf("thread after the repair = %v, want [a c]", ids)
	}
}
