package httpapi

import (
	"runtime"
	"time"

	"github.com/valyala/fasthttp"
)

// Feed reads are CPU work on the same cores as the fan-out. Served as fast
// as clients ask, they take every core: the fan-out falls behind (a backlog
// that only grows, new items that take seconds to show) and every read
// waits on the others. readGate lets at most MaxFeedReads of them run at
// once; the others wait their turn in arrival order, up to FeedReadWait,
// then get 503 with Retry-After. It never reorders or drops a read that
// got in.
//
// Each order has a gate of its own (readLanes): a recent page reads a few
// rows, a ranked first page may rank a whole window, and in one queue a
// recent read (a client checking for new items) waited behind every
// ranked read ahead of it: under the bench's mixed load that was most of
// the time a new post took to show.

// DefaultFeedReadWait is how long a feed read may wait for its turn.
const DefaultFeedReadWait = 2 * time.Second

// defaultFeedReads is the default MaxFeedReads: two per core, so a read
// waiting on the store still leaves the core busy.
func defaultFeedReads() int { return 2 * runtime.GOMAXPROCS(0) }

// readGate is a counting semaphore; nil lets everything through.
type readGate chan struct{}

func newReadGate(n int) readGate {
	if n <= 0 {
		return nil
	}
	return make(readGate, n)
}

// enter takes a turn, waiting up to wait; false: none came in time.
func (g readGate) enter(wait time.Duration) bool {
	if g == nil {
		return true
	}
	select {
	case g <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case g <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

// leave gives the turn back.
func (g readGate) leave() {
	if g != nil {
		<-g
	}
}

// readLanes are the feed reads' gates, one per order.
type readLanes struct{ ranked, recent readGate }

func newReadLanes(n int) readLanes { return readLanes{ranked: newReadGate(n), recent: newReadGate(n)} }

// of is the gate of an order.
func (l readLanes) of(ranked bool) readGate {
	if ranked {
		return l.ranked
	}
	return l.recent
}

// admitFeedRead takes a turn for a feed read of one order or answers 503;
// the caller must call s.reads.of(ranked).leave() when it returns true.
func (s *Server) admitFeedRead(ctx *fasthttp.RequestCtx, f format, ranked bool) bool {
	if s.reads.of(ranked).enter(s.cfg.FeedReadWait) {
		return true
	}
	ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, "1")
	s.fail(ctx, f, fasthttp.StatusServiceUnavailable, codeUnavailable, "too many feed reads at once, retry later", -1)
	return false
}
