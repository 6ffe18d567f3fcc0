package notify

import (
	"context"
	"fmt"
	"strconv"
)

// The queue scan. Each tick, for every shard this sender holds:
//
//  1. the settled seconds (up to now - Lag, past any clock skew between
//     the processes that enqueue) are read in order from the checkpoint;
//     every task of a second is handed to the workers, which expand it
//     (group, devices, object) and make its first attempts in parallel;
//     the checkpoint moves past the second only once all of them are done
//     (a failed attempt is then a stored retry), so a crash repeats a
//     second rather than losing one;
//  2. the seconds after that, up to now, are read too, and the tasks found
//     there are dispatched at once ("early") without moving the
//     checkpoint: a push that is due now (a gift, a broadcast) does not
//     wait out the skew margin. When step 1 reaches such a second later it
//     waits for those runs instead of dispatching them again, and a task
//     enqueued late into it (skew) is dispatched then.
//
// Invariant: a task is dispatched at most once per sender per
// (shard, due, user, group) while its shard is held (early remembers it
// until its second is checkpointed); lastSent skips a group state already
// pushed, and Claims do the same across senders at a handover.

// taskKey names one queued task within a shard.
type taskKey struct {
	due   int64
	user  int64
	group string
}

// taskRun is one dispatched task: done is closed when its first attempts
// are over; err (read only after done) is why it could not be expanded.
type taskRun struct {
	done chan struct{}
	err  error
}

// duePage is how many tasks one queue read returns.
const duePage = 500

