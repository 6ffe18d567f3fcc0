package workload

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/lenta-dev/lenta/schema"
)

// Mix is the relative weight of each kind of event in the stream. Weights
// need not add up to anything; zero turns a kind off.
type Mix struct {
	Post, Photo, Class, Gift, Live, Delete, Graph float64
}

// DefaultMix is a feed-heavy mix: most events are items and Class marks.
var DefaultMix = Mix{Post: 30, Photo: 20, Class: 30, Gift: 5, Live: 2, Delete: 3, Graph: 10}

// String formats m as ParseMix reads it.
func (m Mix) String() string {
	return fmt.Sprintf("post=%g,photo=%g,class=%g,gift=%g,live=%g,delete=%g,graph=%g",
		m.Post, m.Photo, m.Class, m.Gift, m.Live, m.Delete, m.Graph)
}

// ParseMix reads "post=30,photo=20,...": the kinds named override
// DefaultMix.
func ParseMix(s string) (Mix, error) {
	m := DefaultMix
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return m, fmt.Errorf("mix: %q is not kind=weight", kv)
		}
		w, err := strconv.ParseFloat(v, 64)
		if err != nil || w < 0 {
			return m, fmt.Errorf("mix: weight of %s: %q is not a non-negative number", k, v)
		}
		switch k {
		case "post":
			m.Post = w
		case "photo":
			m.Photo = w
		case "class":
			m.Class = w
		case "gift":
			m.Gift = w
		case "live":
			m.Live = w
		case "delete":
			m.Delete = w
		case "graph":
			m.Graph = w
		default:
			return m, fmt.Errorf("mix: unknown kind %q (post, photo, class, gift, live, delete, graph)", k)
		}
	}
	if m.total() == 0 {
		return m, errors.New("mix: every weight is zero")
	}
	return m, nil
}

func (m Mix) total() float64 {
	return m.Post + m.Photo + m.Class + m.Gift + m.Live + m.Delete + m.Graph
}

// item is a recently published object that Class marks and deletes pick.
type item struct {
	object string
	owner  int64
	live   bool
}

// recentLag keeps Class marks and deletes off the newest items, so they
// usually reach the pipeline after the item they point at.
const recentLag = 256

// recentCap is the ring of items that Class marks and deletes pick from.
const recentCap = 8192

// Stream draws events from a Graph. It is not safe for concurrent use.
type Stream struct {
	g      *Graph
	mix    Mix
	rng    *rand.Rand
	seq    int
	prefix string
	recent []item // ring
	head   int    // items ever added
}

// NewStream starts the event stream of g; stream is a second seed that
// keeps several streams of one graph apart (e.g. load and probes).
func NewStream(g *Graph, mix Mix, stream uint64) *Stream {
	return &Stream{g: g, mix: mix, rng: rand.New(rand.NewPCG(g.Config.Seed^0x9e3779b97f4a7c15, stream)),
		prefix: g.Config.IDPrefix + "-s" + strconv.FormatUint(stream, 10) + "-",
		recent: make([]item, recentCap)}
}

func (s *Stream) id() string {
	s.seq++
	return s.prefix + strconv.Itoa(s.seq)
}

// user picks a random ordinary user.
func (s *Stream) user() int64 { return 1 + s.rng.Int64N(int64(s.g.Config.Users)) }

// author picks who publishes an item: mostly users, some communities, a
// very few large authors.
func (s *Stream) author() int64 {
	x := s.rng.Float64()
	switch {
	case x < 0.005 && len(s.g.Large) > 0:
		return s.g.Large[s.rng.IntN(len(s.g.Large))]
	case x < 0.12 && len(s.g.Communities) > 0:
		return s.g.Communities[s.rng.IntN(len(s.g.Communities))]
	}
	return s.user()
}

func (s *Stream) remember(it item) {
	s.recent[s.head%recentCap] = it
	s.head++
}

// pick returns a recent item (not one of the newest recentLag), or false.
func (s *Stream) pick() (*item, bool) {
	n := min(s.head, recentCap) - recentLag
	if n <= 0 {
		return nil, false
	}
	back := recentLag + s.rng.IntN(n)
	it := &s.recent[(s.head-1-back)%recentCap]
	return it, it.object != ""
}

