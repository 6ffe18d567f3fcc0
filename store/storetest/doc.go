// Package storetest is the one behavioural suite that every storage
// adapter of Lenta passes: RunGraph, RunObjects, RunTimeline and RunLedger
// check the contracts written in the graph.Store, objects.Store,
// timeline.Store and fanout.Ledger interface comments (last-writer-wins,
// indexes, counters, keyset paging, trimming, idempotence); RunProfiles
// checks people.Store.
//
// An adapter's own test calls each Run function with a constructor that
// returns a fresh, empty store; every subtest gets its own store.
//
// The suite must only use the domain interfaces: it must never import an
// adapter or a storage library, and it must never depend on timing (no
// sleeps, no deadlines, no wall clock): every expectation follows from the
// calls it made, so a remote store passes it as well as an embedded one.
package storetest
