// Package deadletter lets an operator see and replay the dead letters of
// the fan-out pipeline: list them (by reason code), and put chosen ones
// back onto the event log once the cause is fixed, marking each replayed
// letter so it is never replayed twice.
//
// It works on two small ports, Store (where letters are kept: the embedded
// store, or the Kafka dead-letter topic) and fanout.Publisher (the event
// log). It never applies an event itself, never deletes a letter, and
// imports no store or bus library.
package deadletter
