package schema

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func profileEvent(mod func(ev *Event)) Event {
	ev := Event{ID: "pr1", Type: Profile, Actor: 7, Name: "Анна", Avatar: "https://cdn.example.org/a/7.jpg",
		Lang: "ru", TS: 1_700_000_000_000}
	if mod != nil {
		mod(&ev)
	}
	return ev
}

func TestProfileValidation(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(ev *Event)
		field string // "" valid
	}{
		{"full", nil, ""},
		{"name only", func(ev *Event) { ev.Avatar, ev.Lang = "", "" }, ""},
		{"64 runes", func(ev *Event) { ev.Name = strings.Repeat("ж", 64) }, ""},
		{"emoji with joiners", func(ev *Event) { ev.Name = "Vera 👩‍👩‍👧" }, ""},
		{"ampersand and quotes", func(ev *Event) { ev.Name = `Anna & "Boris"` }, ""},
		{"no name", func(ev *Event) { ev.Name = "" }, "name"},
		{"blank name", func(ev *Event) { ev.Name = "  \u3000 " }, "name"},
		{"65 runes", func(ev *Event) { ev.Name = strings.Repeat("ж", 65) }, "name"},
		{"script in the name", func(ev *Event) { ev.Name = "Anna<script>alert(1)</script>" }, "name"},
		{"newline", func(ev *Event) { ev.Name = "Anna\nBoris" }, "name"},
		{"NUL", func(ev *Event) { ev.Name = "Anna\x00" }, "name"},
		{"bidi override", func(ev *Event) { ev.Name = "Anna\u202egnp.exe" }, "name"},
		{"line separator", func(ev *Event) { ev.Name = "Anna\u2028" }, "name"},
		{"invalid UTF-8", func(ev *Event) { ev.Name = "Anna\xff" }, "name"},
		{"avatar not a URL", func(ev *Event) { ev.Avatar = "my photo" }, "avatar"},
		{"avatar relative", func(ev *Event) { ev.Avatar = "/a/7.jpg" }, "avatar"},
		{"avatar http", func(ev *Event) { ev.Avatar = "http://cdn.example.org/a.jpg" }, "avatar"},
		{"avatar javascript", func(ev *Event) { ev.Avatar = "javascript:alert(1)" }, "avatar"},
		{"avatar data", func(ev *Event) { ev.Avatar = "data:image/png;base64,AAAA" }, "avatar"},
		{"avatar without host", func(ev *Event) { ev.Avatar = "https:///a.jpg" }, "avatar"},
		{"avatar with a password", func(ev *Event) { ev.Avatar = "https://u:p@cdn.example.org/a.jpg" }, "avatar"},
		{"avatar with a quote", func(ev *Event) { ev.Avatar = `https://cdn.example.org/a.jpg" onerror="x` }, "avatar"},
		{"avatar over 1 KiB", func(ev *Event) { ev.Avatar = "https://cdn.example.org/" + strings.Repeat("a", 1024) }, "avatar"},
		{"avatar percent-encoded", func(ev *Event) { ev.Avatar = "https://cdn.example.org/%D0%B0.jpg?s=64#x" }, ""},
		{"lang en-GB", func(ev *Event) { ev.Lang = "en-GB" }, ""},
		{"lang zh-Hant-TW", func(ev *Event) { ev.Lang = "zh-Hant-TW" }, ""},
		{"lang one letter", func(ev *Event) { ev.Lang = "r" }, "lang"},
		{"lang digits first", func(ev *Event) { ev.Lang = "12" }, "lang"},
		{"lang empty subtag", func(ev *Event) { ev.Lang = "en--GB" }, "lang"},
		{"lang trailing dash", func(ev *Event) { ev.Lang = "en-" }, "lang"},
		{"lang underscore", func(ev *Event) { ev.Lang = "en_GB" }, "lang"},
		{"lang long subtag", func(ev *Event) { ev.Lang = "en-abcdefghi" }, "lang"},
		{"target", func(ev *Event) { ev.Target = 8 }, "target"},
		{"object", func(ev *Event) { ev.Object = "o1" }, "object"},
		{"text", func(ev *Event) { ev.Text = "hi" }, "text"},
		{"media", func(ev *Event) { ev.Media = []string{"x"} }, "media"},
		{"audience", func(ev *Event) { ev.Audience = "friends" }, "audience"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := profileEvent(tt.mod)
			err := ev.Normalize(now)
			checkField(t, err, tt.field)
		})
	}
}

