package health

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestCheck(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		report  func(a, b *Part)
		advance time.Duration
		want    []string // unhealthy parts; nil: healthy
		wantMsg string
	}{
		{"all ok", func(a, b *Part) {}, time.Hour, nil, ""},
		{"failing within the bound", func(a, b *Part) { a.Failing(boom) }, 9 * time.Second, nil, ""},
		{"failing at the bound", func(a, b *Part) { a.Failing(boom) }, 10 * time.Second, []string{"a"}, "unhealthy: a: boom"},
		{"recovered", func(a, b *Part) { a.Failing(boom); a.OK() }, time.Hour, nil, ""},
		{"stopped at once", func(a, b *Part) { b.Stopped(nil) }, 0, []string{"b"}, "unhealthy: b: stopped"},
		{"down at once", func(a, b *Part) { b.Down(boom) }, 0, []string{"b"}, "unhealthy: b: boom"},
		{"both", func(a, b *Part) { a.Failing(boom); b.Stopped(boom) }, time.Minute, []string{"a", "b"}, "unhealthy: a: boom; b: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: time.Unix(1000, 0)}
			r := New(10*time.Second, c.now)
			a, b := r.Part("a"), r.Part("b")
			tc.report(a, b)
			c.t = c.t.Add(tc.advance)
			err := r.Check(context.Background())
			if tc.want == nil {
				if err != nil {
					t.Fatalf("want healthy, got %v", err)
				}
				return
			}
			var ue *UnhealthyError
			if !errors.As(err, &ue) {
				t.Fatalf("want *UnhealthyError, got %v", err)
			}
			if strings.Join(ue.Unhealthy, ",") != strings.Join(tc.want, ",") || err.Error() != tc.wantMsg {
				t.Fatalf("got %v %q, want %v %q", ue.Unhealthy, err.Error(), tc.want, tc.wantMsg)
			}
			if len(ue.HealthParts().(map[string]PartStatus)) != 2 {
				t.Fatalf("parts: %v", ue.HealthParts())
			}
		})
	}
}

// The bound counts from the first failure, not the latest report.
func TestFailingKeepsSince(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	r := New(10*time.Second, c.now)
	p := r.Part("store")
	for range 11 {
		p.Failing(errors.New("down"))
		c.t = c.t.Add(time.Second)
	}
	if err := r.Check(context.Background()); err == nil {
		t.Fatal("failing for 11s with a 10s bound: want unhealthy")
	}
	if s := r.Snapshot()["store"]; !s.Since.Equal(time.Unix(1000, 0)) {
		t.Fatalf("since %v", s.Since)
	}
}

func TestProbe(t *testing.T) {
	r := New(0, nil)
	p := r.Part("dep")
	var fail atomic.Bool
	fail.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- Probe(p, time.Millisecond, time.Second, func(context.Context) error {
			if fail.Load() {
				return errors.New("unreachable")
			}
			return nil
		})(ctx)
	}()
	wait := func(healthy bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for (r.Check(ctx) == nil) != healthy {
			if time.Now().After(deadline) {
				t.Fatalf("probe never reported healthy=%v", healthy)
			}
			time.Sleep(time.Millisecond)
		}
	}
	wait(false)
	fail.Store(false)
	wait(true)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("probe returned %v on stop", err)
	}
}
