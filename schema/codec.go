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
// an array of events.
func DecodeMsgpackBatch(b []byte) ([]Event, error) {
	if len(b) == 0 {
		return nil, malformed("empty body")
	}
	if isMsgpackMap(b[0]) {
		ev, err := UnmarshalMsgpack(b)
		if err != nil {
			return nil, err
		}
		return []Event{ev}, nil
	}
	if !isMsgpackArray(b[0]) {
		return nil, malformed("msgpack body must be an event map or an array of them")
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
// array of events. Values of the wrong JSON type are refused; unknown keys
// are ignored for forward compatibility.
func DecodeJSONBatch(b []byte) ([]Event, error) {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return nil, malformed("empty body")
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
