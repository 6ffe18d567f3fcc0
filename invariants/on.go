//go:build invariants

package invariants

// Enabled is true: this binary was built with -tags invariants.
const Enabled = true