// tick hands due retries to the workers and reads each shard's due tasks.
func (s *Sender) tick(ctx context.Context, jobs chan<- *job) error {
	now := s.cfg.Now()
	for _, j := range s.dueRetries(now) {
		select {
		case jobs <- j:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	upTo := now.Add(-s.cfg.Lag).Unix()
	for _, sh := range s.cfg.Shards {
		if !s.holds(sh) {
			continue
		}
		if err := s.scan(ctx, sh, upTo, jobs); err != nil {
			return err
		}
		if err := s.scanEarly(ctx, sh, upTo, s.cfg.Now().Unix(), jobs); err != nil {
			return err
		}
	}
	return nil
}

// scan finishes the settled seconds of shard up to upTo, in order.
func (s *Sender) scan(ctx context.Context, shard int, upTo int64, jobs chan<- *job) error {
	cp, ok := s.cps[shard]
	if !ok {
		var err error
		if cp, err = s.cfg.Queue.Checkpoint(ctx, shard); err != nil {
			return fmt.Errorf("read checkpoint: %w", err)
		}
		switch floor := upTo - maxBacklog; {
		case cp == 0:
			cp = upTo - 10 // a new queue: nothing older to read
		case cp < floor:
			cp = floor // long down: older tasks are past their deadlines
		}
	}
	for due := cp + 1; due <= upTo; due++ {
		if !s.holds(shard) {
			return nil // the lease lapsed mid-scan: stop before the checkpoint
		}
		var runs []*taskRun
		err := s.eachDue(ctx, shard, due, func(t *Task) error {
			k := taskKey{t.Due, t.User, t.Group}
			if r, ok := s.early[shard][k]; ok {
				runs = append(runs, r)
				return nil
			}
			r, err := s.dispatch(ctx, t, jobs)
			runs = append(runs, r)
			return err
		})
		if err != nil {
			return err
		}
		var failed error
		for _, r := range runs { // first attempts done (failures stored as retries)
			select {
			case <-r.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if r.err != nil && failed == nil {
				failed = r.err
			}
		}
		if failed != nil {
			// Not checkpointed: the next tick reads the second again (what
			// was pushed is skipped by lastSent), early runs included.
			s.forgetEarly(shard, due)
			return failed
		}
		if err := s.cfg.Queue.SetCheckpoint(ctx, shard, due); err != nil {
			return fmt.Errorf("set checkpoint: %w", err)
		}
		s.cps[shard] = due
		s.forgetEarly(shard, due)
	}
	if _, ok := s.cps[shard]; !ok {
		s.cps[shard] = max(cp, upTo)
	}
	return nil
}

// scanEarly dispatches the tasks of shard due after upTo and up to now
// that were not dispatched yet, without waiting for them.
func (s *Sender) scanEarly(ctx context.Context, shard int, upTo, now int64, jobs chan<- *job) error {
	if cp, ok := s.cps[shard]; !ok || cp < upTo {
		return nil // still catching up: early runs would only pile up
	}
	for due := upTo + 1; due <= now; due++ {
		err := s.eachDue(ctx, shard, due, func(t *Task) error {
			k := taskKey{t.Due, t.User, t.Group}
			if _, ok := s.early[shard][k]; ok {
				return nil
			}
			r, err := s.dispatch(ctx, t, jobs)
			if s.early[shard] == nil {
				s.early[shard] = map[taskKey]*taskRun{}
			}
			s.early[shard][k] = r
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// forgetEarly drops the early runs of shard's seconds up to due.
func (s *Sender) forgetEarly(shard int, due int64) {
	for k := range s.early[shard] {
		if k.due <= due {
			delete(s.early[shard], k)
		}
	}
}

// eachDue calls fn for every task of (shard, due), page by page.
func (s *Sender) eachDue(ctx context.Context, shard int, due int64, fn func(*Task) error) error {
	var afterU int64
	var afterG string
	for {
		tasks, err := s.cfg.Queue.Due(ctx, shard, due, afterU, afterG, duePage)
		if err != nil {
			return fmt.Errorf("read queue: %w", err)
		}
		for i := range tasks {
			if err := fn(&tasks[i]); err != nil {
				return err
			}
		}
		if len(tasks) < duePage {
			return nil
		}
		afterU, afterG = tasks[len(tasks)-1].User, tasks[len(tasks)-1].Group
	}
}

// dispatch hands t to the workers.
func (s *Sender) dispatch(ctx context.Context, t *Task, jobs chan<- *job) (*taskRun, error) {
	r := &taskRun{done: make(chan struct{})}
	tc := *t
	select {
	case jobs <- &job{task: &tc, run: r}:
		return r, nil
	case <-ctx.Done():
		r.err = ctx.Err()
		close(r.done)
		return r, ctx.Err()
	}
}

// runTask is a worker's part of a dispatched task: expand it, then make
// the first attempt at each device.
func (s *Sender) runTask(ctx context.Context, j *job) {
	defer close(j.run.done)
	js, err := s.jobsFor(ctx, j.task)
	if err != nil {
		j.run.err = err
		return
	}
	for _, dj := range js {
		s.attempt(ctx, dj)
	}
}

// jobsFor turns one task into one job per device of the user.
func (s *Sender) jobsFor(ctx context.Context, t *Task) ([]*job, error) {
	now := s.cfg.Now()
	if now.UnixMilli() >= t.Deadline {
		s.stale()
		return nil, nil
	}
	// Most users have no device subscribed: find out first, before the
	// group and its object are read.
	subs, err := s.cfg.Subs.Subscriptions(ctx, t.User)
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	if len(subs) == 0 {
		s.obs.PushSkipped()
		return nil, nil
	}
	n, ok, err := s.cfg.Inbox.Group(ctx, t.User, t.Group)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.obs.PushSkipped()
		return nil, nil // retracted
	}
	// Reserve the group's state before anything slow, so two tasks of one
	// group run by different workers never both push it.
	key := strconv.FormatInt(t.User, 10) + "|" + t.Group
	s.mu.Lock()
	last := s.lastSent[key]
	if last >= n.TS {
		s.mu.Unlock()
		s.obs.PushSkipped()
		return nil, nil // already pushed (a burst, or a re-applied event)
	}
	if len(s.lastSent) > 200_000 {
		clear(s.lastSent)
	}
	s.lastSent[key] = n.TS
	s.mu.Unlock()
	unreserve := func() {
		s.mu.Lock()
		if s.lastSent[key] == n.TS {
			s.lastSent[key] = last
		}
		s.mu.Unlock()
	}
	objType, gone, err := s.objectOf(ctx, &n)
	if err != nil {
		unreserve()
		return nil, err
	}
	if gone {
		return nil, nil
	}
	if s.cfg.Claims != nil {
		won, err := s.cfg.Claims.Claim(ctx, t.User, t.Group, t.Due, s.cfg.Owner,
			t.Deadline+claimGrace.Milliseconds())
		if err != nil {
			unreserve()
			return nil, fmt.Errorf("claim push: %w", err)
		}
		if !won {
			s.obs.PushClaimed()
			return nil, nil // pushed by the shard's previous owner
		}
	}
	deadline := t.Deadline
	if n.Kind == KindLive && n.Until > 0 {
		deadline = min(deadline, n.Until)
	}
	s.cfg.Log.Debug("push: task", "user", t.User, "group", t.Group, "devices", len(subs))
	names, err := s.namesOf(ctx, t.User, &n)
	if err != nil {
		unreserve()
		return nil, err
	}
	defer s.cfg.People.Release(names)
	out := make([]*job, 0, len(subs))
	for _, sub := range subs {
		msg, err := s.Message(&n, pushLang(names, t.User, sub.Lang), objType, names)
		if err != nil {
			unreserve()
			return nil, err
		}
		out = append(out, &job{shard: t.Shard, user: t.User, group: t.Group, sub: sub, msg: msg, deadline: deadline})
	}
	return out, nil
}
