package visibility

import (
	"testing"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

func TestCheck(t *testing.T) {
	const author, viewer, now = 1, 2, 10_000
	obj := func(typ schema.Type, aud string) objects.Object {
		return objects.Object{ID: "o", Type: typ, Author: author, Audience: aud, EventID: "e", Until: 20_000}
	}
	friend := graph.Relations{Friends: []int64{author}}
	stranger := graph.Relations{}
	blocked := graph.Relations{Friends: []int64{author}, Blocked: []int64{author}}
	gift := obj(schema.Gift, "private")
	gift.Target = viewer
	ended := obj(schema.Live, "public")
	ended.Ended = true
	past := obj(schema.Live, "public")
	past.Until = 5_000
	deleted := obj(schema.Post, "public")
	deleted.Deleted = true
	for _, c := range []struct {
		name      string
		viewer    int64
		rel       graph.Relations
		o         objects.Object
		now       int64
		ok        bool
		wantGroup string
	}{
		{"public stranger", viewer, stranger, obj(schema.Post, "public"), now, true, ""},
		{"private stranger", viewer, stranger, obj(schema.Post, "private"), now, false, ""},
		{"private friend", viewer, friend, obj(schema.Post, "private"), now, false, ""},
		{"private author", author, stranger, obj(schema.Post, "private"), now, true, ""},
		{"friends stranger", viewer, stranger, obj(schema.Post, "friends"), now, false, ""},
		{"friends friend", viewer, friend, obj(schema.Post, "friends"), now, true, ""},
		{"group stranger", viewer, stranger, obj(schema.Post, "group:g"), now, false, ""},
		{"group friend", viewer, friend, obj(schema.Post, "group:g"), now, true, "g"},
		{"blocked", viewer, blocked, obj(schema.Post, "public"), now, false, ""},
		{"deleted", viewer, friend, deleted, now, false, ""},
		{"gift recipient", viewer, stranger, gift, now, true, ""},
		{"live", viewer, friend, obj(schema.Live, "public"), now, true, ""},
		{"live ended", viewer, friend, ended, now, false, ""},
		{"live past until", viewer, friend, past, now, false, ""},
		{"live ended, now unchecked", viewer, friend, ended, 0, true, ""},
		{"not stored yet", viewer, stranger, objects.Object{ID: "o"}, now, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := Check(c.viewer, &c.rel, &c.o, c.now)
			if v.OK != c.ok || v.Group != c.wantGroup || (v.OK == (v.Reason != "")) {
				t.Fatalf("Check = %+v, want ok %v group %q", v, c.ok, c.wantGroup)
			}
		})
	}
}
