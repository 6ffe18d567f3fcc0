// Package feeddproc runs Lenta's binaries as child processes for the bench
// (cmd/feedbench), the end-to-end suite (e2e) and the fault suite (faults):
// it builds them with go build, starts one with given flags and
// environment on a free 127.0.0.1 port (--http), keeps its output in a log
// file or an in-memory buffer, waits a bounded time until /healthz answers
// 200 (an error names the log and quotes its tail), and stops it: SIGTERM,
// then SIGKILL after a bound, reporting the exit. It can also send any
// signal (SIGKILL for the fault suite), restart the same command, and
// report the process's peak resident set.
//
// It knows nothing of feedd's flags beyond --http and nothing of its API:
// callers compose the arguments and talk to the process themselves. It
// must never leave a process running once Start has returned an error,
// never keep mutable package-level state (each Proc owns its process, its
// log and the one goroutine that waits for its exit), and never be
// imported by the service's own packages (cmd/feedd, cmd/feedctl and the
// packages they use).
package feeddproc