// Next draws the next event, stamped ts.
func (s *Stream) Next(ts int64) schema.Event {
	m := s.mix
	x := s.rng.Float64() * m.total()
	switch {
	case x < m.Post:
		return s.Post(s.author(), ts)
	case x < m.Post+m.Photo:
		ev := s.Post(s.author(), ts)
		ev.Type, ev.Text = schema.Photo, ""
		ev.Media = []string{"https://img.example/" + ev.ID + ".jpg"}
		return ev
	case x < m.Post+m.Photo+m.Class:
		if it, ok := s.pick(); ok {
			actor := s.user()
			if actor != it.owner {
				return schema.Event{ID: s.id(), Type: schema.Class, Actor: actor, Target: it.owner,
					Object: it.object, TS: ts}
			}
		}
		return s.Post(s.author(), ts)
	case x < m.Post+m.Photo+m.Class+m.Gift:
		from := s.user()
		fr := s.g.Friends(from)
		if len(fr) == 0 {
			return s.Post(from, ts)
		}
		id := s.id()
		return schema.Event{ID: id, Type: schema.Gift, Actor: from, Target: fr[s.rng.IntN(len(fr))],
			Text: "a gift", TS: ts}
	case x < m.Post+m.Photo+m.Class+m.Gift+m.Live:
		// A live alert, or the end of an earlier broadcast.
		if it, ok := s.pick(); ok && it.live {
			it.live = false
			return schema.Event{ID: s.id(), Type: schema.LiveEnd, Actor: it.owner, Object: it.object, TS: ts}
		}
		id := s.id()
		a := s.author()
		s.remember(item{object: id, owner: a, live: true})
		return schema.Event{ID: id, Type: schema.Live, Actor: a, Text: "live now", Until: ts + 3600_000, TS: ts}
	case x < m.Post+m.Photo+m.Class+m.Gift+m.Live+m.Delete:
		if it, ok := s.pick(); ok {
			obj, owner := it.object, it.owner
			it.object = "" // gone: no more marks or deletes
			return schema.Event{ID: s.id(), Type: schema.Delete, Actor: owner, Object: obj, TS: ts}
		}
		return s.Post(s.author(), ts)
	}
	return s.graphChange(ts)
}

// Post is a text post by author (also the probes of the latency scenario).
func (s *Stream) Post(author int64, ts int64) schema.Event {
	id := s.id()
	s.remember(item{object: id, owner: author})
	return schema.Event{ID: id, Type: schema.Post, Actor: author, Text: "post " + id, TS: ts}
}

// graphChange is a new friendship, an unfriend, or a community follow or
// unfollow.
func (s *Stream) graphChange(ts int64) schema.Event {
	a := s.user()
	switch x := s.rng.IntN(10); {
	case x < 5:
		b := s.user()
		if b == a {
			b = a%int64(s.g.Config.Users) + 1
		}
		return schema.Event{ID: s.id(), Type: schema.Friend, Actor: a, Target: b, TS: ts}
	case x < 7:
		if fr := s.g.Friends(a); len(fr) > 0 {
			return schema.Event{ID: s.id(), Type: schema.Unfriend, Actor: a, Target: fr[s.rng.IntN(len(fr))], TS: ts}
		}
	case x < 9:
		if len(s.g.Communities) > 0 {
			c := s.g.Communities[s.rng.IntN(len(s.g.Communities))]
			return schema.Event{ID: s.id(), Type: schema.Follow, Actor: a, Target: c, TS: ts}
		}
	default:
		if len(s.g.Communities) > 0 {
			c := s.g.Communities[s.rng.IntN(len(s.g.Communities))]
			return schema.Event{ID: s.id(), Type: schema.Unfollow, Actor: a, Target: c, TS: ts}
		}
	}
	return s.Post(a, ts)
}

// RandomUser is a uniformly random ordinary user (for readers and probes).
func (s *Stream) RandomUser() int64 { return s.user() }

// RandomFriend is a random friend of u, or 0 when u has none.
func (s *Stream) RandomFriend(u int64) int64 {
	fr := s.g.Friends(u)
	if len(fr) == 0 {
		return 0
	}
	return fr[s.rng.IntN(len(fr))]
}
