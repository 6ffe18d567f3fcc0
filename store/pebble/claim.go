package pebblestore

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/notify"
)

// Push claims (notify.Claims), one per (user, group, window) pushed, with
// an index by expiry so that expired claims are dropped:
//
//	0x89 pushClaim    user i64, window i64, group(tail)           -> v, until ms, owner(tail)
//	0x8A pushClaimAge until i64, user i64, window i64, group(tail) -> (empty)
//
// The embedded store has no TTL: each Claim also drops up to
// claimPurgeBatch expired claims, so the table holds about the claims of
// the pushes still within their deadline, without a background goroutine.
const (
	tPushClaim    byte = 0x89
	tPushClaimAge byte = 0x8A
)

// claimPurgeBatch bounds the expired claims one Claim drops.
const claimPurgeBatch = 8

var _ notify.Claims = (*NotifyStore)(nil)

func pushClaimKey(b []byte, user, window int64, group string) []byte {
	return append(appendI64(appendI64(append(b, tPushClaim), user), window), group...)
}

func pushClaimAgeKey(b []byte, until, user, window int64, group string) []byte {
	return append(appendI64(appendI64(appendI64(append(b, tPushClaimAge), until), user), window), group...)
}

// claimOf reads a claim: its owner and expiry (unix ms); found is false
// when there is none.
func (n *NotifyStore) claimOf(k []byte) (owner string, until int64, found bool, err error) {
	v, found, err := n.s.getCopy(k, nil)
	if err != nil || !found {
		return "", 0, false, err
	}
	r := reader{b: v}
	if err := r.version("push claim"); err != nil {
		return "", 0, false, err
	}
	until = r.varint()
	owner = string(r.tail())
	if r.bad {
		return "", 0, false, corrupt("push claim")
	}
	return owner, until, true, nil
}

// Claim implements notify.Claims: read and write under the key's stripe
// lock, so two callers never both win; synced, so a claim outlives a crash
// like the push it stands for.
func (n *NotifyStore) Claim(ctx context.Context, user int64, group string, window int64, owner string, until int64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := checkGroup(group); err != nil {
		return false, err
	}
	if owner == "" {
		return false, fmt.Errorf("pebblestore: claim owner: %w", errBadID)
	}
	now := time.Now().UnixMilli()
	k := pushClaimKey(nil, user, window, group)
	won, err := func() (bool, error) {
		idx := n.s.locks.lock([]int{n.s.locks.of(k)})
		defer n.s.locks.unlock(idx)
		cur, exp, found, err := n.claimOf(k)
		if err != nil {
			return false, fmt.Errorf("pebblestore: read claim: %w", err)
		}
		if found && exp > now {
			return cur == owner, nil
		}
		v := binary.AppendVarint([]byte{valueV1}, until)
		v = append(v, owner...)
		err = n.s.write(pebble.Sync, func(b *pebble.Batch) error {
			if found { // expired: its age row goes with it
				if err := b.Delete(pushClaimAgeKey(nil, exp, user, window, group), nil); err != nil {
					return err
				}
			}
			if err := b.Set(pushClaimAgeKey(nil, until, user, window, group), nil, nil); err != nil {
				return err
			}
			return b.Set(k, v, nil)
		})
		if err != nil {
			return false, fmt.Errorf("pebblestore: write claim: %w", err)
		}
		return true, nil
	}()
	if err != nil {
		return false, err
	}
	if err := n.purgeClaims(ctx, now); err != nil {
		return false, err
	}
	return won, nil
}

// purgeClaims drops up to claimPurgeBatch claims that expired before now.
func (n *NotifyStore) purgeClaims(ctx context.Context, now int64) error {
	lo := []byte{tPushClaimAge}
	hi := appendI64([]byte{tPushClaimAge}, now)
	var ages [][]byte
	err := n.s.scan(ctx, lo, hi, func(k, _ []byte) bool {
		ages = append(ages, slices.Clone(k))
		return len(ages) < claimPurgeBatch
	})
	if err != nil {
		return fmt.Errorf("pebblestore: read expired claims: %w", err)
	}
	for _, a := range ages {
		if len(a) < 1+24 {
			continue
		}
		until, user, window := decodeI64(a[1:]), decodeI64(a[9:]), decodeI64(a[17:])
		k := pushClaimKey(nil, user, window, string(a[25:]))
		err := func() error {
			idx := n.s.locks.lock([]int{n.s.locks.of(k)})
			defer n.s.locks.unlock(idx)
			_, exp, found, err := n.claimOf(k)
			if err != nil {
				return err
			}
			return n.s.write(n.s.wo, func(b *pebble.Batch) error {
				if found && exp == until { // not re-claimed since
					if err := b.Delete(k, nil); err != nil {
						return err
					}
				}
				return b.Delete(a, nil)
			})
		}()
		if err != nil {
			return fmt.Errorf("pebblestore: drop expired claim: %w", err)
		}
	}
	return nil
}
