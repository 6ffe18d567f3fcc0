package httpapi

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/timeline"
)

// reflectJSON is what reply wrote before jsonFeed: encoding/json, no HTML
// escaping.
func reflectJSON(t testing.TB, p *feedBody) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sameJSON: both documents are valid and decode to the same value.
func sameJSON(t testing.TB, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("hand-encoded JSON does not parse: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("hand encoding differs from reflection\n got %s\nwant %s", got, want)
	}
}

func TestJSONFeedMatchesReflection(t *testing.T) {
	var full timeline.Item
	fillAll(t, reflect.ValueOf(&full).Elem())
	odd := timeline.Item{EventID: `q"uo\te`, Type: "post", Actor: math.MinInt64, Object: "<&>", TS: math.MaxInt64,
		Text: "ctl \x00\x01\x1f\b\f\n\r\t end, Кириллица 🙂", Media: []string{"a", ""}, Owner: -7,
		Explain: &timeline.Explain{Score: 1e-7, TypeWeight: 1e21, LiveBoost: 123456789.125, Affinity: 0,
			Freshness: 0.000001, Engagement: -2.5e-10, Diversity: 1},
		People: []people.Person{{ID: 1, Name: `Anna "<b>" \ 🙂`}, {ID: -2, Name: "", Avatar: "https://x.example/a?b=1&c=<"}}}
	pages := []feedBody{
		{Items: []timeline.Item{}},
		{Items: []timeline.Item{full, {}, {EventID: "e", Type: "post", Actor: -1, TS: 1 << 40, Media: []string{}}}, NextCursor: "abc"},
		{Items: samplePage().Items, NextCursor: "x"},
		{Items: []timeline.Item{odd}, NextCursor: `c"ur\sor`},
	}
	for i, p := range pages {
		want := reflectJSON(t, &p)
		got := (*jsonFeed)(&p).AppendJSON(nil)
		// Byte for byte: encoding/json and jsontext quote alike except for
		// U+2028/U+2029, which no page here has.
		if !bytes.Equal(got, want) {
			t.Fatalf("page %d: hand encoding differs from reflection\n got %s\nwant %s", i, got, want)
		}
	}
	// U+2028 and U+2029: encoding/json escapes them, jsontext need not;
	// the documents mean the same.
	ls := feedBody{Items: []timeline.Item{{EventID: "e", Type: "post", Text: "line\u2028para\u2029"}}}
	sameJSON(t, (*jsonFeed)(&ls).AppendJSON(nil), reflectJSON(t, &ls))
}

// FuzzJSONFeed: any strings and numbers encode to JSON that parses to what
// encoding/json's encoding parses to.
func FuzzJSONFeed(f *testing.F) {
	f.Add("e1", "post", "hello", "m", int64(5), 0.5, "cur")
	f.Add("\x00", "", "\u2028<>&\"\\", "", int64(-1), 1e-9, "")
	f.Add("\xff\xfe", "class", "a\xc3", "\xed\xa0\x80", int64(1)<<62, 1e300, "\t")
	f.Fuzz(func(t *testing.T, id, typ, text, media string, n int64, x float64, cursor string) {
		finite := func(v float64) float64 {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0 // encoding/json refuses them; no factor is either
			}
			return v
		}
		x = finite(x)
		it := timeline.Item{EventID: id, Type: typ, Actor: n, Object: strings.ToUpper(id), TS: -n, Owner: n / 3,
			Audience: typ, Text: text, Media: []string{media}, Until: n, Live: n%2 == 0, ClassCount: n,
			Actors: []int64{n, -n}, ActorCount: int(n % 1000), ObjectType: media,
			Explain: &timeline.Explain{Score: x, TypeWeight: -x, LiveBoost: finite(x * 1e20), Affinity: x / 1e20, Diversity: 1},
			People:  []people.Person{{ID: n, Name: text, Avatar: media}, {ID: -n, Name: id}}}
		p := feedBody{Items: []timeline.Item{it, {}}, NextCursor: cursor}
		sameJSON(t, (*jsonFeed)(&p).AppendJSON(nil), reflectJSON(t, &p))
	})
}
