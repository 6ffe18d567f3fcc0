package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPushRetryResumesAfterRestart: feedd stops while the push service
// answers 503 and a retry is pending; once restarted it resumes the retry
// from the store and the push is delivered.
func TestPushRetryResumesAfterRestart(t *testing.T) { eachBackend(t, pushRetryResumes) }

func pushRetryResumes(t *testing.T, args []string) {
	f, r := pushFeedd(t, args)
	if code, body := f.subscribe(5, r.subscription("en")); code != 201 {
		t.Fatalf("subscribe: %d %s", code, body)
	}
	r.setDown(true)
	f.publish(ev{"id": "g1", "type": "gift", "actor": 6, "target": 5, "ts": time.Now().UnixMilli()})
	waitFor(t, 20*time.Second, func() bool { return r.count() >= 1 }, "first attempt")
	time.Sleep(200 * time.Millisecond) // the retry is stored
	f.stop()
	r.setDown(false)
	f2 := startFeedd(t, f.args...)
	waitFor(t, 30*time.Second, func() bool { return len(r.delivered()) >= 1 }, "the push after the restart")
	got := r.delivered()
	if got[0].Payload["type"] != "gift" || !strings.Contains(got[0].Payload["body"].(string), "sent you a gift") {
		t.Fatalf("delivered: %+v", got[0])
	}
	if !strings.Contains(f2.Log(), "push: resuming retries") {
		t.Errorf("the restarted feedd did not resume a stored retry:\n%s", grepLog(f2.Log(), "push"))
	}
}

// TestPushSharedByTwoProcesses: two push processes split the shards by
// leases, each push is sent once, and when one dies the other takes its
// shards over once the leases expire.
func TestPushSharedByTwoProcesses(t *testing.T) {
	env := newRealEnv(t)
	front := startFeedd(t, append(env.args("--role", "ingest,fanout,reader"), pushArgs...)...)
	push := func() *feedd {
		return startFeedd(t, append(env.args("--role", "push", "--migrate=false", "--push-lease-ttl", "3s"), pushArgs...)...)
	}
	p1, p2 := push(), push()
	for _, f := range []*feedd{p1, p2} {
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(grepLog(f.Log(), "push"))
			}
		})
	}
	held := func(f *feedd) float64 { return f.metric("lenta_push_shards_held") }
	// Wait for the steady split (8 each: shard i goes to the (i mod 2)-th
	// live process), not merely for both to hold some: the process that
	// started first holds every shard until it sees the other, then hands
	// half over a heartbeat later, so a 12/4 split is a passing state in
	// which users 1..8 may all still be served by one process.
	waitFor(t, 30*time.Second, func() bool {
		return held(p1) == 8 && held(p2) == 8
	}, "two push processes splitting 16 shards 8 and 8")

	r := newReceiver(t)
	code, body := front.do("GET", "/v1/push/key", "", "", nil)
	var k struct{ Key string }
	if code != 200 || json.Unmarshal(body, &k) != nil {
		t.Fatalf("push key: %d %s", code, body)
	}
	r.vapid = k.Key
	const users = 8 // shards 1..8, served by both processes
	for u := int64(1); u <= users; u++ {
		if code, body := front.subscribe(u, r.subscription("en")); code != 201 {
			t.Fatalf("subscribe %d: %d %s", u, code, body)
		}
	}
	gifts := func(round string) {
		var evs []ev
		for u := int64(1); u <= users; u++ {
			evs = append(evs, ev{"id": fmt.Sprintf("%s-%d", round, u), "type": "gift", "actor": 100, "target": u,
				"ts": time.Now().UnixMilli()})
		}
		front.publish(evs...)
	}
	gifts("a")
	r.wait(users, 30*time.Second)
	time.Sleep(3 * time.Second) // a duplicate would have come by now
	if n := len(r.delivered()); n != users {
		t.Fatalf("%d pushes for %d gifts", n, users)
	}
	sent := p1.metric("lenta_push_sent_total") + p2.metric("lenta_push_sent_total")
	if sent != users || p1.metric("lenta_push_sent_total") == 0 || p2.metric("lenta_push_sent_total") == 0 {
		t.Errorf("sent: %v by p1, %v by p2", p1.metric("lenta_push_sent_total"), p2.metric("lenta_push_sent_total"))
	}

	// p1 dies without releasing its leases: p2 takes them after they expire.
	_ = p1.Kill()
	waitFor(t, 30*time.Second, func() bool { return held(p2) == 16 }, "p2 taking every shard")
	gifts("b")
	r.wait(2*users, 30*time.Second)
	time.Sleep(2 * time.Second)
	if n := len(r.delivered()); n != 2*users {
		t.Fatalf("%d pushes for %d gifts", n, 2*users)
	}
}

