package timeline

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// ErrBadCursor is wrapped by every cursor decoding failure: the cursor was
// not made by this service for this viewer.
var ErrBadCursor = errors.New("bad cursor")

const (
	cursorVersion = 1
	macLen        = 16
	maxCursorLen  = 512
)

// Cursors makes and checks keyset cursors. A cursor names a Position in one
// viewer's feed and carries an HMAC over both, so it cannot be forged,
// altered, or replayed on another viewer's feed.
type Cursors struct {
	key []byte
}

// NewCursors derives the cursor key from the service secret.
func NewCursors(secret []byte) *Cursors {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("lenta/cursor/v1"))
	return &Cursors{key: m.Sum(nil)}
}

// Encode makes the cursor for viewer's feed at p. The top encodes as "".
func (c *Cursors) Encode(viewer int64, p Position) string {
	if p.IsTop() {
		return ""
	}
	buf := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(p.ID)+macLen)
	buf = append(buf, cursorVersion)
	buf = binary.AppendVarint(buf, p.TS)
	buf = binary.AppendUvarint(buf, uint64(len(p.ID)))
	buf = append(buf, p.ID...)
	buf = append(buf, c.mac(viewer, buf)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// Decode checks a cursor for viewer's feed and returns its position; "" is
// the top.
func (c *Cursors) Decode(viewer int64, s string) (Position, error) {
	if s == "" {
		return Position{}, nil
	}
	if len(s) > maxCursorLen {
		return Position{}, fmt.Errorf("%w: too long", ErrBadCursor)
	}
	// The decoder skips line breaks; a cursor is one exact string.
	if strings.ContainsAny(s, "\r\n") {
		return Position{}, fmt.Errorf("%w: not base64url", ErrBadCursor)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return Position{}, fmt.Errorf("%w: not base64url", ErrBadCursor)
	}
	if len(raw) < 1+macLen {
		return Position{}, fmt.Errorf("%w: too short", ErrBadCursor)
	}
	body, mac := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(mac, c.mac(viewer, body)) {
		return Position{}, fmt.Errorf("%w: signature does not match this feed", ErrBadCursor)
	}
	if body[0] != cursorVersion {
		return Position{}, fmt.Errorf("%w: unknown version %d", ErrBadCursor, body[0])
	}
	rest := body[1:]
	ts, n := binary.Varint(rest)
	if n <= 0 {
		return Position{}, fmt.Errorf("%w: bad position", ErrBadCursor)
	}
	rest = rest[n:]
	l, n := binary.Uvarint(rest)
	if n <= 0 || l != uint64(len(rest)-n) {
		return Position{}, fmt.Errorf("%w: bad position", ErrBadCursor)
	}
	p := Position{TS: ts, ID: string(rest[n:])}
	if p.IsTop() || p.TS <= 0 {
		return Position{}, fmt.Errorf("%w: bad position", ErrBadCursor)
	}
	return p, nil
}

func (c *Cursors) mac(viewer int64, body []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(viewer))
	m.Write(v[:])
	m.Write(body)
	return m.Sum(nil)[:macLen]
}
