//go:build !invariants

package invariants

import "testing"

func TestEnabledFollowsTheTag(t *testing.T) {
	if Enabled {
		t.Fatal("Enabled = true in a build without -tags invariants")
	}
}
