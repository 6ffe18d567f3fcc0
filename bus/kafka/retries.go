package kafkabus

import (
	"time"

	"github.com/lenta-dev/lenta/retry"
)

// The retries this package owns, all paced by package retry: the
// Consumer hands a batch whose process failed again (process tries once)
// and joins a group session that failed again; EnsureTopics waits for
// leaders; produceRetry only paces the producer's retries, which sarama
// runs.
var (
	// batchRetry: a store failure lasts, so the waits grow to 5 s.
	batchRetry = retry.Policy{Min: 50 * time.Millisecond, Max: 5 * time.Second}
	// sessionRetry: failed sessions, or sessions that end at once, must
	// not hammer the coordinator.
	sessionRetry = retry.Policy{Min: 100 * time.Millisecond, Max: 5 * time.Second}

	topicRetry   = retry.Policy{Min: 50 * time.Millisecond, Max: time.Second}
	produceRetry = retry.Policy{Min: 50 * time.Millisecond, Max: 1600 * time.Millisecond}
)
