package comments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/visibility"
)

// ErrNotFound: the object is unknown, deleted, or not visible to the
// viewer. The three are one answer, so a thread never tells a viewer that
// an object they may not see exists.
var ErrNotFound = errors.New("object not found")

// MaxPageLimit is the largest page a reader serves.
const MaxPageLimit = 100

// maxScan bounds how many comments one page reads past the ones it
// hides (blocked authors): a page may come back short, with a cursor to
// go on from.
const maxScan = 1000

// Objects is what the reader reads of objects (objects.Store satisfies it).
type Objects interface {
	Get(ctx context.Context, ids []string) ([]objects.Object, error)
}

// Pager pages an object's standing comments (objects.Comments satisfies it).
type Pager interface {
	CommentPage(ctx context.Context, object string, after objects.CommentPos, newest bool, limit int) ([]objects.Comment, error)
}

// Graph is what the reader reads of the social graph.
type Graph interface {
	Relations(ctx context.Context, user int64) (graph.Relations, error)
	InGroup(ctx context.Context, owner int64, group string, member int64) (bool, error)
}

// Comment is one comment as the API shows it.
type Comment struct {
	ID      string `json:"id" msgpack:"id"`
	Author  int64  `json:"author" msgpack:"author"`
	Text    string `json:"text" msgpack:"text"`
	TS      int64  `json:"ts" msgpack:"ts"`
	ReplyTo string `json:"reply_to,omitempty" msgpack:"reply_to,omitempty"`
	// People names the author when they have a profile (NamePeople).
	People []people.Person `json:"people,omitempty" msgpack:"people,omitempty"`
}

// Page is one page of a thread. Next is where to go on from (zero: the
// thread is read to its end).
type Page struct {
	Items []Comment
	Next  objects.CommentPos
}

// Reader reads threads. It is safe for concurrent use.
type Reader struct {
	objects  Objects
	comments Pager
	graph    Graph
	now      func() time.Time
}

// NewReader wires a reader; now is the clock (nil: time.Now).
func NewReader(o Objects, c Pager, g Graph, now func() time.Time) *Reader {
	if now == nil {
		now = time.Now
	}
	return &Reader{objects: o, comments: c, graph: g, now: now}
}

// Page returns up to limit comments of object visible to viewer, strictly
// after after (zero: from the start), newest first or oldest first.
func (r *Reader) Page(ctx context.Context, viewer int64, object string, after objects.CommentPos, newest bool, limit int) (Page, error) {
	if limit <= 0 || limit > MaxPageLimit {
		return Page{}, fmt.Errorf("limit %d is outside 1..%d", limit, MaxPageLimit)
	}
	objs, err := r.objects.Get(ctx, []string{object})
	if err != nil {
		return Page{}, fmt.Errorf("read object: %w", err)
	}
	o := &objs[0]
	if !o.Exists() || o.Deleted {
		return Page{}, ErrNotFound
	}
	rel, err := r.graph.Relations(ctx, viewer)
	if err != nil {
		return Page{}, fmt.Errorf("relations of %d: %w", viewer, err)
	}
	v := visibility.Check(viewer, &rel, o, r.now().UnixMilli())
	if v.OK && v.Group != "" {
		in, err := r.graph.InGroup(ctx, o.Author, v.Group, viewer)
		if err != nil {
			return Page{}, fmt.Errorf("group membership: %w", err)
		}
		v.OK = in
	}
	if !v.OK {
		return Page{}, ErrNotFound
	}
	items := make([]Comment, 0, limit)
	var last objects.CommentPos
	for scanned := 0; len(items) < limit && scanned < maxScan; {
		chunk := limit - len(items) + 1 // one more: tells whether anything follows
		cs, err := r.comments.CommentPage(ctx, object, after, newest, chunk)
		if err != nil {
			return Page{}, fmt.Errorf("read comments: %w", err)
		}
		for i := range cs {
			c := &cs[i]
			if len(items) == limit {
				// A comment follows the page's last: there is more.
				return Page{Items: items, Next: last}, nil
			}
			scanned++
			last = objects.CommentPos{TS: c.TS, ID: c.ID}
			if rel.IsBlocked(c.Author) {
				continue
			}
			items = append(items, Comment{ID: c.ID, Author: c.Author, Text: c.Text, TS: c.TS, ReplyTo: c.ReplyTo})
		}
		if len(cs) < chunk {
			return Page{Items: items}, nil // the end of the thread
		}
		after = last
	}
	return Page{Items: items, Next: last}, nil
}
