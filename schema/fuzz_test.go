package schema

import (
	"testing"
)

func FuzzDecodeJSONBatch(f *testing.F) {
	f.Add([]byte(`{"id":"e1","type":"post","actor":1,"text":"x","ts":1700000000000}`))
	f.Add([]byte(`[{"id":"e1","type":"friend","actor":1,"target":2,"ts":1700000000000}]`))
	f.Add([]byte(`[{"id":1}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := DecodeJSONBatch(b)
		if err != nil {
			return
		}
		if len(evs) == 0 || len(evs) > MaxBatch {
			t.Fatalf("decoded %d events without error", len(evs))
		}
		for i := range evs {
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
