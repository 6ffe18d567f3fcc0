package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/lenta-dev/lenta/diskspace"
	"github.com/lenta-dev/lenta/fanout"
)

// defaultMinFreeDisk is the embedded store's free-space watermark.
const defaultMinFreeDisk = 512 << 20

// diskRecheck is how often the fan-out, paused on a full disk, looks again.
const diskRecheck = time.Second

// byteSize is a byte count given as a human size: 512MiB, 2GB, 1048576.
type byteSize uint64

func (d *byteSize) String() string { return humanize.IBytes(uint64(*d)) }

func (d *byteSize) Set(s string) error {
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return fmt.Errorf("a size such as 512MiB or 2GB: %w", err)
	}
	*d = byteSize(n)
	return nil
}

func addDiskFlags(fs *flag.FlagSet, d *byteSize) {
	*d = defaultMinFreeDisk
	fs.Var(d, "min-free-disk", "embedded store: below this much free space on the --data filesystem, POST /v1/events answers 507 and the fan-out pauses (0: off)")
}

// guardDisk puts the free-space watermark in front of the embedded store:
// the publisher refuses batches with fanout.ErrNoSpace, the fan-out waits
// before each batch until space returns, and the "disk" health part (down
// at once below the watermark) names the disk. It returns the watermark.
func guardDisk(b *backend, data string, min byteSize, log *slog.Logger) *diskspace.Watermark {
	w := diskspace.New(data, uint64(min), diskspace.DefaultTTL)
	b.publisher = fanout.GuardedPublisher{Publisher: b.publisher, Guard: w}
	consume := b.consume
	b.consume = func(ctx context.Context, process func(context.Context, [][]byte) error) error {
		return consume(ctx, fanout.WaitForSpace(w, diskRecheck, func(err error) {
			log.Warn("fan-out paused until disk space returns", "err", err)
		}, process))
	}
	b.diskHealth = func(context.Context) error { return w.Healthy() }
	return w
}
