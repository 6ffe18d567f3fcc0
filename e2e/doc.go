// Package e2e tests Lenta the way its users meet it: it builds cmd/feedd,
// starts it as a separate process, and drives it only through the public
// HTTP API (events in, feeds out), including restarts on the same data.
// feedd is built with -tags invariants, so the store checks its invariants
// after every write and a violation crashes feedd (package invariants).
//
// The same scenarios run against the embedded default and, when the
// environment names them (LENTA_TEST_KAFKA, LENTA_TEST_CASSANDRA), against
// real Kafka and Cassandra. This package must never reach into feedd's
// stores: what it checks is what a client can see.
package e2e
