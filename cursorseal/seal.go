package cursorseal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// ErrBad is wrapped by every failure to open a cursor: it was not made by
// this service, for this viewer, for this purpose.
var ErrBad = errors.New("bad cursor")

const (
	macLen = 16
	// MaxLen bounds a sealed cursor (characters).
	MaxLen = 512
)

// Sealer seals and opens cursor bodies for one purpose. It is immutable
// and safe for concurrent use.
type Sealer struct{ key []byte }

// New derives the purpose's key from the service secret:
// HMAC-SHA256(secret, "lenta/" + purpose).
func New(secret []byte, purpose string) *Sealer {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("lenta/" + purpose))
	return &Sealer{key: m.Sum(nil)}
}

// Seal signs body for viewer.
func (s *Sealer) Seal(viewer int64, body []byte) string {
	buf := make([]byte, 0, len(body)+macLen)
	buf = append(buf, body...)
	buf = append(buf, s.mac(viewer, body)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// Open checks cursor for viewer and returns its body (at least one byte).
// Every failure wraps ErrBad.
func (s *Sealer) Open(viewer int64, cursor string) ([]byte, error) {
	if cursor == "" {
		return nil, fmt.Errorf("%w: empty", ErrBad)
	}
	if len(cursor) > MaxLen {
		return nil, fmt.Errorf("%w: too long", ErrBad)
	}
	// The decoder skips line breaks; a cursor is one exact string.
	if strings.ContainsAny(cursor, "\r\n") {
		return nil, fmt.Errorf("%w: not base64url", ErrBad)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(cursor)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64url", ErrBad)
	}
	if len(raw) < 1+macLen {
		return nil, fmt.Errorf("%w: too short", ErrBad)
	}
	body, mac := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(mac, s.mac(viewer, body)) {
		return nil, fmt.Errorf("%w: signature does not match (another viewer, another kind of cursor, or altered)", ErrBad)
	}
	return body, nil
}

func (s *Sealer) mac(viewer int64, body []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(viewer))
	m.Write(v[:])
	m.Write(body)
	return m.Sum(nil)[:macLen]
}
