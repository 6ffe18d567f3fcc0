package timeline

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
)

// Version fingerprints everything viewer's feed head is assembled from:
// the viewer's relations (friends, follows, blocks), the large authors
// whose outboxes are merged in, and the Store versions of the home
// timeline and of those outboxes. While it is unchanged, Window returns
// the same entries (not necessarily the same content or counts: deletions,
// ended broadcasts and group audiences are object state, which Hydrate
// re-checks on every read). It costs one relations read and one version
// read per source, not a read of the entries.
//
// A fingerprint is only comparable within one Reader (the hash is seeded
// per process).
func (r *Reader) Version(ctx context.Context, viewer int64) (uint64, error) {
	rel, err := r.graph.Relations(ctx, viewer)
	if err != nil {
		return 0, fmt.Errorf("relations of %d: %w", viewer, err)
	}
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
