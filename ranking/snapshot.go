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
	// snapshotV1 stored every explain factor as a float64 (56 bytes an
	// entry); still read, no longer written.
	snapshotV1 = 1
	// snapshotV2 stores what the factors are computed from (the affinity
	// factor, the Class count, the author's rank for diversity) and the
	// instant the order was ranked at; the ranker recomputes the rest
	// exactly as it did when ranking (same inputs, same float operations).
	// About 12 bytes an entry instead of 56: an order of a full window
	// takes half the memory in the order cache and in the store.
	snapshotV2    = 2
	maxSnapString = 1024
	explainFloats = 7
)

// appendSnapshot encodes a ranked order (v2): the version, when it was
// ranked, the tail position, the count, then per entry the timeline entry
// and the inputs of its explain factors.
func appendSnapshot(dst []byte, built int64, tail timeline.Position, items []timeline.Item, ranked []Ranked) []byte {
	dst = append(dst, snapshotV2)
	dst = binary.AppendVarint(dst, built)
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
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(ranked[i].Explain.Affinity))
		dst = binary.AppendVarint(dst, engagementCount(it)) // Class-only data: the Class count, as before reactions
		dst = binary.AppendUvarint(dst, uint64(ranked[i].Nth))
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
	buf     []byte
	version byte
	built   int64   // v2: when the order was ranked
	rk      *Ranker // v2: recomputes the factors
	tail    timeline.Position
	count   int
	read    int // entries consumed
}

// init reads the header; rk recomputes a v2 snapshot's factors (it must be
// the ranker that ranked it, or one with the same configuration).
func (r *snapReader) init(data []byte, rk *Ranker) error {
	*r = snapReader{buf: data, rk: rk}
	if len(r.buf) == 0 || (r.buf[0] != snapshotV1 && r.buf[0] != snapshotV2) {
		return fmt.Errorf("%w: unknown version", errBadSnapshot)
	}
	r.version, r.buf = r.buf[0], r.buf[1:]
	if r.version == snapshotV2 {
		built, ok := r.varint()
		if !ok {
			return fmt.Errorf("%w: built", errBadSnapshot)
		}
		r.built = built
	}
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
	if !ok3 || !ok4 || !ok5 || !ok6 || !ok7 {
		return fmt.Errorf("%w: entry %d", errBadSnapshot, r.read)
	}
	var f [explainFloats]float64
	var classes int64
	var nth uint64
	if r.version == snapshotV1 {
		if len(r.buf) < 8*explainFloats {
			return fmt.Errorf("%w: entry %d", errBadSnapshot, r.read)
		}
		for i := range f {
			f[i] = math.Float64frombits(binary.BigEndian.Uint64(r.buf[8*i:]))
		}
		r.buf = r.buf[8*explainFloats:]
	} else {
		if len(r.buf) < 8 {
			return fmt.Errorf("%w: entry %d", errBadSnapshot, r.read)
		}
		f[3] = math.Float64frombits(binary.BigEndian.Uint64(r.buf)) // the affinity factor
		r.buf = r.buf[8:]
		var ok8 bool
		classes, ok8 = r.varint()
		var k int
		nth, k = binary.Uvarint(r.buf)
		if !ok8 || k <= 0 {
			return fmt.Errorf("%w: entry %d", errBadSnapshot, r.read)
		}
		r.buf = r.buf[k:]
	}
	r.read++
	if !keep {
		return nil
	}
	*e = timeline.Entry{TS: ts, ID: string(id), Kind: kind, Actor: actor, Object: string(object),
		Owner: owner, Until: until, Audience: string(audience)}
	if r.version == snapshotV1 {
		*x = timeline.Explain{Score: f[0], TypeWeight: f[1], LiveBoost: f[2], Affinity: f[3], Freshness: f[4],
			Engagement: f[5], Diversity: f[6]}
		return nil
	}
	if r.rk == nil {
		return fmt.Errorf("%w: a v2 snapshot needs its ranker", errBadSnapshot)
	}
	*x = r.rk.factors(r.built, e, classes, f[3], int(min(nth, math.MaxInt32)))
	return nil
}
