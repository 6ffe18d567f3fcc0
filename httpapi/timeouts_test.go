package httpapi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowOutcome is what a misbehaving client saw.
type slowOutcome struct {
	status int    // of the answer before the close; 0 if none
	body   string // its body
	after  time.Duration
	err    error
}

// TestSlowClientsAreCut runs Serve on a real TCP listener with short
// timeouts: a slow-loris client dribbling its headers, one dribbling its
// body, one that sends nothing and one idle keep-alive connection are each
// cut off within their bound, while a normal client is served all along.
func TestSlowClientsAreCut(t *testing.T) {
	const (
		headerTimeout = 400 * time.Millisecond
		bodyTimeout   = 600 * time.Millisecond
		idleTimeout   = 800 * time.Millisecond
		slack         = 1500 * time.Millisecond // a loaded 2-core machine
		drip          = 40 * time.Millisecond
	)
	e := newServer(t, func(c *Config) {
		c.ReadHeaderTimeout = headerTimeout
		c.ReadTimeout = bodyTimeout
		c.WriteTimeout = time.Second
		c.IdleTimeout = idleTimeout
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	// The normal client: keep-alive requests until the slow ones are done.
	tok := e.token(t, 7, false)
	normal := &http.Client{Timeout: 5 * time.Second}
	defer normal.CloseIdleConnections()
	stopNormal := make(chan struct{})
	var normalOK, normalFail atomic.Int64
	var normalErr atomic.Value
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stopNormal:
				return
			case <-time.After(10 * time.Millisecond):
			}
			req, _ := http.NewRequest("GET", "http://"+addr+PathFeed, nil)
			req.Header.Set("Authorization", bearer(tok))
			resp, err := normal.Do(req)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode != 200 {
					err = errors.New(resp.Status)
				}
			}
			if err != nil {
				normalFail.Add(1)
				normalErr.Store(err.Error())
				continue
			}
			normalOK.Add(1)
		}
	})

	tests := []struct {
		name string
		// send writes to the connection until it fails or stop closes.
		send func(c net.Conn, stop <-chan struct{})
		min  time.Duration
		max  time.Duration
		want int // status of the answer; 0: closed without one
	}{
		{"slow-loris headers", func(c net.Conn, stop <-chan struct{}) {
			if _, err := io.WriteString(c, "GET /v1/feed HTTP/1.1\r\nHost: x\r\n"); err != nil {
				return
			}
			dribble(c, stop, drip, "X-Slow: ", "a")
		}, headerTimeout - drip, headerTimeout + slack, 408},
		{"slow body", func(c net.Conn, stop <-chan struct{}) {
			if _, err := io.WriteString(c, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n"); err != nil {
				return
			}
			dribble(c, stop, drip, "", "[")
		}, bodyTimeout - drip, headerTimeout + bodyTimeout + slack, 408},
		{"silent connection", func(net.Conn, <-chan struct{}) {}, headerTimeout - drip, headerTimeout + slack, 408},
		{"idle keep-alive", func(c net.Conn, _ <-chan struct{}) {
			// One quick request; then the connection waits for the next one.
			_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		}, idleTimeout - drip, idleTimeout + slack, 200},
	}
	results := make([]slowOutcome, len(tests))
	var slow sync.WaitGroup
	for i, tt := range tests {
		slow.Go(func() { results[i] = runSlowClient(addr, tt.send) })
	}
	slow.Wait()
	close(stopNormal)
	wg.Wait()

	for i, tt := range tests {
		r := results[i]
		t.Logf("%s: cut after %v with %d", tt.name, r.after.Round(time.Millisecond), r.status)
		if r.err != nil {
			t.Errorf("%s: %v", tt.name, r.err)
			continue
		}
		if r.after < tt.min || r.after > tt.max {
			t.Errorf("%s: cut after %v, want between %v and %v", tt.name, r.after, tt.min, tt.max)
		}
		if r.status != tt.want {
			t.Errorf("%s: answer %d, want %d: %s", tt.name, r.status, tt.want, r.body)
		}
		if tt.want == 408 && !strings.Contains(r.body, `"code":"timeout"`) {
			t.Errorf("%s: body %s", tt.name, r.body)
		}
	}
	if normalFail.Load() > 0 || normalOK.Load() < 10 {
		t.Errorf("normal client: %d served, %d failed (%v)", normalOK.Load(), normalFail.Load(), normalErr.Load())
	}
}

// dribble writes prefix, then one piece every interval until a write fails
// or stop closes.
func dribble(c net.Conn, stop <-chan struct{}, interval time.Duration, prefix, piece string) {
	if prefix != "" {
		if _, err := io.WriteString(c, prefix); err != nil {
			return
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if _, err := io.WriteString(c, piece); err != nil {
			return
		}
	}
}

// runSlowClient dials addr, runs send, and reads until the server closes
// the connection (at most 10 s): the last answer's status and body and when
// the close came.
func runSlowClient(addr string, send func(net.Conn, <-chan struct{})) slowOutcome {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return slowOutcome{err: err}
	}
	defer c.Close()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(10 * time.Second))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { send(c, stop) })
	defer func() { close(stop); wg.Wait() }()

	var out slowOutcome
	br := bufio.NewReader(c)
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			out.after = time.Since(start)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				out.err = errors.New("the server did not close the connection within 10 s")
			} else if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isReset(err) {
				out.err = err
			}
			return out
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out.status, out.body = resp.StatusCode, string(b)
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}
