package httpapi

import (
	"bytes"
	"testing"

	"github.com/lenta-dev/lenta/schema"
)

// The same faulty event, sent as JSON and as msgpack, gets the same 400
// with the same message (schema's strict decoding contract, issue 11).
func TestPostEventsSameRefusalInBothEncodings(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token(t, 7, false)
	type kv struct {
		k string
		v any
	}
	base := []kv{{"id", "s1"}, {"type", "post"}, {"actor", int64(7)}, {"ts", testTS}}
	with := func(extra ...kv) []kv { return append(append([]kv{}, base...), extra...) }
	tests := []struct {
		name string
		ev   []kv
		want string
	}{
		{"miscased key", with(kv{"Text", "hi"}), `malformed event encoding: unknown field "Text" (did you mean "text"?)`},
		{"upper-case key", []kv{{"id", "s1"}, {"type", "post"}, {"ACTOR", int64(7)}, {"ts", testTS}}, `malformed event encoding: unknown field "ACTOR" (did you mean "actor"?)`},
		{"duplicate unknown key", with(kv{"mood", "a"}, kv{"mood", "b"}), `malformed event encoding: duplicate field "mood"`},
		{"duplicate key", with(kv{"text", "a"}, kv{"text", "b"}), `malformed event encoding: duplicate field "text"`},
		{"invalid UTF-8", with(kv{"text", "caf\xe9"}), `malformed event encoding: invalid UTF-8 in field "text"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// JSON by hand: strings raw, so that the invalid byte stays one.
			var j bytes.Buffer
			var m bytes.Buffer
			mw := schema.NewMsgpackWriter(&m)
			mw.MapLen(len(tt.ev))
			j.WriteByte('{')
			for i, p := range tt.ev {
				if i > 0 {
					j.WriteByte(',')
				}
				j.WriteString(`"` + p.k + `":`)
				switch v := p.v.(type) {
				case string:
					j.WriteString(`"` + v + `"`)
				default:
					j.Write(mustJSON(t, v))
				}
				mw.String(p.k)
				mw.Value(p.v)
			}
			if err := mw.Err(); err != nil {
				t.Fatal(err)
			}
			j.WriteByte('}')
			before := len(e.pub.Calls())
			var msgs []string
			for _, b := range []struct {
				ct   string
				body []byte
			}{{jsonCT, j.Bytes()}, {"application/msgpack", m.Bytes()}} {
				r := e.do(t, "POST", PathEvents, map[string]string{"Authorization": bearer(tok), "Content-Type": b.ct}, b.body)
				if r.status != 400 {
					t.Fatalf("%s: status %d, want 400: %s", b.ct, r.status, r.body)
				}
				eb := r.errBody(t)
				if eb.Code != codeMalformed || eb.Error != tt.want {
					t.Errorf("%s: %s %q, want %s %q", b.ct, eb.Code, eb.Error, codeMalformed, tt.want)
				}
				msgs = append(msgs, eb.Error)
			}
			if msgs[0] != msgs[1] {
				t.Errorf("messages differ: json %q, msgpack %q", msgs[0], msgs[1])
			}
			if n := len(e.pub.Calls()) - before; n != 0 {
				t.Errorf("published %d times, want none", n)
			}
		})
	}
}
