package httpapi

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

const (
	// refuseWriteTimeout bounds writing the 429 to a refused connection,
	// which happens on the accept path.
	refuseWriteTimeout = 100 * time.Millisecond
	// refuseLogEvery spaces the warnings about refused connections.
	refuseLogEvery = time.Minute
)

// connLimitListener caps the open connections per client address (the
// IPv4 address, or the /64 of an IPv6 one). A connection over the cap is
// answered with a 429 and the usual JSON error body and closed before the
// server reads from it. Connections with no TCP address (in-memory
// listeners) are not counted. The table holds only addresses with open
// connections, so it is bounded by them.
type connLimitListener struct {
	net.Listener
	max     int
	refusal []byte
	log     *slog.Logger

	mu     sync.Mutex
	open   map[netip.Addr]int
	warned time.Time
}

func newConnLimitListener(ln net.Listener, limit int, log *slog.Logger) *connLimitListener {
	body, _ := json.Marshal(errorBody{ // cannot fail: two strings
		Error: fmt.Sprintf("too many open connections from this address (at most %d)", limit),
		Code:  codeTooManyConns,
	})
	body = append(body, '\n')
	resp := fmt.Appendf(nil, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: %s\r\nContent-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s",
		ContentTypeJSON, len(body), body)
	return &connLimitListener{Listener: ln, max: limit, refusal: resp, log: log, open: make(map[netip.Addr]int)}
}

// Accept returns the next connection within the cap; the ones over it are
// refused here and never returned.
func (l *connLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err // unwrapped: fasthttp inspects listener errors as they are
		}
		tcp, ok := c.RemoteAddr().(*net.TCPAddr)
		if !ok {
			return c, nil
		}
		key, ok := addrKey(tcp.IP)
		if !ok {
			return c, nil
		}
		if l.acquire(key) {
			return &limitedConn{Conn: c, l: l, key: key}, nil
		}
		l.refuse(c, key)
	}
}

func (l *connLimitListener) acquire(key netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key] >= l.max {
		return false
	}
	l.open[key]++
	return true
}

func (l *connLimitListener) release(key netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key] <= 1 {
		delete(l.open, key)
		return
	}
	l.open[key]--
}

// addresses is the number of addresses with open connections.
func (l *connLimitListener) addresses() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.open)
}

func (l *connLimitListener) refuse(c net.Conn, key netip.Addr) {
	_ = c.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
	_, _ = c.Write(l.refusal)
	_ = c.Close()
	l.mu.Lock()
	warn := time.Since(l.warned) >= refuseLogEvery
	if warn {
		l.warned = time.Now()
	}
	l.mu.Unlock()
	if warn {
		l.log.Warn("http: refused connections over the per-address cap (logged once a minute)",
			slog.String("address", key.String()), slog.Int("max_conns_per_address", l.max))
	}
}

// limitedConn gives its address's slot back when closed.
type limitedConn struct {
	net.Conn
	l    *connLimitListener
	key  netip.Addr
	once sync.Once
}

func (c *limitedConn) Close() error {
	c.once.Do(func() { c.l.release(c.key) })
	return c.Conn.Close() // unwrapped: the net.Conn contract
}
