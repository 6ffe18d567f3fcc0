package rankcache

import (
	"testing"
	"time"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/timeline"
)

func rels(version uint64, friends int) *timeline.CachedRelations {
	return &timeline.CachedRelations{Version: version, Relations: graph.Relations{Friends: make([]int64, friends)}}
}

func TestRelationsGetReturnsWhatWasSet(t *testing.T) {
	c, err := NewRelations(MinBytes)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.Get(1); ok {
		t.Fatal("empty cache has viewer 1")
	}
	c.Set(1, rels(7, 3))
	c.Set(1, rels(8, 3)) // replaced
	if r, ok := c.Get(1); !ok || r.Version != 8 {
		t.Fatalf("Get(1) = %+v, %v; want version 8", r, ok)
	}
}

func TestRelationsByteBound(t *testing.T) {
	const bound = MinBytes
	c, err := NewRelations(bound)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const friends = 1000 // 8 KB each
	for v := range int64(1000) {
		c.Set(v, rels(uint64(v), friends))
	}
	c.c.CleanUp()
	if got := c.Bytes(); got > bound {
		t.Fatalf("held %d bytes, bound %d", got, bound)
	}
	if n := c.Len(); n == 0 || n >= 1000 {
		t.Fatalf("held %d of 1000 viewers of 8 KB under a bound of %d", n, bound)
	}
}

func TestNewRelationsRefusesBadBounds(t *testing.T) {
	for _, b := range []int64{0, -1, MinBytes - 1} {
		if c, err := NewRelations(b); err == nil {
			c.Close()
			t.Errorf("NewRelations(%d) accepted", b)
		}
	}
}

func TestTokensRememberUntilTheirTime(t *testing.T) {
	c, err := NewTokens(10)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Set("a", auth.Verified{Principal: auth.Principal{User: 1}, Until: time.Now().Add(time.Hour)})
	c.Set("gone", auth.Verified{Principal: auth.Principal{User: 2}, Until: time.Now().Add(-time.Second)})
	if v, ok := c.Get("a"); !ok || v.Principal.User != 1 {
		t.Fatalf("Get(a) = %+v, %v", v, ok)
	}
	if _, ok := c.Get("gone"); ok {
		t.Fatal("a token past its time was returned")
	}
	if _, err := NewTokens(0); err == nil {
		t.Fatal("a cache of 0 tokens was made")
	}
}
