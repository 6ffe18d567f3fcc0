package fanout

import (
	"context"

	"github.com/lenta-dev/lenta/schema"
)

// Ledger remembers which events were fully applied, so a re-delivery can be
// skipped cheaply. It is an optimisation: correctness never depends on it.
type Ledger interface {
	// Seen reports, for each id, whether it was recorded and the content
	// digest recorded with it (0 when unknown: a row from before digests).
	Seen(ctx context.Context, ids []string) ([]LedgerMark, error)
	// Record marks ids as fully applied at ts (unix ms), each with the
	// digest of the same index (digests may be nil: unknown); entries may
	// be forgotten after a retention period.
	Record(ctx context.Context, ids []string, digests []uint64, ts int64) error
}

// LedgerMark is what the ledger knows of one id.
type LedgerMark struct {
	Found  bool
	Digest uint64 // 0: unknown
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
	Reason  string // the full message
	Code    string // one of the Reason* codes; "" on letters from before codes
	TS      int64  // when it was dead-lettered, unix ms
	// Source says where the message came from (a Kafka partition/offset or
	// a dead-letter key); set by the store when listing.
	Source string
	// Replayed is true once the letter was put back on the event log.
	Replayed bool
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
	// DeadLettered counts n letters of one reason code.
	DeadLettered(reason string, n int)
	Retried(err error)
}

// NopObserver observes nothing.
type NopObserver struct{}

func (NopObserver) Applied(int, int)         { /* nothing */ }
func (NopObserver) Skipped(int)              { /* nothing */ }
func (NopObserver) DeadLettered(string, int) { /* nothing */ }
func (NopObserver) Retried(error)            { /* nothing */ }
