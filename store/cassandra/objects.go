package cassandrastore

import (
	"context"
	"errors"
	"fmt"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// ObjectStore implements objects.Store on objects and marks. Every write
// to either table is a lightweight transaction, so concurrent writers on
// one object or one mark serialise through Paxos.
type ObjectStore struct{ s *Store }

var _ objects.Store = (*ObjectStore)(nil)

const (
	insertObject = `INSERT INTO objects (id, otype, author, target, audience, body, media, ts, until, event_id,
deleted, ended, changed_ts, changed_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`
	selectObject = `SELECT otype, author, target, audience, body, media, ts, until, event_id,
deleted, ended, changed_ts, changed_id FROM objects WHERE id = ?`
	// Delete and End set only their own flag (flags only ever turn on) and
	// advance changed to the later stamp; the condition on changed makes
	// the read-compute-write atomic.
	setDeleted = `UPDATE objects SET deleted = true, changed_ts = ?, changed_id = ? WHERE id = ?
IF changed_ts = ? AND changed_id = ?`
	setEnded = `UPDATE objects SET ended = true, changed_ts = ?, changed_id = ? WHERE id = ?
IF changed_ts = ? AND changed_id = ?`

	selectClassCount = `SELECT class_count FROM marks WHERE object = ? LIMIT 1`
)

func objectArgs(o *objects.Object) []any {
	return []any{o.ID, string(o.Type), o.Author, o.Target, o.Audience, o.Text, o.Media, o.TS, o.Until,
		o.EventID, o.Deleted, o.Ended, o.Changed.TS, o.Changed.ID}
}

// Put creates the object with INSERT ... IF NOT EXISTS. When an object or
// tombstone with its id exists, the transaction is not applied and returns
// the stored row, which Put returns.
func (os *ObjectStore) Put(ctx context.Context, o objects.Object) (objects.Object, error) {
	if err := ctx.Err(); err != nil {
		return o, err
	}
	if o.ID == "" {
		return o, wrap("put object", errBadID)
	}
	cur := make(map[string]any, 16)
	applied, err := os.s.sess.Query(insertObject, objectArgs(&o)...).MapScanCASContext(ctx, cur)
	if err != nil {
		return o, wrap(fmt.Sprintf("put object %q", o.ID), err)
	}
	if applied {
		return o, nil
	}
	return objectFromMap(o.ID, cur), nil
}

// objectFromMap decodes the current row returned by a CAS that was not
// applied.
func objectFromMap(id string, m map[string]any) objects.Object {
	o := objects.Object{ID: id}
	str := func(k string) string { v, _ := m[k].(string); return v }
	i64 := func(k string) int64 { v, _ := m[k].(int64); return v }
	bl := func(k string) bool { v, _ := m[k].(bool); return v }
	o.Type = schema.Type(str("otype"))
	o.Author = i64("author")
	o.Target = i64("target")
	o.Audience = str("audience")
	o.Text = str("body")
	if media, ok := m["media"].([]string); ok && len(media) > 0 {
		o.Media = media
	}
	o.TS = i64("ts")
	o.Until = i64("until")
	o.EventID = str("event_id")
	o.Deleted = bl("deleted")
	o.Ended = bl("ended")
	o.Changed = schema.Stamp{TS: i64("changed_ts"), ID: str("changed_id")}
	return o
}

// load reads one object at consistency c; found is false for an unknown id.
func (os *ObjectStore) load(ctx context.Context, id string, c gocql.Consistency) (objects.Object, bool, error) {
	o := objects.Object{ID: id}
	var typ string
	err := os.s.sess.Query(selectObject, id).Consistency(c).Idempotent(true).ScanContext(ctx,
		&typ, &o.Author, &o.Target, &o.Audience, &o.Text, &o.Media, &o.TS, &o.Until, &o.EventID,
		&o.Deleted, &o.Ended, &o.Changed.TS, &o.Changed.ID)
	if errors.Is(err, gocql.ErrNotFound) {
		return objects.Object{ID: id}, false, nil
	}
	if err != nil {
		return objects.Object{ID: id}, false, wrap(fmt.Sprintf("read object %q", id), err)
	}
	o.Type = schema.Type(typ)
	if len(o.Media) == 0 {
		o.Media = nil
	}
	return o, true, nil
}

// Get reads the objects with concurrent point reads (at most MaxInFlight
// at once), in order; a missing one is the zero Object with only ID set.
func (os *ObjectStore) Get(ctx context.Context, ids []string) ([]objects.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]objects.Object, len(ids))
	err := os.s.each(ctx, len(ids), func(i int) error {
		if ids[i] == "" {
			return nil
		}
		o, _, err := os.load(ctx, ids[i], os.s.cons)
		out[i] = o
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete marks the object deleted at stamp (a tombstone owned by author if
// unknown), keeping the later of the two Changed stamps.
func (os *ObjectStore) Delete(ctx context.Context, id string, author int64, at schema.Stamp) (objects.Object, error) {
	return os.change(ctx, id, author, at, true)
}

// End marks a broadcast ended at stamp (a tombstone owned by author if
// unknown), keeping the later of the two Changed stamps.
func (os *ObjectStore) End(ctx context.Context, id string, author int64, at schema.Stamp) (objects.Object, error) {
	return os.change(ctx, id, author, at, false)
}

// change turns on Deleted (del) or Ended and advances Changed to at if at
// is later: a tombstone INSERT IF NOT EXISTS for an unknown id, else an
// UPDATE conditioned on the Changed stamp it read; a lost race re-reads at
// LOCAL_SERIAL and tries again. Because Put's create is also a Paxos
// transaction, a Put racing with a Delete either creates the object first
// (and the Delete then flags it) or finds the tombstone.
func (os *ObjectStore) change(ctx context.Context, id string, author int64, at schema.Stamp, del bool) (objects.Object, error) {
	if err := ctx.Err(); err != nil {
		return objects.Object{ID: id}, err
	}
	if id == "" {
		return objects.Object{}, wrap("change object", errBadID)
	}
	s := os.s
	out := objects.Object{ID: id} // what a lost race or an ended ctx returns
	err := casLoop(ctx, func(attempt int) error {
		cur, found, err := os.load(ctx, id, s.readConsistency(attempt))
		if err != nil {
			out = cur
			return err
		}
		if !found {
			tomb := objects.Object{ID: id, Author: author, Deleted: del, Ended: !del, Changed: at}
			stored := make(map[string]any, 16)
			applied, err := s.sess.Query(insertObject, objectArgs(&tomb)...).MapScanCASContext(ctx, stored)
			if err != nil {
				out = cur
				return wrap(fmt.Sprintf("object %q: write tombstone", id), err)
			}
			if applied {
				out = tomb
				return nil
			}
			cur = objectFromMap(id, stored) // created meanwhile: flag it
		}
		next := cur
		changed := false
		if del && !next.Deleted {
			next.Deleted, changed = true, true
		}
		if !del && !next.Ended {
			next.Ended, changed = true, true
		}
		if at.After(next.Changed) {
			next.Changed, changed = at, true
		}
		if !changed {
			out = cur
			return nil
		}
		stmt := setEnded
		if del {
			stmt = setDeleted
		}
		applied, err := s.cas(ctx, []casStmt{{stmt, []any{next.Changed.TS, next.Changed.ID, id,
			cur.Changed.TS, cur.Changed.ID}}})
		if err != nil {
			out = cur
			return wrap(fmt.Sprintf("object %q: change", id), err)
		}
		if applied {
			out = next
			return nil
		}
		return errLostRace
	})
	if errors.Is(err, ErrContention) {
		return out, fmt.Errorf("%w: object %q", err, id)
	}
	return out, err
}

// SetMark applies a class or unclass: SetReaction's After.
func (os *ObjectStore) SetMark(ctx context.Context, m objects.Mark) (objects.Mark, error) {
	ch, err := os.SetReaction(ctx, m)
	return ch.After, err
}

// countStmt is the conditional update "SET count = n+delta WHERE key IF
// count = n" of a static count from the value read (nil: never set). The
// count never goes below 0.
func countStmt(stmt string, n *int64, delta int64, key ...any) casStmt {
	var old any // nil binds null: "IF count = null" holds for a count never set
	var v int64
	if n != nil {
		old, v = *n, *n
	}
	args := make([]any, 0, len(key)+2)
	args = append(args, max(v+delta, 0))
	args = append(args, key...)
	return casStmt{stmt, append(args, old)}
}

// ClassCounts reads each object's static class_count with concurrent point
// reads (at most MaxInFlight at once), in order; unknown objects count 0.
func (os *ObjectStore) ClassCounts(ctx context.Context, ids []string) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]int64, len(ids))
	err := os.s.each(ctx, len(ids), func(i int) error {
		if ids[i] == "" {
			return nil
		}
		var n *int64
		err := os.s.sess.Query(selectClassCount, ids[i]).Idempotent(true).ScanContext(ctx, &n)
		if errors.Is(err, gocql.ErrNotFound) {
			return nil
		}
		if err != nil {
			return wrap(fmt.Sprintf("class count %q", ids[i]), err)
		}
		if n != nil {
			out[i] = *n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
