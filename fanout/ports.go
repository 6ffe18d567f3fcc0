package fanout

import (
	"context"

	"github.com/lenta-dev/lenta/schema"
)

// Ledger remembers which events were fully applied, so a re-delivery can be
// skipped cheaply. It is an optimisation: correctness never depends on it.
type Ledger interface {
	// Seen reports, for each id, whether it was recorded.
	Seen(ctx context.Context, ids []string) ([]bool, error)
	// Record marks ids as fully applied at ts (unix ms); entries may be
	// forgotten after a retention period.
	Record(ctx context.Context, ids []string, ts int64) error
}

// Publisher hands validated events to the pipeline. When Publish returns nil
// the events are durable: they will be applied even if the process dies.
// Events of one actor are applied in the order published.
type Publisher interface {
	Publish(ctx context.Context, events []schema.Event) error
}

// DeadLetter is a message the pipeline could not apply and will not retry.
type DeadLetter struct {
	Raw     []byte // the message as received
	EventID string // if it decoded that far
	Reason  string
	TS      int64 // when it was dead-lettered, unix ms
}

// DeadLetters keeps dead letters for an operator to inspect.
type DeadLetters interface {
	Put(ctx context.Context, letters []DeadLetter) error
}

// Observer is told what the pipeline did, for metrics. Implementations must
// be cheap and safe for concurrent use.
type Observer interface {
	Applied(events, deliveries int)
	Skipped(duplicates int)
	DeadLettered(n int)
	Retried(err error)
}

// NopObserver observes nothing.
type NopObserver struct{}

func (NopObserver) Applied(int, int) { /* nothing */ }
func (NopObserver) Skipped(int)      { /* nothing */ }
func (NopObserver) DeadLettered(int) { /* nothing */ }
func (NopObserver) Retried(error)    { /* nothing */ }
