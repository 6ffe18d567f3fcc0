package people

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Names is one page's lookup of the people it names: Add the ids, Load
// them with one Profiles call, then Find each by binary search. The zero
// Names is ready to use.
type Names struct {
	ids   []int64  // sorted, unique after Load
	found []Person // found[i] is ids[i]'s person; Name "" when none
	n     int      // how many of ids have a profile
	langs []string // langs[i] is ids[i]'s profile language
}

// Add asks for id (0 and negatives are ignored).
func (n *Names) Add(id int64) {
	if id > 0 {
		n.ids = append(n.ids, id)
	}
}

// Load reads the profiles of the ids added, once each, in one call.
func (n *Names) Load(ctx context.Context, r Reader) error {
	slices.Sort(n.ids)
	n.ids = slices.Compact(n.ids)
	n.found = slices.Grow(n.found[:0], len(n.ids))[:len(n.ids)]
	n.langs = slices.Grow(n.langs[:0], len(n.ids))[:len(n.ids)]
	n.n = 0
	if len(n.ids) == 0 || r == nil {
		clear(n.found)
		clear(n.langs)
		return nil
	}
	ps, err := r.Profiles(ctx, n.ids)
	if err != nil {
		return fmt.Errorf("read profiles: %w", err)
	}
	if len(ps) != len(n.ids) {
		return fmt.Errorf("read profiles: %d for %d users", len(ps), len(n.ids))
	}
	for i := range ps {
		p := &ps[i]
		n.found[i] = Person{ID: n.ids[i], Name: p.Name, Avatar: p.Avatar}
		n.langs[i] = p.Lang
		if p.Name != "" {
			n.n++
		}
	}
	return nil
}

func (n *Names) index(id int64) int {
	if n.n == 0 {
		return -1
	}
	i, ok := slices.BinarySearch(n.ids, id)
	if !ok || i >= len(n.found) || n.found[i].Name == "" {
		return -1
	}
	return i
}

// Find returns the person id names, if they have a profile.
func (n *Names) Find(id int64) (Person, bool) {
	if i := n.index(id); i >= 0 {
		return n.found[i], true
	}
	return Person{}, false
}

// Name is id's display name, "" without a profile.
func (n *Names) Name(id int64) string {
	if i := n.index(id); i >= 0 {
		return n.found[i].Name
	}
	return ""
}

// Lang is id's profile language, "" when unset or without a profile.
func (n *Names) Lang(id int64) string {
	if i := n.index(id); i >= 0 {
		return n.langs[i]
	}
	return ""
}

// Any reports whether any id loaded has a profile.
func (n *Names) Any() bool { return n.n > 0 }

// Reset empties n for reuse, dropping its references to strings.
func (n *Names) Reset() {
	clear(n.found)
	clear(n.langs)
	n.ids, n.found, n.langs, n.n = n.ids[:0], n.found[:0], n.langs[:0], 0
}

// Directory hands out Names that read r, recycled. A nil Directory names
// nobody (every page reads as without profiles).
type Directory struct {
	r    Reader
	pool sync.Pool // *Names
}

// NewDirectory reads profiles from r.
func NewDirectory(r Reader) *Directory { return &Directory{r: r} }

// Acquire returns an empty Names; give it back with Release.
func (d *Directory) Acquire() *Names {
	if d != nil {
		if n, ok := d.pool.Get().(*Names); ok {
			return n
		}
	}
	return new(Names)
}

// Release returns n, which must not be used after.
func (d *Directory) Release(n *Names) {
	if d == nil || cap(n.ids) > 4096 {
		return // do not pin a rare huge one
	}
	n.Reset()
	d.pool.Put(n)
}

// Load is n.Load from the directory's reader (none for a nil Directory).
func (d *Directory) Load(ctx context.Context, n *Names) error {
	if d == nil {
		return n.Load(ctx, nil)
	}
	return n.Load(ctx, d.r)
}
