package notify

import (
	"fmt"

	"github.com/lenta-dev/lenta/cursorseal"
	"github.com/lenta-dev/lenta/timeline"
)

// Cursors makes and checks the keyset cursors of inbox pages: sealed for
// one user (cursorseal) with a key of their own, so a feed cursor is no
// inbox cursor.
type Cursors struct{ seal *cursorseal.Sealer }

const inboxCursorVersion = 1

// NewCursors derives the inbox cursor key from the service secret.
func NewCursors(secret []byte) *Cursors {
	return &Cursors{seal: cursorseal.New(secret, "notifications/v1")}
}

// Encode makes the cursor of user's inbox at p; the top is "".
func (c *Cursors) Encode(user int64, p Position) string {
	if p.IsTop() {
		return ""
	}
	return c.seal.Seal(user, timeline.AppendPosition([]byte{inboxCursorVersion}, timeline.Position{TS: p.TS, ID: p.Group}))
}

// Decode checks a cursor of user's inbox ("" is the top).
func (c *Cursors) Decode(user int64, s string) (Position, error) {
	if s == "" {
		return Position{}, nil
	}
	body, err := c.seal.Open(user, s)
	if err == nil && body[0] != inboxCursorVersion {
		err = fmt.Errorf("%w: unknown version %d", timeline.ErrBadCursor, body[0])
	}
	if err != nil {
		return Position{}, fmt.Errorf("notifications cursor: %w", err)
	}
	p, err := timeline.DecodePosition(body[1:])
	if err != nil {
		return Position{}, fmt.Errorf("notifications cursor: %w", err)
	}
	return Position{TS: p.TS, Group: p.ID}, nil
}
