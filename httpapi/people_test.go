package httpapi

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/lenta-dev/lenta/comments"
	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/schema"
)

// profileMap serves profiles from a map.
type profileMap map[int64]people.Profile

func (m profileMap) Profiles(_ context.Context, users []int64) ([]people.Profile, error) {
	out := make([]people.Profile, len(users))
	for i, u := range users {
		out[i] = people.Profile{User: u}
		if p, ok := m[u]; ok {
			out[i] = p
		}
	}
	return out, nil
}

// TestFeedNamesPeople: a feed page carries the names and avatars of the
// people its items name, in JSON and msgpack alike; an item whose people
// have no profile reads as before (no people key).
func TestFeedNamesPeople(t *testing.T) {
	s := schema.Stamp{TS: 1, ID: "p"}
	profiles := profileMap{
		7:  {User: 7, Name: "Anna <3", Avatar: "https://x.example/7.jpg", Stamp: s},
		10: {User: 10, Name: "Boris", Stamp: s},
	}
	e := newEnv(t, func(c *Config) { c.People = people.NewDirectory(profiles) })
	tok := bearer(e.token(t, 7, false))
	for _, accept := range []string{ContentTypeJSON, ContentTypeMsgpack} {
		r := e.do(t, "GET", PathFeed+"?order=recent", map[string]string{"Authorization": tok, "Accept": accept}, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", accept, r.status, r.body)
		}
		var page struct {
			Items []struct {
				EventID string          `json:"event_id" msgpack:"event_id"`
				People  []people.Person `json:"people" msgpack:"people"`
			} `json:"items" msgpack:"items"`
		}
		var err error
		if accept == ContentTypeJSON {
			err = json.Unmarshal(r.body, &page)
		} else {
			err = schema.UnmarshalMsgpackValue(r.body, &page)
		}
		if err != nil || len(page.Items) != 3 {
			t.Fatalf("%s: %v: %s", accept, err, r.body)
		}
		anna, boris := people.Person{ID: 7, Name: "Anna <3", Avatar: "https://x.example/7.jpg"}, people.Person{ID: 10, Name: "Boris"}
		want := map[string][]people.Person{"e3": {anna}, "e2": nil, "c1": {anna, boris}} // c1: actor 9, owner 7, actors 9 and 10
		for _, it := range page.Items {
			if got := it.People; len(got) != len(want[it.EventID]) || len(got) > 0 && (got[0] != want[it.EventID][0] || got[len(got)-1] != want[it.EventID][len(got)-1]) {
				t.Errorf("%s %s: people %+v, want %+v", accept, it.EventID, got, want[it.EventID])
			}
		}
		if accept == ContentTypeJSON && strings.Count(string(r.body), `"people"`) != 2 {
			t.Errorf("an item without named people carries the key: %s", r.body)
		}
	}
}

// TestProfileNeedsServiceToken: a user cannot publish a profile, not even
// their own; a service can, and a bad one is a 400 naming the field.
func TestProfileNeedsServiceToken(t *testing.T) {
	e := newEnv(t, nil)
	profile := func(name string) []byte {
		return mustJSON(t, map[string]any{"id": "pr1", "type": "profile", "actor": 7, "name": name, "ts": testNow.UnixMilli() - 1000})
	}
	tests := []struct {
		name    string
		user    int64
		service bool
		body    []byte
		status  int
		code    string
		msg     string
	}{
		{"own profile, user token", 7, false, profile("Anna"), 403, codeForbidden, "only a service token may publish a profile"},
		{"script in the name", 1, true, profile("<script>alert(1)</script>"), 400, codeInvalidEvent, "name: must not contain '<' or '>'"},
		{"avatar not a URL", 1, true, mustJSON(t, map[string]any{"id": "pr1", "type": "profile", "actor": 7, "name": "Anna",
			"avatar": "not a url", "ts": testNow.UnixMilli() - 1000}), 400, codeInvalidEvent, "avatar:"},
		{"service token", 1, true, profile("Anna"), 202, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, "POST", PathEvents, map[string]string{"Authorization": bearer(e.token(t, tt.user, tt.service)),
				"Content-Type": ContentTypeJSON}, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status == 202 {
				calls := e.pub.Calls()
				if len(calls) != 1 || calls[0][0].Name != "Anna" || calls[0][0].Type != schema.Profile {
					t.Fatalf("published %+v", calls)
				}
				return
			}
			if eb := r.errBody(t); eb.Code != tt.code || !strings.Contains(eb.Error, tt.msg) {
				t.Errorf("error %+v, want %s with %q", eb, tt.code, tt.msg)
			}
		})
	}
}

// TestCommentsNamePeople: a thread page names each comment's author who
// has a profile, in JSON and msgpack alike.
func TestCommentsNamePeople(t *testing.T) {
	th := &fakeThreads{page: comments.Page{Items: []comments.Comment{
		{ID: "c2", Author: 8, Text: "hi", TS: testTS},
		{ID: "c1", Author: 9, Text: "hey", TS: testTS - 5},
	}}}
	profiles := profileMap{8: {User: 8, Name: "Anna", Avatar: "https://x.example/8.jpg", Stamp: schema.Stamp{TS: 1, ID: "p"}}}
	e := newEnv(t, func(c *Config) {
		c.Comments, c.CommentCursors = th, comments.NewCursors(testSecret)
		c.People = people.NewDirectory(profiles)
	})
	tok := bearer(e.token(t, 7, false))
	for _, accept := range []string{ContentTypeJSON, ContentTypeMsgpack} {
		r := e.do(t, "GET", "/v1/objects/o1/comments", map[string]string{"Authorization": tok, "Accept": accept}, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", accept, r.status, r.body)
		}
		var page struct {
			Items []comments.Comment `json:"items" msgpack:"items"`
		}
		var err error
		if accept == ContentTypeJSON {
			err = json.Unmarshal(r.body, &page)
		} else {
			err = schema.UnmarshalMsgpackValue(r.body, &page)
		}
		if err != nil || len(page.Items) != 2 {
			t.Fatalf("%s: %v: %s", accept, err, r.body)
		}
		anna := []people.Person{{ID: 8, Name: "Anna", Avatar: "https://x.example/8.jpg"}}
		if !slices.Equal(page.Items[0].People, anna) || page.Items[1].People != nil {
			t.Errorf("%s: people %+v and %+v, want %+v and none", accept, page.Items[0].People, page.Items[1].People, anna)
		}
	}
}
