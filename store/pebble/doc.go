// Package pebblestore is Lenta's embedded store: the social graph, objects
// and Class marks, timelines, the fan-out ledger and dead letters, and the
// durable in-process event log, all in one Pebble DB in a data folder.
//
// Open returns a Store whose views implement the domain interfaces:
// Graph (graph.Store), Objects (objects.Store), Timelines
// (timeline.Store), Ledger (fanout.Ledger) and DeadLetters
// (fanout.DeadLetters); OpenLog returns the event log (fanout.Publisher
// plus a partitioned consumer, Log.Run). keys.go documents the key layout
// and its invariants, codec.go the value encodings; invariants.go checks
// them after each write in builds with -tags invariants.
//
// Every read-modify-write (edges with their reverse indexes and audience
// counters, objects with their marks and Class counts, class markers) runs
// under striped mutexes and commits one batch while holding them, so
// concurrent callers never lose an update and counters always equal what
// they count. Fan-out writes use NoSync unless Options.Sync is set (they
// are re-derived from the log after a crash); the event log, its offsets
// and dead letters always sync.
//
// This is the only package that may import Pebble. It must never hold
// domain logic (who sees what, ranking, notification rules): it stores
// what the domain packages decide, and it must never start a goroutine
// that outlives the call or Run that owns it.
package pebblestore
