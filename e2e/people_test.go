package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPeopleNames(t *testing.T) { eachBackend(t, peopleNames) }

type named struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Avatar string `json:"avatar"`
}

type namedItem struct {
	EventID string  `json:"event_id"`
	Type    string  `json:"type"`
	Actor   int64   `json:"actor"`
	People  []named `json:"people"`
}

type namedNotification struct {
	Type   string  `json:"type"`
	Actors []int64 `json:"actors"`
	People []named `json:"people"`
}

// peopleNames: names and avatars set by profile events (a service's) show
// in feeds and notifications; a user without a profile reads as ids only;
// a rename shows on the next read; bad profiles are refused with a clear
// 4xx.
func peopleNames(t *testing.T, args []string) {
	f := startFeedd(t, args...)
	now := time.Now().UnixMilli()
	ts := now - 5*60_000
	next := func() int64 { ts += 1000; return ts }
	const anna, boris, vera = 1, 2, 3
	annaAvatar := "https://cdn.example.org/avatars/1.jpg"
	f.publish(
		ev{"id": "pp-pr1", "type": "profile", "actor": anna, "name": "Anna", "avatar": annaAvatar, "lang": "en", "ts": next()},
		ev{"id": "pp-pr2", "type": "profile", "actor": boris, "name": "Борис", "ts": next()},
	)
	f.publish(
		ev{"id": "pp-f1", "type": "friend", "actor": anna, "target": boris, "ts": next()},
		ev{"id": "pp-f2", "type": "friend", "actor": anna, "target": vera, "ts": next()},
	)
	f.settle(4)
	f.publish(
		ev{"id": "pp-p1", "type": "post", "actor": boris, "text": "hello", "ts": next()},
		ev{"id": "pp-p2", "type": "post", "actor": vera, "text": "no profile here", "ts": next()},
		ev{"id": "pp-p3", "type": "post", "actor": anna, "text": "mine", "ts": next()},
	)
	f.settle(7)
	f.publish(ev{"id": "pp-c1", "type": "class", "actor": vera, "target": boris, "object": "pp-p1", "ts": next()},
		ev{"id": "pp-c2", "type": "class", "actor": boris, "target": anna, "object": "pp-p3", "ts": next()})
	f.settle(9)

	// Anna's feed: Boris's post names him; Vera's post names nobody (she
	// has no profile); Vera's Class on Boris's post names Boris (owner).
	items := f.namedFeed(anna)
	byID := map[string]namedItem{}
	for _, it := range items {
		byID[it.EventID] = it
	}
	boris1 := []named{{ID: boris, Name: "Борис"}}
	checkNamed(t, "post by Boris", byID["pp-p1"].People, boris1)
	checkNamed(t, "post by Vera", byID["pp-p2"].People, nil)
	checkNamed(t, "Vera's Class on Boris's post", byID["pp-c1"].People, boris1)

	// Boris's notifications: Anna's friendship names her, with her avatar;
	// Vera's Class names nobody.
	notes := f.namedNotifications(boris)
	var friend, class *namedNotification
	for i := range notes {
		switch notes[i].Type {
		case "friend":
			friend = &notes[i]
		case "class":
			class = &notes[i]
		}
	}
	if friend == nil || class == nil {
		t.Fatalf("Boris's notifications: %+v", notes)
	}
	checkNamed(t, "friend notification", friend.People, []named{{ID: anna, Name: "Anna", Avatar: annaAvatar}})
	checkNamed(t, "class notification by Vera", class.People, nil)

	// A rename shows on the next read, everywhere; an older profile event
	// arriving late and a re-delivered one change nothing.
	f.publish(ev{"id": "pp-pr3", "type": "profile", "actor": boris, "name": "Borya", "avatar": "https://cdn.example.org/b.png", "ts": next()})
	f.publish(ev{"id": "pp-pr0", "type": "profile", "actor": boris, "name": "Old Boris", "ts": now - 10*60_000})
	f.publish(ev{"id": "pp-pr2", "type": "profile", "actor": boris, "name": "Борис", "ts": now - 5*60_000 + 2000})
	f.settle(12)
	borya := []named{{ID: boris, Name: "Borya", Avatar: "https://cdn.example.org/b.png"}}
	for _, it := range f.namedFeed(anna) {
		if it.EventID == "pp-p1" || it.EventID == "pp-c1" {
			checkNamed(t, "after the rename: "+it.EventID, it.People, borya)
		}
	}
	// The ranked feed (the default order) names the same way.
	code, body := f.do("GET", "/v1/feed?limit=100", token(t, anna, false), "", nil)
	var ranked struct {
		Items []namedItem `json:"items"`
	}
	if code != 200 || json.Unmarshal(body, &ranked) != nil {
		t.Fatalf("ranked feed: %d %s", code, body)
	}
	rankedSeen := 0
	for _, it := range ranked.Items {
		if it.EventID == "pp-p1" || it.EventID == "pp-c1" {
			rankedSeen++
			checkNamed(t, "ranked, after the rename: "+it.EventID, it.People, borya)
		}
	}
	if rankedSeen != 2 {
		t.Errorf("the ranked feed shows %d of Boris's post and its Class: %s", rankedSeen, body)
	}
	seen := false
	for _, n := range f.namedNotifications(anna) {
		if n.Type == "class" {
			seen = true
			checkNamed(t, "Anna's Class notification after the rename", n.People, borya)
		}
	}
	if !seen {
		t.Error("Anna has no notification of Boris's Class")
	}

	// Bad input: a user's own profile (not a service), markup in the name,
	// an avatar that is not an https URL.
	bad := []struct {
		what   string
		tok    string
		body   string
		status int
		msg    string
	}{
		{"user token", token(t, anna, false), `{"id":"pp-x1","type":"profile","actor":1,"name":"Anna","ts":%d}`, http.StatusForbidden, "only a service token"},
		{"script", token(t, 1, true), `{"id":"pp-x2","type":"profile","actor":1,"name":"<script>alert(1)</script>","ts":%d}`, http.StatusBadRequest, "name: must not contain '<' or '>'"},
		{"avatar", token(t, 1, true), `{"id":"pp-x3","type":"profile","actor":1,"name":"Anna","avatar":"ftp://x/a.png","ts":%d}`, http.StatusBadRequest, "avatar:"},
	}
	for _, b := range bad {
		body := strings.Replace(b.body, "%d", jsonInt(next()), 1)
		code, resp := f.do("POST", "/v1/events", b.tok, "application/json", []byte(body))
		if code != b.status || !strings.Contains(string(resp), b.msg) {
			t.Errorf("%s: %d %s, want %d with %q", b.what, code, resp, b.status, b.msg)
		}
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func checkNamed(t *testing.T, what string, got, want []named) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: people %+v, want %+v", what, got, want)
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: people %+v, want %+v", what, got, want)
			return
		}
	}
}

