package diskspace

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
)

// fakeDisk is a filesystem whose free space the test sets.
type fakeDisk struct {
	free  uint64
	err   error
	calls int
}

func (d *fakeDisk) statfs(string) (uint64, error) { d.calls++; return d.free, d.err }

func newTest(min uint64, d *fakeDisk, clock *time.Time) *Watermark {
	w := New("/data", min, time.Second)
	w.statfs = d.statfs
	w.now = func() time.Time { return *clock }
	return w
}

func TestCheckSpace(t *testing.T) {
	statErr := errors.New("no such folder")
	for _, tc := range []struct {
		name    string
		min     uint64
		free    uint64
		err     error
		noSpace bool
		wantErr bool
	}{
		{name: "above", min: 100, free: 101},
		{name: "at the watermark", min: 100, free: 100},
		{name: "below", min: 100, free: 99, noSpace: true, wantErr: true},
		{name: "empty disk", min: 1, free: 0, noSpace: true, wantErr: true},
		{name: "watermark off", min: 0, free: 0},
		{name: "statfs fails", min: 100, err: statErr, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := time.Unix(1000, 0)
			w := newTest(tc.min, &fakeDisk{free: tc.free, err: tc.err}, &clock)
			err := w.CheckSpace()
			if (err != nil) != tc.wantErr {
				t.Fatalf("CheckSpace() = %v, want error %v", err, tc.wantErr)
			}
			if errors.Is(err, fanout.ErrNoSpace) != tc.noSpace {
				t.Fatalf("errors.Is(%v, ErrNoSpace) = %v, want %v", err, !tc.noSpace, tc.noSpace)
			}
			if tc.noSpace {
				var ns *fanout.NoSpaceError
				if !errors.As(err, &ns) || ns.Free != tc.free || ns.Min != tc.min || ns.Path != "/data" {
					t.Fatalf("error %#v does not carry free %d, min %d", err, tc.free, tc.min)
				}
				if h := w.Healthy(); h == nil || !strings.HasPrefix(h.Error(), "disk: ") {
					t.Fatalf("Healthy() = %v, want an error naming disk", h)
				}
			} else if tc.err == nil && w.Healthy() != nil {
				t.Fatalf("Healthy() = %v, want nil", w.Healthy())
			}
		})
	}
}

// TestCachedReading: statfs runs at most once per TTL, and a change in free
// space is seen once the TTL has passed (space returning needs no restart).
func TestCachedReading(t *testing.T) {
	clock := time.Unix(1000, 0)
	d := &fakeDisk{free: 10}
	w := newTest(100, d, &clock)
	steps := []struct {
		advance   time.Duration
		free      uint64
		wantCalls int
		wantOK    bool
	}{
		{0, 10, 1, false},
		{100 * time.Millisecond, 500, 1, false}, // cached: still the old reading
		{900 * time.Millisecond, 500, 2, true},  // TTL passed: space is back
		{500 * time.Millisecond, 5, 2, true},    // cached
		{500 * time.Millisecond, 5, 3, false},   // refreshed: full again
	}
	for i, s := range steps {
		clock = clock.Add(s.advance)
		d.free = s.free
		err := w.CheckSpace()
		if d.calls != s.wantCalls || (err == nil) != s.wantOK {
			t.Fatalf("step %d: calls %d err %v, want calls %d ok %v", i, d.calls, err, s.wantCalls, s.wantOK)
		}
	}
}

// TestRealStatfs reads the real filesystem of a temporary folder.
func TestRealStatfs(t *testing.T) {
	free, err := freeBytes(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if free == 0 {
		t.Skip("the temporary folder's filesystem is full")
	}
	if err := New(t.TempDir(), free*4+1<<40, 0).CheckSpace(); !errors.Is(err, fanout.ErrNoSpace) {
		t.Fatalf("watermark far above free space: %v, want ErrNoSpace", err)
	}
	if err := New(t.TempDir(), 1, 0).CheckSpace(); err != nil {
		t.Fatalf("1-byte watermark: %v", err)
	}
	if _, err := freeBytes("/no/such/folder/at/all"); err == nil {
		t.Fatal("statfs of a missing folder did not fail")
	}
}
