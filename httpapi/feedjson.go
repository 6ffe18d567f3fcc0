package httpapi

import (
	"math"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/timeline"
)

// jsonFeed encodes a feed page in JSON without reflection: encoding/json
// walks timeline.Item's fields by reflection and allocates on the way;
// this appends the same document (the keys, order and omitempty rules of
// timeline.Item's json tags) straight into the response buffer.
// TestJSONFeedMatchesReflection and FuzzJSONFeed keep the two in step.
type jsonFeed feedBody

// jsonAppender is a reply body that writes its own JSON.
type jsonAppender interface {
	AppendJSON(dst []byte) []byte
}

var _ jsonAppender = (*jsonFeed)(nil)

// AppendJSON appends the page and a newline (as json.Encoder does).
func (b *jsonFeed) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"items":[`...)
	for i := range b.Items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendItemJSON(dst, &b.Items[i])
	}
	dst = append(dst, `],"next_cursor":`...)
	dst = appendJSONString(dst, b.NextCursor)
	return append(dst, "}\n"...)
}

func appendItemJSON(dst []byte, it *timeline.Item) []byte {
	dst = append(dst, `{"event_id":`...)
	dst = appendJSONString(dst, it.EventID)
	dst = append(dst, `,"type":`...)
	dst = appendJSONString(dst, it.Type)
	dst = append(dst, `,"actor":`...)
	dst = strconv.AppendInt(dst, it.Actor, 10)
	dst = append(dst, `,"object":`...)
	dst = appendJSONString(dst, it.Object)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, it.TS, 10)
	if it.Owner != 0 {
		dst = append(dst, `,"owner":`...)
		dst = strconv.AppendInt(dst, it.Owner, 10)
	}
	if it.Audience != "" {
		dst = append(dst, `,"audience":`...)
		dst = appendJSONString(dst, it.Audience)
	}
	if it.Text != "" {
		dst = append(dst, `,"text":`...)
		dst = appendJSONString(dst, it.Text)
	}
	if len(it.Media) > 0 {
		dst = append(dst, `,"media":[`...)
		for i, m := range it.Media {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, m)
		}
		dst = append(dst, ']')
	}
	if it.Until != 0 {
		dst = append(dst, `,"until":`...)
		dst = strconv.AppendInt(dst, it.Until, 10)
	}
	if it.Live {
		dst = append(dst, `,"live":true`...)
	}
	dst = append(dst, `,"class_count":`...)
	dst = strconv.AppendInt(dst, it.ClassCount, 10)
	dst = append(dst, `,"comment_count":`...)
	dst = strconv.AppendInt(dst, it.CommentCount, 10)
	if len(it.Reactions) > 0 {
		dst = append(dst, `,"reactions":[`...)
		for i, k := range it.Reactions {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"kind":`...)
			dst = appendJSONString(dst, k.Kind)
			dst = append(dst, `,"count":`...)
			dst = strconv.AppendInt(dst, k.N, 10)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if it.ReactionCount != 0 {
		dst = append(dst, `,"reaction_count":`...)
		dst = strconv.AppendInt(dst, it.ReactionCount, 10)
	}
	if it.MyReaction != "" {
		dst = append(dst, `,"my_reaction":`...)
		dst = appendJSONString(dst, it.MyReaction)
	}
	if len(it.Actors) > 0 {
		dst = append(dst, `,"actors":[`...)
		for i, a := range it.Actors {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendInt(dst, a, 10)
		}
		dst = append(dst, ']')
	}
	if it.ActorCount != 0 {
		dst = append(dst, `,"actor_count":`...)
		dst = strconv.AppendInt(dst, int64(it.ActorCount), 10)
	}
	if it.ObjectType != "" {
		dst = append(dst, `,"object_type":`...)
		dst = appendJSONString(dst, it.ObjectType)
	}
	if x := it.Explain; x != nil {
		dst = append(dst, `,"explain":{"score":`...)
		dst = appendJSONFloat(dst, x.Score)
		dst = append(dst, `,"type_weight":`...)
		dst = appendJSONFloat(dst, x.TypeWeight)
		dst = append(dst, `,"live_boost":`...)
		dst = appendJSONFloat(dst, x.LiveBoost)
		dst = append(dst, `,"affinity":`...)
		dst = appendJSONFloat(dst, x.Affinity)
		dst = append(dst, `,"freshness":`...)
		dst = appendJSONFloat(dst, x.Freshness)
		dst = append(dst, `,"engagement":`...)
		dst = appendJSONFloat(dst, x.Engagement)
		dst = append(dst, `,"diversity":`...)
		dst = appendJSONFloat(dst, x.Diversity)
		dst = append(dst, '}')
	}
	if len(it.People) > 0 {
		dst = appendPeopleJSON(append(dst, `,"people":`...), it.People)
	}
	return append(dst, '}')
}

// appendPeopleJSON appends the people an item names (people.Person's
// json tags).
func appendPeopleJSON(dst []byte, ps []people.Person) []byte {
	dst = append(dst, '[')
	for i := range ps {
		p := &ps[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"id":`...)
		dst = strconv.AppendInt(dst, p.ID, 10)
		dst = append(dst, `,"name":`...)
		dst = appendJSONString(dst, p.Name)
		if p.Avatar != "" {
			dst = append(dst, `,"avatar":`...)
			dst = appendJSONString(dst, p.Avatar)
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// appendJSONString quotes s; invalid UTF-8 (which ingestion refuses, so
// stored text has none) becomes U+FFFD, as encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	dst, _ = jsontext.AppendQuote(dst, s)
	return dst
}

// appendJSONFloat formats f as encoding/json does: the shortest decimal
// that reads back as f, in exponent form below 1e-6 or from 1e21, with a
// one-digit exponent where it fits (1e-07 -> 1e-7). NaN and infinities,
// which encoding/json refuses and no factor can be, are written as null.
func appendJSONFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
