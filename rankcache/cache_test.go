package rankcache

import (
	"testing"
	"time"

	"github.com/lenta-dev/lenta/ranking"
)

func order(version uint64, bytes int) *ranking.Order {
	return &ranking.Order{Version: version, Data: make([]byte, bytes)}
}

func TestGetReturnsWhatWasSet(t *testing.T) {
	c, err := New(MinBytes, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.Get(1); ok {
		t.Fatal("empty cache has viewer 1")
	}
	c.Set(1, order(7, 100))
	c.Set(1, order(8, 100)) // replaced
	if o, ok := c.Get(1); !ok || o.Version != 8 {
		t.Fatalf("Get(1) = %+v, %v; want version 8", o, ok)
	}
}

// The byte bound holds: writing far more than it keeps the weight under
// it, and evicts only what it must.
func TestByteBound(t *testing.T) {
	const bound = 2 * MinBytes
	c, err := New(bound, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const each = 30 << 10 // a full window's order
	for v := range int64(1000) {
		c.Set(v, order(uint64(v), each))
	}
	c.c.CleanUp()
	if got := c.Bytes(); got > bound {
		t.Fatalf("held %d bytes, bound %d", got, bound)
	}
	if n := c.Len(); n == 0 || n*each > bound || n >= 1000 {
		t.Fatalf("held %d orders of %d bytes under a bound of %d", n, each, bound)
	}
}

func TestExpiresAfterTTL(t *testing.T) {
	c, err := New(MinBytes, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Set(1, order(1, 10))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := c.Get(1); !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("an order outlived its ttl by 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNewRefusesBadBounds(t *testing.T) {
	for _, tc := range []struct {
		bytes int64
		ttl   time.Duration
	}{{0, time.Minute}, {MinBytes - 1, time.Minute}, {MinBytes, 0}, {MinBytes, -time.Second}} {
		if c, err := New(tc.bytes, tc.ttl); err == nil {
			c.Close()
			t.Errorf("New(%d, %v) accepted", tc.bytes, tc.ttl)
		}
	}
}
