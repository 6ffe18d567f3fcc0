package timeline

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"

	"github.com/lenta-dev/lenta/graph"
)

// Head is what a read of viewer's feed head starts from: the viewer's
// relations, read once, and Version.
type Head struct {
	Relations graph.Relations
	// Version fingerprints everything viewer's feed head is assembled
	// from: the relations (friends, follows, blocks), the large authors
	// whose outboxes are merged in, and the Store versions of the home
	// timeline and of those outboxes. While it is unchanged, Window
	// returns the same entries (not necessarily the same content or
	// counts: deletions, ended broadcasts and group audiences are object
	// state, which Hydrate re-checks on every read). A Version is only
	// comparable within one Reader (the hash is seeded per process).
	Version uint64
}

// Head reads viewer's relations and computes Version. It costs one
// relations read and one version read per source, not a read of the
// entries.
func (r *Reader) Head(ctx context.Context, viewer int64) (Head, error) {
	rel, err := r.relations(ctx, viewer)
	if err != nil {
		return Head{}, err
	}
	v, err := r.version(ctx, viewer, &rel)
	if err != nil {
		return Head{}, err
	}
	return Head{Relations: rel, Version: v}, nil
}

// version is Head's Version for the relations rel.
func (r *Reader) version(ctx context.Context, viewer int64, rel *graph.Relations) (uint64, error) {
	large, err := r.largeAuthors(ctx)
	if err != nil {
		return 0, err
	}
	var h maphash.Hash
	h.SetSeed(r.seed)
	var b [8]byte
	putInts := func(tag byte, xs []int64) {
		_ = h.WriteByte(tag)
		_, _ = h.Write(binary.LittleEndian.AppendUint64(b[:0], uint64(len(xs))))
		for _, x := range xs {
			_, _ = h.Write(binary.LittleEndian.AppendUint64(b[:0], uint64(x)))
		}
	}
	putInts('F', rel.Friends)
	putInts('W', rel.Following)
	putInts('B', rel.Blocked)
	source := func(ns NS, user int64) error {
		v, err := r.store.Version(ctx, ns, user)
		if err != nil {
			return fmt.Errorf("timeline version %d/%d: %w", ns, user, err)
		}
		_ = h.WriteByte(byte(ns))
		_, _ = h.Write(binary.LittleEndian.AppendUint64(b[:0], uint64(user)))
		_, _ = h.Write(binary.LittleEndian.AppendUint64(b[:0], v))
		return nil
	}
	if err := source(Home, viewer); err != nil {
		return 0, err
	}
	// The same sources page merges, in the same order.
	for _, l := range large {
		if l != viewer && (rel.IsFriend(l) || rel.Follows(l)) && !rel.IsBlocked(l) {
			if err := source(Outbox, l); err != nil {
				return 0, err
			}
		}
	}
	return h.Sum64(), nil
}
