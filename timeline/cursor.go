package timeline

import (
	"encoding/binary"
	"fmt"

	"github.com/lenta-dev/lenta/cursorseal"
)

// ErrBadCursor is wrapped by every cursor decoding failure: the cursor was
// not made by this service for this viewer. (It is cursorseal.ErrBad, so
// one errors.Is covers every kind of cursor.)
var ErrBadCursor = cursorseal.ErrBad

const cursorVersion = 1

// Cursors makes and checks keyset cursors. A cursor names a Position in one
// viewer's feed and is sealed for that viewer (cursorseal), so it cannot be
// forged, altered, or replayed on another viewer's feed.
type Cursors struct{ seal *cursorseal.Sealer }

// NewCursors derives the cursor key from the service secret.
func NewCursors(secret []byte) *Cursors {
	return &Cursors{seal: cursorseal.New(secret, "cursor/v1")}
}

// Encode makes the cursor for viewer's feed at p. The top encodes as "".
func (c *Cursors) Encode(viewer int64, p Position) string {
	if p.IsTop() {
		return ""
	}
	return c.seal.Seal(viewer, AppendPosition([]byte{cursorVersion}, p))
}

// Decode checks a cursor for viewer's feed and returns its position; "" is
// the top.
func (c *Cursors) Decode(viewer int64, s string) (Position, error) {
	if s == "" {
		return Position{}, nil
	}
	body, err := c.seal.Open(viewer, s)
	if err != nil {
		return Position{}, err
	}
	if body[0] != cursorVersion {
		return Position{}, fmt.Errorf("%w: unknown version %d", ErrBadCursor, body[0])
	}
	return DecodePosition(body[1:])
}

// AppendPosition appends p's cursor encoding (varint ts, uvarint length,
// id) to b.
func AppendPosition(b []byte, p Position) []byte {
	b = binary.AppendVarint(b, p.TS)
	b = binary.AppendUvarint(b, uint64(len(p.ID)))
	return append(b, p.ID...)
}

// DecodePosition reads a position AppendPosition wrote, which must fill b
// exactly and not be the top.
func DecodePosition(b []byte) (Position, error) {
	ts, n := binary.Varint(b)
	if n <= 0 {
		return Position{}, fmt.Errorf("%w: bad position", ErrBadCursor)
	}
	b = b[n:]
	l, n := binary.Uvarint(b)
	if n <= 0 || l != uint64(len(b)-n) {
		return Position{}, fmt.Errorf("%w: bad position", ErrBadCursor)
	}
	p := Position{TS: ts, ID: string(b[n:])}
	if p.IsTop() || p.TS <= 0 {
		return Position{}, fmt.Errorf("%w: bad position", ErrBadCursor)
	}
	return p, nil
}
