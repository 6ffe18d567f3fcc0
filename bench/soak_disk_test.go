package bench

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestJudgeDisk(t *testing.T) {
	// Samples every 5 s over 120 s; retention 20 s: reference 40-80 s, end
	// window 100-120 s.
	series := func(f func(t float64) float64) []SoakSample {
		var ss []SoakSample
		for x := 0.0; x <= 120; x += 5 {
			ss = append(ss, SoakSample{T: x, DataBytes: f(x)})
		}
		return ss
	}
	const base = 200 << 20
	tests := []struct {
		name   string
		ss     []SoakSample
		d      time.Duration
		wantOK bool
	}{
		{"flat", series(func(float64) float64 { return base }), 2 * time.Minute, true},
		{"grows until the window, then flat", series(func(x float64) float64 { return min(x, 40) * (4 << 20) }), 2 * time.Minute, true},
		{"one memtable of WAL", series(func(x float64) float64 { return base + x*(400<<10) }), 2 * time.Minute, true},
		{"grows without bound", series(func(x float64) float64 { return base + x*(4<<20) }), 2 * time.Minute, false},
		{"too short", series(func(float64) float64 { return base }), 30 * time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch, ok, why := JudgeDisk(tc.ss, 20*time.Second, tc.d)
			if ok != tc.wantOK {
				t.Errorf("ok = %v (%q, %+v), want %v", ok, why, ch, tc.wantOK)
			}
			if ok && why != "" {
				t.Errorf("passed with a reason %q", why)
			}
		})
	}
}

func TestDirBytes(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]int{"x": 10, "a/y": 32} {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := dirBytes(dir); got != 42 {
		t.Errorf("dirBytes = %v, want 42", got)
	}
	if got := dirBytes(filepath.Join(dir, "missing")); got != 0 {
		t.Errorf("dirBytes(missing) = %v, want 0", got)
	}
}
