package httpapi

import (
	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

// msgpackFeed encodes a feed page in msgpack without reflection. The
// reflective encoder allocates for every omitempty field it checks (about
// ten per item); this writes the same bytes — the keys and order of
// timeline.Item's msgpack tags, compact integers — with none.
// TestMsgpackFeedMatchesReflection keeps the two in step.
type msgpackFeed feedBody

var _ schema.MsgpackStreamer = (*msgpackFeed)(nil)

// StreamMsgpack implements schema.MsgpackStreamer.
func (b *msgpackFeed) StreamMsgpack(w *schema.MsgpackWriter) {
	w.MapLen(2)
	w.String("items")
	w.ArrayLen(len(b.Items))
	for i := range b.Items {
		streamItem(w, &b.Items[i])
	}
	w.String("next_cursor")
	w.String(b.NextCursor)
}

func streamItem(w *schema.MsgpackWriter, it *timeline.Item) {
	n := 7 // event_id, type, actor, object, ts, class_count, comment_count are always written
	for _, present := range [...]bool{it.Owner != 0, it.Audience != "", it.Text != "", len(it.Media) > 0,
		it.Until != 0, it.Live, len(it.Reactions) > 0, it.ReactionCount != 0, it.MyReaction != "", len(it.Actors) > 0,
		it.ActorCount != 0, it.ObjectType != "", it.Explain != nil, len(it.People) > 0} {
		if present {
			n++
		}
	}
	w.MapLen(n)
	w.String("event_id")
	w.String(it.EventID)
	w.String("type")
	w.String(it.Type)
	w.String("actor")
	w.Int(it.Actor)
	w.String("object")
	w.String(it.Object)
	w.String("ts")
	w.Int(it.TS)
	if it.Owner != 0 {
		w.String("owner")
		w.Int(it.Owner)
	}
	if it.Audience != "" {
		w.String("audience")
		w.String(it.Audience)
	}
	if it.Text != "" {
		w.String("text")
		w.String(it.Text)
	}
	if len(it.Media) > 0 {
		w.String("media")
		w.ArrayLen(len(it.Media))
		for _, m := range it.Media {
			w.String(m)
		}
	}
	if it.Until != 0 {
		w.String("until")
		w.Int(it.Until)
	}
	if it.Live {
		w.String("live")
		w.Bool(true)
	}
	w.String("class_count")
	w.Int(it.ClassCount)
	w.String("comment_count")
	w.Int(it.CommentCount)
	if len(it.Reactions) > 0 {
		w.String("reactions")
		w.ArrayLen(len(it.Reactions))
		for _, k := range it.Reactions {
			w.MapLen(2)
			w.String("kind")
			w.String(k.Kind)
			w.String("count")
			w.Int(k.N)
		}
	}
	if it.ReactionCount != 0 {
		w.String("reaction_count")
		w.Int(it.ReactionCount)
	}
	if it.MyReaction != "" {
		w.String("my_reaction")
		w.String(it.MyReaction)
	}
	if len(it.Actors) > 0 {
		w.String("actors")
		w.ArrayLen(len(it.Actors))
		for _, a := range it.Actors {
			w.Int(a)
		}
	}
	if it.ActorCount != 0 {
		w.String("actor_count")
		w.Int(int64(it.ActorCount))
	}
	if it.ObjectType != "" {
		w.String("object_type")
		w.String(it.ObjectType)
	}
	if x := it.Explain; x != nil {
		w.String("explain")
		w.MapLen(7)
		for _, kv := range [...]struct {
			k string
			v float64
		}{{"score", x.Score}, {"type_weight", x.TypeWeight}, {"live_boost", x.LiveBoost}, {"affinity", x.Affinity},
			{"freshness", x.Freshness}, {"engagement", x.Engagement}, {"diversity", x.Diversity}} {
			w.String(kv.k)
			w.Float64(kv.v)
		}
	}
	if len(it.People) > 0 {
		w.String("people")
		streamPeople(w, it.People)
	}
}

// streamPeople writes the people an item names (people.Person's msgpack
// tags).
func streamPeople(w *schema.MsgpackWriter, ps []people.Person) {
	w.ArrayLen(len(ps))
	for i := range ps {
		p := &ps[i]
		n := 2
		if p.Avatar != "" {
			n++
		}
		w.MapLen(n)
		w.String("id")
		w.Int(p.ID)
		w.String("name")
		w.String(p.Name)
		if p.Avatar != "" {
			w.String("avatar")
			w.String(p.Avatar)
		}
	}
}
