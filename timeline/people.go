package timeline

// Names: the display names and avatars of the people a page's items
// name, looked up when the page is served, so a rename shows at once.

import (
	"context"
	"fmt"
	"slices"

	"github.com/lenta-dev/lenta/people"
)

// NamePeople sets each item's People from one profile read for the whole
// page (d's reader; a nil d names nobody). Items whose people have no
// profile keep People nil; the People of all items share one backing
// array.
func NamePeople(ctx context.Context, d *people.Directory, items []Item) error {
	if d == nil || len(items) == 0 {
		return nil
	}
	n := d.Acquire()
	defer d.Release(n)
	most := 0
	for i := range items {
		it := &items[i]
		n.Add(it.Actor)
		n.Add(it.Owner)
		for _, a := range it.Actors {
			n.Add(a)
		}
		most += 2 + len(it.Actors)
	}
	if err := d.Load(ctx, n); err != nil {
		return fmt.Errorf("name people: %w", err)
	}
	if !n.Any() {
		return nil
	}
	var buf []people.Person
	for i := range items {
		it := &items[i]
		start := len(buf)
		add := func(id int64) {
			p, ok := n.Find(id)
			if !ok || slices.ContainsFunc(buf[start:], func(q people.Person) bool { return q.ID == id }) {
				return
			}
			if buf == nil {
				buf = make([]people.Person, 0, most)
			}
			buf = append(buf, p)
		}
		add(it.Actor)
		add(it.Owner)
		for _, a := range it.Actors {
			add(a)
		}
		if len(buf) > start {
			it.People = buf[start:len(buf):len(buf)]
		}
	}
	return nil
}
