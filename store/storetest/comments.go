package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// RunComments checks an objects.Comments: write-once comments, tombstones
// that outlive late copies, exact counts under re-delivery and concurrency,
// and keyset pages of the standing comments in both orders.
func RunComments(t *testing.T, newStore func(t *testing.T) objects.Comments) {
	t.Helper()
	run(t, newStore, []subtest[objects.Comments]{
		{"PutOnce", cmPutOnce},
		{"DeleteAndLateCopy", cmDeleteLate},
		{"DeleteBeforeComment", cmDeleteFirst},
		{"RepeatedDelete", cmRepeatedDelete},
		{"GetInOrderMissingAsZero", cmGet},
		{"PagesBothOrders", cmPages},
		{"PagesSkipDeleted", cmPagesSkipDeleted},
		{"CountsPerObject", cmCounts},
		{"ConcurrentCount", cmConcurrent},
	})
}

const cmBase = 1_700_000_000_000

func comment(object, id string, author, ts int64) objects.Comment {
	return objects.Comment{Object: object, ID: id, Author: author, TS: cmBase + ts,
		Text: "text of " + id, ReplyTo: ""}
}

func commentCountOf(t *testing.T, s objects.Comments, object string) int64 {
	t.Helper()
	n, err := s.CommentCounts(t.Context(), []string{object})
	must(t, err)
	return n[0]
}

func wantCommentCount(t *testing.T, s objects.Comments, object string, want int64) {
	t.Helper()
	if got := commentCountOf(t, s, object); got != want {
		t.Errorf("comment count of %q = %d, want %d", object, got, want)
	}
}

