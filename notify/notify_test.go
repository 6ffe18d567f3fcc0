package notify

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func validSubJSON(t testing.TB) (string, string, string) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()),
		base64.RawURLEncoding.EncodeToString(make([]byte, 16)), base64.StdEncoding.EncodeToString(k.PublicKey().Bytes())
}

func TestDecodeSubscription(t *testing.T) {
	p, a, pStd := validSubJSON(t)
	offCurve := make([]byte, 65)
	offCurve[0] = 4
	bad := base64.RawURLEncoding.EncodeToString(offCurve)
	tests := []struct {
		name, body string
		http       bool
		ok         bool
	}{
		{"valid", `{"endpoint":"https://push.example/a","expirationTime":null,"keys":{"p256dh":"` + p + `","auth":"` + a + `"},"lang":"ru-RU"}`, false, true},
		{"std base64 keys", `{"endpoint":"https://push.example/a","keys":{"p256dh":"` + pStd + `","auth":"` + a + `=="}}`, false, true},
		{"http refused", `{"endpoint":"http://push.example/a","keys":{"p256dh":"` + p + `","auth":"` + a + `"}}`, false, false},
		{"http allowed", `{"endpoint":"http://push.example/a","keys":{"p256dh":"` + p + `","auth":"` + a + `"}}`, true, true},
		{"relative", `{"endpoint":"/a","keys":{"p256dh":"` + p + `","auth":"` + a + `"}}`, false, false},
		{"ftp", `{"endpoint":"ftp://push.example/a","keys":{"p256dh":"` + p + `","auth":"` + a + `"}}`, false, false},
		{"user info", `{"endpoint":"https://u:p@push.example/a","keys":{"p256dh":"` + p + `","auth":"` + a + `"}}`, false, false},
		{"point off the curve", `{"endpoint":"https://push.example/a","keys":{"p256dh":"` + bad + `","auth":"` + a + `"}}`, false, false},
		{"short p256dh", `{"endpoint":"https://push.example/a","keys":{"p256dh":"AAAA","auth":"` + a + `"}}`, false, false},
		{"short auth", `{"endpoint":"https://push.example/a","keys":{"p256dh":"` + p + `","auth":"AAAA"}}`, false, false},
		{"no keys", `{"endpoint":"https://push.example/a"}`, false, false},
		{"bad lang", `{"endpoint":"https://push.example/a","keys":{"p256dh":"` + p + `","auth":"` + a + `"},"lang":"<x>"}`, false, false},
		{"trailing", `{"endpoint":"https://push.example/a","keys":{"p256dh":"` + p + `","auth":"` + a + `"}} {}`, false, false},
		{"not json", `hello`, false, false},
		{"huge", `{"endpoint":"https://push.example/` + strings.Repeat("a", 5000) + `"}`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := DecodeSubscription([]byte(tt.body), tt.http)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBadSubscription) {
				t.Errorf("error %v is not ErrBadSubscription", err)
			}
			if err == nil && (s.ID != SubscriptionID(s.Endpoint) || len(s.P256dh) != 87 || len(s.Auth) != 22) {
				t.Errorf("normalized: %+v", s)
			}
		})
	}
}

