package e2e

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestComments(t *testing.T) { eachBackend(t, commentsScenario) }

type commentRow struct {
	ID      string `json:"id"`
	Author  int64  `json:"author"`
	Text    string `json:"text"`
	TS      int64  `json:"ts"`
	ReplyTo string `json:"reply_to"`
}

type commentPage struct {
	Items      []commentRow `json:"items"`
	NextCursor string       `json:"next_cursor"`
}

// comments reads one page of an object's thread as user; code is the
// HTTP status.
func (f *feedd) comments(user int64, object, query string) (int, commentPage) {
	f.t.Helper()
	code, body := f.do("GET", "/v1/objects/"+object+"/comments"+query, token(f.t, user, false), "", nil)
	var p commentPage
	if code == http.StatusOK {
		if err := json.Unmarshal(body, &p); err != nil {
			f.t.Fatalf("comments of %s: %v: %s", object, err, body)
		}
	}
	return code, p
}

func commentIDs(p commentPage) string {
	out := make([]string, len(p.Items))
	for i, c := range p.Items {
		out[i] = c.ID
	}
	return strings.Join(out, ",")
}

// eventuallyComments waits until user reads exactly want (ids, newest
// first) in object's thread.
func (f *feedd) eventuallyComments(user int64, object, want string) commentPage {
	f.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, p := f.comments(user, object, "")
		if code == http.StatusOK && commentIDs(p) == want {
			return p
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("comments of %s for %d: %d %q, want %q", object, user, code, commentIDs(p), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// itemOf finds the feed item of event id (nil if absent).
func itemOf(items []item, id string) *item {
	for i := range items {
		if items[i].EventID == id {
			return &items[i]
		}
	}
	return nil
}

// commentsScenario: comment, reply, the thread in both orders with
// cursors, the count on the feed item, the aggregate and notifications,
// a refused comment, comment_delete, and the object's delete.
func commentsScenario(t *testing.T, args []string) {
	f := startFeedd(t, args...)
	const anna, boris, vera, gleb = 1, 2, 3, 4
	ts := time.Now().UnixMilli() - 60_000
	next := func() int64 { ts += 1000; return ts }
	f.publish(
		ev{"id": "cf1", "type": "friend", "actor": anna, "target": boris, "ts": next()},
		ev{"id": "cf2", "type": "friend", "actor": anna, "target": vera, "ts": next()},
	)
	f.publish(ev{"id": "cp1", "type": "post", "actor": anna, "text": "my garden", "audience": "friends", "ts": next()})
	f.eventually(boris, "cp1")
	f.publish(ev{"id": "cc1", "type": "comment", "actor": boris, "object": "cp1", "text": "lovely!", "ts": next()})
	f.eventuallyComments(anna, "cp1", "cc1")
	f.publish(ev{"id": "cc2", "type": "comment", "actor": vera, "object": "cp1", "text": "agreed", "reply_to": "cc1", "ts": next()})
	f.eventuallyComments(anna, "cp1", "cc2,cc1")
	f.publish(ev{"id": "cc3", "type": "comment", "actor": boris, "object": "cp1", "text": "<b>again</b>", "ts": next()},
		// gleb is no friend of anna: her friends-only post is not his to comment on
		ev{"id": "cc4", "type": "comment", "actor": gleb, "object": "cp1", "text": "hi", "ts": next()})
	p := f.eventuallyComments(vera, "cp1", "cc3,cc2,cc1")
	if c := p.Items[1]; c.Author != vera || c.ReplyTo != "cc1" || c.Text != "agreed" {
		t.Fatalf("reply as read: %+v", c)
	}
	if c := p.Items[0]; c.Text != "<b>again</b>" {
		t.Fatalf("text as read: %q", c.Text)
	}

	// oldest first, two at a time, with the cursor
	var got []string
	cursor := ""
	for range 5 {
		code, pg := f.comments(boris, "cp1", "?order=oldest&limit=2&cursor="+cursor)
		if code != http.StatusOK {
			t.Fatalf("paging: %d", code)
		}
		got = append(got, commentIDs(pg))
		if cursor = pg.NextCursor; cursor == "" {
			break
		}
	}
	if strings.Join(got, "|") != "cc1,cc2|cc3" {
		t.Fatalf("oldest first in pages of 2: %v", got)
	}
	// a cursor of boris is no good for vera, nor for the other order
	_, first := f.comments(boris, "cp1", "?limit=1")
	if code, _ := f.comments(vera, "cp1", "?limit=1&cursor="+first.NextCursor); code != http.StatusBadRequest {
		t.Fatalf("a cursor of another viewer: %d, want 400", code)
	}
	if code, _ := f.comments(boris, "cp1", "?order=oldest&cursor="+first.NextCursor); code != http.StatusBadRequest {
		t.Fatalf("a cursor of the other order: %d, want 400", code)
	}
	// gleb may not see the post: no thread (404, as for an unknown object)
	if code, _ := f.comments(gleb, "cp1", ""); code != http.StatusNotFound {
		t.Fatalf("thread of a post gleb may not see: %d, want 404", code)
	}
	if code, _ := f.comments(anna, "nothing-here", ""); code != http.StatusNotFound {
		t.Fatalf("thread of an unknown object: %d, want 404", code)
	}
	f.settle(7)
	var refused []letterRow
	for _, l := range f.letters() {
		if l.EventID == "cc4" {
			refused = append(refused, l)
		}
	}
	if len(refused) != 1 || refused[0].Reason != "not_visible" {
		t.Fatalf("gleb's comment in the dead letters: %+v, want one not_visible", refused)
	}

	// the count on the item, and the aggregate for the commenters' friend
	items := f.feed(anna)
	if it := itemOf(items, "cp1"); it == nil || it.CommentCount != 3 {
		t.Fatalf("anna's post in her feed: %+v, want comment_count 3", it)
	}
	if it := itemOf(items, "cc3"); it == nil || it.Type != "comment" || it.Object != "cp1" ||
		strconv.Itoa(len(it.Actors)) != "2" || it.Actors[0] != boris || it.Actors[1] != vera || it.CommentCount != 3 {
		t.Fatalf("the comment aggregate in anna's feed: %+v (feed %v)", it, ids(items))
	}
	f.eventuallyNotified(anna, "comment", "cp1", boris, vera)
	f.eventuallyNotified(boris, "reply", "cp1", vera)

	// boris deletes his newest comment; anna (the owner) deletes vera's
	f.publish(ev{"id": "cd3", "type": "comment_delete", "actor": boris, "object": "cp1", "comment": "cc3", "ts": next()})
	f.eventuallyComments(anna, "cp1", "cc2,cc1")
	f.publish(ev{"id": "cd2", "type": "comment_delete", "actor": anna, "object": "cp1", "comment": "cc2", "ts": next()},
		// re-delivered comment after its delete: stays deleted
		ev{"id": "cc2", "type": "comment", "actor": vera, "object": "cp1", "text": "agreed", "reply_to": "cc1", "ts": ts - 4000})
	f.eventuallyComments(anna, "cp1", "cc1")
	f.settle(10)
	if it := itemOf(f.feed(anna), "cp1"); it == nil || it.CommentCount != 1 {
		t.Fatalf("after the deletes: %+v, want comment_count 1", it)
	}

	// deleting the post takes its thread, count and aggregates with it
	f.publish(ev{"id": "cdel", "type": "delete", "actor": anna, "object": "cp1", "ts": next()})
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, _ := f.comments(anna, "cp1", "")
		if code == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread of a deleted post: %d, want 404", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, u := range []int64{anna, boris, vera} {
		for _, it := range f.feed(u) {
			if it.Object == "cp1" {
				t.Fatalf("feed of %d still shows %+v", u, it)
			}
		}
	}
}

// eventuallyNotified waits until user's inbox holds a kind notification
// about object whose actors are exactly actors (newest first).
func (f *feedd) eventuallyNotified(user int64, kind, object string, actors ...int64) {
	f.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last []byte
	for {
		code, body := f.do("GET", "/v1/notifications", token(f.t, user, false), "", nil)
		last = body
		var p struct {
			Items []struct {
				Type   string  `json:"type"`
				Object string  `json:"object"`
				Actors []int64 `json:"actors"`
			} `json:"items"`
		}
		if code == http.StatusOK && json.Unmarshal(body, &p) == nil {
			for _, n := range p.Items {
				if n.Type == kind && n.Object == object && len(n.Actors) == len(actors) {
					same := true
					for i := range actors {
						same = same && n.Actors[i] == actors[i]
					}
					if same {
						return
					}
				}
			}
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("notifications of %d: no %s on %s by %v: %s", user, kind, object, actors, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
