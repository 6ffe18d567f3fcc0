package httpapi

import (
	"net/http"
	"testing"
	"time"
)

// At most MaxFeedReads feed reads run at once: one more waits its turn and
// is served when a turn comes back within FeedReadWait; one that waits
// longer gets 503 with Retry-After, and the reads that got in finish.
func TestFeedReadsWaitTheirTurn(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFeedReads, c.FeedReadWait = 1, 300*time.Millisecond })
	hdr := map[string]string{"Authorization": bearer(e.token(t, 7, false))}
	path := PathFeed + "?order=recent"
	e.feed.block = make(chan struct{})
	first := make(chan result, 1)
	go func() {
		r, err := e.tryDo("GET", path, hdr, nil)
		if err != nil {
			t.Error(err)
		}
		first <- r
	}()
	for len(e.feed.Calls()) == 0 { // the first read holds the only turn
		time.Sleep(time.Millisecond)
	}

	// Over the wait: refused, the store never asked.
	start := time.Now()
	r := e.do(t, "GET", path, hdr, nil)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "1" || r.errBody(t).Code != codeUnavailable {
		t.Fatalf("a read over the bound: status %d, Retry-After %q, body %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("refused after %v, before its wait of 300ms", waited)
	}
	if n := len(e.feed.Calls()); n != 1 {
		t.Fatalf("the refused read reached the feed (%d calls)", n)
	}

	// Within the wait: served once the turn comes back.
	second := make(chan result, 1)
	go func() {
		r, err := e.tryDo("GET", path, hdr, nil)
		if err != nil {
			t.Error(err)
		}
		second <- r
	}()
	time.Sleep(50 * time.Millisecond)
	close(e.feed.block)
	for _, c := range []chan result{first, second} {
		if r := <-c; r.status != http.StatusOK {
			t.Fatalf("a read that got a turn: status %d %s", r.status, r.body)
		}
	}
}

// Each order has its own turns: with the only recent turn taken, a ranked
// read is served at once, not after the recent one (a cheap read must
// never queue behind an expensive one of the other order).
func TestFeedReadOrdersHaveTheirOwnTurns(t *testing.T) {
	fr := &fakeRanked{}
	e := newEnv(t, func(c *Config) {
		c.MaxFeedReads, c.FeedReadWait = 1, 300*time.Millisecond
		c.Ranked = fr
	})
	hdr := map[string]string{"Authorization": bearer(e.token(t, 7, false))}
	e.feed.block = make(chan struct{})
	first := make(chan result, 1)
	go func() {
		r, err := e.tryDo("GET", PathFeed+"?order=recent", hdr, nil)
		if err != nil {
			t.Error(err)
		}
		first <- r
	}()
	for len(e.feed.Calls()) == 0 { // the recent read holds the recent turn
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if r := e.do(t, "GET", PathFeed+"?order=ranked", hdr, nil); r.status != http.StatusOK {
		t.Fatalf("a ranked read beside a held recent turn: status %d %s", r.status, r.body)
	}
	if waited := time.Since(start); waited >= 300*time.Millisecond {
		t.Errorf("the ranked read waited %v, as long as a recent turn's wait", waited)
	}
	close(e.feed.block)
	if r := <-first; r.status != http.StatusOK {
		t.Fatalf("the recent read: status %d %s", r.status, r.body)
	}
}