// TestEndpointSpellingsAreOneSubscription: a scheme or host written in
// another case is the same endpoint, so it must be the same subscription
// (the same ID), never a second one pushed too. The path keeps its case.
func TestEndpointSpellingsAreOneSubscription(t *testing.T) {
	p, a, _ := validSubJSON(t)
	body := func(ep string) []byte {
		return []byte(`{"endpoint":"` + ep + `","keys":{"p256dh":"` + p + `","auth":"` + a + `"}}`)
	}
	want, err := DecodeSubscription(body("https://push.example/Token?x=Y"), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range []string{"hTtps://push.example/Token?x=Y", "HTTPS://PUSH.Example/Token?x=Y"} {
		s, err := DecodeSubscription(body(ep), false)
		if err != nil {
			t.Fatalf("%s: %v", ep, err)
		}
		if s.Endpoint != want.Endpoint || s.ID != want.ID {
			t.Errorf("%s: endpoint %q id %s; want %q id %s", ep, s.Endpoint, s.ID, want.Endpoint, want.ID)
		}
	}
	if s, _ := DecodeSubscription(body("https://push.example/token?x=Y"), false); s.ID == want.ID {
		t.Error("a path in another case is another endpoint")
	}
}

func FuzzDecodeSubscription(f *testing.F) {
	p, a, _ := validSubJSON(f)
	f.Add([]byte(`{"endpoint":"https://push.example/a","keys":{"p256dh":"` + p + `","auth":"` + a + `"},"lang":"en"}`))
	f.Add([]byte(`{"endpoint":"http://[::1]:80/x","keys":{}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSubscription(b, false)
		if err != nil {
			if !errors.Is(err, ErrBadSubscription) {
				t.Fatalf("error %v does not wrap ErrBadSubscription", err)
			}
			return
		}
		if !strings.HasPrefix(s.Endpoint, "https://") || CheckEndpointURL(s.Endpoint, false) != nil {
			t.Fatalf("accepted endpoint %q", s.Endpoint)
		}
		if _, err := DecodeSubscription(b, false); err != nil {
			t.Fatal("not deterministic")
		}
	})
}

func FuzzCursorDecode(f *testing.F) {
	c := NewCursors([]byte("0123456789abcdef0123456789abcdef"))
	f.Add(c.Encode(7, Position{TS: 1_700_000_000_000, Group: "class:3:p1"}))
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := c.Decode(7, s)
		if err != nil {
			return
		}
		if s != "" && c.Encode(7, p) != s {
			t.Fatalf("cursor %q decodes to %+v which encodes differently", s, p)
		}
		if _, err := c.Decode(8, s); s != "" && err == nil {
			t.Fatal("a cursor of user 7 was accepted for user 8")
		}
	})
}

func TestCursorsAreNotFeedCursors(t *testing.T) {
	c := NewCursors([]byte("0123456789abcdef0123456789abcdef"))
	p := Position{TS: 5, Group: "gift:g"}
	got, err := c.Decode(1, c.Encode(1, p))
	if err != nil || got != p {
		t.Fatalf("round trip: %+v %v", got, err)
	}
}

func TestGroupKeyAndIDs(t *testing.T) {
	const w = int64(12 * 3600_000)
	tests := []struct {
		kind      Kind
		object    string
		ts1, ts2  int64
		sameGroup bool
	}{
		{KindClass, "p1", 10 * w, 10*w + w - 1, true},
		{KindClass, "p1", 10*w + w - 1, 11 * w, false},
		{KindGift, "g1", 10 * w, 20 * w, true},
		{KindLive, "b1", 10 * w, 10*w + 5, true},
		{KindFriend, "", 10 * w, 10*w + 100, true},
	}
	for _, tt := range tests {
		same := GroupKey(tt.kind, tt.object, tt.ts1) == GroupKey(tt.kind, tt.object, tt.ts2)
		if same != tt.sameGroup {
			t.Errorf("%s %s %d/%d: same group %v", tt.kind, tt.object, tt.ts1, tt.ts2, same)
		}
	}
	p := Position{TS: 123, Group: "class:4:p-1"}
	if q, err := ParseID(p.ID()); err != nil || q != p {
		t.Errorf("ParseID(%q) = %+v, %v", p.ID(), q, err)
	}
	for _, bad := range []string{"", "x", "12", "-g", "abc-g", "0-g"} {
		if _, err := ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
}

type names map[int64]string

func (n names) Name(u int64) string { return n[u] }

func TestTexts(t *testing.T) {
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	nm := names{1: "Anna"}
	tests := []struct {
		lang string
		n    Notification
		obj  string
		want string
	}{
		{"en", Notification{Kind: KindClass, Actors: []int64{1}, ActorCount: 13}, "photo", "Anna and 12 others gave Class! to your photo"},
		{"ru-RU", Notification{Kind: KindClass, Actors: []int64{1}, ActorCount: 13}, "photo", "Anna и ещё 12: «Класс!» вашему фото"},
		{"ru", Notification{Kind: KindGift, Actors: []int64{1}, ActorCount: 1}, "", "Anna дарит вам подарок"},
		{"de", Notification{Kind: KindLive, Actors: []int64{2}, ActorCount: 1}, "", "User 2 is live now"},
		{"en", Notification{Kind: KindFriend, Actors: []int64{1}, ActorCount: 3}, "", "Anna and 2 others are now your friends"},
		{"en", Notification{Kind: KindComment, Actors: []int64{1}, ActorCount: 4}, "photo", "Anna and 3 others commented on your photo"},
		{"en", Notification{Kind: KindComment, Actors: []int64{1}, ActorCount: 1}, "post", "Anna commented on your post"},
		{"ru", Notification{Kind: KindComment, Actors: []int64{1}, ActorCount: 4}, "post", "Anna и ещё 3: комментарии к вашему посту"},
		{"en", Notification{Kind: KindReply, Actors: []int64{2}, ActorCount: 1}, "photo", "User 2 replied in your comment thread"},
		{"ru", Notification{Kind: KindReply, Actors: []int64{1}, ActorCount: 2}, "", "Anna и ещё 1: ответы в вашем обсуждении"},
	}
	for _, tt := range tests {
		if got := c.Text(c.Match(tt.lang), &tt.n, nm, tt.obj); got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.lang, tt.n.Kind, got, tt.want)
		}
	}
	// Every language has every English key.
	for _, l := range c.Languages() {
		for k := range c.msgs[DefaultLang] {
			if _, ok := c.msgs[l][k]; !ok {
				t.Errorf("%s.json lacks %q", l, k)
			}
		}
	}
}
