// Package invariants switches on the checks of Lenta's store invariants:
// the properties keys.go, notify.go and the other layout comments promise
// after every write (a counter equals what it counts, an index row exists
// exactly when the row it indexes does, a cache is never ahead of the
// truth). Outside the tests those properties were only ever checked by the
// tests that thought of them; with the invariants build tag every write
// checks its own.
//
// Enabled is a constant, true only when the binary was built with
// -tags invariants (on.go, off.go), as in Pebble's internal/invariants
// (the tag is the same, so Pebble's own checks come on with ours). A
// check is written
//
//	if invariants.Enabled {
//		s.checkSomething(...)
//	}
//
// so that without the tag the compiler drops the call and the check code
// is dead: a production build pays nothing, not even a branch.
//
// A failed check panics with a *Violation (Failf). It does not return an
// error: a violation means the stored data is already wrong and the code
// that wrote it has a bug, which no caller can handle. An error would be
// retried, counted or dead-lettered by the pipeline and the bug would go
// on; a panic stops the process at the write that broke the invariant,
// with its stack, and the test or e2e run that built with the tag fails.
// Only builds with the tag (tests, e2e and fault runs) ever panic here.
//
// This package must never import anything of Lenta's, hold state, or do
// I/O: the checks themselves live beside the code they check.
package invariants
