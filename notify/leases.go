package notify

// Shard leases: which push process serves which queue shard (see
// SenderConfig.Leases and docs/notifications.md, "Scaling out").

import (
	"container/heap"
	"context"
	"slices"
	"time"
)

// leases takes, keeps and gives up shards. Without Leases the sender
// serves every shard. With them, every LeaseTTL/3 it heartbeats, reads
// the live push processes and wants shard Shards[i] when it is the
// (i mod n)-th of the n live processes (in name order): it takes or renews
// the leases of the shards it wants and releases the others, so processes
// split the shards and, once a dead process's heartbeat and leases
// expire, the survivors take its shards over.
func (s *Sender) leases(ctx context.Context) {
	if s.cfg.Leases == nil {
		if len(s.owned) == 0 {
			for _, sh := range s.cfg.Shards {
				s.gain(ctx, sh)
				s.owned[sh] = time.Unix(1<<62, 0)
			}
			s.obs.PushShards(len(s.owned))
		}
		return
	}
	now := s.cfg.Now()
	if now.Before(s.nextLease) {
		return
	}
	s.nextLease = now.Add(s.cfg.LeaseTTL / 3)
	ttl := s.cfg.LeaseTTL
	defer func() {
		now := s.cfg.Now()
		for sh, until := range s.owned {
			if now.After(until) {
				s.cfg.Log.Warn("push: lease lapsed", "shard", sh)
				s.lose(sh)
			}
		}
		s.obs.PushShards(len(s.owned))
	}()
	members, err := s.cfg.Leases.Heartbeat(ctx, s.cfg.Owner, ttl)
	if err != nil {
		s.cfg.Log.Warn("push: heartbeat", "err", err)
		return
	}
	if !slices.Contains(members, s.cfg.Owner) {
		members = append(members, s.cfg.Owner)
		slices.Sort(members)
	}
	for i, sh := range s.cfg.Shards {
		_, held := s.owned[sh]
		if members[i%len(members)] != s.cfg.Owner {
			if held {
				if err := s.cfg.Leases.ReleaseLease(ctx, sh, s.cfg.Owner); err != nil {
					s.cfg.Log.Warn("push: release lease", "shard", sh, "err", err)
				}
				s.cfg.Log.Info("push: shard handed over", "shard", sh)
				s.lose(sh)
			}
			continue
		}
		start := s.cfg.Now()
		ok, err := s.cfg.Leases.AcquireLease(ctx, sh, s.cfg.Owner, ttl)
		switch {
		case err != nil:
			s.cfg.Log.Warn("push: acquire lease", "shard", sh, "err", err)
		case ok:
			if !held {
				s.cfg.Log.Info("push: shard taken", "shard", sh, "owner", s.cfg.Owner)
				s.gain(ctx, sh)
			}
			// Trust the lease a fifth of its life less than the store does,
			// so a slow renewal stops this sender before another may start.
			s.owned[sh] = start.Add(ttl - ttl/5)
		case held:
			s.lose(sh)
		}
	}
}

// gain starts serving shard: its checkpoint is read again (another sender
// may have moved it) and its stored retries are loaded.
func (s *Sender) gain(ctx context.Context, shard int) {
	delete(s.cps, shard)
	delete(s.early, shard)
	if s.cfg.Retries == nil {
		return
	}
	var after Retry
	var loaded, dropped int
	now := s.cfg.Now().UnixMilli()
	for {
		rs, err := s.cfg.Retries.Retries(ctx, shard, after, 500)
		if err != nil {
			s.cfg.Log.Warn("push: load retries", "shard", shard, "err", err)
			break
		}
		s.mu.Lock()
		for i := range rs {
			r := rs[i]
			if r.Deadline <= now {
				dropped++
				s.stale()
				if err := s.cfg.Retries.DeleteRetry(ctx, r); err != nil {
					s.cfg.Log.Warn("push: drop stale retry", "err", err)
				}
				continue
			}
			loaded++
			heap.Push(&s.retries, &job{shard: r.Shard, user: r.User, group: r.Group, sub: Subscription{User: r.User, ID: r.Sub},
				deadline: r.Deadline, attempt: r.Attempt, at: time.UnixMilli(r.Due), stored: &r})
		}
		s.mu.Unlock()
		if len(rs) < 500 {
			break
		}
		after = rs[len(rs)-1]
	}
	if loaded+dropped > 0 {
		s.cfg.Log.Info("push: resuming retries", "shard", shard, "retries", loaded, "stale", dropped)
	}
}

// lose stops serving shard; its retries stay in the store for the next
// owner.
func (s *Sender) lose(shard int) {
	delete(s.owned, shard)
	delete(s.cps, shard)
	delete(s.early, shard)
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.retries[:0]
	for _, j := range s.retries {
		if j.shard != shard {
			kept = append(kept, j)
		}
	}
	clear(s.retries[len(kept):])
	s.retries = kept
	heap.Init(&s.retries)
}

// releaseAll gives up every lease at shutdown, so another sender takes
// the shards at once rather than after LeaseTTL.
func (s *Sender) releaseAll(ctx context.Context) {
	if s.cfg.Leases == nil || len(s.owned) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for sh := range s.owned {
		if err := s.cfg.Leases.ReleaseLease(rctx, sh, s.cfg.Owner); err != nil {
			s.cfg.Log.Warn("push: release lease", "shard", sh, "err", err)
		}
		delete(s.owned, sh)
	}
	s.obs.PushShards(0)
}

// holds reports whether this sender may serve shard now.
func (s *Sender) holds(shard int) bool {
	until, ok := s.owned[shard]
	return ok && s.cfg.Now().Before(until)
}
