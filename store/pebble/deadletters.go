package pebblestore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/deadletter"
	"github.com/lenta-dev/lenta/fanout"
)

// DeadLetterStore implements fanout.DeadLetters and deadletter.Store:
// append-only keys ordered by (ts, seq), always written with sync
// (nothing else holds them). A letter's Source is "<ts>-<seq>" of its key.
type DeadLetterStore struct{ s *Store }

var (
	_ fanout.DeadLetters = (*DeadLetterStore)(nil)
	_ deadletter.Store   = (*DeadLetterStore)(nil)
)

// deadV2 is the dead-letter value layout with a reason code and flags:
// version, ts, event id, reason, code, flags, raw. valueV1 letters (no
// code, no flags) are still read.
const deadV2 = 2

const deadReplayed = 1 // flags bit: put back on the event log

// Put appends letters; a letter without TS is stamped with the time now.
func (d *DeadLetterStore) Put(ctx context.Context, letters []fanout.DeadLetter) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(letters) == 0 {
		return nil
	}
	s := d.s
	s.deadMu.Lock()
	seq := s.deadSeq
	s.deadSeq += uint64(len(letters))
	s.deadMu.Unlock()
	now := time.Now().UnixMilli()
	b := s.db.NewBatch()
	var k, v []byte
	for i := range letters {
		l := letters[i]
		if l.TS == 0 {
			l.TS = now
		}
		l.Replayed = false
		k = deadKey(k[:0], l.TS, seq+uint64(i))
		v = encodeDead(v[:0], &l)
		if err := b.Set(k, v, nil); err != nil {
			_ = b.Close()
			return fmt.Errorf("pebblestore: dead letter: %w", err)
		}
	}
	return commit(b, pebble.Sync)
}

func encodeDead(v []byte, l *fanout.DeadLetter) []byte {
	v = append(v, deadV2)
	v = binary.AppendVarint(v, l.TS)
	v = appendStr(v, l.EventID)
	v = appendStr(v, l.Reason)
	v = appendStr(v, l.Code)
	var flags byte
	if l.Replayed {
		flags |= deadReplayed
	}
	v = append(v, flags)
	return append(v, l.Raw...)
}

func decodeDead(k, v []byte) (fanout.DeadLetter, error) {
	r := reader{b: v}
	ver := r.u8()
	if r.bad || (ver != valueV1 && ver != deadV2) {
		return fanout.DeadLetter{}, corrupt("dead letter: unknown version")
	}
	l := fanout.DeadLetter{TS: r.varint(), EventID: r.str(), Reason: r.str()}
	if ver == deadV2 {
		l.Code = r.str()
		l.Replayed = r.u8()&deadReplayed != 0
	}
	if r.bad || len(k) != 1+8+8 {
		return fanout.DeadLetter{}, corrupt("dead letter")
	}
	l.Raw = bytes.Clone(r.tail())
	l.Source = strconv.FormatInt(decodeI64(k[1:9]), 10) + "-" + strconv.FormatUint(binary.BigEndian.Uint64(k[9:]), 10)
	return l, nil
}

// List implements deadletter.Store: every dead letter, newest first.
func (d *DeadLetterStore) List(ctx context.Context) ([]fanout.DeadLetter, error) {
	return d.s.ListDeadLetters(ctx, 0)
}

// ListDeadLetters returns up to limit dead letters, newest first (limit <=
// 0: all of them).
func (s *Store) ListDeadLetters(ctx context.Context, limit int) (out []fanout.DeadLetter, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: []byte{tDead}, UpperBound: []byte{tDead + 1}})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: list dead letters: %w", err)
	}
	defer func() {
		if cerr := it.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("pebblestore: list dead letters: %w", cerr)
		}
	}()
	for ok := it.Last(); ok && (limit <= 0 || len(out) < limit); ok = it.Prev() {
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, fmt.Errorf("pebblestore: list dead letters: %w", err)
		}
		l, err := decodeDead(it.Key(), v)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("pebblestore: list dead letters: %w", err)
	}
	return out, nil
}

// errBadSource is returned for a Source that names no dead-letter key.
var errBadSource = errors.New("pebblestore: not a dead-letter source")

func parseDeadSource(src string) ([]byte, error) {
	a, b, ok := strings.Cut(src, "-")
	if !ok {
		return nil, fmt.Errorf("%w: %q", errBadSource, src)
	}
	ts, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%w: %q", errBadSource, src)
	}
	return deadKey(nil, ts, seq), nil
}

// MarkReplayed implements deadletter.Store: it flags the letters of the
// given sources as replayed (a source that is gone is ignored). Marking
// twice changes nothing.
func (d *DeadLetterStore) MarkReplayed(ctx context.Context, sources []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := d.s
	// One writer at a time, so two marks of one letter do not race on
	// the read-modify-write of its value.
	s.deadMu.Lock()
	defer s.deadMu.Unlock()
	b := s.db.NewBatch()
	var v []byte
	for _, src := range sources {
		k, err := parseDeadSource(src)
		if err != nil {
			_ = b.Close()
			return err
		}
		var found bool
		v, found, err = s.getCopy(k, v[:0])
		if err != nil {
			_ = b.Close()
			return fmt.Errorf("pebblestore: mark replayed: %w", err)
		}
		if !found {
			continue
		}
		l, err := decodeDead(k, v)
		if err != nil {
			_ = b.Close()
			return err
		}
		if l.Replayed {
			continue
		}
		l.Replayed = true
		if err := b.Set(k, encodeDead(nil, &l), nil); err != nil {
			_ = b.Close()
			return fmt.Errorf("pebblestore: mark replayed: %w", err)
		}
	}
	return commit(b, pebble.Sync)
}
