package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// ev is an event as the HTTP API takes it (docs/events.md).
type ev struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Actor    int64  `json:"actor"`
	Target   int64  `json:"target,omitempty"`
	Object   string `json:"object,omitempty"`
	Audience string `json:"audience,omitempty"`
	Text     string `json:"text,omitempty"`
	TS       int64  `json:"ts"`
	Reaction string `json:"reaction,omitempty"`
}

// workload is a deterministic social network and its activity, published
// in phases that each drain before the next (events of different actors
// have no order between them, so an item and the friendship that carries
// it are never raced):
//
//	graph:  friendships, a ring where each user befriends the next `degree/2`
//	posts:  `posts` items to friends, then `deletes` of some of them
//	marks:  Class marks on surviving posts by the author's friends, some
//	        repeated (a re-delivery must not count twice), some undone,
//	        some reactions of other kinds, some replacing a mark's kind
type workload struct {
	users   int
	friends map[int64][]int64
	graph   []ev
	posts   []ev
	deletes []ev
	marks   []ev
	deleted map[string]bool
	author  map[string]int64
}

func newWorkload(seed uint64, users, degree, posts, deletes, marks int) *workload {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w := &workload{users: users, friends: map[int64][]int64{}, deleted: map[string]bool{}, author: map[string]int64{}}
	// Timestamps: in the past (ts may be at most 5 minutes ahead), unique
	// and increasing in publication order.
	ts := time.Now().Add(-30 * time.Minute).UnixMilli()
	next := func() int64 { ts++; return ts }
	for u := 1; u <= users; u++ {
		for k := 1; k <= degree/2; k++ {
			v := (u-1+k)%users + 1
			w.graph = append(w.graph, ev{ID: fmt.Sprintf("f-%d-%d", u, v), Type: "friend", Actor: int64(u), Target: int64(v), TS: next()})
			w.friends[int64(u)] = append(w.friends[int64(u)], int64(v))
			w.friends[int64(v)] = append(w.friends[int64(v)], int64(u))
		}
	}
	for i := range posts {
		a := int64(rng.IntN(users) + 1)
		id := fmt.Sprintf("p-%d", i)
		w.posts = append(w.posts, ev{ID: id, Type: "post", Actor: a, Audience: "friends", Text: fmt.Sprintf("post %d by %d", i, a), TS: next()})
		w.author[id] = a
	}
	for _, i := range rng.Perm(posts)[:deletes] {
		p := w.posts[i]
		w.deletes = append(w.deletes, ev{ID: "d-" + p.ID, Type: "delete", Actor: p.Actor, Object: p.ID, TS: next()})
		w.deleted[p.ID] = true
	}
	type mark struct {
		actor int64
		obj   string
	}
	var done []mark
	for len(w.marks) < marks {
		p := w.posts[rng.IntN(posts)]
		if w.deleted[p.ID] {
			continue
		}
		fs := w.friends[p.Actor]
		m := fs[rng.IntN(len(fs))]
		switch r := rng.IntN(10); {
		case r == 0 && len(done) > 0: // undo an earlier mark
			d := done[rng.IntN(len(done))]
			w.marks = append(w.marks, ev{ID: fmt.Sprintf("u-%d", len(w.marks)), Type: "unclass", Actor: d.actor, Object: d.obj, Target: w.author[d.obj], TS: next()})
		case r == 1 && len(done) > 0: // mark again what is marked (or was)
			d := done[rng.IntN(len(done))]
			w.marks = append(w.marks, ev{ID: fmt.Sprintf("c-%d", len(w.marks)), Type: "class", Actor: d.actor, Object: d.obj, Target: w.author[d.obj], TS: next()})
		case r == 2 && len(done) > 0: // react to (or replace the reaction on) what is marked or was
			d := done[rng.IntN(len(done))]
			w.marks = append(w.marks, ev{ID: fmt.Sprintf("r-%d", len(w.marks)), Type: "react", Actor: d.actor, Object: d.obj, Target: w.author[d.obj],
				Reaction: faultKinds[rng.IntN(len(faultKinds))], TS: next()})
		case r == 3: // a new reaction of any kind
			w.marks = append(w.marks, ev{ID: fmt.Sprintf("r-%d", len(w.marks)), Type: "react", Actor: m, Object: p.ID, Target: p.Actor,
				Reaction: faultKinds[rng.IntN(len(faultKinds))], TS: next()})
			done = append(done, mark{m, p.ID})
		default:
			w.marks = append(w.marks, ev{ID: fmt.Sprintf("c-%d", len(w.marks)), Type: "class", Actor: m, Object: p.ID, Target: p.Actor, TS: next()})
			done = append(done, mark{m, p.ID})
		}
	}
	return w
}

