package notify_test

// A push shard handed over mid-burst between two real senders over one
// store, with real Web Push (encrypted, VAPID-signed) to an httptest push
// service that counts what it receives per device. This is an external
// test package: notify itself imports no store and no transport.

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/push/webpush"
	cassandrastore "github.com/lenta-dev/lenta/store/cassandra"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
)

// handoverStore is what the two senders share.
type handoverStore interface {
	notify.Store
	notify.Subscriptions
	notify.Queue
	notify.Retries
	notify.Leases
	notify.Claims
}

// countingService is a push service with one endpoint per user
// (/push/<user>); each push takes delay to answer (201), so a burst keeps
// a sender inside one queue second for a while.
type countingService struct {
	srv   *httptest.Server
	delay time.Duration
	mu    sync.Mutex
	got   map[int64]int
	total int
}

func newCountingService(t *testing.T, delay time.Duration) *countingService {
	c := &countingService{delay: delay, got: map[int64]int{}}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/push/"), 10, 64)
		if r.Method != http.MethodPost || err != nil || r.Header.Get("Content-Encoding") != "aes128gcm" ||
			!strings.HasPrefix(r.Header.Get("Authorization"), "vapid ") {
			http.Error(w, "not a Web Push request", http.StatusBadRequest)
			return
		}
		time.Sleep(c.delay)
		c.mu.Lock()
		c.got[u]++
		c.total++
		c.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *countingService) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// handoverResult is what the push service got.
type handoverResult struct {
	users, once, twice, missing, total int
	claimedA, claimedB                 int64
}

