package fanout_test

// The rule scripts' reaction steps (README.md): "expect reactions p:
// class 1, love 2" and "expect mine 2: p love".

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// reactions renders object's stored counts per kind: "class 1, love 2"
// ("none" when it has none).
func (s *script) reactions(object string) string {
	cs, err := s.st.Objects().ReactionCounts(s.ctx, []string{object})
	if err != nil {
		s.fail("read reaction counts of %s: %v", object, err)
	}
	var out []string
	if cs[0].Class > 0 {
		out = append(out, fmt.Sprintf("class %d", cs[0].Class))
	}
	for _, k := range cs[0].Other {
		out = append(out, fmt.Sprintf("%s %d", k.Kind, k.N))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// expectReactions checks object's counts as stored and as every feed
// entry about it shows them (per kind and the total).
func (s *script) expectReactions(object, want string) {
	want = strings.Join(strings.Fields(want), " ")
	if got := s.reactions(object); got != want {
		s.mismatch("reactions of "+object, got, want)
	}
	for _, u := range slices.Sorted(maps.Keys(s.users)) {
		for _, it := range s.page(u) {
			if it.Object != object {
				continue
			}
			var parts []string
			var total int64
			for _, k := range it.Reactions {
				parts = append(parts, fmt.Sprintf("%s %d", k.Kind, k.N))
				total += k.N
			}
			got := strings.Join(parts, ", ")
			if got == "" {
				got = "none"
			}
			if got != want || total != it.ReactionCount {
				s.mismatch(fmt.Sprintf("reactions shown on %s %s in the feed of user %d (total %d)", it.Type, object, u, it.ReactionCount), got, want)
			}
		}
	}
}

// mine renders the viewer's own reactions shown in their feed, one per
// object in feed order: "p love; q class".
func (s *script) mine(user int64) string {
	var out []string
	seen := map[string]bool{}
	for _, it := range s.page(user) {
		if it.MyReaction == "" || seen[it.Object] {
			continue
		}
		seen[it.Object] = true
		out = append(out, it.Object+" "+it.MyReaction)
	}
	return list(out)
}