// faultKinds are the reaction kinds the workload uses: feedd's default set.
var faultKinds = []string{"class", "love", "lol", "wow", "sad"}

// total is the number of events of the workload.
func (w *workload) total() int { return len(w.graph) + len(w.posts) + len(w.deletes) + len(w.marks) }

// pubStats counts what a publisher saw: refused or failed attempts are
// retried with the same batch (the event ids make it idempotent).
type pubStats struct {
	batches  atomic.Int64
	retries  atomic.Int64
	failures sync.Map // "status: body" or transport error -> count (*atomic.Int64)
	maxWait  atomic.Int64
	lastFail atomic.Int64 // unix ms of the last failed attempt
}

func (s *pubStats) fail(what string) {
	s.lastFail.Store(time.Now().UnixMilli())
	v, _ := s.failures.LoadOrStore(what, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// failureList is the distinct failures with their counts.
func (s *pubStats) failureList() []string {
	var out []string
	s.failures.Range(func(k, v any) bool {
		out = append(out, fmt.Sprintf("%dx %s", v.(*atomic.Int64).Load(), k))
		return true
	})
	sort.Strings(out)
	return out
}

// publish posts evs in batches of size from `writers` goroutines, each
// batch retried until accepted (or ctx ends), and returns when all are
// accepted. Batches keep their order within one writer; an actor's events
// are all in one writer, so per-actor order is kept. Each writer waits pace
// between batches (0: none), so a run can be made to last.
func (d *deployment) publish(ctx context.Context, evs []ev, size, writers int, pace time.Duration, st *pubStats) {
	d.t.Helper()
	lanes := make([][]ev, writers)
	for _, e := range evs {
		l := int(e.Actor % int64(writers))
		lanes[l] = append(lanes[l], e)
	}
	tok := d.token(1, true)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for _, lane := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < len(lane); i += size {
				if err := d.postBatch(ctx, tok, lane[i:min(i+size, len(lane))], st); err != nil {
					errs <- err
					return
				}
				if pace > 0 {
					time.Sleep(pace)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		d.t.Fatalf("publish: %v", err)
	}
}

func (d *deployment) postBatch(ctx context.Context, tok string, batch []ev, st *pubStats) error {
	body, err := json.Marshal(batch)
	if err != nil {
		return err
	}
	backoff := 100 * time.Millisecond
	t0 := time.Now()
	for {
		code, resp, err := request(ctx, "POST", d.api.Base()+"/v1/events", tok, "application/json", body)
		if err == nil && code == http.StatusAccepted {
			st.batches.Add(1)
			if w := time.Since(t0).Milliseconds(); w > st.maxWait.Load() {
				st.maxWait.Store(w)
			}
			return nil
		}
		if err != nil {
			st.fail("transport: " + shortErr(err))
		} else {
			if code < 500 && code != http.StatusTooManyRequests {
				return fmt.Errorf("batch refused for good: %d %s", code, resp)
			}
			st.fail(fmt.Sprintf("%d %s", code, truncate(string(resp), 160)))
		}
		st.retries.Add(1)
		select {
		case <-ctx.Done():
			return fmt.Errorf("batch not accepted before the deadline: %w", ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

func shortErr(err error) string { return truncate(err.Error(), 160) }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
