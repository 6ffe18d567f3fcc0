package fanout_test

// The rule scripts' comment steps: "expect comments p: c2 by 3; c1 by 2"
// and "expect comment count p 2".

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/lenta-dev/lenta/objects"
)

// comments is the thread of object, newest first, as the store pages it:
// "c2 by 3" (a reply: "c3 by 1 reply c2").
func (s *script) comments(object string) string {
	cs, err := s.st.Comments().CommentPage(s.ctx, object, objects.CommentPos{}, true, 1000)
	if err != nil {
		s.fail("read comments of %s: %v", object, err)
	}
	var out []string
	for _, c := range cs {
		w := fmt.Sprintf("%s by %d", c.ID, c.Author)
		if c.ReplyTo != "" {
			w += " reply " + c.ReplyTo
		}
		out = append(out, w)
	}
	return list(out)
}

func (s *script) commentCount(object string) int64 {
	n, err := s.st.Comments().CommentCounts(s.ctx, []string{object})
	if err != nil {
		s.fail("read comment count of %s: %v", object, err)
	}
	return n[0]
}

// expectCommentCount checks object's comment count as stored and as shown
// on every feed entry about it of every user the script named.
func (s *script) expectCommentCount(object, want string) {
	s.objs[object] = true
	if got := strconv.FormatInt(s.commentCount(object), 10); got != want {
		s.mismatch("comment count of "+object, got, want)
	}
	for _, u := range slices.Sorted(maps.Keys(s.users)) {
		for _, it := range s.page(u) {
			if got := strconv.FormatInt(it.CommentCount, 10); it.Object == object && got != want {
				s.mismatch(fmt.Sprintf("comment count shown on %s %s in the feed of user %d", it.Type, object, u), got, want)
			}
		}
	}
}
