// Package health keeps the state of a process's named long-running parts
// (HTTP server, fan-out, push sender, store, bus, ...) and says whether the
// process is healthy: every part is OK, or has been failing (retrying) for
// less than a bound. A part that is stopped, or failing longer than the
// bound, makes the process unhealthy, and the answer names it.
//
// It must never run a part, retry anything or import an adapter: parts
// report their own state; Probe is the one helper that turns a check
// function into a reporting loop for its caller to own.
package health
