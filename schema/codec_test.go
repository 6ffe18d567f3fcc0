package schema

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.UnixMilli(1_700_000_000_000)

func TestMsgpackRoundTrip(t *testing.T) {
	in := Event{ID: "e1", Type: Photo, Actor: 7, Object: "p1", Audience: "group:close", Text: "hi",
		Media: []string{"m1"}, TS: now.UnixMilli()}
	b, err := MarshalMsgpack(&in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := UnmarshalMsgpack(b)
	if err != nil {
		t.Fatal(err)
	}
	in.V = Version
	if out.ID != in.ID || out.Type != in.Type || out.Actor != in.Actor || out.Audience != in.Audience ||
		out.Text != in.Text || len(out.Media) != 1 || out.TS != in.TS || out.V != Version {
		t.Fatalf("round trip: got %+v want %+v", out, in)
	}
	batch, err := DecodeMsgpackBatch(b)
	if err != nil || len(batch) != 1 || batch[0].ID != "e1" {
		t.Fatalf("batch of one: %v %v", batch, err)
	}
}

func TestMsgpackIgnoresUnknownKeys(t *testing.T) {
	// A v2 producer added a key "mood": a v1 reader must still read the event.
	// {"id":"e1","type":"post","actor":1,"ts":1700000000000,"mood":"x"}
	b := []byte{0x85,
		0xa2, 'i', 'd', 0xa2, 'e', '1',
		0xa4, 't', 'y', 'p', 'e', 0xa4, 'p', 'o', 's', 't',
		0xa5, 'a', 'c', 't', 'o', 'r', 0x01,
		0xa2, 't', 's', 0xcf, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,
		0xa4, 'm', 'o', 'o', 'd', 0xa1, 'x'}
	ev, err := UnmarshalMsgpack(b)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "e1" || ev.Type != Post || ev.Actor != 1 || ev.TS != 1700000000000 {
		t.Fatalf("got %+v", ev)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		json string
	}{
		{"empty", ""},
		{"not json", "hello"},
		{"number", "42"},
		{"truncated", `{"id":"e1"`},
		{"wrong type actor", `{"id":"e1","type":"post","actor":"seven","ts":1}`},
		{"empty array", `[]`},
		{"array of numbers", `[1,2]`},
		{"trailing", `{"id":"e1"} {"id":"e2"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeJSONBatch([]byte(tt.json))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("want ErrMalformed, got %v", err)
			}
		})
	}
	if _, err := DecodeMsgpackBatch([]byte{0xc1}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("msgpack never-used code: %v", err)
	}
	if _, err := DecodeMsgpackBatch([]byte{0x81, 0xa2, 'i'}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("msgpack truncated: %v", err)
	}
	big := "[" + strings.Repeat(`{"id":"x"},`, MaxBatch) + `{"id":"x"}]`
	if _, err := DecodeJSONBatch([]byte(big)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("over batch limit: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ts := now.UnixMilli()
	ok := func(e Event) Event { return e }
	tests := []struct {
		name  string
		ev    Event
		field string // "" means valid
	}{
		{"post", ok(Event{ID: "a", Type: Post, Actor: 1, Text: "x", TS: ts}), ""},
		{"photo", Event{ID: "a", Type: Photo, Actor: 1, Media: []string{"m"}, TS: ts}, ""},
		{"photo no media", Event{ID: "a", Type: Photo, Actor: 1, TS: ts}, "media"},
		{"post empty", Event{ID: "a", Type: Post, Actor: 1, TS: ts}, "text"},
		{"missing id", Event{Type: Post, Actor: 1, Text: "x", TS: ts}, "id"},
		{"bad id", Event{ID: "a b", Type: Post, Actor: 1, Text: "x", TS: ts}, "id"},
		{"long id", Event{ID: strings.Repeat("a", MaxIDLen+1), Type: Post, Actor: 1, Text: "x", TS: ts}, "id"},
		{"missing type", Event{ID: "a", Actor: 1, TS: ts}, "type"},
		{"unknown type", Event{ID: "a", Type: "poke", Actor: 1, TS: ts}, "type"},
		{"missing actor", Event{ID: "a", Type: Post, Text: "x", TS: ts}, "actor"},
		{"negative actor", Event{ID: "a", Type: Post, Actor: -1, Text: "x", TS: ts}, "actor"},
		{"missing ts", Event{ID: "a", Type: Post, Actor: 1, Text: "x"}, "ts"},
		{"ts in seconds", Event{ID: "a", Type: Post, Actor: 1, Text: "x", TS: 1_700_000_000}, "ts"},
		{"ts in future", Event{ID: "a", Type: Post, Actor: 1, Text: "x", TS: ts + 3600_000}, "ts"},
		{"oversize text", Event{ID: "a", Type: Post, Actor: 1, Text: strings.Repeat("x", MaxTextLen+1), TS: ts}, "text"},
		{"bad utf8", Event{ID: "a", Type: Post, Actor: 1, Text: "\xff", TS: ts}, "text"},
		{"too many media", Event{ID: "a", Type: Photo, Actor: 1, Media: make([]string, MaxMedia+1), TS: ts}, "media"},
		{"bad audience", Event{ID: "a", Type: Post, Actor: 1, Text: "x", Audience: "everyone", TS: ts}, "audience"},
		{"group audience", Event{ID: "a", Type: Post, Actor: 1, Text: "x", Audience: "group:family", TS: ts}, ""},
		{"empty group", Event{ID: "a", Type: Post, Actor: 1, Text: "x", Audience: "group:", TS: ts}, "audience"},
		{"friend", Event{ID: "a", Type: Friend, Actor: 1, Target: 2, TS: ts}, ""},
		{"friend self", Event{ID: "a", Type: Friend, Actor: 1, Target: 1, TS: ts}, "target"},
		{"friend no target", Event{ID: "a", Type: Friend, Actor: 1, TS: ts}, "target"},
		{"follow with audience", Event{ID: "a", Type: Follow, Actor: 1, Target: 2, Audience: "public", TS: ts}, "audience"},
		{"class", Event{ID: "a", Type: Class, Actor: 1, Target: 2, Object: "p", TS: ts}, ""},
		{"class own", Event{ID: "a", Type: Class, Actor: 1, Target: 1, Object: "p", TS: ts}, ""},
		{"class no owner", Event{ID: "a", Type: Class, Actor: 1, Object: "p", TS: ts}, "target"},
		{"class no object", Event{ID: "a", Type: Class, Actor: 1, Target: 2, TS: ts}, "object"},
		{"gift", Event{ID: "a", Type: Gift, Actor: 1, Target: 2, Object: "g", TS: ts}, ""},
		{"gift self", Event{ID: "a", Type: Gift, Actor: 1, Target: 1, Object: "g", TS: ts}, "target"},
		{"live", Event{ID: "a", Type: Live, Actor: 1, Object: "b", Until: ts + 1000, TS: ts}, ""},
		{"live ends before start", Event{ID: "a", Type: Live, Actor: 1, Object: "b", Until: ts - 1, TS: ts}, "until"},
		{"until on post", Event{ID: "a", Type: Post, Actor: 1, Text: "x", Until: ts + 1, TS: ts}, "until"},
		{"delete", Event{ID: "a", Type: Delete, Actor: 1, Object: "p", TS: ts}, ""},
		{"delete no object", Event{ID: "a", Type: Delete, Actor: 1, TS: ts}, "object"},
		{"group add", Event{ID: "a", Type: GroupAdd, Actor: 1, Target: 2, Object: "family", TS: ts}, ""},
		{"group add no group", Event{ID: "a", Type: GroupAdd, Actor: 1, Target: 2, TS: ts}, "object"},
		{"future version", Event{V: 9, ID: "a", Type: Post, Actor: 1, Text: "x", TS: ts}, "v"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ev.Validate(now)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("want a ValidationError, got %v", err)
			}
			if ve.Field != tt.field {
				t.Fatalf("want field %q, got %q (%v)", tt.field, ve.Field, err)
			}
		})
	}
}

func TestNormalizeDefaults(t *testing.T) {
	ev := Event{ID: "p1", Type: Post, Actor: 1, Text: "x", TS: now.UnixMilli()}
	if err := ev.Normalize(now); err != nil {
		t.Fatal(err)
	}
	if ev.Object != "p1" || ev.V != Version {
		t.Fatalf("defaults not filled: %+v", ev)
	}
	live := Event{ID: "l1", Type: Live, Actor: 1, TS: now.UnixMilli()}
	if err := live.Normalize(now); err != nil {
		t.Fatal(err)
	}
	if live.Until != live.TS+DefaultLiveFor {
		t.Fatalf("live until default: %d", live.Until)
	}
}
