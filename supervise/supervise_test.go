package supervise

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/health"
)

// recorder notes the order parts stop in.
type recorder struct {
	mu    sync.Mutex
	order []string
}

func (r *recorder) part(name string, fail <-chan error) func(context.Context) error {
	return func(ctx context.Context) error {
		select {
		case err := <-fail:
			r.note(name)
			return err
		case <-ctx.Done():
			r.note(name)
			return ctx.Err()
		}
	}
}

func (r *recorder) note(name string) {
	r.mu.Lock()
	r.order = append(r.order, name)
	r.mu.Unlock()
}

func TestRun(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name      string
		failPart  int   // -1: stop by ctx
		failErr   error // what the failing part returns
		wantErr   string
		wantOrder string
	}{
		{"signal stops in order", -1, nil, "", "http,fanout,push"},
		{"fanout fails", 1, boom, "fanout: boom", "fanout,http,push"},
		{"push returns nil early", 2, nil, "push: exited before shutdown", "push,http,fanout"},
		{"http fails", 0, boom, "http: boom", "http,fanout,push"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			reg := health.New(time.Hour, nil)
			g := &Group{Health: reg}
			fails := make([]chan error, 3)
			for i, n := range []string{"http", "fanout", "push"} {
				fails[i] = make(chan error, 1)
				g.Add(n, rec.part(n, fails[i]))
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error)
			go func() { done <- g.Run(ctx) }()
			if reg.Check(ctx) != nil {
				t.Fatal("unhealthy while running")
			}
			if tc.failPart < 0 {
				cancel()
			} else {
				fails[tc.failPart] <- tc.failErr
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return")
			}
			if got := ""; err != nil {
				got = err.Error()
				if got != tc.wantErr {
					t.Fatalf("err %q, want %q", got, tc.wantErr)
				}
			} else if tc.wantErr != "" {
				t.Fatalf("err nil, want %q", tc.wantErr)
			}
			if got := strings.Join(rec.order, ","); got != tc.wantOrder {
				t.Fatalf("stop order %s, want %s", got, tc.wantOrder)
			}
			if reg.Check(ctx) == nil {
				t.Fatal("healthy after every part stopped")
			}
		})
	}
}

// A part that will not stop is reported, and Run does not hang on it.
func TestStopTimeout(t *testing.T) {
	g := &Group{StopTimeout: 50 * time.Millisecond}
	block := make(chan struct{})
	defer close(block)
	g.Add("stuck", func(context.Context) error { <-block; return nil })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := g.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "stuck: did not stop within 50ms") {
		t.Fatalf("err %v", err)
	}
}

// An error while stopping (other than the cancellation itself) is returned.
func TestStopError(t *testing.T) {
	g := &Group{}
	g.Add("http", func(ctx context.Context) error {
		<-ctx.Done()
		return errors.New("drain did not finish")
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Run(ctx); err == nil || err.Error() != "http: stop: drain did not finish" {
		t.Fatalf("err %v", err)
	}
}
