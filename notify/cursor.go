package notify

import (
	"fmt"

	"github.com/lenta-dev/lenta/timeline"
)

// Cursors makes and checks the keyset cursors of inbox pages: signed for
// one user with a key of their own, so a feed cursor is no inbox cursor.
type Cursors struct{ c *timeline.Cursors }

// NewCursors derives the inbox cursor key from the service secret.
func NewCursors(secret []byte) *Cursors {
	k := append([]byte("lenta/notifications/v1:"), secret...)
	return &Cursors{c: timeline.NewCursors(k)}
}

// Encode makes the cursor of user's inbox at p; the top is "".
func (c *Cursors) Encode(user int64, p Position) string {
	return c.c.Encode(user, timeline.Position{TS: p.TS, ID: p.Group})
}

// Decode checks a cursor of user's inbox ("" is the top).
func (c *Cursors) Decode(user int64, s string) (Position, error) {
	p, err := c.c.Decode(user, s)
	if err != nil {
		return Position{}, fmt.Errorf("notifications cursor: %w", err)
	}
	return Position{TS: p.TS, Group: p.ID}, nil
}
