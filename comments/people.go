package comments

// Names: a thread page names its authors, looked up when the page is
// served, as feed pages and notifications do.

import (
	"context"
	"fmt"

	"github.com/lenta-dev/lenta/people"
)

// NamePeople sets each comment's People to its author's name and avatar
// from one profile read for the whole page (a nil d names nobody). A
// comment whose author has no profile keeps People nil.
func NamePeople(ctx context.Context, d *people.Directory, items []Comment) error {
	if d == nil || len(items) == 0 {
		return nil
	}
	nm := d.Acquire()
	defer d.Release(nm)
	for i := range items {
		nm.Add(items[i].Author)
	}
	if err := d.Load(ctx, nm); err != nil {
		return fmt.Errorf("name people: %w", err)
	}
	if !nm.Any() {
		return nil
	}
	buf := make([]people.Person, 0, len(items))
	for i := range items {
		if p, ok := nm.Find(items[i].Author); ok {
			buf = append(buf, p)
			items[i].People = buf[len(buf)-1 : len(buf) : len(buf)]
		}
	}
	return nil
}
