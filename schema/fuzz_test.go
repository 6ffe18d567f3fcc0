package schema

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzDecodeJSONBatch(f *testing.F) {
	f.Add([]byte(`{"id":"e1","type":"post","actor":1,"text":"x","ts":1700000000000}`))
	f.Add([]byte(`[{"id":"e1","type":"friend","actor":1,"target":2,"ts":1700000000000}]`))
	f.Add([]byte(`[{"id":1}]`))
	f.Add([]byte(`{"id":"e1","type":"post","actor":1,"Text":"x","ts":1700000000000}`))
	f.Add([]byte(`{"id":"e1","type":"post","actor":1,"text":"\ud800","ts":1700000000000}`))
	f.Add([]byte(`{"id":"e1","id":"e2","type":"post","actor":1,"ts":1700000000000}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := DecodeJSONBatch(b)
		if err != nil {
			return
		}
		if len(evs) == 0 || len(evs) > MaxBatch {
			t.Fatalf("decoded %d events without error", len(evs))
		}
		for i := range evs {
			if !utf8.ValidString(evs[i].ID) || !utf8.ValidString(evs[i].Text) || !utf8.ValidString(string(evs[i].Type)) {
				t.Fatalf("accepted invalid UTF-8: %+v", evs[i])
			}
			_ = evs[i].Validate(now) // must not panic
			// A decoded event re-encodes and decodes to the same event.
			mb, err := MarshalMsgpack(&evs[i])
			if err != nil {
				t.Fatal(err)
			}
			back, err := UnmarshalMsgpack(mb)
			if err != nil {
				t.Fatalf("re-decode: %v", err)
			}
			if back.ID != evs[i].ID || back.Actor != evs[i].Actor || back.Type != evs[i].Type || back.TS != evs[i].TS {
				t.Fatalf("round trip changed the event: %+v vs %+v", back, evs[i])
			}
		}
	})
}

func FuzzDecodeMsgpackBatch(f *testing.F) {
	ev := Event{ID: "e1", Type: Post, Actor: 1, Text: "x", TS: 1700000000000}
	b, _ := MarshalMsgpack(&ev)
	f.Add(b)
	f.Add(append([]byte{0x91}, b...))
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := DecodeMsgpackBatch(b)
		if err != nil {
			return
		}
		if len(evs) == 0 || len(evs) > MaxBatch {
			t.Fatalf("decoded %d events without error", len(evs))
		}
		for i := range evs {
			_ = evs[i].Validate(now)
		}
	})
}

// FuzzStrictSameInBothEncodings: an event with one more key and string
// value, in JSON and in msgpack, is accepted by both or refused by both
// with the same message, and what is accepted is valid UTF-8.
func FuzzStrictSameInBothEncodings(f *testing.F) {
	f.Add("text", "hi")
	f.Add("Text", "hi")
	f.Add("ACTOR", "x")
	f.Add("text", "a\xffb")
	f.Add("te\xffxt", "x")
	f.Add("id", "dup")
	f.Add("audience", "group:close")
	f.Fuzz(func(t *testing.T, k, v string) {
		// Keep to what both encodings can carry raw: JSON strings written
		// unescaped must not hold '"', '\\' or control characters.
		for _, s := range []string{k, v} {
			for i := 0; i < len(s); i++ {
				if s[i] < 0x20 || s[i] == '"' || s[i] == '\\' {
					t.Skip()
				}
			}
		}
		evs := [][]kv{append(base(), kv{k, v})}
		jevs, jerr := DecodeJSONBatch(encodeJSON(evs))
		_, merr := DecodeMsgpackBatch(encodeMsgpack(t, evs))
		if (jerr == nil) != (merr == nil) {
			t.Fatalf("json %v, msgpack %v", jerr, merr)
		}
		// The contract's refusals read the same; a value of the wrong type
		// is worded by each encoding's decoder.
		if jerr != nil && (contractRefusal(jerr) || contractRefusal(merr)) && jerr.Error() != merr.Error() {
			t.Fatalf("messages differ: json %v, msgpack %v", jerr, merr)
		}
		if jerr == nil && (!utf8.ValidString(jevs[0].Text) || !utf8.ValidString(string(jevs[0].Type)) || !utf8.ValidString(jevs[0].Audience)) {
			t.Fatalf("accepted invalid UTF-8: %+v", jevs[0])
		}
	})
}

func contractRefusal(err error) bool {
	m := err.Error()
	return strings.Contains(m, "unknown field") || strings.Contains(m, "duplicate field") || strings.Contains(m, "invalid UTF-8")
}
