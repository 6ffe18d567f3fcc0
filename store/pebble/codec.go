package pebblestore

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

// Value encodings.
//
// Every value starts with a version byte (valueV1). Integers are zigzag
// varints (binary.AppendVarint) unless stated; "str" is a uvarint length and
// the bytes; "tail" is the rest of the value. Ids that the key already holds
// are not repeated. Decoders reject an unknown version and truncated input.
//
//	edge    v, flags(bit0 On), stamp.ts, stamp.id(tail)
//	mark    v, flags(bit0 On), owner, stamp.ts, stamp.id str, since.ts, since.id(tail)
//	mark v2 2, flags(bit0 On), owner, stamp.ts, stamp.id str, since.ts, since.id str, kind(tail)
//	        (v2 only for a kind other than Class!: a Class! mark is written as v1)
//	counts  Class count (8 bytes BE), then only if another kind counts:
//	        v, per kind: kind str, count (kinds ascending, counts > 0);
//	        a Class-only object's value is the 8-byte counter it always was
//	object  v, flags(bit0 Deleted, bit1 Ended), type str, author, target,
//	        audience str, text str, #media uvarint, media str..., ts, until,
//	        eventID str, changed.ts, changed.id(tail)
//	entry   v, kind u8, actor, owner, until, object str, audience(tail)
//	        (ts and id live in the row key)
//	marker  v, ts, event id(tail)
//	dead    v, ts, event id str, reason str, raw(tail)
//	counter 8 bytes big-endian int64 (no version byte)
const valueV1 = 1

// errCorrupt is wrapped by every decoding failure.
var errCorrupt = errors.New("pebblestore: corrupt value")

func corrupt(what string) error { return fmt.Errorf("%w: %s", errCorrupt, what) }

// reader decodes a value; the first failure sticks in bad.
type reader struct {
	b   []byte
	bad bool
	// base, if set, holds the same bytes as b did at the start: str then
	// cuts strings out of it instead of copying.
	base string
}

func (r *reader) u8() byte {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes returns a str without copying.
func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

// str returns a string: a copy, or with base set a substring of base
// (no allocation).
func (r *reader) str() string {
	if r.base == "" {
		return string(r.bytes())
	}
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return ""
	}
	off := len(r.base) - len(r.b) // r.b is always a suffix of base's bytes
	r.b = r.b[n:]
	return r.base[off : off+int(n)]
}

func (r *reader) tail() []byte {
	s := r.b
	r.b = nil
	return s
}

func (r *reader) version(what string) error {
	if v := r.u8(); r.bad || v != valueV1 {
		return corrupt(what + ": unknown version")
	}
	return nil
}

// ---- edges ----

type edgeVal struct {
	on    bool
	stamp schema.Stamp
}

func appendEdgeVal(b []byte, on bool, st schema.Stamp) []byte {
	var f byte
	if on {
		f = 1
	}
	b = append(b, valueV1, f)
	b = binary.AppendVarint(b, st.TS)
	return append(b, st.ID...)
}

func decodeEdgeVal(v []byte) (edgeVal, error) {
	r := reader{b: v}
	if err := r.version("edge"); err != nil {
		return edgeVal{}, err
	}
	f := r.u8()
	ts := r.varint()
	if r.bad {
		return edgeVal{}, corrupt("edge")
	}
	return edgeVal{on: f&1 != 0, stamp: schema.Stamp{TS: ts, ID: string(r.tail())}}, nil
}

// edgeOn reads only the On flag of an edge value.
func edgeOn(v []byte) bool { return len(v) > 1 && v[1]&1 != 0 }

// ---- objects ----

func appendObjectVal(b []byte, o *objects.Object) []byte {
	var f byte
	if o.Deleted {
		f |= 1
	}
	if o.Ended {
		f |= 2
	}
	b = append(b, valueV1, f)
	b = appendStr(b, string(o.Type))
	b = binary.AppendVarint(b, o.Author)
	b = binary.AppendVarint(b, o.Target)
	b = appendStr(b, o.Audience)
	b = appendStr(b, o.Text)
	b = binary.AppendUvarint(b, uint64(len(o.Media)))
	for _, m := range o.Media {
		b = appendStr(b, m)
	}
	b = binary.AppendVarint(b, o.TS)
	b = binary.AppendVarint(b, o.Until)
	b = appendStr(b, o.EventID)
	b = binary.AppendVarint(b, o.Changed.TS)
	return append(b, o.Changed.ID...)
}

