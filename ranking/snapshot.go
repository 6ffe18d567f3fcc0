package ranking

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/lenta-dev/lenta/timeline"
)

// SnapshotStore keeps ranked orders for a short while, so that any reader
// process can continue a ranked walk. Implementations must be safe for
// concurrent use.
type SnapshotStore interface {
	// PutSnapshot stores data (at most MaxSnapshotBytes) under (viewer,
	// id) until expires (unix ms).
	PutSnapshot(ctx context.Context, viewer int64, id uint64, data []byte, expires int64) error
	// Snapshot appends the data stored under (viewer, id) to dst; found is
	// false when there is none or it expired before now (unix ms).
	Snapshot(ctx context.Context, viewer int64, id uint64, now int64, dst []byte) (data []byte, found bool, err error)
}

// MaxSnapshotBytes bounds one encoded snapshot (a full window of 2,000
// entries with long ids stays well below it).
const MaxSnapshotBytes = 1 << 20

// errBadSnapshot is wrapped by every snapshot decoding failure.
var errBadSnapshot = errors.New("bad ranked snapshot")

const (
	snapshotVersion = 1
	maxSnapString   = 1024
	explainFloats   = 7
)

// appendSnapshot encodes the ranked entries after the first page: a
// version, the tail position, the count, then per entry the timeline
// entry and its explain factors.
func appendSnapshot(dst []byte, tail timeline.Position, items []timeline.Item, ranked []Ranked) []byte {
	dst = append(dst, snapshotVersion)
	dst = binary.AppendVarint(dst, tail.TS)
	dst = appendSnapStr(dst, tail.ID)
	dst = binary.AppendUvarint(dst, uint64(len(ranked)))
	for i := range ranked {
		it := &items[ranked[i].Index]
		dst = binary.AppendVarint(dst, it.TS)
		dst = appendSnapStr(dst, it.EventID)
		dst = append(dst, byte(timeline.ParseKind(it.Type)))
		dst = binary.AppendVarint(dst, it.Actor)
		dst = appendSnapStr(dst, it.Object)
		dst = binary.AppendVarint(dst, it.Owner)
		dst = binary.AppendVarint(dst, it.Until)
		dst = appendSnapStr(dst, it.Audience)
		x := &ranked[i].Explain
		for _, f := range [explainFloats]float64{x.Score, x.TypeWeight, x.LiveBoost, x.Affinity, x.Freshness, x.Engagement, x.Diversity} {
			dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(f))
		}
	}
	return dst
}

func appendSnapStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// snapReader walks an encoded snapshot entry by entry; skipping an entry
// allocates nothing.
type snapReader struct {
	buf   []byte
	tail  timeline.Position
	count int
	read  int // entries consumed
}

func (r *snapReader) init(data []byte) error {
	*r = snapReader{buf: data}
	if len(r.buf) == 0 || r.buf[0] != snapshotVersion {
		return fmt.Errorf("%w: unknown version", errBadSnapshot)
	}
	r.buf = r.buf[1:]
	ts, ok := r.varint()
	if !ok {
		return fmt.Errorf("%w: tail", errBadSnapshot)
	}
	id, ok := r.str()
	if !ok {
		return fmt.Errorf("%w: tail", errBadSnapshot)
	}
	r.tail = timeline.Position{TS: ts, ID: string(id)}
	n, k := binary.Uvarint(r.buf)
	if k <= 0 || n > uint64(len(r.buf)) { // every entry takes more than a byte
		return fmt.Errorf("%w: count", errBadSnapshot)
	}
	r.buf, r.count = r.buf[k:], int(n)
	return nil
}

func (r *snapReader) varint() (int64, bool) {
	v, k := binary.Varint(r.buf)
	if k <= 0 {
		return 0, false
	}
	r.buf = r.buf[k:]
	return v, true
}

func (r *snapReader) str() ([]byte, bool) {
	n, k := binary.Uvarint(r.buf)
	if k <= 0 || n > maxSnapString || n > uint64(len(r.buf)-k) {
		return nil, false
	}
	s := r.buf[k : k+int(n)]
	r.buf = r.buf[k+int(n):]
	return s, true
}

// next decodes the next entry into e and x; with keep false it only
// skips it (and allocates nothing).
func (r *snapReader) next(keep bool, e *timeline.Entry, x *timeline.Explain) error {
	if r.read >= r.count {
		return fmt.Errorf("%w: past the end", errBadSnapshot)
	}
	ts, ok1 := r.varint()
	id, ok2 := r.str()
	if !ok1 || !ok2 || len(r.buf) < 1 {
		return fmt.Errorf("%w: entry %d", errBadSnapshot, r.read)
	}
	kind := timeline.Kind(r.buf[0])
	r.buf = r.buf[1:]
	actor, ok3 := r.varint()
	object, ok4 := r.str()
	owner, ok5 := r.varint()
	until, ok6 := r.varint()
	audience, ok7 := r.str()
	if !ok3 || !ok4 || !ok5 || !ok6 || !ok7 || len(r.buf) < 8*explainFloats {
		return fmt.Errorf("%w: entry %d", errBadSnapshot, r.read)
	}
	var f [explainFloats]float64
	for i := range f {
		f[i] = math.Float64frombits(binary.BigEndian.Uint64(r.buf[8*i:]))
	}
	r.buf = r.buf[8*explainFloats:]
	r.read++
	if !keep {
		return nil
	}
	*e = timeline.Entry{TS: ts, ID: string(id), Kind: kind, Actor: actor, Object: string(object),
		Owner: owner, Until: until, Audience: string(audience)}
	*x = timeline.Explain{Score: f[0], TypeWeight: f[1], LiveBoost: f[2], Affinity: f[3], Freshness: f[4],
		Engagement: f[5], Diversity: f[6]}
	return nil
}
