// Package kafkabus is Lenta's event bus on Apache Kafka, through sarama. It
// is the only package that imports sarama; the domain sees it through the
// fanout.Publisher and fanout.DeadLetters interfaces and a process func.
//
// What it does:
//
//   - EnsureTopics creates <prefix>events and <prefix>events.dlq (12
//     partitions by default) if missing and waits for their leaders.
//   - Producer (fanout.Publisher) writes events with an idempotent producer,
//     acks=all, one in-flight request per broker. Key: the actor id in
//     decimal ASCII ("42"); partitioner: murmur2 of the key, the Java
//     client's default, so every producer (Java, kcat with
//     partitioner=murmur2_random, this one) sends one actor to one
//     partition and per-actor order holds. Value: schema.MarshalMsgpack.
//     Publish returns nil only when every event is acknowledged by all
//     in-sync replicas.
//   - DeadLetters (fanout.DeadLetters) writes each letter's original bytes
//     to the dead-letter topic, with the reason, reason code, event id,
//     time and source topic/partition/offset in lenta-* headers.
//   - DeadLetterLog (deadletter.Store) lists the dead-letter topic for an
//     operator and marks replayed letters by appending replay records
//     (header lenta-replayed-of) to the same topic.
//   - Consumer runs the fan-out consumer group (cooperative-sticky
//     rebalancing, manual commits): per partition it batches up to BatchMax
//     messages or BatchWait, hands them to the process func (normally
//     fanout.Processor.Process) and commits only after it returned nil.
//     Lag reports uncommitted messages; ResetGroupOffsets rewinds the group.
//
// What it must never do:
//
//   - commit an offset before the batch up to it was applied or
//     dead-lettered (at-least-once: re-delivery is harmless, loss is not);
//   - skip or reorder messages of a partition, or let a poison message
//     block one (decoding and validation belong to the process func, which
//     dead-letters what it cannot apply);
//   - decode, validate or interpret events beyond encoding them: the
//     contract lives in package schema, the semantics in fanout;
//   - create topics implicitly or change an existing topic's partition
//     count (that would move actors between partitions);
//   - leave goroutines behind: Run returns after all of them exit, Close
//     flushes the producers.
package kafkabus
