package comments

import (
	"context"
	"slices"
	"testing"

	"github.com/lenta-dev/lenta/people"
)

// profiles is a people.Reader over a map.
type profiles map[int64]people.Profile

func (m profiles) Profiles(_ context.Context, users []int64) ([]people.Profile, error) {
	out := make([]people.Profile, len(users))
	for i, u := range users {
		out[i] = m[u]
		out[i].User = u
	}
	return out, nil
}

func TestNamePeopleNamesEachAuthorWithAProfile(t *testing.T) {
	anna := people.Profile{User: 1, Name: "Anna", Avatar: "https://example.org/a.png"}
	anna.Stamp.TS, anna.Stamp.ID = 10, "p1"
	d := people.NewDirectory(profiles{1: anna})
	items := []Comment{{ID: "c1", Author: 1}, {ID: "c2", Author: 2}, {ID: "c3", Author: 1}}
	if err := NamePeople(context.Background(), d, items); err != nil {
		t.Fatal(err)
	}
	want := []people.Person{{ID: 1, Name: "Anna", Avatar: "https://example.org/a.png"}}
	for _, i := range []int{0, 2} {
		if !slices.Equal(items[i].People, want) {
			t.Errorf("comment %s names %+v, want %+v", items[i].ID, items[i].People, want)
		}
	}
	if items[1].People != nil {
		t.Errorf("an author without a profile is named: %+v", items[1].People)
	}
	if err := NamePeople(context.Background(), nil, items); err != nil {
		t.Fatalf("no directory: %v", err)
	}
}
