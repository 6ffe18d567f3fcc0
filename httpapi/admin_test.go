package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/lenta-dev/lenta/deadletter"
	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
)

func TestAdminDeadLetters(t *testing.T) {
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	follow := schema.Event{ID: "f1", Type: schema.Follow, Actor: 1, Target: 2, TS: testTS}
	raw, err := schema.MarshalMsgpack(&follow)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeadLetters().Put(t.Context(), []fanout.DeadLetter{
		{Raw: raw, EventID: "f1", Reason: "blocked", Code: fanout.ReasonBlocked, TS: testTS},
		{Raw: []byte{0xc1}, Reason: "bad", Code: fanout.ReasonMalformed, TS: testTS + 1},
	}); err != nil {
		t.Fatal(err)
	}
	var pub fakePublisher
	e := newEnv(t, func(c *Config) {
		c.DeadLetters = &deadletter.Service{Store: st.DeadLetters(), Log: &pub}
	})
	svc := map[string]string{"Authorization": bearer(e.token(t, 1, true))}
	svcJSON := map[string]string{"Authorization": svc["Authorization"], "Content-Type": "application/json"}
	user := map[string]string{"Authorization": bearer(e.token(t, 1, false))}

	for _, tc := range []struct {
		method, path string
		hdr          map[string]string
		body         string
		status       int
	}{
		{"GET", PathDeadLetters, nil, "", 401},
		{"GET", PathDeadLetters, user, "", 403},
		{"POST", PathDeadLettersReplay, user, `{"reason":"blocked"}`, 403},
		{"GET", PathDeadLetters + "?reason=nope", svc, "", 400},
		{"GET", PathDeadLetters + "?limit=x", svc, "", 400},
		{"POST", PathDeadLetters, svc, "", 405},
		{"GET", PathDeadLettersReplay, svc, "", 405},
		{"POST", PathDeadLettersReplay, svcJSON, `{}`, 400},
		{"POST", PathDeadLettersReplay, svcJSON, `[1]`, 400},
		{"POST", PathDeadLettersReplay, svc, `{"reason":"blocked"}`, 415},
		{"POST", PathDeadLettersReplay, svcJSON, `{"reason":"nope"}`, 400},
	} {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		if r := e.do(t, tc.method, tc.path, tc.hdr, body); r.status != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.status, r.body, tc.status)
		}
	}
	if len(pub.Calls()) != 0 {
		t.Fatalf("refused requests published %v", pub.Calls())
	}

	r := e.do(t, "GET", PathDeadLetters+"?reason=blocked", svc, nil)
	var list deadLettersBody
	if r.status != 200 || json.Unmarshal(r.body, &list) != nil || len(list.Letters) != 1 || list.Letters[0].EventID != "f1" ||
		list.Letters[0].Reason != "blocked" || list.Letters[0].Source == "" || list.Letters[0].Replayed {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	for i, want := range []int{1, 0} {
		r := e.do(t, "POST", PathDeadLettersReplay, svcJSON, []byte(`{"ids":["f1"]}`))
		var rep deadletter.Report
		if r.status != 200 || json.Unmarshal(r.body, &rep) != nil || len(rep.Replayed) != want {
			t.Fatalf("replay %d: %d %s", i, r.status, r.body)
		}
	}
	if calls := pub.Calls(); len(calls) != 1 || len(calls[0]) != 1 || calls[0][0].ID != "f1" {
		t.Fatalf("published %v", calls)
	}
}
