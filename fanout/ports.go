package fanout

import (
	"context"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

// Graph is what the engine reads and writes of the social graph: the
// methods it calls of graph.Store, which satisfies it (as every store's
// graph does). It leaves out the reader's calls (RelationsVersion,
// LargeAuthors).
type Graph interface {
	graph.EdgeReader // blocks, and each edge's stamp to judge a change stale
	SetEdges(ctx context.Context, edges []graph.Edge) error
	Friends(ctx context.Context, user int64) ([]int64, error)
	Followers(ctx context.Context, user int64) ([]int64, error)
	GroupMembers(ctx context.Context, owner int64, group string) ([]int64, error)
	InGroup(ctx context.Context, owner int64, group string, member int64) (bool, error)
	Relations(ctx context.Context, user int64) (graph.Relations, error)
	AudienceSize(ctx context.Context, user int64) (int64, error)
	MarkLarge(ctx context.Context, user int64) error
}

// Objects is what the engine reads and writes of objects and Class marks:
// the methods it calls of objects.Store, which satisfies it (the reader's
// ClassCounts left out).
type Objects interface {
	Put(ctx context.Context, o objects.Object) (objects.Object, error)
	Get(ctx context.Context, ids []string) ([]objects.Object, error)
	Delete(ctx context.Context, id string, author int64, at schema.Stamp) (objects.Object, error)
	End(ctx context.Context, id string, author int64, at schema.Stamp) (objects.Object, error)
	SetMark(ctx context.Context, m objects.Mark) (objects.Mark, error)
	SetReaction(ctx context.Context, m objects.Mark) (objects.Change, error)
}

// Comments is what the engine reads and writes of comments: the methods
// it calls of objects.Comments, which satisfies it (the reader's
// CommentPage and CommentCounts left out).
type Comments interface {
	PutComment(ctx context.Context, c objects.Comment) (objects.Comment, error)
	DeleteComment(ctx context.Context, object, id string, at schema.Stamp) (objects.Comment, error)
	GetComments(ctx context.Context, object string, ids []string) ([]objects.Comment, error)
}

// Timelines is what the engine writes of timelines: the methods it calls
// of timeline.Store, which satisfies it (the reader's Markers, MarkersOf
// and Version left out). Page reads an author's recent items to merge and
// the home rows an unfriend or unfollow removes.
type Timelines interface {
	Write(ctx context.Context, rows []timeline.Row) error
	Delete(ctx context.Context, rows []timeline.Row) error
	Page(ctx context.Context, ns timeline.NS, user int64, after timeline.Position, limit int) ([]timeline.Entry, error)
	Trim(ctx context.Context, ns timeline.NS, user int64, keep int, minTS int64) error
}

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
	// Retried: a batch failed with err (a store failure) and the bus will
	// hand it again.
	Retried(err error)
}

// NopObserver observes nothing.
type NopObserver struct{}

func (NopObserver) Applied(int, int)         { /* nothing */ }
func (NopObserver) Skipped(int)              { /* nothing */ }
func (NopObserver) DeadLettered(string, int) { /* nothing */ }
func (NopObserver) Retried(error)            { /* nothing */ }