// runHandover queues a burst of n groups (one per user, all on shard 0,
// all due in one window), starts sender A, and once A is pushing starts
// sender B. A stays inside that window longer than its 3 s lease (one
// worker, a slow push service), so its lease lapses and B takes shard 0
// over mid-burst and scans the window from the checkpoint again, while A
// finishes the pushes it had started.
func runHandover(t *testing.T, st handoverStore, claims bool, n int) handoverResult {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	svc := newCountingService(t, 50*time.Millisecond)
	keys, err := webpush.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := webpush.New(webpush.Config{Keys: keys, Subject: "mailto:test@lenta.invalid",
		Policy: webpush.Policy{AllowLoopback: true, AllowHTTP: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	ua, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	catalog, err := notify.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	inbox := notify.NewInbox(st)

	// Users on shard 0 only, apart between runs over one store.
	base := time.Now().UnixNano() % 1_000_000 * notify.Shards * 1000
	now := time.Now()
	window := now.Unix() - 2
	deadline := now.Add(time.Hour).UnixMilli()
	var tasks []notify.Task
	for i := range n {
		u := base + int64(i)*notify.Shards
		ts := now.UnixMilli()
		obj := fmt.Sprintf("p%d", u)
		a := notify.Activity{User: u, Kind: notify.KindClass, Object: obj, Actor: u + 1, TS: ts,
			EventID: "e-" + obj, Group: notify.GroupKey(notify.KindClass, obj, ts)}
		if _, err := inbox.Add(ctx, a); err != nil {
			t.Fatal(err)
		}
		err := st.PutSubscription(ctx, notify.Subscription{User: u, ID: "d" + obj,
			Endpoint: svc.srv.URL + "/push/" + strconv.FormatInt(u, 10),
			P256dh:   base64.RawURLEncoding.EncodeToString(ua.PublicKey().Bytes()),
			Auth:     base64.RawURLEncoding.EncodeToString(auth), Lang: "en", Created: ts})
		if err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, notify.Task{Shard: 0, Due: window, User: u, Group: a.Group, Deadline: deadline})
	}
	if err := st.Enqueue(ctx, tasks); err != nil {
		t.Fatal(err)
	}
	if err := st.SetCheckpoint(ctx, 0, window-1); err != nil {
		t.Fatal(err)
	}

	newSender := func(owner string, obs *counts) *notify.Sender {
		cfg := notify.SenderConfig{Inbox: inbox, Queue: st, Subs: st, Transport: tr, Catalog: catalog,
			Retries: st, Leases: st, Owner: owner, LeaseTTL: 3 * time.Second, Workers: 1,
			Poll: 50 * time.Millisecond, Shards: []int{0}, Observer: obs}
		if claims {
			cfg.Claims = st
		}
		s, err := notify.NewSender(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// B's name sorts first, so B wants shard 0 once it is alive.
	tag := strconv.FormatInt(base, 36)
	ca, cb := &counts{}, &counts{}
	a, b := newSender("push-2-"+tag, ca), newSender("push-1-"+tag, cb)
	var wg sync.WaitGroup
	sctx, stop := context.WithCancel(ctx)
	defer func() { stop(); wg.Wait() }()
	wg.Go(func() { _ = a.Run(sctx) })
	for svc.count() == 0 {
		if ctx.Err() != nil {
			t.Fatal("sender A pushed nothing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	wg.Go(func() { _ = b.Run(sctx) })

	// Done: each sender has settled every task of the window (pushed it,
	// or lost its claim to the other), B has checkpointed the window, and
	// nothing more arrived for a second (a late duplicate would have).
	settled := func(c *counts) bool {
		return c.sent.Load()+c.claimed.Load() >= int64(n)
	}
	last, lastAt := -1, time.Now()
	for {
		if ctx.Err() != nil {
			t.Fatalf("burst not finished: %d pushes received; A %v; B %v", svc.count(), ca, cb)
		}
		c := svc.count()
		if c != last {
			last, lastAt = c, time.Now()
		}
		cp, err := st.Checkpoint(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if cp >= window && settled(ca) && settled(cb) && time.Since(lastAt) > time.Second {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	wg.Wait()

	r := handoverResult{users: n, claimedA: ca.claimed.Load(), claimedB: cb.claimed.Load()}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	r.total = svc.total
	for i := range n {
		switch svc.got[base+int64(i)*notify.Shards] {
		case 0:
			r.missing++
		case 1:
			r.once++
		default:
			r.twice++
		}
	}
	return r
}

// TestHandoverPushesOncePerGroupAndWindow: with claims, every group's
// window is pushed exactly once although both senders scan it; without
// them the same handover pushes part of the burst twice (the bug).
func TestHandoverPushesOncePerGroupAndWindow(t *testing.T) {
	const n = 100 // 100 pushes at 50 ms on one worker: ~5 s in one window
	stores := map[string]func(t *testing.T) handoverStore{
		"pebble": func(t *testing.T) handoverStore {
			s, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Error(err)
				}
			})
			return s.Notify()
		},
		"cassandra": func(t *testing.T) handoverStore {
			hosts := os.Getenv("LENTA_TEST_CASSANDRA")
			if hosts == "" {
				t.Skip("LENTA_TEST_CASSANDRA not set: set it to e.g. 127.0.0.1:9042 to run against a real Cassandra")
			}
			var ks [6]byte
			_, _ = rand.Read(ks[:])
			cfg := cassandrastore.Config{Hosts: strings.Split(hosts, ","),
				Keyspace: fmt.Sprintf("lenta_test_%x", ks), ReplicationFactor: 1}
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
			defer cancel()
			if err := cassandrastore.Migrate(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			s, err := cassandrastore.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				s.Close()
				dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if err := cassandrastore.DropKeyspace(dctx, cfg); err != nil {
					t.Errorf("drop keyspace: %v", err)
				}
			})
			return s.Notify()
		},
	}
	for _, name := range []string{"pebble", "cassandra"} {
		t.Run(name, func(t *testing.T) {
			st := stores[name](t)
			t.Run("claims", func(t *testing.T) {
				r := runHandover(t, st, true, n)
				t.Logf("with claims: %+v", r)
				if r.once != n || r.total != n {
					t.Errorf("with claims: %d of %d groups pushed once, %d twice, %d never; %d pushes in all",
						r.once, n, r.twice, r.missing, r.total)
				}
				if r.claimedB == 0 && r.claimedA == 0 {
					t.Errorf("no claim was lost to the other sender: the shard was not handed over mid-burst (%+v)", r)
				}
			})
			t.Run("without claims", func(t *testing.T) {
				r := runHandover(t, st, false, n)
				t.Logf("without claims: %+v", r)
				if r.twice == 0 || r.missing != 0 {
					t.Errorf("without claims: want some groups pushed twice and none missed, got %+v", r)
				}
			})
		})
	}
}
