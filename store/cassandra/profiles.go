package cassandrastore

import (
	"context"
	"errors"
	"fmt"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/people"
)

// Profile statements (schema/cql/009_profiles.cql).
const (
	selectProfile  = `SELECT name, avatar, lang, stamp_ts, stamp_id FROM profiles WHERE uid = ?`
	selectProfiles = `SELECT uid, name, avatar, lang, stamp_ts, stamp_id FROM profiles WHERE uid IN ?`
	insertProfile  = `INSERT INTO profiles (uid, name, avatar, lang, stamp_ts, stamp_id) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS`
	updateProfile  = `UPDATE profiles SET name = ?, avatar = ?, lang = ?, stamp_ts = ?, stamp_id = ? WHERE uid = ? IF stamp_ts = ? AND stamp_id = ?`
)

// ProfileStore implements people.Store.
type ProfileStore struct{ s *Store }

var _ people.Store = (*ProfileStore)(nil)

// Profiles is the people.Store view.
func (s *Store) Profiles() *ProfileStore { return &ProfileStore{s: s} }

// loadProfile reads one user's profile; found is false without one.
func (ps *ProfileStore) loadProfile(ctx context.Context, user int64, c gocql.Consistency) (people.Profile, bool, error) {
	p := people.Profile{User: user}
	err := ps.s.sess.Query(selectProfile, user).Consistency(c).Idempotent(true).ScanContext(ctx,
		&p.Name, &p.Avatar, &p.Lang, &p.Stamp.TS, &p.Stamp.ID)
	if errors.Is(err, gocql.ErrNotFound) {
		return people.Profile{User: user}, false, nil
	}
	if err != nil {
		return people.Profile{User: user}, false, wrap(fmt.Sprintf("read profile of %d", user), err)
	}
	return p, true, nil
}

// SetProfile stores p unless the stored profile is as new or newer: a
// read, then a write conditioned on the stamp read (or on no row); a lost
// race re-reads at LOCAL_SERIAL after a jittered pause.
func (ps *ProfileStore) SetProfile(ctx context.Context, p people.Profile) (people.Profile, error) {
	if err := ctx.Err(); err != nil {
		return p, err
	}
	if p.User <= 0 || p.Stamp.IsZero() {
		return p, fmt.Errorf("cassandrastore: set profile: user %d with stamp %v", p.User, p.Stamp)
	}
	out := p
	err := casLoop(ctx, func(attempt int) error {
		cur, found, err := ps.loadProfile(ctx, p.User, ps.s.readConsistency(attempt))
		if err != nil {
			out = cur
			return err
		}
		next, ok := people.Next(cur, p)
		if !ok {
			out = cur
			return nil
		}
		var st casStmt
		if found {
			st = casStmt{updateProfile, []any{next.Name, next.Avatar, next.Lang, next.Stamp.TS, next.Stamp.ID,
				p.User, cur.Stamp.TS, cur.Stamp.ID}}
		} else {
			st = casStmt{insertProfile, []any{p.User, next.Name, next.Avatar, next.Lang, next.Stamp.TS, next.Stamp.ID}}
		}
		applied, err := ps.s.cas(ctx, []casStmt{st})
		if err != nil {
			out = cur
			return wrap(fmt.Sprintf("set profile of %d", p.User), err)
		}
		if applied {
			out = next
			return nil
		}
		return errLostRace
	})
	return out, err
}

// profilesPerQuery bounds the ids of one IN query: a page names ~40
// people, so it is one query; a longer list is split.
const profilesPerQuery = 100

// Profiles reads the users' profiles with one IN query per
// profilesPerQuery ids (one round trip for a page, where a point read per
// user would be ~40, most finding nothing while few users have profiles;
// the coordinator reads the partitions), the queries concurrent (at most
// MaxInFlight), in order.
func (ps *ProfileStore) Profiles(ctx context.Context, users []int64) ([]people.Profile, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]people.Profile, len(users))
	for i, u := range users {
		out[i].User = u
	}
	chunks := (len(users) + profilesPerQuery - 1) / profilesPerQuery
	err := ps.s.each(ctx, chunks, func(c int) error {
		ids := users[c*profilesPerQuery : min((c+1)*profilesPerQuery, len(users))]
		iter := ps.s.sess.Query(selectProfiles, ids).Idempotent(true).IterContext(ctx)
		var p people.Profile
		for iter.Scan(&p.User, &p.Name, &p.Avatar, &p.Lang, &p.Stamp.TS, &p.Stamp.ID) {
			for j, u := range ids { // a repeated id gets the row at each place
				if u == p.User {
					out[c*profilesPerQuery+j] = p
				}
			}
		}
		return wrap("read profiles", iter.Close())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