// TestDeleteRetractsNotifications: deleting an object removes the
// notifications about it (Class marks, a gift, a broadcast) from every
// inbox, and deleting again changes nothing.
func TestDeleteRetractsNotifications(t *testing.T) { eachBackend(t, deleteRetracts) }

func deleteRetracts(t *testing.T, args []string) {
	f := startFeedd(t, args...)
	now := time.Now().UnixMilli()
	f.publish(ev{"id": "f1", "type": "friend", "actor": 1, "target": 2, "ts": now - 9000})
	f.settle(1)
	f.publish(
		ev{"id": "p1", "type": "photo", "actor": 1, "media": []string{"m1"}, "ts": now - 8000},
		ev{"id": "p2", "type": "post", "actor": 1, "text": "kept", "ts": now - 7900},
		ev{"id": "c1", "type": "class", "actor": 2, "target": 1, "object": "p1", "ts": now - 7000},
		ev{"id": "c2", "type": "class", "actor": 3, "target": 1, "object": "p1", "ts": now - 6000},
		ev{"id": "c3", "type": "class", "actor": 3, "target": 1, "object": "p2", "ts": now - 5900},
		ev{"id": "gf1", "type": "gift", "actor": 2, "target": 3, "object": "gf1", "ts": now - 5000},
		ev{"id": "l1", "type": "live", "actor": 1, "object": "l1", "until": now + 3600_000, "ts": now - 4000},
	)
	f.settle(8)
	inbox := func(user int64) []string {
		t.Helper()
		code, body := f.do("GET", "/v1/notifications?limit=50", token(t, user, false), "", nil)
		var out struct {
			Items []struct{ Type, Object string }
		}
		if code != 200 || json.Unmarshal(body, &out) != nil {
			t.Fatalf("inbox of %d: %d %s", user, code, body)
		}
		var s []string
		for _, it := range out.Items {
			s = append(s, it.Type+":"+it.Object)
		}
		return s
	}
	want := func(user int64, w string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			got := strings.Join(inbox(user), ",")
			if got == w {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("inbox of %d: %q, want %q", user, got, w)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	want(1, "class:p2,class:p1")
	want(2, "live:l1,friend:")
	want(3, "gift:gf1")
	f.publish(
		ev{"id": "d1", "type": "delete", "actor": 1, "object": "p1", "ts": now - 3000},
		ev{"id": "d2", "type": "delete", "actor": 2, "object": "gf1", "ts": now - 2000},
		ev{"id": "d3", "type": "delete", "actor": 1, "object": "l1", "ts": now - 1000},
	)
	f.settle(11)
	want(1, "class:p2")
	want(2, "friend:")
	want(3, "")
	_, body := f.do("GET", "/v1/notifications/unread_count", token(t, 2, false), "", nil)
	if !strings.Contains(string(body), `"count":1`) {
		t.Errorf("unread of 2 after the deletes: %s", body)
	}
	// Deleting again (another event) finds nothing to retract.
	f.publish(ev{"id": "d4", "type": "delete", "actor": 1, "object": "p1", "ts": now - 500})
	f.settle(12)
	want(1, "class:p2")
}