func (f *feedd) namedFeed(user int64) []namedItem {
	f.t.Helper()
	code, body := f.do("GET", "/v1/feed?order=recent&limit=100", token(f.t, user, false), "", nil)
	if code != 200 {
		f.t.Fatalf("feed of %d: %d %s", user, code, body)
	}
	var p struct {
		Items []namedItem `json:"items"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		f.t.Fatalf("feed of %d: %v: %s", user, err, body)
	}
	return p.Items
}

func (f *feedd) namedNotifications(user int64) []namedNotification {
	f.t.Helper()
	code, body := f.do("GET", "/v1/notifications?limit=50", token(f.t, user, false), "", nil)
	if code != 200 {
		f.t.Fatalf("notifications of %d: %d %s", user, code, body)
	}
	var p struct {
		Items []namedNotification `json:"items"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		f.t.Fatalf("notifications of %d: %v: %s", user, err, body)
	}
	return p.Items
}

func TestPushNames(t *testing.T) { eachBackend(t, pushNames) }

// pushNames: a push names its actor by their profile and speaks the
// recipient's profile language, over the browser's; a rename reaches
// the next push.
func pushNames(t *testing.T, args []string) {
	f, r := pushFeedd(t, args)
	now := time.Now().UnixMilli()
	f.publish(ev{"id": "pn-pr1", "type": "profile", "actor": 1, "name": "Anna", "lang": "ru", "ts": now - 6000},
		ev{"id": "pn-pr2", "type": "profile", "actor": 2, "name": "Boris", "ts": now - 6000})
	f.publish(ev{"id": "pn-f1", "type": "friend", "actor": 1, "target": 2, "ts": now - 5000},
		ev{"id": "pn-p1", "type": "photo", "actor": 1, "media": []string{"m1"}, "ts": now - 4000})
	f.settle(4)
	if code, body := f.subscribe(1, r.subscription("en-US")); code != 201 {
		t.Fatalf("subscribe: %d %s", code, body)
	}
	f.publish(ev{"id": "pn-g1", "type": "gift", "actor": 2, "target": 1, "ts": time.Now().UnixMilli()})
	if m := r.wait(1, 15*time.Second)[0]; m.Payload["body"] != "Boris дарит вам подарок" {
		t.Errorf("gift push: %v, want Boris's name in Anna's profile language", m.Payload)
	}
	f.publish(ev{"id": "pn-pr3", "type": "profile", "actor": 2, "name": "Борис Петров", "ts": time.Now().UnixMilli()})
	f.settle(6)
	f.publish(ev{"id": "pn-g2", "type": "gift", "actor": 2, "target": 1, "ts": time.Now().UnixMilli()})
	if m := r.wait(2, 15*time.Second)[1]; m.Payload["body"] != "Борис Петров дарит вам подарок" {
		t.Errorf("gift push after the rename: %v", m.Payload)
	}
}
