package notify

// Delivery: one attempt at one device, and what follows it (settled,
// retried with backoff, or the subscription removed).

import (
	"container/heap"
	"context"
	"errors"
	"strconv"
	"time"
)

// attempt sends one job once and decides what follows.
func (s *Sender) attempt(ctx context.Context, j *job) {
	now := s.cfg.Now()
	if j.deadline-now.UnixMilli() < time.Second.Milliseconds() {
		s.stale()
		s.settle(ctx, j)
		return
	}
	if j.msg.Payload == nil { // a retry: render the group as it is now
		ok, err := s.prepare(ctx, j)
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Log.Warn("push: prepare retry", "user", j.user, "group", j.group, "err", err)
				s.retry(ctx, j, 0, err.Error())
			}
			return
		}
		if !ok {
			s.obs.PushSkipped()
			s.settle(ctx, j)
			return
		}
	}
	left := time.Duration(j.deadline-s.cfg.Now().UnixMilli()) * time.Millisecond
	if left < time.Second {
		s.stale()
		s.settle(ctx, j)
		return
	}
	j.msg.TTL = left
	start := time.Now()
	out, err := s.cfg.Transport.Send(ctx, &j.sub, &j.msg)
	s.obs.PushSendDuration(time.Since(start))
	switch {
	case errors.Is(err, ErrRefused):
		s.remove(ctx, j, err.Error())
	case err != nil:
		if ctx.Err() != nil {
			return // stopping: a stored retry stays for the next owner
		}
		s.cfg.Log.Debug("push: send failed", "user", j.sub.User, "sub", j.sub.ID, "err", err)
		s.retry(ctx, j, 0, err.Error())
	case out.Status >= 200 && out.Status < 300:
		s.obs.PushSent()
		s.settle(ctx, j)
	case out.Status == 408 || out.Status == 429 || out.Status >= 500:
		s.retry(ctx, j, out.RetryAfter, "status "+strconv.Itoa(out.Status))
	default:
		s.remove(ctx, j, "status "+strconv.Itoa(out.Status))
	}
}

// settle deletes the stored retry a job came from, once nothing follows.
func (s *Sender) settle(ctx context.Context, j *job) {
	if j.stored == nil || s.cfg.Retries == nil {
		return
	}
	if err := s.cfg.Retries.DeleteRetry(ctx, *j.stored); err != nil {
		s.cfg.Log.Warn("push: delete retry", "err", err)
	}
	j.stored = nil
}

func (s *Sender) remove(ctx context.Context, j *job, why string) {
	s.obs.PushRemoved()
	s.cfg.Log.Info("push: subscription removed", "user", j.sub.User, "sub", j.sub.ID, "why", why)
	if err := s.cfg.Subs.DeleteSubscription(ctx, j.sub.User, j.sub.ID); err != nil {
		s.cfg.Log.Warn("push: remove subscription", "err", err)
	}
	s.settle(ctx, j)
}

// retry schedules the next attempt: exponential backoff with jitter
// (retry.Policy.Delay), or Retry-After when longer; dropped when it would
// land past the deadline. It is a durable schedule rather than a retry.Do
// loop: the attempt is due later, maybe in another process (the shard's
// next owner), and only this sender retries a push.
// The retry is stored before the one it replaces is deleted, so a crash
// in between repeats an attempt rather than losing one.
func (s *Sender) retry(ctx context.Context, j *job, after time.Duration, why string) {
	j.attempt++
	if j.attempt >= s.cfg.MaxAttempts {
		s.obs.PushFailed()
		s.cfg.Log.Warn("push: giving up", "user", j.sub.User, "sub", j.sub.ID, "why", why)
		s.settle(ctx, j)
		return
	}
	at := s.cfg.Now().Add(max(s.backoff.Delay(j.attempt), after))
	if at.UnixMilli() >= j.deadline {
		s.stale()
		s.settle(ctx, j)
		return
	}
	s.obs.PushRetried()
	prev := j.stored
	next := &job{shard: j.shard, user: j.user, group: j.group, sub: Subscription{User: j.user, ID: j.sub.ID},
		deadline: j.deadline, attempt: j.attempt, at: at}
	if s.cfg.Retries != nil {
		// Stored even when the sender is stopping: that is when it matters.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		ctx := sctx
		r := Retry{Shard: j.shard, Due: at.UnixMilli(), User: j.user, Group: j.group, Sub: j.sub.ID,
			Attempt: j.attempt, Deadline: j.deadline}
		if err := s.cfg.Retries.PutRetry(ctx, r); err != nil {
			s.cfg.Log.Warn("push: store retry (kept in memory)", "err", err)
			next.stored = prev // still stored under its old due time, or not at all
		} else {
			next.stored = &r
			if prev != nil {
				if err := s.cfg.Retries.DeleteRetry(ctx, *prev); err != nil {
					s.cfg.Log.Warn("push: delete retry", "err", err)
				}
			}
		}
	} else {
		next.sub, next.msg = j.sub, j.msg // in memory: no need to render again
	}
	s.mu.Lock()
	heap.Push(&s.retries, next)
	s.mu.Unlock()
}

// dueRetries pops the retries due at now of the shards this sender holds.
func (s *Sender) dueRetries(now time.Time) []*job {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*job
	for len(s.retries) > 0 && !s.retries[0].at.After(now) {
		j := heap.Pop(&s.retries).(*job)
		if _, ok := s.owned[j.shard]; ok {
			out = append(out, j)
		}
	}
	return out
}

type retryHeap []*job

func (h retryHeap) Len() int           { return len(h) }
func (h retryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h retryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *retryHeap) Push(x any)        { *h = append(*h, x.(*job)) }
func (h *retryHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return x
}
