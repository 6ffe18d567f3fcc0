package comments

import (
	"encoding/binary"
	"fmt"

	"github.com/lenta-dev/lenta/cursorseal"
	"github.com/lenta-dev/lenta/objects"
)

// ErrBadCursor is wrapped by every cursor decoding failure (it is
// cursorseal.ErrBad).
var ErrBadCursor = cursorseal.ErrBad

const cursorVersion = 1

// Cursors makes and checks thread cursors: a position in one object's
// thread in one order, sealed for one viewer, so a cursor cannot be
// forged, altered, used by another viewer, on another object's thread or
// in the other order.
type Cursors struct{ seal *cursorseal.Sealer }

// NewCursors derives the cursor key from the service secret.
func NewCursors(secret []byte) *Cursors {
	return &Cursors{seal: cursorseal.New(secret, "comments/v1")}
}

// Encode makes the cursor for p; the zero position encodes as "".
func (c *Cursors) Encode(viewer int64, object string, newest bool, p objects.CommentPos) string {
	if p.IsZero() {
		return ""
	}
	return c.seal.Seal(viewer, appendBody(nil, object, newest, p))
}

// Decode checks a cursor of viewer for object's thread in this order and
// returns its position; "" is the start.
func (c *Cursors) Decode(viewer int64, object string, newest bool, s string) (objects.CommentPos, error) {
	if s == "" {
		return objects.CommentPos{}, nil
	}
	body, err := c.seal.Open(viewer, s)
	if err != nil {
		return objects.CommentPos{}, err
	}
	gotObject, gotNewest, p, err := decodeBody(body)
	if err != nil {
		return objects.CommentPos{}, err
	}
	if gotObject != object || gotNewest != newest {
		return objects.CommentPos{}, fmt.Errorf("%w: the cursor is for another thread or order", ErrBadCursor)
	}
	return p, nil
}

// body: version, order (1 newest, 0 oldest), uvarint length + object,
// varint ts, the id (the rest).
func appendBody(b []byte, object string, newest bool, p objects.CommentPos) []byte {
	order := byte(0)
	if newest {
		order = 1
	}
	b = append(b, cursorVersion, order)
	b = binary.AppendUvarint(b, uint64(len(object)))
	b = append(b, object...)
	b = binary.AppendVarint(b, p.TS)
	return append(b, p.ID...)
}

func decodeBody(b []byte) (object string, newest bool, p objects.CommentPos, err error) {
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrBadCursor, what) }
	if len(b) < 2 || b[0] != cursorVersion {
		return "", false, p, bad("unknown version")
	}
	if b[1] > 1 {
		return "", false, p, bad("bad order")
	}
	newest, b = b[1] == 1, b[2:]
	var canon [binary.MaxVarintLen64]byte
	l, n := binary.Uvarint(b)
	// An overlong varint (a zero continuation byte) reads as the same
	// number: refused, so one position has exactly one body.
	if n <= 0 || n != binary.PutUvarint(canon[:], l) || l > uint64(len(b)-n) {
		return "", false, p, bad("bad object")
	}
	object, b = string(b[n:n+int(l)]), b[n+int(l):]
	ts, n := binary.Varint(b)
	if n <= 0 || n != binary.PutVarint(canon[:], ts) || ts <= 0 || n == len(b) {
		return "", false, p, bad("bad position")
	}
	return object, newest, objects.CommentPos{TS: ts, ID: string(b[n:])}, nil
}
