// Package schema is Lenta's event contract: the Go types of every event that
// enters the pipeline, their validation rules, and their two wire encodings
// (a msgpack map on Kafka and the embedded bus, the same keys in JSON over
// HTTP).
//
// The contract is versioned by the "v" key. Readers ignore keys they do not
// know, so a field can be added without breaking an older reader; a field is
// never renamed or given a new meaning. Version 1 is described in
// docs/events.md.
//
// This package must never do I/O, know about storage, or depend on any other
// Lenta package: every other package depends on it.
package schema
