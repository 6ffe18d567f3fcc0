package httpapi

import (
	"github.com/vmihailenco/msgpack/v5"

	"github.com/lenta-dev/lenta/timeline"
)

// msgpackFeed encodes a feed page in msgpack without reflection. The
// reflective encoder allocates for every omitempty field it checks (about
// ten per item); this writes the same bytes — the keys and order of
// timeline.Item's msgpack tags, compact integers — with none.
// TestMsgpackFeedMatchesReflection keeps the two in step.
type msgpackFeed feedBody

var _ msgpack.CustomEncoder = (*msgpackFeed)(nil)

// EncodeMsgpack implements msgpack.CustomEncoder.
func (b *msgpackFeed) EncodeMsgpack(enc *msgpack.Encoder) error {
	w := msgpackWriter{enc: enc}
	w.mapLen(2)
	w.str("items")
	if err := w.enc.EncodeArrayLen(len(b.Items)); err != nil {
		return err
	}
	for i := range b.Items {
		w.item(&b.Items[i])
	}
	w.str("next_cursor")
	w.str(b.NextCursor)
	return w.err
}

// msgpackWriter keeps the first encoding error.
type msgpackWriter struct {
	enc *msgpack.Encoder
	err error
}

func (w *msgpackWriter) keep(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *msgpackWriter) mapLen(n int) { w.keep(w.enc.EncodeMapLen(n)) }
func (w *msgpackWriter) str(s string) { w.keep(w.enc.EncodeString(s)) }
func (w *msgpackWriter) int(n int64)  { w.keep(w.enc.EncodeInt(n)) }

func (w *msgpackWriter) item(it *timeline.Item) {
	n := 6 // event_id, type, actor, object, ts, class_count are always written
	for _, present := range [...]bool{it.Owner != 0, it.Audience != "", it.Text != "", len(it.Media) > 0,
		it.Until != 0, it.Live, len(it.Actors) > 0, it.ActorCount != 0, it.ObjectType != "", it.Explain != nil} {
		if present {
			n++
		}
	}
	w.mapLen(n)
	w.str("event_id")
	w.str(it.EventID)
	w.str("type")
	w.str(it.Type)
	w.str("actor")
	w.int(it.Actor)
	w.str("object")
	w.str(it.Object)
	w.str("ts")
	w.int(it.TS)
	if it.Owner != 0 {
		w.str("owner")
		w.int(it.Owner)
	}
	if it.Audience != "" {
		w.str("audience")
		w.str(it.Audience)
	}
	if it.Text != "" {
		w.str("text")
		w.str(it.Text)
	}
	if len(it.Media) > 0 {
		w.str("media")
		w.keep(w.enc.EncodeArrayLen(len(it.Media)))
		for _, m := range it.Media {
			w.str(m)
		}
	}
	if it.Until != 0 {
		w.str("until")
		w.int(it.Until)
	}
	if it.Live {
		w.str("live")
		w.keep(w.enc.EncodeBool(true))
	}
	w.str("class_count")
	w.int(it.ClassCount)
	if len(it.Actors) > 0 {
		w.str("actors")
		w.keep(w.enc.EncodeArrayLen(len(it.Actors)))
		for _, a := range it.Actors {
			w.int(a)
		}
	}
	if it.ActorCount != 0 {
		w.str("actor_count")
		w.int(int64(it.ActorCount))
	}
	if it.ObjectType != "" {
		w.str("object_type")
		w.str(it.ObjectType)
	}
	if x := it.Explain; x != nil {
		w.str("explain")
		w.mapLen(7)
		for _, kv := range [...]struct {
			k string
			v float64
		}{{"score", x.Score}, {"type_weight", x.TypeWeight}, {"live_boost", x.LiveBoost}, {"affinity", x.Affinity},
			{"freshness", x.Freshness}, {"engagement", x.Engagement}, {"diversity", x.Diversity}} {
			w.str(kv.k)
			w.keep(w.enc.EncodeFloat64(kv.v))
		}
	}
}
