package pebblestore

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync/atomic"

	"github.com/lenta-dev/lenta/people"
)

// Profile table (key -> value), beside those listed in keys.go:
//
//	0xA0 profile  user i64 -> v, stamp.ts, stamp.id str, name str, avatar str, lang(tail)
//
// Invariant: a profile row holds the profile of the latest-stamped
// profile event applied for its user (people.Next, under the row's lock
// stripe); no row means no profile.
const tProfile byte = 0xA0

// profilesState is the store's may-exist shortcut for profiles: most
// networks (and every feed before the first profile event) have none, and
// a page's lookup then costs no iterator. 0: not known yet; 1: the table
// was empty when last looked at and nothing was written since; 2: a
// profile exists. SetProfile sets 2 after its write; a reader that found
// the table empty sets 1 only if nothing set 2 meanwhile (CompareAndSwap
// from 0), so a lookup never misses a written profile.
type profilesState struct{ v atomic.Int32 }

const (
	profilesUnknown int32 = iota
	profilesNone
	profilesSome
)

// mayExist reports whether any profile may be stored.
func (ps *ProfileStore) mayExist() (bool, error) {
	st := &ps.s.profiles.v
	switch st.Load() {
	case profilesNone:
		return false, nil
	case profilesSome:
		return true, nil
	}
	found, err := ps.s.anyKey([]byte{tProfile}, []byte{tProfile + 1})
	if err != nil {
		return true, err
	}
	if found {
		st.Store(profilesSome)
		return true, nil
	}
	if st.CompareAndSwap(profilesUnknown, profilesNone) {
		return false, nil
	}
	return st.Load() == profilesSome, nil
}

func profileKey(b []byte, user int64) []byte {
	b = append(b, tProfile)
	return appendI64(b, user)
}

func appendProfileVal(b []byte, p *people.Profile) []byte {
	b = append(b, valueV1)
	b = binary.AppendVarint(b, p.Stamp.TS)
	b = appendStr(b, p.Stamp.ID)
	b = appendStr(b, p.Name)
	b = appendStr(b, p.Avatar)
	return append(b, p.Lang...)
}

// decodeProfileVal decodes v into p; with base set (v's bytes as a
// string) its strings are cut from base instead of copied.
func decodeProfileVal(v []byte, base string, p *people.Profile) error {
	r := reader{b: v, base: base}
	if err := r.version("profile"); err != nil {
		return err
	}
	p.Stamp.TS = r.varint()
	p.Stamp.ID = r.str()
	p.Name = r.str()
	p.Avatar = r.str()
	if r.bad {
		return corrupt("profile")
	}
	if base != "" {
		p.Lang = base[len(base)-len(r.b):]
	} else {
		p.Lang = string(r.tail())
	}
	return nil
}

// ProfileStore implements people.Store.
type ProfileStore struct{ s *Store }

var _ people.Store = (*ProfileStore)(nil)

// Profiles is the people.Store view.
func (s *Store) Profiles() *ProfileStore { return &ProfileStore{s: s} }

// SetProfile stores p unless the stored profile is as new or newer, under
// the row's lock stripe, and returns the profile stored afterwards.
func (ps *ProfileStore) SetProfile(ctx context.Context, p people.Profile) (people.Profile, error) {
	if err := ctx.Err(); err != nil {
		return p, err
	}
	if p.User <= 0 || p.Stamp.IsZero() {
		return p, fmt.Errorf("pebblestore: set profile: user %d with stamp %v", p.User, p.Stamp)
	}
	key := profileKey(nil, p.User)
	i := ps.s.locks.of(key)
	ps.s.locks[i].Lock()
	defer ps.s.locks[i].Unlock()
	cur := people.Profile{User: p.User}
	v, found, err := ps.s.getCopy(key, nil)
	if err != nil {
		return cur, err
	}
	if found {
		if err := decodeProfileVal(v, "", &cur); err != nil {
			return cur, fmt.Errorf("pebblestore: profile of %d: %w", p.User, err)
		}
	}
	next, ok := people.Next(cur, p)
	if !ok {
		return cur, nil
	}
	if err := ps.s.db.Set(key, appendProfileVal(nil, &next), ps.s.wo); err != nil {
		return cur, fmt.Errorf("pebblestore: set profile of %d: %w", p.User, err)
	}
	ps.s.profiles.v.Store(profilesSome)
	return next, nil
}

// Profiles reads the users' profiles through one iterator; their strings
// are cut from one string of all the values read.
func (ps *ProfileStore) Profiles(ctx context.Context, users []int64) ([]people.Profile, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]people.Profile, len(users))
	for i, u := range users {
		out[i].User = u
	}
	if len(users) == 0 {
		return out, nil
	}
	if some, err := ps.mayExist(); err != nil || !some {
		return out, err
	}
	err := ps.s.multiGetArena(ctx, len(users), func(b []byte, i int) []byte { return profileKey(b, users[i]) },
		func(i int, v []byte, str string) error {
			if err := decodeProfileVal(v, str, &out[i]); err != nil {
				return fmt.Errorf("pebblestore: profile of %d: %w", users[i], err)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}