func pageIDs(t *testing.T, s objects.Comments, object string, after objects.CommentPos, newest bool, limit int) []string {
	t.Helper()
	cs, err := s.CommentPage(t.Context(), object, after, newest, limit)
	must(t, err)
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func cmPutOnce(t *testing.T, s objects.Comments) {
	ctx := t.Context()
	c := comment("o1", "c1", 7, 1)
	c.ReplyTo = "c0"
	got, err := s.PutComment(ctx, c)
	must(t, err)
	if got != c {
		t.Fatalf("first put = %+v, want %+v", got, c)
	}
	again := c
	again.Text = "another text"
	got, err = s.PutComment(ctx, again)
	must(t, err)
	if got != c {
		t.Fatalf("second put of the same id = %+v, want the stored %+v", got, c)
	}
	wantCommentCount(t, s, "o1", 1)
	stored, err := s.GetComments(ctx, "o1", []string{"c1"})
	must(t, err)
	if stored[0] != c {
		t.Fatalf("get = %+v, want %+v", stored[0], c)
	}
}

func cmDeleteLate(t *testing.T, s objects.Comments) {
	ctx := t.Context()
	c := comment("o1", "c1", 7, 1)
	_, err := s.PutComment(ctx, c)
	must(t, err)
	del := st(cmBase+5, "d1")
	got, err := s.DeleteComment(ctx, "o1", "c1", del)
	must(t, err)
	if !got.Deleted || got.DeletedAt != del || got.Author != 7 || got.TS != c.TS {
		t.Fatalf("after delete = %+v", got)
	}
	wantCommentCount(t, s, "o1", 0)
	// The comment arrives again: it stays deleted and is not counted.
	got, err = s.PutComment(ctx, c)
	must(t, err)
	if !got.Deleted {
		t.Fatalf("late copy after delete = %+v, want it deleted", got)
	}
	wantCommentCount(t, s, "o1", 0)
	if ids := pageIDs(t, s, "o1", objects.CommentPos{}, true, 10); len(ids) != 0 {
		t.Fatalf("page after delete = %v, want none", ids)
	}
}

func cmDeleteFirst(t *testing.T, s objects.Comments) {
	ctx := t.Context()
	got, err := s.DeleteComment(ctx, "o1", "c1", st(cmBase+5, "d1"))
	must(t, err)
	if !got.Deleted || got.Exists() {
		t.Fatalf("delete of an unknown comment = %+v, want a tombstone", got)
	}
	wantCommentCount(t, s, "o1", 0)
	got, err = s.PutComment(ctx, comment("o1", "c1", 7, 1))
	must(t, err)
	if !got.Deleted {
		t.Fatalf("comment after its delete = %+v, want the tombstone", got)
	}
	wantCommentCount(t, s, "o1", 0)
	if ids := pageIDs(t, s, "o1", objects.CommentPos{}, false, 10); len(ids) != 0 {
		t.Fatalf("page = %v, want none", ids)
	}
}

func cmRepeatedDelete(t *testing.T, s objects.Comments) {
	ctx := t.Context()
	for _, c := range []objects.Comment{comment("o1", "c1", 7, 1), comment("o1", "c2", 8, 2)} {
		_, err := s.PutComment(ctx, c)
		must(t, err)
	}
	for range 3 {
		_, err := s.DeleteComment(ctx, "o1", "c1", st(cmBase+5, "d1"))
		must(t, err)
	}
	// An older delete of the same comment keeps the later stamp.
	got, err := s.DeleteComment(ctx, "o1", "c1", st(cmBase+4, "d0"))
	must(t, err)
	if got.DeletedAt != st(cmBase+5, "d1") {
		t.Fatalf("after an older delete: DeletedAt = %+v, want the later one", got.DeletedAt)
	}
	wantCommentCount(t, s, "o1", 1)
}

func cmGet(t *testing.T, s objects.Comments) {
	ctx := t.Context()
	a, b := comment("o1", "a", 1, 1), comment("o1", "b", 2, 2)
	for _, c := range []objects.Comment{a, b, comment("o2", "a", 3, 3)} {
		_, err := s.PutComment(ctx, c)
		must(t, err)
	}
	got, err := s.GetComments(ctx, "o1", []string{"b", "zz", "a"})
	must(t, err)
	want := []objects.Comment{b, {Object: "o1", ID: "zz"}, a}
	if !slices.Equal(got, want) {
		t.Fatalf("get = %+v, want %+v", got, want)
	}
}

func cmPages(t *testing.T, s objects.Comments) {
	ctx := t.Context()
	// Two comments share a ts: the id orders them. "c1" is a prefix of
	// "c10", which must sort after it.
	for _, c := range []objects.Comment{comment("o1", "c10", 1, 2), comment("o1", "c1", 2, 2),
		comment("o1", "c3", 3, 3), comment("o1", "c0", 4, 1), comment("o10", "x", 5, 9)} {
		_, err := s.PutComment(ctx, c)
		must(t, err)
	}
	oldest := []string{"c0", "c1", "c10", "c3"}
	if got := pageIDs(t, s, "o1", objects.CommentPos{}, false, 10); !slices.Equal(got, oldest) {
		t.Fatalf("oldest first = %v, want %v", got, oldest)
	}
	newest := []string{"c3", "c10", "c1", "c0"}
	if got := pageIDs(t, s, "o1", objects.CommentPos{}, true, 10); !slices.Equal(got, newest) {
		t.Fatalf("newest first = %v, want %v", got, newest)
	}
	// Keyset continuation in pages of 2, both ways.
	for _, dir := range []struct {
		newest bool
		want   []string
	}{{false, oldest}, {true, newest}} {
		var all []string
		var after objects.CommentPos
		for range 4 {
			cs, err := s.CommentPage(ctx, "o1", after, dir.newest, 2)
			must(t, err)
			if len(cs) == 0 {
				break
			}
			for _, c := range cs {
				all = append(all, c.ID)
			}
			last := cs[len(cs)-1]
			after = objects.CommentPos{TS: last.TS, ID: last.ID}
		}
		if !slices.Equal(all, dir.want) {
			t.Errorf("paged (newest=%v) = %v, want %v", dir.newest, all, dir.want)
		}
	}
	if got := pageIDs(t, s, "o10", objects.CommentPos{}, true, 10); !slices.Equal(got, []string{"x"}) {
		t.Fatalf("object o10 = %v, want [x] (o1's comments kept apart)", got)
	}
	if got := pageIDs(t, s, "none", objects.CommentPos{}, true, 10); len(got) != 0 {
		t.Fatalf("unknown object = %v, want none", got)
	}
}

func cmPagesSkipDeleted(t *testing.T, s objects.Comments) {
	ctx := t.Context()
	for i := range 5 {
		_, err := s.PutComment(ctx, comment("o1", fmt.Sprintf("c%d", i), 1, int64(i)))
		must(t, err)
	}
	_, err := s.DeleteComment(ctx, "o1", "c2", st(cmBase+10, "d"))
	must(t, err)
	want := []string{"c4", "c3", "c1", "c0"}
	if got := pageIDs(t, s, "o1", objects.CommentPos{}, true, 10); !slices.Equal(got, want) {
		t.Fatalf("page = %v, want %v", got, want)
	}
	// A cursor at the deleted comment still continues after it.
	got := pageIDs(t, s, "o1", objects.CommentPos{TS: cmBase + 2, ID: "c2"}, false, 10)
	if !slices.Equal(got, []string{"c3", "c4"}) {
		t.Fatalf("after the deleted c2 = %v, want [c3 c4]", got)
	}
	wantCommentCount(t, s, "o1", 4)
}

func cmCounts(t *testing.T, s objects.Comments) {
	ctx := t.Context()
	for i := range 3 {
		_, err := s.PutComment(ctx, comment("a", fmt.Sprintf("c%d", i), 1, int64(i)))
		must(t, err)
	}
	_, err := s.PutComment(ctx, comment("b", "c0", 1, 1))
	must(t, err)
	got, err := s.CommentCounts(ctx, []string{"b", "none", "a", "a"})
	must(t, err)
	if want := []int64{1, 0, 3, 3}; !slices.Equal(got, want) {
		t.Fatalf("counts = %v, want %v", got, want)
	}
	got, err = s.CommentCounts(ctx, nil)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("counts of nothing = %v", got)
	}
}

// cmConcurrent writes, re-delivers and deletes comments of one object
// from several goroutines: the count must equal the standing comments.
func cmConcurrent(t *testing.T, s objects.Comments) {
	ctx := t.Context()
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				c := comment("hot", fmt.Sprintf("c%02d", i), int64(w+1), int64(i))
				if _, err := s.PutComment(ctx, c); err != nil {
					errs <- err
					return
				}
				if i%3 == 0 {
					if _, err := s.DeleteComment(ctx, "hot", c.ID, schema.Stamp{TS: cmBase + 100, ID: fmt.Sprintf("d%02d", i)}); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wantCommentCount(t, s, "hot", n-n/3)
	if got := pageIDs(t, s, "hot", objects.CommentPos{}, false, 100); len(got) != n-n/3 {
		t.Fatalf("page holds %d comments, want %d", len(got), n-n/3)
	}
}
