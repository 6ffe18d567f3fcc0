package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/lenta-dev/lenta/schema"
)

// lastPublisher keeps only the latest call, and fails when told to.
type lastPublisher struct {
	mu    sync.Mutex
	last  []schema.Event
	fail  bool
	calls int
}

func (p *lastPublisher) Publish(_ context.Context, evs []schema.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	p.last = evs
	if p.fail {
		return errors.New("bus down")
	}
	return nil
}

// FuzzPostEvents feeds arbitrary bodies through the ingest handler. It must
// never panic or answer 5xx, except 503 when the publisher fails; a refused
// request publishes nothing; an accepted one publishes exactly the valid,
// permitted, distinct events once.
func FuzzPostEvents(f *testing.F) {
	seedEvents := []schema.Event{
		post("e1", 7),
		{ID: "f1", Type: schema.Friend, Actor: 7, Target: 8, TS: testTS},
		{ID: "l1", Type: schema.Live, Actor: 7, TS: testTS},
		{ID: "x1", Type: schema.Post, Actor: 8, Text: "not mine", TS: testTS},
	}
	f.Add(uint8(0), mustJSONf(seedEvents[0]))
	f.Add(uint8(0), mustJSONf(seedEvents))
	f.Add(uint8(5), mustJSONf(seedEvents)) // service token
	f.Add(uint8(1), mustMsgpackf(seedEvents[:3]))
	f.Add(uint8(2), mustMsgpackf(seedEvents[0]))
	f.Add(uint8(8), mustJSONf(seedEvents[:2])) // failing publisher
	f.Add(uint8(0), []byte(`[{"id":"a","type":"post","actor":7,"text":"x","ts":1699999999000},{"id":"a","type":"post","actor":7,"text":"y","ts":1699999999000}]`))
	f.Add(uint8(0), []byte(`{"id":"e1","type":"post","actor":7,"text":"x","ts":1699999999000,"until":-1}`))
	f.Add(uint8(0), []byte(`[{"id":"e1"},1,"x",null]`))
	f.Add(uint8(1), []byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(3), []byte(`{}`))

	pub := &lastPublisher{}
	e := newServer(f, func(c *Config) {
		c.Publisher = pub
		c.MaxBodyBytes = 64 << 10
		c.Log = nil
	})
	h := e.srv.Handler()
	userTok := e.token(f, 7, false)
	svcTok := e.token(f, 1, true)
	contentTypes := []string{"application/json", "application/msgpack", "application/x-msgpack", "text/plain"}

	f.Fuzz(func(t *testing.T, mode uint8, body []byte) {
		ct := contentTypes[int(mode)%len(contentTypes)]
		service := mode&4 != 0
		failing := mode&8 != 0
		tok := userTok
		if service {
			tok = svcTok
		}
		pub.mu.Lock()
		pub.fail, pub.last = failing, nil
		before := pub.calls
		pub.mu.Unlock()

		ctx := call(h, "POST", PathEvents, map[string]string{"Authorization": bearer(tok), "Content-Type": ct}, body)
		status := ctx.Response.StatusCode()

		pub.mu.Lock()
		calls, last := pub.calls-before, pub.last
		pub.mu.Unlock()

		var resp map[string]any
		if err := json.Unmarshal(ctx.Response.Body(), &resp); err != nil {
			t.Fatalf("status %d: body is not JSON: %q", status, ctx.Response.Body())
		}
		switch status {
		case 400, 403, 413, 415:
			if calls != 0 {
				t.Fatalf("status %d but the publisher was called", status)
			}
			if resp["error"] == "" || resp["code"] == "" {
				t.Fatalf("error body %v", resp)
			}
			return
		case 503:
			if !failing || calls != 1 {
				t.Fatalf("503 without a publisher failure (calls %d)", calls)
			}
		case 202:
			if failing {
				t.Fatal("202 although publishing failed")
			}
		default:
			t.Fatalf("status %d: %s", status, ctx.Response.Body())
		}
		if calls != 1 {
			t.Fatalf("status %d after %d publish calls", status, calls)
		}
		if len(last) == 0 || len(last) > schema.MaxBatch {
			t.Fatalf("published %d events", len(last))
		}
		ids := make(map[string]bool, len(last))
		for i := range last {
			ev := &last[i]
			if err := ev.Validate(testNow); err != nil {
				t.Fatalf("published an invalid event %d: %v", i, err)
			}
			if !service && ev.Actor != 7 {
				t.Fatalf("published as user %d with a user token", ev.Actor)
			}
			if ids[ev.ID] {
				t.Fatalf("published id %q twice", ev.ID)
			}
			ids[ev.ID] = true
		}
		if status == 202 && resp["accepted"] != float64(len(last)) {
			t.Fatalf("accepted %v, published %d", resp["accepted"], len(last))
		}
	})
}

func mustJSONf(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func mustMsgpackf(v any) []byte {
	b, err := schema.MarshalMsgpackValue(v)
	if err != nil {
		panic(err)
	}
	return b
}
