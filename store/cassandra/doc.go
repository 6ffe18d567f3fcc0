// Package cassandrastore is Lenta's Cassandra store, for deployments that
// outgrow one machine: the social graph, objects and Class marks,
// per-user timelines with their class aggregation index, and the fan-out
// ledger, in one keyspace whose schema lives in schema/cql.
//
// Open connects to a keyspace that Migrate (feedctl migrate) created; its
// views Graph, Objects, Timelines and Ledger implement graph.Store,
// objects.Store, timeline.Store and fanout.Ledger, and pass the same
// behavioural suite (store/storetest) as the embedded Pebble store.
// schema/cql/001_init.cql documents every table: its partition bounds,
// compaction, TTL and why.
//
// How it talks to the cluster:
//   - token-aware routing (over round-robin, or DC-aware round-robin when
//     Config.LocalDC is set), prepared statements (every query string is a
//     constant), the configured consistency (LOCAL_QUORUM by default) and a
//     per-request timeout;
//   - idempotent statements (plain inserts, deletes, reads) are marked so
//     and retried on the next host after a timeout, an unavailable or
//     overloaded node or a dropped connection; conditional statements are
//     never retried blindly: their callers re-read and decide again;
//   - multi-row calls (a fan-out Write, Delete, Get, Seen, Record, a
//     SetEdges touching many users) issue one statement per row, or one
//     unlogged batch per partition when a partition gets several rows,
//     pipelined with at most Config.MaxInFlight in flight per call; the
//     first error is returned after every in-flight statement finished;
//   - state guarded by a stamp or a count (edges with their reverse rows
//     and static On counts, marks (one reaction slot per user and object)
//     with the object's static class_count and react_counts,
//     objects' deleted/ended/changed) changes by read-then-compare-and-set:
//     a lightweight transaction, or a conditional batch within one
//     partition, retried with jitter when it loses a race. That is what
//     keeps counts exact under re-delivery and concurrent writers.
//
// What it must never do:
//   - use a multi-partition batch (a logged batch across partitions costs a
//     batchlog write and puts one coordinator on every replica set; the
//     lesson of Stream-Framework is one pipelined insert per row);
//   - use Cassandra counters (an increment is not idempotent: a retried or
//     re-delivered event would count twice);
//   - build a query string from data (only the keyspace name, validated,
//     is spliced into DDL) or read a whole table;
//   - hold domain logic (who sees what, ranking, notification rules): it
//     stores what the domain packages decide;
//   - be imported by anything but the wiring in cmd/: it is the only
//     package that imports the gocql driver, and no goroutine it starts
//     outlives the call that started it.
package cassandrastore
