package cassandrastore

// Reactions: the marks row per (object, actor) is the one reaction slot;
// class_count (Class!) and the static react_counts map (other kinds) move
// with it in one conditional single-partition batch; my_reactions indexes
// each user's on reactions for the feed's "did I react?" (011_reactions.cql).

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

const (
	selectReaction = `SELECT class_count, react_counts, react_version, is_on, owner, stamp_ts, stamp_id,
since_ts, since_id, kind FROM marks WHERE object = ? AND actor = ?`
	selectReactStatics = `SELECT class_count, react_counts, react_version FROM marks WHERE object = ? LIMIT 1`
	selectCounts       = `SELECT class_count, react_counts FROM marks WHERE object = ? LIMIT 1`
	insertReaction     = `INSERT INTO marks (object, actor, is_on, owner, stamp_ts, stamp_id, since_ts, since_id, kind)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`
	updateReaction = `UPDATE marks SET is_on = ?, owner = ?, stamp_ts = ?, stamp_id = ?, since_ts = ?, since_id = ?,
kind = ? WHERE object = ? AND actor = ? IF stamp_ts = ? AND stamp_id = ?`
	putMyReaction    = `INSERT INTO my_reactions (uid, object, kind) VALUES (?, ?, ?) USING TIMESTAMP ?`
	deleteMyReaction = `DELETE FROM my_reactions USING TIMESTAMP ? WHERE uid = ? AND object = ?`
	selectMyReaction = `SELECT object, kind FROM my_reactions WHERE uid = ? AND object IN ?`
)

// reactStatics are a marks partition's static counts as read.
type reactStatics struct {
	class   *int64
	counts  map[string]int64
	version *int64
}

// SetReaction applies a reaction (On, with Kind) or its removal unless the
// stored mark's stamp is later or equal. When the mark's on state or kind
// changes, the row and the counts change in one conditional batch ("IF
// stamp = the one read" on the row, "IF react_version = v AND class_count
// = n" on the statics); a lost race re-reads at LOCAL_SERIAL after a
// jittered pause. Then the viewer's my_reactions row is set to the mark as
// stored, also when nothing changed (a re-delivery repairs a crash between
// the two writes).
func (os *ObjectStore) SetReaction(ctx context.Context, m objects.Mark) (objects.Change, error) {
	if err := ctx.Err(); err != nil {
		return objects.Change{Before: m, After: m}, err
	}
	if m.Object == "" {
		return objects.Change{Before: m, After: m}, wrap("set reaction", errBadID)
	}
	s := os.s
	out := objects.Change{Before: m, After: m} // what a lost race or an ended ctx returns
	err := casLoop(ctx, func(attempt int) error {
		c := s.readConsistency(attempt)
		cur := objects.Mark{Object: m.Object, Actor: m.Actor}
		var st reactStatics
		var kind *string
		err := s.sess.Query(selectReaction, m.Object, m.Actor).Consistency(c).Idempotent(true).ScanContext(ctx,
			&st.class, &st.counts, &st.version, &cur.On, &cur.Owner, &cur.Stamp.TS, &cur.Stamp.ID,
			&cur.Since.TS, &cur.Since.ID, &kind)
		found := err == nil
		if err != nil && !errors.Is(err, gocql.ErrNotFound) {
			out = objects.Change{Before: cur, After: cur}
			return wrap(fmt.Sprintf("read mark %q/%d", m.Object, m.Actor), err)
		}
		if kind != nil {
			cur.Kind = objects.MarkKind(*kind) // "" or "class" (never written) both read as Class!
		}
		next, ok := objects.NextMark(cur, found, m)
		if !ok {
			out = objects.Change{Before: cur, After: cur}
			return nil // the stored mark is as new or newer
		}
		var row casStmt
		if found {
			row = casStmt{updateReaction, []any{next.On, next.Owner, next.Stamp.TS, next.Stamp.ID,
				next.Since.TS, next.Since.ID, next.Kind, m.Object, m.Actor, cur.Stamp.TS, cur.Stamp.ID}}
		} else {
			row = casStmt{insertReaction, []any{m.Object, m.Actor, next.On, next.Owner, next.Stamp.TS,
				next.Stamp.ID, next.Since.TS, next.Since.ID, next.Kind}}
		}
		batch := []casStmt{row}
		from, fromOK, to, toOK := objects.Moves(&cur, &next)
		if fromOK || toOK {
			if !found {
				// The row read found no row, so it could not see the
				// partition's statics.
				err := s.sess.Query(selectReactStatics, m.Object).Consistency(c).Idempotent(true).ScanContext(ctx,
					&st.class, &st.counts, &st.version)
				if err != nil && !errors.Is(err, gocql.ErrNotFound) {
					out = objects.Change{Before: cur, After: cur}
					return wrap(fmt.Sprintf("read reaction counts %q", m.Object), err)
				}
			}
			batch = append(batch, countsStmt(&st, m.Object, from, fromOK, to, toOK))
		}
		applied, err := s.cas(ctx, batch)
		if err != nil {
			out = objects.Change{Before: cur, After: cur}
			return wrap(fmt.Sprintf("set reaction %q/%d", m.Object, m.Actor), err)
		}
		if applied {
			out = objects.Change{Before: cur, After: next, Applied: true}
			return nil
		}
		return errLostRace
	})
	if errors.Is(err, ErrContention) {
		return out, fmt.Errorf("%w: mark %q/%d", err, m.Object, m.Actor)
	}
	if err != nil {
		return out, err
	}
	if err := os.indexMine(ctx, &out.After); err != nil {
		return out, err
	}
	return out, nil
}

