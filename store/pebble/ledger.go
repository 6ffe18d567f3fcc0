package pebblestore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/fanout"
)

// Ledger implements fanout.Ledger: one key per applied event id holding
// the time it was recorded and the event's content digest (ts only in
// rows from before digests), and an age index (ts, id) so that PurgeLedger
// drops old entries with a range scan of the index.
type Ledger struct{ s *Store }

var _ fanout.Ledger = (*Ledger)(nil)

// Seen reports, for each id, whether it was recorded (and not purged).
func (l *Ledger) Seen(ctx context.Context, ids []string) ([]fanout.LedgerMark, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]fanout.LedgerMark, len(ids))
	kb := l.s.getBuf()
	defer l.s.putBuf(kb)
	var vb [16]byte
	for i, id := range ids {
		*kb = ledgerKey((*kb)[:0], id)
		v, found, err := l.s.getCopy(*kb, vb[:0])
		if err != nil {
			return nil, fmt.Errorf("pebblestore: ledger seen: %w", err)
		}
		out[i].Found = found
		if found && len(v) >= 16 {
			out[i].Digest = binary.BigEndian.Uint64(v[8:16])
		}
	}
	return out, nil
}

// Record marks ids as applied at ts (unix ms) with their digests.
func (l *Ledger) Record(ctx context.Context, ids []string, digests []uint64, ts int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	kb := l.s.getBuf()
	defer l.s.putBuf(kb)
	var vb [16]byte
	b := l.s.db.NewBatch()
	for i, id := range ids {
		v := binary.BigEndian.AppendUint64(vb[:0], uint64(ts))
		if i < len(digests) && digests[i] != 0 {
			v = binary.BigEndian.AppendUint64(v, digests[i])
		}
		*kb = ledgerKey((*kb)[:0], id)
		err := b.Set(*kb, v, nil)
		if err == nil {
			*kb = ledgerAgeKey((*kb)[:0], ts, id)
			err = b.Set(*kb, nil, nil)
		}
		if err != nil {
			_ = b.Close()
			return fmt.Errorf("pebblestore: ledger record: %w", err)
		}
	}
	return commit(b, l.s.wo)
}

// purgeChunk bounds one purge batch.
const purgeChunk = 4096

// PurgeLedger forgets every ledger entry recorded before olderThan (unix
// ms) and returns how many ids it forgot. An id recorded again later is
// kept. A Record racing with the purge of the same id may be forgotten:
// the ledger is only a shortcut, so that costs one idempotent re-apply.
func (s *Store) PurgeLedger(ctx context.Context, olderThan int64) (int, error) {
	lower := []byte{tLedgerAge}
	upper := appendI64([]byte{tLedgerAge}, olderThan)
	purged := 0
	for {
		if err := ctx.Err(); err != nil {
			return purged, err
		}
		n, next, err := s.purgeSome(ctx, lower, upper)
		purged += n
		if err != nil || next == nil {
			return purged, err
		}
		lower = next
	}
}

// purgeSome purges up to purgeChunk age-index entries from lower; next is
// where to continue, nil when done.
func (s *Store) purgeSome(ctx context.Context, lower, upper []byte) (n int, next []byte, err error) {
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, nil, fmt.Errorf("pebblestore: purge ledger: %w", err)
	}
	b := s.db.NewBatch()
	var kb, vb []byte
	count := 0
	ok := it.First()
	for ; ok && count < purgeChunk; ok = it.Next() {
		count++
		k := it.Key()
		id := k[1+8:]
		kb = append(append(kb[:0], tLedger), id...)
		var found bool
		vb, found, err = s.getCopy(kb, vb[:0])
		if err != nil {
			break
		}
		if found && len(vb) >= 8 && int64(binary.BigEndian.Uint64(vb)) >= decodeI64(upper[1:]) {
			continue // recorded again since
		}
		if found {
			n++
			if err = b.Delete(kb, nil); err != nil {
				break
			}
		}
	}
	if ok && err == nil {
		next = bytes.Clone(it.Key())
	}
	if err == nil {
		err = it.Error()
	}
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err == nil && count > 0 {
		end := upper
		if next != nil {
			end = next
		}
		err = b.DeleteRange(lower, end, nil)
	}
	if err != nil {
		_ = b.Close()
		return 0, nil, fmt.Errorf("pebblestore: purge ledger: %w", err)
	}
	if err := commit(b, s.wo); err != nil {
		return 0, nil, err
	}
	return n, next, nil
}
