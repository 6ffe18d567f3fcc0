package notify

// Names: the display names and avatars of the people notifications name,
// looked up when they are read (the inbox keeps ids only), so a rename
// shows at once.

import (
	"context"
	"fmt"

	"github.com/lenta-dev/lenta/people"
)

// NamePeople sets each notification's People from one profile read for
// the whole page (a nil d names nobody). Notifications whose actors have
// no profile keep People nil; all share one backing array.
func NamePeople(ctx context.Context, d *people.Directory, items []Notification) error {
	if d == nil || len(items) == 0 {
		return nil
	}
	nm := d.Acquire()
	defer d.Release(nm)
	most := 0
	for i := range items {
		for _, a := range items[i].Actors {
			nm.Add(a)
		}
		most += len(items[i].Actors)
	}
	if err := d.Load(ctx, nm); err != nil {
		return fmt.Errorf("name people: %w", err)
	}
	if !nm.Any() {
		return nil
	}
	buf := make([]people.Person, 0, most)
	for i := range items {
		n := &items[i]
		start := len(buf)
		for _, a := range n.Actors {
			if p, ok := nm.Find(a); ok {
				buf = append(buf, p)
			}
		}
		if len(buf) > start {
			n.People = buf[start:len(buf):len(buf)]
		}
	}
	return nil
}
