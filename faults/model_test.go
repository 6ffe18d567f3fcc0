package faults

import (
	"testing"
)

// TestWorkloadModelMatchesEngine checks the workload's own model (posts
// seen, Class counts, reaction counts per kind) against the reference
// engine on a small workload, with no servers: a wrong model would fail
// every fault test for the wrong reason. It runs without LENTA_FAULTS.
func TestWorkloadModelMatchesEngine(t *testing.T) {
	w := newWorkload(7, 40, 6, 300, 20, 600)
	r := reference(t, w.asLog(t))
	counts, reactions := w.classCounts(), w.reactionCounts()
	kinds := map[string]bool{}
	for u := int64(1); u <= int64(w.users); u++ {
		for _, it := range referenceFeed(t, r, u) {
			if it.Type != "post" {
				continue
			}
			if it.ClassCount != counts[it.Object] {
				t.Errorf("user %d: %s has class_count %d, model %d", u, it.Object, it.ClassCount, counts[it.Object])
			}
			if got, want := renderReactions(&it), renderModel(reactions[it.Object]); got != want {
				t.Errorf("user %d: %s has reactions %q, model %q", u, it.Object, got, want)
			}
			for _, k := range it.Reactions {
				kinds[k.Kind] = true
			}
		}
	}
	for _, k := range faultKinds {
		if !kinds[k] {
			t.Errorf("no feed shows a %s: the workload does not exercise every kind", k)
		}
	}
}
