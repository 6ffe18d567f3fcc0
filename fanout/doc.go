// Package fanout applies events: it resolves each event's audience from the
// social graph and writes timeline rows, object state, Class marks and
// reactions (one slot per user and object, marks.go), comments and graph
// edges, following the event semantics in docs/events.md. It also
// holds the batch processor that every bus (the embedded log, Kafka) uses:
// decode, validate, dead-letter poison, apply, never skip. It tries a batch
// once: a failure goes back to the bus, which alone retries the batch.
//
// Every write the engine makes is idempotent by construction (deterministic
// keys, last-writer-wins stamps), so an event applied twice, or a batch
// replayed after a crash, changes nothing. The ledger of applied events is
// only a shortcut over that.
//
// This package must never import a storage or transport library.
package fanout
