package ranking

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"

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
	macLen         = 16
	maxCursorLen   = 512
	maxOffset      = 1 << 20
)

// Cursors makes and checks ranked cursors. Like timeline cursors they are
// signed for one viewer (an HMAC over the viewer and the body), with a key
// of their own, so neither kind passes for the other.
type Cursors struct{ key []byte }

// NewCursors derives the ranked cursor key from the service secret.
func NewCursors(secret []byte) *Cursors {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("lenta/ranked-cursor/v1"))
	return &Cursors{key: m.Sum(nil)}
}

// Encode makes the cursor for viewer at c.
func (cs *Cursors) Encode(viewer int64, c Cursor) string {
	buf := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(c.Tail.ID)+macLen)
	if c.Snapshot != 0 {
		buf = append(buf, cursorSnapshot)
		buf = binary.BigEndian.AppendUint64(buf, c.Snapshot)
		buf = binary.AppendUvarint(buf, uint64(c.Offset))
	} else {
		buf = append(buf, cursorTail)
		buf = binary.AppendVarint(buf, c.Tail.TS)
		buf = binary.AppendUvarint(buf, uint64(len(c.Tail.ID)))
		buf = append(buf, c.Tail.ID...)
	}
	buf = append(buf, cs.mac(viewer, buf)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// Decode checks a cursor for viewer. Every failure wraps
// timeline.ErrBadCursor.
func (cs *Cursors) Decode(viewer int64, s string) (Cursor, error) {
	bad := func(why string) (Cursor, error) {
		return Cursor{}, fmt.Errorf("%w: %s", timeline.ErrBadCursor, why)
	}
	if s == "" {
		return bad("empty")
	}
	if len(s) > maxCursorLen {
		return bad("too long")
	}
	// The decoder skips line breaks; a cursor is one exact string.
	if strings.ContainsAny(s, "\r\n") {
		return bad("not base64url")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return bad("not base64url")
	}
	if len(raw) < 1+macLen {
		return bad("too short")
	}
	body, mac := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(mac, cs.mac(viewer, body)) {
		return bad("signature does not match this feed (or it is not a ranked cursor)")
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
		ts, n := binary.Varint(rest)
		if n <= 0 {
			return bad("bad position")
		}
		rest = rest[n:]
		l, n := binary.Uvarint(rest)
		if n <= 0 || l != uint64(len(rest)-n) {
			return bad("bad position")
		}
		p := timeline.Position{TS: ts, ID: string(rest[n:])}
		if p.IsTop() || p.TS <= 0 {
			return bad("bad position")
		}
		return Cursor{Tail: p}, nil
	}
	return bad(fmt.Sprintf("unknown kind %d", body[0]))
}

func (cs *Cursors) mac(viewer int64, body []byte) []byte {
	m := hmac.New(sha256.New, cs.key)
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(viewer))
	m.Write(v[:])
	m.Write(body)
	return m.Sum(nil)[:macLen]
}
