package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/vmihailenco/msgpack/v5"
)

// MaxBatch is the most events one request or message may carry.
const MaxBatch = 1000

// MaxDepth is how deeply maps (objects) and arrays may nest in a message,
// the outermost one included, in both encodings. An event needs 2 (its map
// and media), a batch 3; the rest is room for keys a later version may add.
// Deeper input is refused before it is decoded, so a small body cannot make
// the decoder recurse a million levels deep.
const MaxDepth = 32

// ErrMalformed is wrapped by every decoding error: the bytes are not a
// well-formed event or array of events in the claimed encoding.
var ErrMalformed = errors.New("malformed event encoding")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// MarshalMsgpack encodes one event as a msgpack map with the short keys.
func MarshalMsgpack(ev *Event) ([]byte, error) {
	if ev.V == 0 {
		cp := *ev
		cp.V = Version
		ev = &cp
	}
	b, err := msgpack.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode event %q: %w", ev.ID, err)
	}
	return b, nil
}

// UnmarshalMsgpack decodes one event from a msgpack map. Unknown keys are
// skipped (a newer producer may add fields); trailing bytes are refused.
func UnmarshalMsgpack(b []byte) (Event, error) {
	var ev Event
	if len(b) == 0 {
		return ev, malformed("empty message")
	}
	if !isMsgpackMap(b[0]) {
		return ev, malformed("msgpack event must be a map")
	}
	if _, err := scanMsgpack(b); err != nil {
		return ev, err
	}
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&ev); err != nil {
		return Event{}, malformed("msgpack: %v", err)
	}
	if dec.Buffered().(*bytes.Reader).Len() > 0 {
		return Event{}, malformed("msgpack: trailing bytes after the event")
	}
	return ev, nil
}

// DecodeMsgpackBatch decodes a msgpack body that holds one event (a map) or
// an array of events, under the same strict contract as DecodeJSONBatch.
func DecodeMsgpackBatch(b []byte) ([]Event, error) {
	if len(b) == 0 {
		return nil, malformed("empty body")
	}
	if isMsgpackMap(b[0]) {
		if _, err := scanMsgpack(b); err != nil {
			return nil, err
		}
		if err := strictMsgpack(b); err != nil {
			return nil, err
		}
		ev, err := UnmarshalMsgpack(b)
		if err != nil {
			return nil, err
		}
		return []Event{ev}, nil
	}
	if !isMsgpackArray(b[0]) {
		return nil, malformed("msgpack body must be an event map or an array of them")
	}
	if _, err := scanMsgpack(b); err != nil {
		return nil, err
	}
	if err := strictMsgpack(b); err != nil {
		return nil, err
	}
	r := bytes.NewReader(b)
	dec := msgpack.NewDecoder(r)
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return nil, malformed("msgpack: %v", err)
	}
	if n > MaxBatch {
		return nil, malformed("%d events is over the batch limit of %d", n, MaxBatch)
	}
	if n <= 0 {
		return nil, malformed("empty array")
	}
	evs := make([]Event, n)
	for i := range evs {
		c, err := dec.PeekCode()
		if err != nil {
			return nil, malformed("msgpack: event %d: %v", i, err)
		}
		if !isMsgpackMap(c) {
			return nil, malformed("msgpack: event %d is not a map", i)
		}
		if err := dec.Decode(&evs[i]); err != nil {
			return nil, malformed("msgpack: event %d: %v", i, err)
		}
	}
	if r.Len() > 0 {
		return nil, malformed("msgpack: trailing bytes after the array")
	}
	return evs, nil
}

// DecodeJSONBatch decodes a JSON body that holds one event (an object) or an
// array of events. Values of the wrong JSON type are refused, and so is
// whatever breaks the strict contract (strict.go): unknown, miscased or
// duplicate keys, invalid UTF-8.
func DecodeJSONBatch(b []byte) ([]Event, error) {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return nil, malformed("empty body")
	}
	if err := checkJSONDepth(b); err != nil {
		return nil, err
	}
	if err := strictJSON(b); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var evs []Event
	switch b[0] {
	case '{':
		var ev Event
		if err := dec.Decode(&ev); err != nil {
			return nil, malformed("json: %v", err)
		}
		evs = []Event{ev}
	case '[':
		var raw []json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, malformed("json: %v", err)
		}
		if len(raw) == 0 {
			return nil, malformed("empty array")
		}
		if len(raw) > MaxBatch {
			return nil, malformed("%d events is over the batch limit of %d", len(raw), MaxBatch)
		}
		evs = make([]Event, len(raw))
		for i, r := range raw {
			if len(r) == 0 || r[0] != '{' {
				return nil, malformed("json: event %d is not an object", i)
			}
			if err := json.Unmarshal(r, &evs[i]); err != nil {
				return nil, malformed("json: event %d: %v", i, err)
			}
		}
	default:
		return nil, malformed("json body must be an event object or an array of them")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("json: trailing data after the body")
	}
	return evs, nil
}

