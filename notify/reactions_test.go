package notify

import (
	"slices"
	"testing"
)

func TestReactionKinds(t *testing.T) {
	for _, tc := range []struct {
		reaction string
		kind     Kind
	}{{"", KindClass}, {"class", KindClass}, {"love", "react:love"}} {
		k := ReactionKind(tc.reaction)
		if k != tc.kind || !k.Known() || !k.Coalesced() || k.base() != KindClass {
			t.Errorf("ReactionKind(%q) = %q (known %v, coalesced %v)", tc.reaction, k, k.Known(), k.Coalesced())
		}
		if r, ok := k.Reaction(); !ok || (tc.reaction != "" && r != tc.reaction) {
			t.Errorf("%q.Reaction() = %q, %v", k, r, ok)
		}
	}
	if _, ok := KindGift.Reaction(); ok {
		t.Error("a gift is not a reaction")
	}
	if Kind("react:").Known() != true || Kind("react").Known() != true || Kind("poke").Known() {
		t.Error("Known of react kinds")
	}
}

func TestReactionGroupsBuild(t *testing.T) {
	act := func(actor int64, k Kind, ts int64) Activity {
		return Activity{User: 9, Group: "class:1:p", Kind: k, Object: "p", Actor: actor, TS: ts}
	}
	for _, tc := range []struct {
		name  string
		acts  []Activity
		kind  Kind
		kinds []string
	}{
		{"Class! alone reads as before", []Activity{act(1, KindClass, 10), act(2, KindClass, 20)}, KindClass, nil},
		{"one emotion makes it a react group", []Activity{act(1, KindClass, 10), act(2, "react:love", 20)}, KindReact, []string{"class", "love"}},
		{"most given first", []Activity{act(1, "react:wow", 10), act(2, "react:love", 20), act(3, "react:love", 30), act(4, KindClass, 5)},
			KindReact, []string{"love", "class", "wow"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := tc.acts[0]
			for _, a := range tc.acts {
				if a.TS > top.TS {
					top = a
				}
			}
			n, ok := build(Position{TS: top.TS, Group: top.Group}, tc.acts)
			if !ok || n.Kind != tc.kind || !slices.Equal(n.Reactions, tc.kinds) || n.ActorCount != len(tc.acts) || n.Object != "p" {
				t.Fatalf("build = %+v, %v; want kind %q, kinds %q", n, ok, tc.kind, tc.kinds)
			}
		})
	}
}

func TestReactionTexts(t *testing.T) {
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	nm := names{1: "Anna"}
	for _, tc := range []struct {
		lang string
		n    Notification
		want string
	}{
		{"en", Notification{Kind: KindReact, Actors: []int64{1}, ActorCount: 13, Reactions: []string{"love", "class"}},
			"Anna and 12 others reacted to your photo: ❤️ Class!"},
		{"en", Notification{Kind: KindReact, Actors: []int64{1}, ActorCount: 1, Reactions: []string{"party"}},
			"Anna reacted to your photo: party"},
		{"ru", Notification{Kind: KindReact, Actors: []int64{1}, ActorCount: 2, Reactions: []string{"lol"}},
			"Anna и ещё 1: 😂 вашему фото"},
		{"de", Notification{Kind: KindReact, Actors: []int64{1}, ActorCount: 1, Reactions: []string{"sad"}},
			"Anna reacted to your photo: 😢"},
	} {
		if got := c.Text(c.Match(tc.lang), &tc.n, nm, "photo"); got != tc.want {
			t.Errorf("%s %v: %q, want %q", tc.lang, tc.n.Reactions, got, tc.want)
		}
	}
}

func TestReactionTopic(t *testing.T) {
	if Topic(KindReact, "p") != Topic(KindClass, "p") || Topic("react:love", "p") != Topic(KindClass, "p") {
		t.Error("reactions on one object do not share the Class! topic")
	}
	if Topic(KindClass, "p") == Topic(KindClass, "q") || Topic(KindGift, "p") == Topic(KindClass, "p") {
		t.Error("topics collide")
	}
}
