package notify_test

import (
	"slices"
	"testing"

	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
)

func TestNamePeople(t *testing.T) {
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, p := range []people.Profile{
		{User: 1, Name: "Anna", Avatar: "https://x.example/1.jpg", Stamp: schema.Stamp{TS: 1, ID: "a"}},
		{User: 3, Name: "Vera", Stamp: schema.Stamp{TS: 1, ID: "b"}},
	} {
		if _, err := st.Profiles().SetProfile(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	items := []notify.Notification{
		{ID: "n1", Kind: notify.KindClass, Actors: []int64{3, 2, 1}, ActorCount: 13},
		{ID: "n2", Kind: notify.KindFriend, Actors: []int64{2}, ActorCount: 1},
	}
	if err := notify.NamePeople(t.Context(), people.NewDirectory(st.Profiles()), items); err != nil {
		t.Fatal(err)
	}
	want := []people.Person{{ID: 3, Name: "Vera"}, {ID: 1, Name: "Anna", Avatar: "https://x.example/1.jpg"}}
	if !slices.Equal(items[0].People, want) || items[1].People != nil {
		t.Errorf("people: %+v and %+v, want %+v and none", items[0].People, items[1].People, want)
	}
}
