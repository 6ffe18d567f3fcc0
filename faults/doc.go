// Package faults is Lenta's fault-injection suite: it breaks the real
// servers on purpose (Cassandra SIGKILLed mid fan-out, a node of a 3-node
// ring lost and returned, the Kafka broker killed, fan-out workers killed
// or stopped with SIGTERM) while real feedd processes ingest, fan out and
// serve, and ends every case with an exact comparison of each user's feed
// against the state recomputed from the event log read back from Kafka.
// feedd is built with -tags invariants (package invariants).
//
// It runs only when LENTA_FAULTS=1 (scripts/faults.sh, `make faults`), on
// its own Kafka and Cassandra (own data folder and ports, started by
// scripts/services.sh), so it never touches the servers of the main suite.
// It has no code outside its tests and must never be imported.
package faults
