package storetest

// The push side of the notification suite: stored retries, shard leases
// and claims.

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/notify"
)

func notifyRetries(t *testing.T, s NotifyStore) {
	ctx := t.Context()
	due := int64(1_700_000_000_000)
	rs := []notify.Retry{
		{Shard: 2, Due: due + 500, User: 1, Group: "gift:g1", Sub: "s1", Attempt: 1, Deadline: due + 9000},
		{Shard: 2, Due: due, User: 3, Group: "class:1:p", Sub: "s2", Attempt: 2, Deadline: due + 8000},
		{Shard: 2, Due: due, User: 3, Group: "class:1:p", Sub: "s3", Attempt: 1, Deadline: due + 8000},
		{Shard: 5, Due: due, User: 1, Group: "gift:g1", Sub: "s1", Attempt: 1, Deadline: due + 9000},
	}
	for _, r := range rs {
		must(t, s.PutRetry(ctx, r))
	}
	must(t, s.PutRetry(ctx, rs[0])) // upsert
	got, err := s.Retries(ctx, 2, notify.Retry{}, 2)
	must(t, err)
	if len(got) != 2 || got[0] != rs[1] || got[1] != rs[2] {
		t.Fatalf("first page = %+v", got)
	}
	got, err = s.Retries(ctx, 2, got[1], 2)
	must(t, err)
	if len(got) != 1 || got[0] != rs[0] {
		t.Fatalf("second page = %+v", got)
	}
	must(t, s.DeleteRetry(ctx, rs[1]))
	must(t, s.DeleteRetry(ctx, rs[1])) // missing: no error
	got, err = s.Retries(ctx, 2, notify.Retry{}, 10)
	must(t, err)
	if len(got) != 2 || got[0] != rs[2] || got[1] != rs[0] {
		t.Errorf("after delete = %+v", got)
	}
	if got, err := s.Retries(ctx, 5, notify.Retry{}, 10); err != nil || len(got) != 1 || got[0] != rs[3] {
		t.Errorf("other shard = %+v, %v", got, err)
	}
}

func notifyLeases(t *testing.T, s NotifyStore) {
	ctx := t.Context()
	const long = time.Minute
	held := func(shard int, owner string, ttl time.Duration, want bool) {
		t.Helper()
		ok, err := s.AcquireLease(ctx, shard, owner, ttl)
		must(t, err)
		if ok != want {
			t.Fatalf("AcquireLease(%d, %s) = %v, want %v", shard, owner, ok, want)
		}
	}
	held(1, "a", long, true)
	held(1, "b", long, false)
	held(1, "a", long, true) // renew
	held(2, "b", long, true)
	must(t, s.ReleaseLease(ctx, 1, "b")) // not b's: nothing
	held(1, "b", long, false)
	must(t, s.ReleaseLease(ctx, 1, "a"))
	held(1, "b", long, true)
	held(1, "a", long, false)

	// A lease that is not renewed expires; so does a heartbeat.
	held(3, "a", time.Second, true)
	m, err := s.Heartbeat(ctx, "b", long)
	must(t, err)
	m2, err := s.Heartbeat(ctx, "a", time.Second)
	must(t, err)
	if !slices.Equal(m, []string{"b"}) || !slices.Equal(m2, []string{"a", "b"}) {
		t.Fatalf("members: %v then %v", m, m2)
	}
	time.Sleep(2200 * time.Millisecond)
	held(3, "b", long, true)
	m, err = s.Heartbeat(ctx, "b", long)
	must(t, err)
	if !slices.Equal(m, []string{"b"}) {
		t.Errorf("members after a's heartbeat expired: %v", m)
	}
}

func notifyClaims(t *testing.T, s NotifyStore) {
	ctx := t.Context()
	until := time.Now().Add(time.Hour).UnixMilli()
	claim := func(user int64, group string, window int64, owner string, want bool) {
		t.Helper()
		won, err := s.Claim(ctx, user, group, window, owner, until)
		must(t, err)
		if won != want {
			t.Fatalf("Claim(%d, %s, %d, %s) = %v, want %v", user, group, window, owner, won, want)
		}
	}
	claim(1, "g", 10, "a", true)
	claim(1, "g", 10, "b", false)
	claim(1, "g", 10, "a", true) // a repeated call (its answer lost) is still a's
	claim(1, "g", 10, "b", false)
	claim(1, "g", 12, "b", true)  // another window
	claim(1, "g2", 10, "b", true) // another group
	claim(2, "g", 10, "b", true)  // another user
	claim(1, "g", 12, "a", false)
	if _, err := s.Claim(ctx, 1, "", 10, "a", until); err == nil {
		t.Error("Claim with an empty group: no error")
	}
	if _, err := s.Claim(ctx, 1, "g", 14, "", until); err == nil {
		t.Error("Claim with an empty owner: no error")
	}
}

// notifyClaimRace: owners racing for one claim, many times over; exactly
// one wins each.
func notifyClaimRace(t *testing.T, s NotifyStore) {
	ctx := t.Context()
	until := time.Now().Add(time.Hour).UnixMilli()
	const owners, rounds = 6, 10
	for w := range int64(rounds) {
		var wg sync.WaitGroup
		won := make([]bool, owners)
		errs := make([]error, owners)
		for i := range owners {
			wg.Go(func() {
				won[i], errs[i] = s.Claim(ctx, 7, "race", w, fmt.Sprintf("o%d", i), until)
			})
		}
		wg.Wait()
		n := 0
		for i := range owners {
			must(t, errs[i])
			if won[i] {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("window %d: %d of %d racing owners won the claim, want 1", w, n, owners)
		}
	}
}