func isMsgpackMap(c byte) bool   { return c&0xf0 == 0x80 || c == 0xde || c == 0xdf }
func isMsgpackArray(c byte) bool { return c&0xf0 == 0x90 || c == 0xdc || c == 0xdd }

// scanMsgpack walks the first msgpack value of b without recursion and
// returns its length in bytes. It refuses containers nested deeper than
// MaxDepth, the never-used code 0xc1, and lengths or element counts that
// claim more bytes than b holds (so the decoder after it neither recurses
// deeply nor allocates for data that is not there).
func scanMsgpack(b []byte) (int, error) {
	var left [MaxDepth]uint64 // elements still to come in each open container
	depth, i := 0, 0
	truncated := func() (int, error) { return 0, malformed("msgpack: truncated") }
	for {
		if i >= len(b) {
			return truncated()
		}
		c := b[i]
		i++
		var size int  // bytes of the length field that follows c
		var extra int // fixed payload bytes after the length field
		var elems int // 0: no container; 1: array; 2: map (elements per entry)
		var n uint64  // entries of a container, or payload bytes
		switch {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3: // fixint, nil, bool
		case c&0xf0 == 0x80:
			elems, n = 2, uint64(c&0x0f)
		case c&0xf0 == 0x90:
			elems, n = 1, uint64(c&0x0f)
		case c&0xe0 == 0xa0:
			n = uint64(c & 0x1f)
		case c == 0xc4 || c == 0xd9: // bin8, str8
			size = 1
		case c == 0xc5 || c == 0xda:
			size = 2
		case c == 0xc6 || c == 0xdb:
			size = 4
		case c == 0xc7: // ext8: length, then the type byte
			size, extra = 1, 1
		case c == 0xc8:
			size, extra = 2, 1
		case c == 0xc9:
			size, extra = 4, 1
		case c == 0xcc || c == 0xd0:
			extra = 1
		case c == 0xcd || c == 0xd1:
			extra = 2
		case c == 0xca || c == 0xce || c == 0xd2:
			extra = 4
		case c == 0xcb || c == 0xcf || c == 0xd3:
			extra = 8
		case c >= 0xd4 && c <= 0xd8: // fixext 1, 2, 4, 8, 16 and the type byte
			extra = 1 + 1<<(c-0xd4)
		case c == 0xdc:
			size, elems = 2, 1
		case c == 0xdd:
			size, elems = 4, 1
		case c == 0xde:
			size, elems = 2, 2
		case c == 0xdf:
			size, elems = 4, 2
		default: // 0xc1
			return 0, malformed("msgpack: invalid code 0x%02x at byte %d", c, i-1)
		}
		if size > 0 {
			if len(b)-i < size {
				return truncated()
			}
			for _, x := range b[i : i+size] {
				n = n<<8 | uint64(x)
			}
			i += size
		}
		rest := uint64(len(b) - i)
		if elems == 0 {
			if n > rest || uint64(extra) > rest-n {
				return truncated()
			}
			i += int(n) + extra
		} else if n > 0 {
			n *= uint64(elems)
			if n > rest { // every element takes at least one byte
				return truncated()
			}
			if depth == MaxDepth {
				return 0, malformed("msgpack: nested deeper than %d levels", MaxDepth)
			}
			left[depth] = n
			depth++
			continue
		}
		// A whole value ended: count it in the containers it completes.
		for {
			if depth == 0 {
				return i, nil
			}
			left[depth-1]--
			if left[depth-1] > 0 {
				break
			}
			depth--
		}
	}
}

// checkJSONDepth refuses JSON whose objects and arrays nest deeper than
// MaxDepth. It only counts brackets outside strings; the decoder checks
// the rest.
func checkJSONDepth(b []byte) error {
	depth := 0
	in := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if in {
			switch c {
			case '\\':
				i++
			case '"':
				in = false
			}
			continue
		}
		switch c {
		case '"':
			in = true
		case '[', '{':
			if depth++; depth > MaxDepth {
				return malformed("json: nested deeper than %d levels", MaxDepth)
			}
		case ']', '}':
			depth--
		}
	}
	return nil
}
