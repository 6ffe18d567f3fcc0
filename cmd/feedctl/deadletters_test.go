package main

import "testing"

func TestDeadLettersUsage(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"deadletters"}, 2},
		{[]string{"deadletters", "frobnicate"}, 2},
		{[]string{"deadletters", "replay"}, 2},
		{[]string{"deadletters", "list", "--limit", "-1"}, 2},
		{[]string{"deadletters", "list", "extra"}, 2},
		{[]string{"deadletters", "replay", "--limit", "3", "--reason", "blocked"}, 2}, // no --limit on replay
		{[]string{"deadletters", "help"}, 0},
	} {
		if got := h.run("", tc.args...); got != tc.want {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, got, tc.want, h.stderr.String())
		}
	}
}
