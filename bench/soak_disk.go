package bench

import (
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"time"
)

// dirBytes is the total size of the regular files under dir (0 when dir
// does not exist: a real target keeps no data folder).
func dirBytes(dir string) float64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a file Pebble removed between listing and stat
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return float64(n)
}

// soakRetentionArgs are feedd's flags for a soak with a short retention:
// every purged table keeps retention, and the purge runs four times per
// retention.
func soakRetentionArgs(retention time.Duration) []string {
	if retention <= 0 {
		return nil
	}
	r := retention.String()
	return []string{"--ledger-retention", r, "--notify-retention", r, "--purge-every", (retention / 4).String()}
}

// Disk criteria: after the retention window, the data folder may grow by
// at most DiskGrowth of its size then or DiskFloor bytes, whichever is
// more. The floor is one Pebble memtable (64 MiB): its write-ahead log
// grows until the memtable is flushed, whatever the purge does, and
// compactions reclaim deleted rows only in steps.
const (
	DiskGrowth = 0.25
	DiskFloor  = 64 << 20
)

// JudgeDisk checks that the data folder is flat after the retention
// window: the median size of the samples from 2×retention (one retention
// for rows to age, up to another for the purge passes and the compaction
// that follows) to the middle of what remains is the reference, the median
// of the last quarter of the load must stay within the criteria. ok is
// false with a reason when it grew more, or when the soak is too short
// to tell.
func JudgeDisk(samples []SoakSample, retention, d time.Duration) (SoakCheck, bool, string) {
	from := 2 * retention.Seconds()
	end := d.Seconds()
	ref := window(samples, from, from+(end-from)/2)
	last := window(samples, end-(end-from)/4, math.Inf(1))
	if from >= end || len(ref) == 0 || len(last) == 0 {
		return SoakCheck{}, false, fmt.Sprintf("the soak (%v) is too short to judge the data folder after twice the retention (%v): lengthen it or shorten --soak-retention", d, retention)
	}
	col := func(ss []SoakSample) []float64 {
		out := make([]float64, len(ss))
		for i, s := range ss {
			out[i] = s.DataBytes
		}
		return out
	}
	refM, lastM := median(col(ref)), median(col(last))
	limit := refM + math.Max(DiskGrowth*refM, DiskFloor)
	why := fmt.Sprintf("data folder after the retention window: reference median %.1f MiB from %.0f s", refM/mib, from)
	c := SoakCheck{Name: "data folder, end window (median)", Value: lastM / mib, Limit: limit / mib, Unit: "MiB", OK: lastM <= limit, Why: why}
	if !c.OK {
		return c, false, fmt.Sprintf("%s %.1f > %.1f MiB (%s)", c.Name, c.Value, c.Limit, why)
	}
	return c, true, ""
}
