package people

import (
	"context"

	"github.com/lenta-dev/lenta/schema"
)

// Profile is one user's profile as stored.
type Profile struct {
	User   int64
	Name   string // display name; "" when the user has no profile
	Avatar string // absolute https URL, or ""
	Lang   string // language tag, or ""
	Stamp  schema.Stamp
}

// Exists reports whether a profile was ever set.
func (p *Profile) Exists() bool { return !p.Stamp.IsZero() }

// FromEvent is the profile a (valid) profile event sets.
func FromEvent(ev *schema.Event) Profile {
	return Profile{User: ev.Actor, Name: ev.Name, Avatar: ev.Avatar, Lang: ev.Lang, Stamp: ev.Stamp()}
}

// Next is what a store keeps when p arrives over cur: p if its stamp is
// later (ok), else cur (ok false: nothing to write). A profile event sets
// the whole profile: an absent avatar or language clears it.
func Next(cur, p Profile) (Profile, bool) {
	if !p.Stamp.After(cur.Stamp) {
		return cur, false
	}
	return p, true
}

// Store keeps profiles. Implementations must be safe for concurrent use.
type Store interface {
	// SetProfile stores p unless the stored profile's stamp is later or
	// equal (Next), and returns the profile stored afterwards.
	SetProfile(ctx context.Context, p Profile) (Profile, error)
	// Profiles returns the profiles of users, in order, in one round of
	// reads; a user without one is the zero Profile with only User set.
	// Repeated ids are allowed.
	Profiles(ctx context.Context, users []int64) ([]Profile, error)
}

// Reader is what naming reads of a Store.
type Reader interface {
	Profiles(ctx context.Context, users []int64) ([]Profile, error)
}

// Person is a user as an item, aggregate or notification names them: the
// id, the display name and the avatar (omitted when unset).
type Person struct {
	ID     int64  `json:"id" msgpack:"id"`
	Name   string `json:"name" msgpack:"name"`
	Avatar string `json:"avatar,omitempty" msgpack:"avatar,omitempty"`
}
