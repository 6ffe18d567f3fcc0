package pebblestore

// The values of marks and of counters and counts (their layouts are in
// codec.go's table).

import (
	"encoding/binary"

	"github.com/lenta-dev/lenta/objects"
)

// ---- marks ----

const markV2 = 2 // a mark with a reaction kind

func appendMarkVal(b []byte, m *objects.Mark) []byte {
	var f byte
	if m.On {
		f = 1
	}
	v := byte(valueV1)
	if m.Kind != "" {
		v = markV2
	}
	b = append(b, v, f)
	b = binary.AppendVarint(b, m.Owner)
	b = binary.AppendVarint(b, m.Stamp.TS)
	b = appendStr(b, m.Stamp.ID)
	b = binary.AppendVarint(b, m.Since.TS)
	if m.Kind == "" {
		return append(b, m.Since.ID...)
	}
	b = appendStr(b, m.Since.ID)
	return append(b, m.Kind...)
}

func decodeMarkVal(v []byte, m *objects.Mark) error {
	r := reader{b: v}
	ver := r.u8()
	if r.bad || (ver != valueV1 && ver != markV2) {
		return corrupt("mark: unknown version")
	}
	f := r.u8()
	m.On = f&1 != 0
	m.Owner = r.varint()
	m.Stamp.TS = r.varint()
	m.Stamp.ID = r.str()
	m.Since.TS = r.varint()
	if ver == markV2 {
		m.Since.ID = r.str()
	}
	if r.bad {
		return corrupt("mark")
	}
	if ver == markV2 {
		m.Kind = objects.InternKind(r.tail())
		if m.Kind == "" {
			return corrupt("mark: empty kind")
		}
		return nil
	}
	m.Kind = ""
	m.Since.ID = string(r.tail())
	return nil
}

// markKindOf reads only whether a mark value is on and its kind (a
// slice of v; nil for a Class!), without allocating: MyReactions' decoder.
func markKindOf(v []byte) (on bool, kind []byte, err error) {
	r := reader{b: v}
	ver := r.u8()
	f := r.u8()
	if r.bad || (ver != valueV1 && ver != markV2) {
		return false, nil, corrupt("mark")
	}
	if f&1 == 0 || ver == valueV1 {
		return f&1 != 0, nil, nil
	}
	r.varint()
	r.varint()
	r.bytes()
	r.varint()
	r.bytes()
	if r.bad || len(r.b) == 0 {
		return false, nil, corrupt("mark")
	}
	return true, r.tail(), nil
}

func appendReactsVal(b []byte, other []objects.KindCount) []byte {
	b = append(b, valueV1)
	for _, k := range other {
		b = appendStr(b, k.Kind)
		b = binary.AppendVarint(b, k.N)
	}
	return b
}

// decodeReactsVal appends the counts of v to dst.
func decodeReactsVal(v []byte, dst []objects.KindCount) ([]objects.KindCount, error) {
	r := reader{b: v}
	if err := r.version("reaction counts"); err != nil {
		return dst, err
	}
	for len(r.b) > 0 && !r.bad {
		kind := r.bytes()
		c := r.varint()
		if r.bad || len(kind) == 0 {
			break
		}
		dst = append(dst, objects.KindCount{Kind: objects.InternKind(kind), N: c})
	}
	if r.bad {
		return dst, corrupt("reaction counts")
	}
	return dst, nil
}

// ---- counters ----

func appendCounter(b []byte, n int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(n)) }

// appendCountsVal is an object's counts value: the Class counter, then the
// other kinds' counts if any.
func appendCountsVal(b []byte, class int64, other []objects.KindCount) []byte {
	b = appendCounter(b, class)
	if len(other) == 0 {
		return b
	}
	return appendReactsVal(b, other)
}

// decodeCountsVal reads an object's counts value, appending the other
// kinds' counts to dst.
func decodeCountsVal(v []byte, dst []objects.KindCount) (int64, []objects.KindCount, error) {
	if len(v) < 8 {
		return 0, dst, corrupt("counts")
	}
	class := int64(binary.BigEndian.Uint64(v))
	if len(v) == 8 {
		return class, dst, nil
	}
	dst, err := decodeReactsVal(v[8:], dst)
	return class, dst, err
}

func decodeCounter(v []byte) (int64, error) {
	if len(v) != 8 {
		return 0, corrupt("counter")
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}
