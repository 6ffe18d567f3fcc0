package timeline

// The Class markers one read loads, cached per object for the screen.

import (
	"context"
	"fmt"
	"slices"
)

// markerCache holds the Class markers one read loaded, per object: a
// small slice searched from where the last hit was (reads mostly ask in the
// order they loaded), not a map.
type markerCache struct {
	objs []string
	ms   [][]Marker
	hint int
	// more appends the objects worth loading along with a miss.
	more func(dst []string) []string
}

func (c *markerCache) find(object string) int {
	n := len(c.objs)
	for k := range n {
		i := (c.hint + k) % n
		if c.objs[i] == object {
			c.hint = i + 1
			return i
		}
	}
	return -1
}

// load reads the markers of objects not cached yet in one MarkersOf call.
func (c *markerCache) load(ctx context.Context, st Store, viewer int64, objects []string) error {
	fresh := objects[:0]
	for _, o := range objects {
		if c.find(o) < 0 && !slices.Contains(fresh, o) {
			fresh = append(fresh, o)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	ms, err := st.MarkersOf(ctx, viewer, fresh)
	if err != nil {
		return fmt.Errorf("class markers: %w", err)
	}
	if len(ms) != len(fresh) {
		return fmt.Errorf("class markers: %d lists for %d objects", len(ms), len(fresh))
	}
	c.objs = append(c.objs, fresh...)
	c.ms = append(c.ms, ms...)
	return nil
}

// get returns the markers of object, loading them (and more) on a miss.
func (c *markerCache) get(ctx context.Context, st Store, viewer int64, object string) (int, error) {
	if i := c.find(object); i >= 0 {
		return i, nil
	}
	objects := []string{object}
	if c.more != nil {
		objects = c.more(objects)
	}
	if err := c.load(ctx, st, viewer, objects); err != nil {
		return -1, err
	}
	if i := c.find(object); i >= 0 {
		return i, nil
	}
	return -1, fmt.Errorf("class markers of %q not loaded", object)
}
