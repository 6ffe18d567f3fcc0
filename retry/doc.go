// Package retry is Lenta's one retry helper: Do calls an operation until it
// succeeds, fails permanently, runs out of attempts or its context ends,
// waiting an exponentially growing, optionally jittered interval between
// attempts; Policy.Delay is the same interval computation for schedules
// that cannot be a loop (a stored push retry is due later, possibly in
// another process). It is the only package that imports
// github.com/cenkalti/backoff.
//
// Who retries what (exactly one layer owns each retry):
//
//   - a bus batch whose process func failed (a store down): the bus
//     adapter that holds the batch and its offsets, Kafka's consumer
//     (bus/kafka) or the embedded log (store/pebble), 50 ms doubling to
//     5 s, for as long as it takes; fanout.Processor tries a batch once
//     and returns the failure;
//   - a consumer group session that failed, and the wait for topic
//     leaders: bus/kafka; a Kafka produce: sarama's producer, with waits
//     from a Policy (bus/kafka);
//   - a lost conditional-update race: store/cassandra (24 rounds, then
//     ErrContention); a transient failure of one idempotent statement: the
//     Cassandra driver's retry policy, on the next host, after a jittered
//     pause from a Policy (store/cassandra);
//   - a Web Push attempt: notify's durable retry schedule (Policy.Delay,
//     or the push service's Retry-After when longer);
//   - a publish the server refused with 429/503: feedctl publish; with
//     503: feedbench's client (bench).
//
// It must never decide which errors are worth retrying (callers mark the
// others Permanent), log by itself (Policy.OnRetry does), hold state
// between calls or start a goroutine.
package retry
