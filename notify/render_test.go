package notify_test

// Rendering a notification as the push a device gets: its texts in the
// device's language, where it opens, how urgent it is, its topic, and
// its size bound.

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/schema"
)

// longNames names every user with a 900-byte name.
type longNames struct{}

func (longNames) Name(int64) string { return strings.Repeat("x", 900) }

// cyrillicNames names every user "x" and then 2-byte letters, so a cut at
// 400 bytes falls inside one.
type cyrillicNames struct{}

func (cyrillicNames) Name(int64) string { return "xxx" + strings.Repeat("ж", 450) }

func TestMessage(t *testing.T) {
	tests := []struct {
		name     string
		n        notify.Notification
		lang     string
		names    notify.Names
		objType  string
		body     string // "": at most 400 bytes, checked below
		url      string
		urgency  string
		maxBytes int // the body's bound when body is ""
	}{
		{"class burst", notify.Notification{ID: "n1", Kind: notify.KindClass, Object: "p1", Actors: []int64{7, 8}, ActorCount: 3, TS: 10},
			"en", nil, "photo", "User 7 and 2 others gave Class! to your photo", "/#notifications", "normal", 0},
		{"gift", notify.Notification{ID: "n2", Kind: notify.KindGift, Object: "g1", Actors: []int64{7}, ActorCount: 1, TS: 11},
			"en-GB", nil, "", "User 7 sent you a gift", "/#notifications", "normal", 0},
		{"friend", notify.Notification{ID: "n3", Kind: notify.KindFriend, Actors: []int64{7}, ActorCount: 1, TS: 12},
			"xx", nil, "", "User 7 is now your friend", "/#notifications", "normal", 0},
		{"live opens the broadcast, urgent", notify.Notification{ID: "n4", Kind: notify.KindLive, Object: "l1", Actors: []int64{7}, ActorCount: 1, TS: 13},
			"en", nil, "", "User 7 is live now", "/#live/l1", "high", 0},
		{"a long name is cut", notify.Notification{ID: "n5", Kind: notify.KindFollow, Actors: []int64{7}, ActorCount: 1, TS: 14},
			"en", longNames{}, "", "", "/#notifications", "normal", 400},
		{"a long Cyrillic name is cut between letters", notify.Notification{ID: "n6", Kind: notify.KindFollow, Actors: []int64{7}, ActorCount: 1, TS: 14},
			"en", cyrillicNames{}, "", "", "/#notifications", "normal", 400},
	}
	e := newScanEnv(t, 0, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.stepper(t, newFakeClock())
			m, err := s.Message(&tt.n, tt.lang, tt.objType, tt.names)
			if err != nil {
				t.Fatal(err)
			}
			var p notify.Payload
			if err := json.Unmarshal(m.Payload, &p); err != nil {
				t.Fatal(err)
			}
			topic := notify.Topic(tt.n.Kind, tt.n.Object)
			if tt.body != "" && p.Body != tt.body || tt.body == "" && (len(p.Body) > tt.maxBytes || len(p.Body) < tt.maxBytes-3 ||
				!strings.HasPrefix(p.Body, "xxx") || strings.ContainsRune(p.Body, utf8.RuneError)) {
				t.Errorf("body %q, want %q (or cut to %d bytes)", p.Body, tt.body, tt.maxBytes)
			}
			if p.Title != "Lenta" || p.URL != tt.url || p.ID != tt.n.ID || p.Type != tt.n.Kind || p.TS != tt.n.TS || p.Tag != topic {
				t.Errorf("payload %+v, want url %s, tag %s and the notification's id, type and ts", p, tt.url, topic)
			}
			if m.Urgency != tt.urgency || m.Topic != topic || len(topic) != 32 || len(m.Payload) > notify.MaxPayload {
				t.Errorf("urgency %q topic %q (%d bytes payload), want %q, %q, at most %d bytes",
					m.Urgency, m.Topic, len(m.Payload), tt.urgency, topic, notify.MaxPayload)
			}
		})
	}
}

// TestPushTextsUseProfiles: a push names its actor by their profile and
// speaks the recipient's profile language over the browser's; a rename
// shows in the next push; without profiles the text is as before.
func TestPushTextsUseProfiles(t *testing.T) {
	clock := newFakeClock()
	e := newScanEnv(t, 0, 0)
	ctx := t.Context()
	const u = 16 // shard 0; the gifts are from user 1
	s := e.stepper(t, clock, func(c *notify.SenderConfig) { c.People = people.NewDirectory(e.st.Profiles()) })
	body := func() string {
		t.Helper()
		clock.Add(3 * time.Second) // the task's second is settled (Lag 1s)
		step(t, s)
		e.tr.mu.Lock()
		m := e.tr.last[u]
		e.tr.mu.Unlock()
		var p notify.Payload
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			t.Fatal(err)
		}
		return p.Body
	}
	e.gift(t, u, clock.Now())
	if got := body(); got != "User 1 sent you a gift" {
		t.Errorf("without profiles: %q", got)
	}
	set := func(p people.Profile) {
		t.Helper()
		if _, err := e.st.Profiles().SetProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	set(people.Profile{User: 1, Name: "Anna", Stamp: schema.Stamp{TS: 1, ID: "p1"}})
	e.gift(t, u, clock.Now())
	if got := body(); got != "Anna sent you a gift" {
		t.Errorf("with the giver's profile: %q", got)
	}
	set(people.Profile{User: u, Name: "Vera", Lang: "ru", Stamp: schema.Stamp{TS: 1, ID: "p2"}})
	set(people.Profile{User: 1, Name: "Аня", Stamp: schema.Stamp{TS: 2, ID: "p3"}})
	e.gift(t, u, clock.Now())
	if got := body(); got != "Аня дарит вам подарок" {
		t.Errorf("renamed giver, recipient's profile in Russian (browser en): %q", got)
	}
}
