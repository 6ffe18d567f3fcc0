package pebblestore

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// ObjectStore implements objects.Store. Every change to one object (its
// record, its marks, its Class count) runs under the object's lock stripe.
type ObjectStore struct{ s *Store }

var _ objects.Store = (*ObjectStore)(nil)

// lockObject locks the stripe of object id and returns the unlock func.
func (o *ObjectStore) lockObject(id string) func() {
	buf := o.s.getBuf()
	*buf = objectKey((*buf)[:0], id)
	i := o.s.locks.of(*buf)
	o.s.putBuf(buf)
	o.s.locks[i].Lock()
	return o.s.locks[i].Unlock
}

// load reads one object; found is false for an unknown id.
func (o *ObjectStore) load(key []byte, id string) (objects.Object, bool, error) {
	obj := objects.Object{ID: id}
	v, found, err := o.s.getCopy(key, nil)
	if err != nil || !found {
		return obj, false, err
	}
	if err := decodeObjectVal(v, &obj); err != nil {
		return obj, false, fmt.Errorf("pebblestore: object %q: %w", id, err)
	}
	return obj, true, nil
}

func (o *ObjectStore) save(key []byte, obj *objects.Object) error {
	if err := o.s.db.Set(key, appendObjectVal(nil, obj), o.s.wo); err != nil {
		return fmt.Errorf("pebblestore: put object %q: %w", obj.ID, err)
	}
	return nil
}

// Put creates the object unless an object or tombstone with its id exists,
// and returns the object as stored afterwards.
func (o *ObjectStore) Put(ctx context.Context, obj objects.Object) (objects.Object, error) {
	if err := ctx.Err(); err != nil {
		return obj, err
	}
	if obj.ID == "" {
		return obj, fmt.Errorf("pebblestore: put object: %w", errBadID)
	}
	defer o.lockObject(obj.ID)()
	key := objectKey(nil, obj.ID)
	cur, found, err := o.load(key, obj.ID)
	if err != nil || found {
		return cur, err
	}
	if err := o.save(key, &obj); err != nil {
		return obj, err
	}
	o.wrote(&obj)
	return obj, nil
}

// Get returns the objects with these ids, in order; a missing one is the
// zero Object with only ID set. With an ObjectCache (Options.ObjectCache)
// it answers from memory what it can; callers must not modify the Media
// of what it returns (a cached object shares them).
func (o *ObjectStore) Get(ctx context.Context, ids []string) ([]objects.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.s.objCache != nil {
		return o.getCached(ctx, ids)
	}
	return o.getStored(ctx, ids)
}

// getStored reads objects from Pebble, their strings (and media lists)
// cut from one string of all the values read (multiGetArena).
func (o *ObjectStore) getStored(ctx context.Context, ids []string) ([]objects.Object, error) {
	out := make([]objects.Object, len(ids))
	for i, id := range ids {
		out[i].ID = id
	}
	var media []string
	err := o.s.multiGetArena(ctx, len(ids), func(b []byte, i int) []byte { return objectKey(b, ids[i]) },
		func(i int, v []byte, str string) error {
			if err := decodeObjectIn(v, str, &out[i], &media); err != nil {
				return fmt.Errorf("pebblestore: object %q: %w", ids[i], err)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete marks the object deleted at stamp (a tombstone owned by author if
// unknown), keeping its content and the later of the two Changed stamps.
func (o *ObjectStore) Delete(ctx context.Context, id string, author int64, at schema.Stamp) (objects.Object, error) {
	return o.change(ctx, id, author, at, func(obj *objects.Object) bool {
		if obj.Deleted {
			return false
		}
		obj.Deleted = true
		return true
	})
}

// End marks a broadcast ended at stamp (a tombstone owned by author if
// unknown), keeping the later of the two Changed stamps.
func (o *ObjectStore) End(ctx context.Context, id string, author int64, at schema.Stamp) (objects.Object, error) {
	return o.change(ctx, id, author, at, func(obj *objects.Object) bool {
		if obj.Ended {
			return false
		}
		obj.Ended = true
		return true
	})
}

// change applies a state change (set reports whether it changed a flag)
// and advances Changed to at if at is later.
func (o *ObjectStore) change(ctx context.Context, id string, author int64, at schema.Stamp, set func(*objects.Object) bool) (objects.Object, error) {
	if err := ctx.Err(); err != nil {
		return objects.Object{ID: id}, err
	}
	if id == "" {
		return objects.Object{}, fmt.Errorf("pebblestore: change object: %w", errBadID)
	}
	defer o.lockObject(id)()
	key := objectKey(nil, id)
	obj, found, err := o.load(key, id)
	if err != nil {
		return obj, err
	}
	if !found {
		obj.Author = author
	}
	changed := set(&obj)
	if at.After(obj.Changed) {
		obj.Changed = at
		changed = true
	}
	if !changed && found {
		return obj, nil
	}
	if err := o.save(key, &obj); err != nil {
		return obj, err
	}
	o.wrote(&obj)
	return obj, nil
}

// SetMark applies a class or unclass: SetReaction's After.
func (o *ObjectStore) SetMark(ctx context.Context, m objects.Mark) (objects.Mark, error) {
	ch, err := o.SetReaction(ctx, m)
	return ch.After, err
}

// ClassCounts returns the Class count of each object, in order; unknown
// objects count 0.
func (o *ObjectStore) ClassCounts(ctx context.Context, ids []string) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]int64, len(ids))
	kb := o.s.getBuf()
	defer o.s.putBuf(kb)
	keys := o.s.keys(kb, len(ids), func(b []byte, i int) []byte { return classCountKey(b, ids[i]) })
	err := o.s.multiGet(ctx, keys, func(i int, v []byte) error {
		if len(v) < 8 {
			return corrupt("counts")
		}
		out[i] = int64(binary.BigEndian.Uint64(v)) // the counts value starts with the Class counter
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
