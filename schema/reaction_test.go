package schema

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestReactValidation(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	base := func(typ Type, reaction string) Event {
		return Event{ID: "r1", Type: typ, Actor: 2, Target: 1, Object: "p", Reaction: reaction, TS: 1_699_999_999_000}
	}
	for _, tc := range []struct {
		name string
		ev   Event
		want string // "" valid
	}{
		{"react", base(React, "love"), ""},
		{"react with class", base(React, "class"), ""},
		{"react of a kind outside the default set is well formed", base(React, "party"), ""},
		{"react without a kind", base(React, ""), "reaction: missing"},
		{"react with a bad kind", base(React, "Love!"), "reaction: must be 1..32 characters"},
		{"react with a long kind", base(React, strings.Repeat("a", 33)), "reaction: must be"},
		{"react without an object", func() Event { e := base(React, "love"); e.Object = ""; return e }(), "object: missing"},
		{"react without a target", func() Event { e := base(React, "love"); e.Target = 0; return e }(), "target: missing"},
		{"unreact", base(Unreact, ""), ""},
		{"unreact with a kind", base(Unreact, "love"), "only react takes a reaction"},
		{"class with a kind", base(Class, "class"), "only react takes a reaction"},
		{"post with a kind", Event{ID: "p", Type: Post, Actor: 1, Text: "x", Reaction: "love", TS: 1_699_999_999_000}, "only react takes a reaction"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.ev.Normalize(now)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid)):
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseReactions(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"class,love,lol,wow,sad", "class,love,lol,wow,sad", ""},
		{" class , party ", "class,party", ""},
		{"class", "class", ""},
		{"love,lol", "", `must include "class"`},
		{"class,love,love", "", "listed twice"},
		{"class,", "", "is not 1..32"},
		{"class,Love", "", "is not 1..32"},
		{"class,a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p", "", "over the limit"},
	} {
		set, err := ParseReactions(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseReactions(%q) = %v, %v; want error %q", tc.in, set, err, tc.err)
			}
			continue
		}
		if err != nil || set.String() != tc.want {
			t.Errorf("ParseReactions(%q) = %q, %v; want %q", tc.in, set.String(), err, tc.want)
		}
	}
	if (ReactionSet{}).String() != "class,love,lol,wow,sad" {
		t.Errorf("the zero set is %q", ReactionSet{}.String())
	}
}

func TestReactionSetCheck(t *testing.T) {
	set, err := ParseReactions("class,party")
	if err != nil {
		t.Fatal(err)
	}
	ok := Event{ID: "r", Type: React, Reaction: "party"}
	bad := Event{ID: "r", Type: React, Reaction: "love"}
	other := Event{ID: "c", Type: Class}
	if set.Check(&ok) != nil || set.Check(&other) != nil {
		t.Error("a kind of the set, or a class, refused")
	}
	err = set.Check(&bad)
	if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `unknown reaction "love" (the configured set: class,party)`) {
		t.Errorf("Check(love) = %v", err)
	}
	if (ReactionSet{}).Check(&bad) != nil {
		t.Error("the default set refuses love")
	}
}

// FuzzParseReactions: the --reactions flag's parser never panics, and
// what it accepts reads back the same and holds class.
func FuzzParseReactions(f *testing.F) {
	for _, s := range []string{"class,love,lol,wow,sad", "class", ",", "class,class", "класс", "class,a_1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := ParseReactions(s)
		if err != nil {
			return
		}
		if !set.Has(ReactionClass) {
			t.Fatalf("%q: accepted without class", s)
		}
		again, err := ParseReactions(set.String())
		if err != nil || again.String() != set.String() {
			t.Fatalf("%q: %q reads back as %q, %v", s, set.String(), again.String(), err)
		}
	})
}
