package httpapi

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// maxLingering bounds the connections drained at once; a close beyond it
// is an ordinary close.
const maxLingering = 1024

// lingerListener gives every connection the server closes a "lingering
// close", as nginx and Apache do: the server half-closes its side (when
// the connection can), then reads and discards what the client still
// sends, and closes only when the client has closed, a byte bound is read
// or a deadline passes.
//
// Why: fasthttp answers some requests before reading them whole (413 for
// a body over the limit, 431, 400, a refused Expect: 100-continue, the
// per-address 429) and closes right after. A client still writing its
// body then gets a write error ("connection closed", or on TCP a reset
// that can also discard the answer already in its receive buffer) instead
// of reading the answer. Go's net/http client reports whichever it sees
// first, so under load a client saw "connection closed" where the server
// had answered 413 (the flaky TestLogsNeverHoldSecrets).
//
// Invariants: a drain never outlives its deadline (at most timeout after
// the close) nor reads more than maxBytes; at most maxLingering drains run
// at once; drains are owned by the listener and end when Serve calls
// stopLingering, which waits for them.
type lingerListener struct {
	net.Listener
	timeout  time.Duration
	maxBytes int64
	slots    chan struct{}

	mu       sync.Mutex
	stopped  bool
	draining map[*lingerConn]struct{}
	wg       sync.WaitGroup
}

func newLingerListener(ln net.Listener, timeout time.Duration, maxBytes int64) *lingerListener {
	return &lingerListener{
		Listener: ln,
		timeout:  timeout,
		maxBytes: maxBytes,
		slots:    make(chan struct{}, maxLingering),
		draining: make(map[*lingerConn]struct{}),
	}
}

// Accept wraps the next connection so that closing it lingers.
func (l *lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err // unwrapped: fasthttp inspects listener errors as they are
	}
	return &lingerConn{Conn: c, l: l}, nil
}

// stopLingering ends every drain now and waits for them; later closes are
// ordinary closes.
func (l *lingerListener) stopLingering() {
	l.mu.Lock()
	l.stopped = true
	for c := range l.draining {
		_ = c.Conn.SetReadDeadline(time.Unix(1, 0))
	}
	l.mu.Unlock()
	l.wg.Wait()
}

// begin registers c as draining; false when lingering has stopped or every
// slot is taken.
func (l *lingerListener) begin(c *lingerConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return false
	}
	select {
	case l.slots <- struct{}{}:
	default:
		return false
	}
	// Under mu, so that stopLingering's deadline is never overwritten.
	_ = c.Conn.SetReadDeadline(time.Now().Add(l.timeout))
	l.draining[c] = struct{}{}
	l.wg.Add(1)
	return true
}

func (l *lingerListener) end(c *lingerConn) {
	l.mu.Lock()
	delete(l.draining, c)
	l.mu.Unlock()
	<-l.slots
	l.wg.Done()
}

// lingerConn is a server connection whose Close lingers.
//
// Only a close by the goroutine serving the connection lingers (it has
// just answered, maybe before reading the whole request). A close while a
// Read is blocked comes from elsewhere (fasthttp closing idle connections
// on shutdown): the connection is between requests, so it is closed
// outright, which also ends that Read. After Close, Read fails at once, so
// the drain is the connection's only reader.
type lingerConn struct {
	net.Conn
	l      *lingerListener
	once   sync.Once
	closed atomic.Bool
	reads  atomic.Int32 // Reads in flight
}

// Read reads from the connection until Close.
func (c *lingerConn) Read(b []byte) (int, error) {
	c.reads.Add(1)
	defer c.reads.Add(-1)
	// Paired with Close: either Close sees this Read in flight, or this
	// Read sees closed.
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	return c.Conn.Read(b)
}

// Close half-closes the connection and hands it to a drain, or closes it
// outright when a Read is blocked on it or no drain can start. It returns
// at once either way.
func (c *lingerConn) Close() error {
	var err error
	c.once.Do(func() {
		c.closed.Store(true)
		if c.reads.Load() > 0 || !c.l.begin(c) {
			err = c.Conn.Close()
			return
		}
		if hc, ok := c.Conn.(interface{ CloseWrite() error }); ok {
			_ = hc.CloseWrite() // the client reads EOF after our answer
		}
		go c.drain()
	})
	return err
}

func (c *lingerConn) drain() {
	defer c.l.end(c)
	_, _ = io.Copy(io.Discard, io.LimitReader(c.Conn, c.l.maxBytes))
	_ = c.Conn.Close()
}
