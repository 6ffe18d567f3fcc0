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
// It is also the only importer of the msgpack library (msgpack.go): the HTTP
// API's response bodies, feedctl and feedbench encode and decode msgpack
// through its MarshalMsgpackValue, WriteMsgpackValue, MsgpackWriter and
// MsgpackReader, which add no rule of their own. They live here, not in a
// package of their own, because the event codecs need the library too and
// this package may depend on no other Lenta package: a second package would
// make two importers.
//
// This package must never do I/O of its own (it only encodes into and
// decodes from the writers and readers it is handed), know about storage,
// or depend on any other Lenta package: every other package depends on it.
package schema