func decodeObjectVal(v []byte, o *objects.Object) error {
	return decodeObject(reader{b: v}, o, nil)
}

// decodeObjectIn decodes an object whose value is held both by v and by
// base: its strings are substrings of base, and its media are appended to
// *media (one backing array shared by a batch).
func decodeObjectIn(v []byte, base string, o *objects.Object, media *[]string) error {
	return decodeObject(reader{b: v, base: base}, o, media)
}

func decodeObject(r reader, o *objects.Object, media *[]string) error {
	if err := r.version("object"); err != nil {
		return err
	}
	f := r.u8()
	o.Deleted = f&1 != 0
	o.Ended = f&2 != 0
	o.Type = schema.Type(r.str())
	o.Author = r.varint()
	o.Target = r.varint()
	o.Audience = r.str()
	o.Text = r.str()
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		return corrupt("object media")
	}
	o.Media = nil
	if n > 0 {
		if media == nil {
			o.Media = make([]string, n)
			for i := range o.Media {
				o.Media[i] = r.str()
			}
		} else {
			start := len(*media)
			for range n {
				*media = append(*media, r.str())
			}
			o.Media = (*media)[start:len(*media):len(*media)]
		}
	}
	o.TS = r.varint()
	o.Until = r.varint()
	o.EventID = r.str()
	o.Changed.TS = r.varint()
	if r.bad {
		return corrupt("object")
	}
	if r.base == "" {
		o.Changed.ID = string(r.tail())
	} else {
		o.Changed.ID = r.base[len(r.base)-len(r.b):]
	}
	return nil
}

// ---- timeline entries ----

func appendEntryVal(b []byte, e *timeline.Entry) []byte {
	b = append(b, valueV1, byte(e.Kind))
	b = binary.AppendVarint(b, e.Actor)
	b = binary.AppendVarint(b, e.Owner)
	b = binary.AppendVarint(b, e.Until)
	b = appendStr(b, e.Object)
	return append(b, e.Audience...)
}

// entryView is a decoded entry value whose strings still point into the
// value; Page copies them into one arena.
type entryView struct {
	kind     timeline.Kind
	actor    int64
	owner    int64
	until    int64
	object   []byte
	audience []byte
}

func decodeEntryVal(v []byte, e *entryView) error {
	r := reader{b: v}
	if err := r.version("entry"); err != nil {
		return err
	}
	e.kind = timeline.Kind(r.u8())
	e.actor = r.varint()
	e.owner = r.varint()
	e.until = r.varint()
	e.object = r.bytes()
	if r.bad {
		return corrupt("entry")
	}
	e.audience = r.tail()
	return nil
}

// decodeRow decodes a whole row (key and value) into a freshly allocated
// Entry. Page uses its own allocation-aware path; this one is for the rare
// reads (Delete, tests).
func decodeRow(k, v []byte, e *timeline.Entry) error {
	if len(k) < rowPrefixLen+8+1 {
		return corrupt("row key")
	}
	var ev entryView
	if err := decodeEntryVal(v, &ev); err != nil {
		return err
	}
	e.TS = decodeInv64(k[rowPrefixLen:])
	e.ID = string(appendUninvID(nil, k[rowPrefixLen+8:]))
	e.Kind = ev.kind
	e.Actor = ev.actor
	e.Owner = ev.owner
	e.Until = ev.until
	e.Object = string(ev.object)
	e.Audience = string(ev.audience)
	return nil
}

// ---- markers ----

func appendMarkerVal(b []byte, ts int64, eventID string) []byte {
	b = append(b, valueV1)
	b = binary.AppendVarint(b, ts)
	return append(b, eventID...)
}

// decodeMarkerVal returns the marker's ts and event id (pointing into v).
func decodeMarkerVal(v []byte) (int64, []byte, error) {
	r := reader{b: v}
	if err := r.version("marker"); err != nil {
		return 0, nil, err
	}
	ts := r.varint()
	if r.bad {
		return 0, nil, corrupt("marker")
	}
	return ts, r.tail(), nil
}
