package httpapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestEarlyAnswerLetsTheClientFinishWriting is the regression test of the
// flaky TestLogsNeverHoldSecrets: the server answers a request before
// reading its body (413, 431) and closes. The client here writes its
// headers, reads the whole answer and only then writes the rest: without
// the lingering close that write fails ("connection closed"), which is what
// a real client racing the server saw. With it the write succeeds and the
// client then reads a clean end of stream.
func TestEarlyAnswerLetsTheClientFinishWriting(t *testing.T) {
	const limit = 4 << 10
	for _, transport := range []string{"in-memory", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			e := newServer(t, func(c *Config) { c.MaxBodyBytes = limit })
			dial, halfClose := serveOn(t, e, transport)
			earlyAnswers(t, e.token(t, 7, false), dial, halfClose)
		})
	}
}

// serveOn serves e on an in-memory or a loopback TCP listener and returns
// its dialer and whether the transport can half-close.
func serveOn(t *testing.T, e *testEnv, transport string) (func() (net.Conn, error), bool) {
	t.Helper()
	if transport == "in-memory" {
		ln := e.serve(t)
		return ln.Dial, false
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return func() (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) }, true
}

func earlyAnswers(t *testing.T, tok string, dial func() (net.Conn, error), halfClose bool) {
	const limit = 4 << 10

	cases := []struct {
		name   string
		head   string
		rest   string
		status int
	}{
		{
			name:   "body over the limit",
			head:   fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", PathEvents, tok, jsonCT, 2*limit),
			rest:   strings.Repeat("x", 2*limit),
			status: 413,
		},
		{
			name:   "headers over the limit",
			head:   fmt.Sprintf("GET %s HTTP/1.1\r\nHost: x\r\nX-Pad: %s", PathFeed, strings.Repeat("p", DefaultMaxHeaderBytes+64)),
			rest:   "\r\nX-More: " + strings.Repeat("q", 4<<10) + "\r\n\r\n",
			status: 431,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := dial()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, tc.head); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("reading the early answer: %v", err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !resp.Close {
				t.Fatalf("got %d (close %v), want %d with Connection: close", resp.StatusCode, resp.Close, tc.status)
			}
			// The server has answered and closed; the client is still
			// sending what it had started.
			if _, err := io.WriteString(c, tc.rest); err != nil {
				t.Fatalf("the client could not finish writing after the answer: %v", err)
			}
			// Over TCP the server has half-closed: the client reads a clean
			// end of stream, not a reset.
			if !halfClose {
				return
			}
			if n, err := br.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
				t.Fatalf("after the answer: read %d bytes, %v; want a clean EOF", n, err)
			}
		})
	}
}

// TestLingerIsBounded checks that a client that never stops sending cannot
// hold a drain past its byte bound or its deadline, and that stopLingering
// ends drains at once.
func TestLingerIsBounded(t *testing.T) {
	cases := []struct {
		name     string
		timeout  time.Duration
		maxBytes int64
		stop     bool
	}{
		{name: "byte bound", timeout: time.Minute, maxBytes: 64 << 10},
		{name: "deadline", timeout: 50 * time.Millisecond, maxBytes: 1 << 40},
		{name: "stopped", timeout: time.Minute, maxBytes: 1 << 40, stop: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			server, client := net.Pipe()
			inner := &oneConnListener{c: server}
			l := newLingerListener(inner, tc.timeout, tc.maxBytes)
			c, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			// A client that writes forever until its connection is closed.
			written := make(chan error, 1)
			go func() {
				buf := make([]byte, 4<<10)
				for {
					if _, err := client.Write(buf); err != nil {
						written <- err
						return
					}
				}
			}()
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if tc.stop {
				l.stopLingering()
			}
			select {
			case <-written:
			case <-time.After(10 * time.Second):
				t.Fatal("the drain did not end")
			}
			l.stopLingering()
			client.Close()
		})
	}
}

// oneConnListener accepts one connection.
type oneConnListener struct {
	net.Listener
	c net.Conn
}

func (l *oneConnListener) Accept() (net.Conn, error) { return l.c, nil }

// TestCloseOfAnIdleConnectionDoesNotLinger is the shutdown case: fasthttp
// closes idle keep-alive connections from its Shutdown goroutine while
// the serving goroutine is blocked reading the next request. That close
// must end the blocked Read at once (a lingering drain would keep it
// blocked until its deadline and make the graceful shutdown overrun).
func TestCloseOfAnIdleConnectionDoesNotLinger(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	l := newLingerListener(&oneConnListener{c: server}, time.Minute, 1<<20)
	defer l.stopLingering()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		read <- err
	}()
	for c.(*lingerConn).reads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-read:
		if err == nil {
			t.Fatal("the blocked Read returned data after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a Close from another goroutine left the blocked Read waiting")
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read after Close: %v, want net.ErrClosed", err)
	}
}

// TestShutdownWithIdleKeepAliveConnections: a graceful shutdown with idle
// keep-alive clients that do not watch their idle connections (fasthttp's
// client, feedbench's) finishes at once. A lingering close of those idle
// connections kept fasthttp's readers blocked until the read timeout, so
// the drain overran ShutdownTimeout and feedd exited 1 on SIGTERM.
func TestShutdownWithIdleKeepAliveConnections(t *testing.T) {
	e := newServer(t, func(c *Config) { c.ShutdownTimeout = 3 * time.Second })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	for range 4 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		// Left open and unread: an idle keep-alive connection.
	}
	start := time.Now()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after %v: %v", time.Since(start), err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("shutdown with idle keep-alive connections took %v", d)
	}
}
