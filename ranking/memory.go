package ranking

import (
	"cmp"
	"context"
	"slices"
	"sync"
)

// MemoryStore is an in-memory AffinityStore and SnapshotStore, for tests
// and the offline evaluation. It is safe for concurrent use; it keeps
// everything in one process, so a real deployment uses a store adapter.
type MemoryStore struct {
	mu    sync.Mutex
	pairs map[[2]int64][]Interaction // newest first, at most MaxPerPair
	snaps map[memSnapKey]memSnap
}

type memSnapKey struct {
	viewer int64
	id     uint64
}

type memSnap struct {
	data    []byte
	expires int64
}

// NewMemoryStore makes an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{pairs: make(map[[2]int64][]Interaction), snaps: make(map[memSnapKey]memSnap)}
}

var (
	_ AffinityStore = (*MemoryStore)(nil)
	_ SnapshotStore = (*MemoryStore)(nil)
)

// AddInteractions implements AffinityStore.
func (m *MemoryStore) AddInteractions(ctx context.Context, in []Interaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range in {
		k := [2]int64{x.Viewer, x.Author}
		list := m.pairs[k]
		i := slices.IndexFunc(list, func(y Interaction) bool { return y.EventID == x.EventID })
		if i >= 0 {
			list[i] = x
		} else {
			list = append(list, x)
		}
		slices.SortFunc(list, func(a, b Interaction) int {
			if c := cmp.Compare(b.TS, a.TS); c != 0 {
				return c
			}
			return cmp.Compare(b.EventID, a.EventID)
		})
		if len(list) > MaxPerPair {
			list = list[:MaxPerPair]
		}
		m.pairs[k] = list
	}
	return nil
}

// Interactions implements AffinityStore.
func (m *MemoryStore) Interactions(ctx context.Context, viewer int64, authors []int64, since int64,
	fn func(i int, ts int64, weight float64)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, a := range authors {
		for _, x := range m.pairs[[2]int64{viewer, a}] {
			if x.TS >= since {
				fn(i, x.TS, x.Weight)
			}
		}
	}
	return nil
}

// PutSnapshot implements SnapshotStore.
func (m *MemoryStore) PutSnapshot(ctx context.Context, viewer int64, id uint64, data []byte, expires int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.snaps[memSnapKey{viewer, id}] = memSnap{data: slices.Clone(data), expires: expires}
	return nil
}

// Snapshot implements SnapshotStore.
func (m *MemoryStore) Snapshot(ctx context.Context, viewer int64, id uint64, now int64, dst []byte) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return dst, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.snaps[memSnapKey{viewer, id}]
	if !ok || now >= s.expires {
		delete(m.snaps, memSnapKey{viewer, id})
		return dst, false, nil
	}
	return append(dst, s.data...), true, nil
}
