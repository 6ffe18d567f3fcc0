package schema

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// kv is one key and value of an event, in order; duplicates and invalid
// UTF-8 are kept as they are (a Go map or struct could not carry them).
type kv struct {
	k string
	v any // string, int64 or []string
}

// encodeJSON writes the events as JSON by hand, strings raw (unescaped),
// so that invalid UTF-8 reaches the decoder as bytes.
func encodeJSON(evs [][]kv) []byte {
	var b bytes.Buffer
	one := func(ev []kv) {
		b.WriteByte('{')
		for i, p := range ev {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + p.k + `":`)
			switch v := p.v.(type) {
			case string:
				b.WriteString(`"` + v + `"`)
			case int64:
				b.WriteString(strconv.FormatInt(v, 10))
			case []string:
				b.WriteByte('[')
				for j, s := range v {
					if j > 0 {
						b.WriteByte(',')
					}
					b.WriteString(`"` + s + `"`)
				}
				b.WriteByte(']')
			}
		}
		b.WriteByte('}')
	}
	if len(evs) == 1 {
		one(evs[0])
		return b.Bytes()
	}
	b.WriteByte('[')
	for i, ev := range evs {
		if i > 0 {
			b.WriteByte(',')
		}
		one(ev)
	}
	b.WriteByte(']')
	return b.Bytes()
}

func encodeMsgpack(t *testing.T, evs [][]kv) []byte {
	var b bytes.Buffer
	enc := msgpack.NewEncoder(&b)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(evs) != 1 {
		must(enc.EncodeArrayLen(len(evs)))
	}
	for _, ev := range evs {
		must(enc.EncodeMapLen(len(ev)))
		for _, p := range ev {
			must(enc.EncodeString(p.k))
			must(enc.Encode(p.v))
		}
	}
	return b.Bytes()
}

func base() []kv {
	return []kv{{"id", "e1"}, {"type", "post"}, {"actor", int64(1)}, {"ts", int64(1700000000000)}}
}

// TestStrictContractSameInBothEncodings: the same event, in JSON and in
// msgpack, is accepted by both or refused by both with the same message.
func TestStrictContractSameInBothEncodings(t *testing.T) {
	with := func(extra ...kv) []kv { return append(base(), extra...) }
	tests := []struct {
		name string
		evs  [][]kv
		want string // "" = accepted
	}{
		{"exact keys", [][]kv{with(kv{"text", "hi"}, kv{"media", []string{"m1"}})}, ""},
		{"batch", [][]kv{base(), with(kv{"text", "ok"})}, ""},
		{"miscased Text", [][]kv{with(kv{"Text", "hi"})}, `unknown field "Text" (did you mean "text"?)`},
		{"miscased ACTOR", [][]kv{{{"id", "e1"}, {"type", "post"}, {"ACTOR", int64(1)}, {"ts", int64(1)}}}, `unknown field "ACTOR" (did you mean "actor"?)`},
		{"miscased Id", [][]kv{{{"Id", "e1"}, {"type", "post"}}}, `unknown field "Id" (did you mean "id"?)`},
		{"unknown key ignored", [][]kv{with(kv{"mood", "x"})}, ""},
		{"duplicate unknown key", [][]kv{with(kv{"mood", "x"}, kv{"mood", "y"})}, `duplicate field "mood"`},
		{"invalid UTF-8 in an unknown key's value", [][]kv{with(kv{"mood", "\xff"})}, `invalid UTF-8 in field "mood"`},
		{"duplicate key", [][]kv{with(kv{"text", "a"}, kv{"text", "b"})}, `duplicate field "text"`},
		{"duplicate id", [][]kv{with(kv{"id", "e2"})}, `duplicate field "id"`},
		{"invalid UTF-8 in text", [][]kv{with(kv{"text", "a\xffb"})}, `invalid UTF-8 in field "text"`},
		{"invalid UTF-8 in id", [][]kv{{{"id", "e\xc3"}, {"type", "post"}}}, `invalid UTF-8 in field "id"`},
		{"surrogate half as UTF-8 in text", [][]kv{with(kv{"text", "\xed\xa0\x80"})}, `invalid UTF-8 in field "text"`},
		{"invalid UTF-8 in media", [][]kv{with(kv{"media", []string{"ok", "m\xfe"}})}, `invalid UTF-8 in field "media"`},
		{"invalid UTF-8 in a key", [][]kv{with(kv{"te\xffxt", "x"})}, `invalid UTF-8 in a key`},
		{"second event miscased", [][]kv{base(), with(kv{"Text", "x"})}, `event 1: unknown field "Text" (did you mean "text"?)`},
		{"second event duplicate", [][]kv{base(), with(kv{"ts", int64(2)})}, `event 1: duplicate field "ts"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, jerr := DecodeJSONBatch(encodeJSON(tt.evs))
			_, merr := DecodeMsgpackBatch(encodeMsgpack(t, tt.evs))
			for enc, err := range map[string]error{"json": jerr, "msgpack": merr} {
				if tt.want == "" {
					if err != nil {
						t.Errorf("%s: %v, want accepted", enc, err)
					}
					continue
				}
				if !errors.Is(err, ErrMalformed) || !strings.HasSuffix(err.Error(), tt.want) {
					t.Errorf("%s: %v, want ErrMalformed ending %q", enc, err, tt.want)
				}
			}
			if tt.want != "" && jerr != nil && merr != nil && jerr.Error() != merr.Error() {
				t.Errorf("messages differ:\n json    %v\n msgpack %v", jerr, merr)
			}
		})
	}
}

// JSON-only forms of the same faults: escapes encoding/json would have
// turned into U+FFFD, and keys that differ only by escaping.
func TestStrictJSONOnly(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"lone surrogate escape", `{"id":"e1","type":"post","actor":1,"ts":1,"text":"\ud800"}`, "surrogate"},
		{"escaped miscased key", `{"id":"e1","type":"post","actor":1,"ts":1,"\u0054ext":"x"}`, `unknown field "Text" (did you mean "text"?)`},
		{"escaped duplicate key", `{"id":"e1","type":"post","actor":1,"ts":1,"text":"a","\u0074ext":"b"}`, `duplicate field "text"`},
		{"valid escapes", `{"id":"e1","type":"post","actor":1,"ts":1,"text":"\ud83d\ude00 \u00e9"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeJSONBatch([]byte(tt.body))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("%v, want accepted", err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%v, want ErrMalformed containing %q", err, tt.want)
			}
		})
	}
}

// An unknown key's value may be any msgpack, an ext type the decoder does
// not know included: it is skipped, not decoded (forward compatibility).
func TestStrictMsgpackSkipsUnknownValues(t *testing.T) {
	b := encodeMsgpack(t, [][]kv{base()})
	b[0]++                                                             // one more entry
	b = append(b, 0xa1, 'z', 0x92, 0xd4, 0x05, 0x01, 0xc4, 0x01, 0xff) // "z": [fixext1 type 5, bin 0xff]
	if _, err := DecodeMsgpackBatch(b); err != nil {
		t.Fatal(err)
	}
}
