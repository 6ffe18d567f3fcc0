package ranking

import (
	"encoding/binary"
	"fmt"

	"github.com/lenta-dev/lenta/cursorseal"
	"github.com/lenta-dev/lenta/timeline"
)

// Cursor is a place in a ranked walk: an offset into a stored snapshot,
// or, past the snapshot, a position in timeline order (the tail).
type Cursor struct {
	Snapshot uint64 // 0 in the tail
	Offset   int
	Tail     timeline.Position // in the tail: continue strictly after it
}

const (
	cursorSnapshot = 0x21
	cursorTail     = 0x22
	maxOffset      = 1 << 20
)

// Cursors makes and checks ranked cursors. Like timeline cursors they are
// sealed for one viewer (cursorseal), with a key of their own, so neither
// kind passes for the other.
type Cursors struct{ seal *cursorseal.Sealer }

// NewCursors derives the ranked cursor key from the service secret.
func NewCursors(secret []byte) *Cursors {
	return &Cursors{seal: cursorseal.New(secret, "ranked-cursor/v1")}
}

// Encode makes the cursor for viewer at c.
func (cs *Cursors) Encode(viewer int64, c Cursor) string {
	buf := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(c.Tail.ID))
	if c.Snapshot != 0 {
		buf = append(buf, cursorSnapshot)
		buf = binary.BigEndian.AppendUint64(buf, c.Snapshot)
		buf = binary.AppendUvarint(buf, uint64(c.Offset))
	} else {
		buf = timeline.AppendPosition(append(buf, cursorTail), c.Tail)
	}
	return cs.seal.Seal(viewer, buf)
}

// Decode checks a cursor for viewer. Every failure wraps
// timeline.ErrBadCursor.
func (cs *Cursors) Decode(viewer int64, s string) (Cursor, error) {
	bad := func(why string) (Cursor, error) {
		return Cursor{}, fmt.Errorf("%w: %s", timeline.ErrBadCursor, why)
	}
	body, err := cs.seal.Open(viewer, s)
	if err != nil {
		return Cursor{}, err
	}
	rest := body[1:]
	switch body[0] {
	case cursorSnapshot:
		if len(rest) < 9 {
			return bad("bad snapshot position")
		}
		id := binary.BigEndian.Uint64(rest)
		off, n := binary.Uvarint(rest[8:])
		if id == 0 || n <= 0 || 8+n != len(rest) || off > maxOffset {
			return bad("bad snapshot position")
		}
		return Cursor{Snapshot: id, Offset: int(off)}, nil
	case cursorTail:
		p, err := timeline.DecodePosition(rest)
		if err != nil {
			return Cursor{}, err
		}
		return Cursor{Tail: p}, nil
	}
	return bad(fmt.Sprintf("unknown kind %d", body[0]))
}