// countsStmt is the conditional update of the statics for one move: the
// kind left loses one, the kind taken gains one ("" is Class!, counted in
// class_count), react_version advances; conditioned on both values read
// (null binds null: "IF x = null" holds for a static never set).
func countsStmt(st *reactStatics, object, from string, fromOK bool, to string, toOK bool) casStmt {
	var class int64
	if st.class != nil {
		class = *st.class
	}
	var ver int64
	if st.version != nil {
		ver = *st.version
	}
	stmt := "UPDATE marks SET class_count = ?, react_version = ?"
	args := []any{0, ver + 1} // class_count filled below
	add := func(kind string, delta int64) {
		if kind == "" {
			class = max(class+delta, 0)
			return
		}
		stmt += ", react_counts[?] = ?"
		args = append(args, kind, max(st.counts[kind]+delta, 0))
	}
	if fromOK {
		add(from, -1)
	}
	if toOK {
		add(to, 1)
	}
	args[0] = class
	var oldClass, oldVer any // nil binds null
	if st.class != nil {
		oldClass = *st.class
	}
	if st.version != nil {
		oldVer = *st.version
	}
	stmt += " WHERE object = ? IF class_count = ? AND react_version = ?"
	return casStmt{stmt, append(args, object, oldClass, oldVer)}
}

// writeTime is the cell timestamp (µs) of a my_reactions write for a mark
// stamp: later stamps write later cells. Two stamps of one millisecond
// are ordered by a hash of their ids, not by the ids: the mark, not this
// index, is the truth, and the next change of the mark rewrites the row.
func writeTime(st schema.Stamp) int64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(st.ID))
	return st.TS*1000 + int64(h.Sum32()%1000)
}

// indexMine sets the actor's my_reactions row to the mark: its kind while
// on, no row while off.
func (os *ObjectStore) indexMine(ctx context.Context, m *objects.Mark) error {
	if m.Stamp.IsZero() {
		return nil
	}
	var q *gocql.Query
	if m.On {
		q = os.s.sess.Query(putMyReaction, m.Actor, m.Object, m.KindName(), writeTime(m.Stamp))
	} else {
		q = os.s.sess.Query(deleteMyReaction, writeTime(m.Stamp), m.Actor, m.Object)
	}
	if err := q.Idempotent(true).ExecContext(ctx); err != nil {
		return wrap(fmt.Sprintf("index my reaction %q/%d", m.Object, m.Actor), err)
	}
	return nil
}

// ReactionCounts reads each object's static counts with concurrent point
// reads (at most MaxInFlight at once), in order; unknown objects count 0.
func (os *ObjectStore) ReactionCounts(ctx context.Context, ids []string) ([]objects.Counts, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]objects.Counts, len(ids))
	err := os.s.each(ctx, len(ids), func(i int) error {
		if ids[i] == "" {
			return nil
		}
		var n *int64
		var m map[string]int64
		err := os.s.sess.Query(selectCounts, ids[i]).Idempotent(true).ScanContext(ctx, &n, &m)
		if errors.Is(err, gocql.ErrNotFound) {
			return nil
		}
		if err != nil {
			return wrap(fmt.Sprintf("reaction counts %q", ids[i]), err)
		}
		if n != nil {
			out[i].Class = *n
		}
		out[i].Other = otherCounts(m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// otherCounts is the counts above zero of a react_counts map, by kind.
func otherCounts(m map[string]int64) []objects.KindCount {
	var out []objects.KindCount
	for k, n := range m {
		if n > 0 {
			out = append(out, objects.KindCount{Kind: objects.InternKind([]byte(k)), N: n})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Kind < out[b].Kind })
	return out
}

// MyReactions reads viewer's reactions on the objects in one
// single-partition query of my_reactions.
func (os *ObjectStore) MyReactions(ctx context.Context, viewer int64, ids []string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]string, len(ids))
	want := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" {
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		return out, nil
	}
	iter := os.s.sess.Query(selectMyReaction, viewer, want).Idempotent(true).IterContext(ctx)
	var object, kind string
	for iter.Scan(&object, &kind) {
		for i, id := range ids {
			if id == object {
				out[i] = objects.InternKind([]byte(kind))
			}
		}
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(fmt.Sprintf("my reactions of %d", viewer), err)
	}
	return out, nil
}

// dataSteps fill what a schema file's new tables need from the data
// written before it, by version; Migrate runs one right after its file's
// statements.
var dataSteps = map[int]func(ctx context.Context, sess *gocql.Session) error{
	11: backfillMyReactions,
}

const selectAllMarks = `SELECT object, actor, is_on, kind, stamp_ts, stamp_id FROM marks`

// backfillMyReactions indexes every On mark written before my_reactions
// existed (011_reactions.cql): one scan of marks, paged, with the same
// write timestamps SetReaction uses, so a concurrent change wins.
func backfillMyReactions(ctx context.Context, sess *gocql.Session) error {
	iter := sess.Query(selectAllMarks).PageSize(1000).IterContext(ctx)
	var (
		object string
		actor  int64
		on     bool
		kind   *string
		stamp  schema.Stamp
	)
	for iter.Scan(&object, &actor, &on, &kind, &stamp.TS, &stamp.ID) {
		if !on || actor == 0 {
			continue // off, or a partition holding only its statics
		}
		m := objects.Mark{Object: object, Actor: actor, On: true, Stamp: stamp}
		if kind != nil {
			m.Kind = objects.MarkKind(*kind)
		}
		err := sess.Query(putMyReaction, m.Actor, m.Object, m.KindName(), writeTime(m.Stamp)).Idempotent(true).ExecContext(ctx)
		if err != nil {
			_ = iter.Close()
			return fmt.Errorf("backfill my_reactions: %w", err)
		}
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("backfill my_reactions: scan marks: %w", err)
	}
	return nil
}
