//go:build invariants

package invariants

import "testing"

func TestEnabledFollowsTheTag(t *testing.T) {
	if !Enabled {
		t.Fatal("Enabled = false in a build with -tags invariants")
	}
}
