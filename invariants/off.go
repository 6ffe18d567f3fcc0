//go:build !invariants

package invariants

// Enabled is false: this binary was built without -tags invariants, and
// every check guarded by it compiles away.
const Enabled = false