func checkField(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want a validation error of %s", err, field)
	}
	if ve.Field != field {
		t.Fatalf("refused %s (%v), want %s", ve.Field, err, field)
	}
}

// TestProfileKeysOnlyOnProfile: the profile's keys on another type are
// refused, so a post cannot smuggle a name change.
func TestProfileKeysOnlyOnProfile(t *testing.T) {
	for _, tt := range []struct {
		field string
		mod   func(ev *Event)
	}{
		{"name", func(ev *Event) { ev.Name = "Anna" }},
		{"avatar", func(ev *Event) { ev.Avatar = "https://x.example/a.jpg" }},
		{"lang", func(ev *Event) { ev.Lang = "ru" }},
	} {
		ev := Event{ID: "p1", Type: Post, Actor: 1, Text: "x", TS: 1_700_000_000_000}
		tt.mod(&ev)
		checkField(t, ev.Normalize(now), tt.field)
	}
}

// TestProfileWire: the new keys travel in both encodings, and an event
// without them encodes byte for byte as before (contract v1 unchanged).
func TestProfileWire(t *testing.T) {
	ev := profileEvent(nil)
	b, err := MarshalMsgpack(&ev)
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalMsgpack(b)
	if err != nil || back.Name != ev.Name || back.Avatar != ev.Avatar || back.Lang != ev.Lang {
		t.Fatalf("msgpack round trip: %+v, %v", back, err)
	}
	evs, err := DecodeJSONBatch([]byte(`{"id":"pr1","type":"profile","actor":7,"name":"Anna","avatar":"https://x.example/a.jpg","lang":"en","ts":1700000000000}`))
	if err != nil || evs[0].Name != "Anna" || evs[0].Avatar != "https://x.example/a.jpg" || evs[0].Lang != "en" {
		t.Fatalf("json: %+v, %v", evs, err)
	}
	if _, err := DecodeJSONBatch([]byte(`{"id":"pr1","type":"profile","actor":7,"Name":"Anna","ts":1700000000000}`)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a miscased key: %v, want malformed", err)
	}
	post := Event{V: 1, ID: "p1", Type: Post, Actor: 1, Text: "x", TS: 1_700_000_000_000}
	pb, err := MarshalMsgpack(&post)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "avatar", "lang"} {
		if strings.Contains(string(pb), k) {
			t.Errorf("a post's msgpack carries %q: %q", k, pb)
		}
	}
}

func FuzzProfileRules(f *testing.F) {
	f.Add("Anna", "https://x.example/a.jpg", "en-GB")
	f.Add("<b>", "javascript:x", "e")
	f.Add("\u202e", "https://u@x/", "zh-Hant-TW")
	f.Fuzz(func(t *testing.T, name, avatar, lang string) {
		if NameProblem(name) == "" {
			if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxNameRunes || strings.ContainsAny(name, "<>\n\r\t\x00") {
				t.Fatalf("accepted name %q", name)
			}
		}
		if AvatarProblem(avatar) == "" {
			if !strings.HasPrefix(strings.ToLower(avatar), "https://") || len(avatar) > MaxAvatarLen || strings.ContainsAny(avatar, " \"<>\\`") {
				t.Fatalf("accepted avatar %q", avatar)
			}
		}
		if LangProblem(lang) == "" && (len(lang) < 2 || len(lang) > MaxLangLen || strings.Contains(lang, "--")) {
			t.Fatalf("accepted lang %q", lang)
		}
	})
}
