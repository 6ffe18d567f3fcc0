package rankcache

import (
	"strconv"
	"strings"
	"testing"

	"github.com/lenta-dev/lenta/objects"
)

func TestObjectsByteBoundAndReplace(t *testing.T) {
	const bound = 2 * MinBytes
	c, err := NewObjects(bound)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	text := strings.Repeat("x", 4<<10)
	for i := range 2000 {
		c.Set(objects.Object{ID: "o" + strconv.Itoa(i), Text: text})
	}
	c.c.CleanUp()
	if got := c.Bytes(); got > bound {
		t.Fatalf("held %d bytes, bound %d", got, bound)
	}
	if n := c.Len(); n == 0 || n >= 2000 {
		t.Fatalf("held %d objects of 4 KiB under a bound of %d", n, bound)
	}
	c.Set(objects.Object{ID: "k", Text: "a"})
	c.Set(objects.Object{ID: "k", Text: "b", Deleted: true})
	if o, ok := c.Get("k"); !ok || o.Text != "b" || !o.Deleted {
		t.Fatalf("Get(k) = %+v, %v; want the second Set", o, ok)
	}
}

func TestObjectsRefusesATinyBound(t *testing.T) {
	if _, err := NewObjects(MinBytes - 1); err == nil {
		t.Fatal("a bound below MinBytes was accepted")
	}
}

func TestObjectBytesCountsWhatTheObjectHolds(t *testing.T) {
	small := objects.Object{ID: "a"}
	big := objects.Object{ID: "a", Text: strings.Repeat("y", 1000), Media: []string{"m1", "m2"}}
	if d := ObjectBytes(&big) - ObjectBytes(&small); d != 1000+2*(16+2) {
		t.Fatalf("text and media add %d bytes, want %d", d, 1000+2*18)
	}
}
