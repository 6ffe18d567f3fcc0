// Package ranking orders a viewer's main feed by what the viewer cares
// about, and explains each position.
//
// A ranked read takes the newest Config.Window candidates of the viewer's
// feed (the home timeline merged with followed large authors' outboxes,
// filtered and hydrated by timeline.Reader), scores each one
//
//	score = type weight x live boost x affinity x freshness x engagement
//
// applies author diversity (each further item of one author is multiplied
// by Decay^n, never below Floor, as X's home mixer does) and keeps one
// Class aggregate per object. The ranked order is kept as a short-lived,
// store-backed snapshot that signed cursors walk (stored once a cursor
// names it), so paging never repeats or skips an item while new events
// arrive; past the snapshot the feed continues in timeline order. An
// optional OrderCache keeps orders in memory: a first page reuses the
// viewer's order while timeline.Head's version is unchanged (and the order
// is younger than a max age); every page, cached or not, re-checks and
// re-hydrates what it shows. Signals are kept up to date by Hook, a
// fanout.Hook that records viewer-to-author interactions (Class marks,
// gifts, friend groups, friendships) idempotently, keyed by event id.
//
// The package defines the storage it needs (AffinityStore, SnapshotStore,
// OrderCache)
// and holds an in-memory implementation for tests and the evaluation.
// It must never import a storage or transport library: the stores live
// in store/pebble and store/cassandra, HTTP in httpapi.
package ranking
