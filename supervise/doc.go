// Package supervise runs a process's long-running parts as one group. When
// any part returns (an error, or nil before it was asked to stop) the group
// logs which part and why, stops the others one by one in the order they
// were added, and Run returns that part's error, so the process exits
// non-zero. When the caller's context ends (a signal) every part is stopped
// in the same order and Run returns nil unless a part failed to stop.
//
// It must never retry or restart a part: a part that can recover retries
// inside itself and reports its state to package health; a part that
// returns is dead, and the process with it.
package supervise
