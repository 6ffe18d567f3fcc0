package timeline_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
	"github.com/lenta-dev/lenta/timeline"
)

// countingReader counts the profile reads of a page.
type countingReader struct {
	people.Reader
	calls int
}

func (c *countingReader) Profiles(ctx context.Context, users []int64) ([]people.Profile, error) {
	c.calls++
	return c.Reader.Profiles(ctx, users)
}

func setProfiles(t testing.TB, st *pebblestore.Store, ps ...people.Profile) {
	t.Helper()
	for _, p := range ps {
		if _, err := st.Profiles().SetProfile(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
}

func person(id int64, name, avatar string) people.Person {
	return people.Person{ID: id, Name: name, Avatar: avatar}
}

func TestNamePeople(t *testing.T) {
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := schema.Stamp{TS: 1, ID: "p"}
	setProfiles(t, st,
		people.Profile{User: 1, Name: "Anna", Avatar: "https://x.example/1.jpg", Stamp: s},
		people.Profile{User: 2, Name: "Boris", Stamp: s},
		people.Profile{User: 4, Name: "Gleb <3", Stamp: s})
	items := []timeline.Item{
		{EventID: "p1", Type: "post", Actor: 1},
		{EventID: "p2", Type: "post", Actor: 3},                                                        // no profile
		{EventID: "g1", Type: "gift", Actor: 2, Owner: 1},                                              // giver and recipient
		{EventID: "c1", Type: "class", Actor: 4, Owner: 3, Actors: []int64{4, 3, 2, 1}, ActorCount: 4}, // aggregate
		{EventID: "c2", Type: "class", Actor: 3, Owner: 3, Actors: []int64{3}, ActorCount: 1},
	}
	cr := &countingReader{Reader: st.Profiles()}
	if err := timeline.NamePeople(t.Context(), people.NewDirectory(cr), items); err != nil {
		t.Fatal(err)
	}
	if cr.calls != 1 {
		t.Errorf("%d profile reads for one page, want 1", cr.calls)
	}
	anna, boris, gleb := person(1, "Anna", "https://x.example/1.jpg"), person(2, "Boris", ""), person(4, "Gleb <3", "")
	want := [][]people.Person{{anna}, nil, {boris, anna}, {gleb, boris, anna}, nil}
	for i, it := range items {
		if !slices.Equal(it.People, want[i]) || (want[i] == nil) != (it.People == nil) {
			t.Errorf("%s: people %+v, want %+v", it.EventID, it.People, want[i])
		}
	}
	// Appending to one item's people must not overwrite the next one's.
	_ = append(items[0].People, person(9, "X", ""))
	if items[2].People[0] != boris {
		t.Error("items share a backing array without a capacity bound")
	}

	// A rename shows on the next page read; nobody with a profile: nil.
	setProfiles(t, st, people.Profile{User: 1, Name: "Anya", Stamp: schema.Stamp{TS: 2, ID: "p"}})
	again := []timeline.Item{{EventID: "p1", Type: "post", Actor: 1}, {EventID: "p2", Type: "post", Actor: 3}}
	if err := timeline.NamePeople(t.Context(), people.NewDirectory(st.Profiles()), again); err != nil {
		t.Fatal(err)
	}
	if len(again[0].People) != 1 || again[0].People[0].Name != "Anya" || again[0].People[0].Avatar != "" || again[1].People != nil {
		t.Errorf("after the rename: %+v", again)
	}
	none := []timeline.Item{{EventID: "p2", Type: "post", Actor: 3}}
	if err := timeline.NamePeople(t.Context(), nil, none); err != nil || none[0].People != nil {
		t.Errorf("nil directory: %+v, %v", none, err)
	}
}

// BenchmarkNamePeople20 names a page of 20 items (posts by 20 people and
// five Class aggregates of five markers) from the embedded store: what the
// read path adds per page. "profiles": everyone has one; "none": nobody
// has (a network before profiles, as feedbench's).
func BenchmarkNamePeople20(b *testing.B) {
	for _, withProfiles := range []bool{true, false} {
		name := "none"
		if withProfiles {
			name = "profiles"
		}
		b.Run(name, func(b *testing.B) { benchmarkNamePeople20(b, withProfiles) })
	}
}

func benchmarkNamePeople20(b *testing.B, withProfiles bool) {
	st, err := pebblestore.Open(b.TempDir(), pebblestore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for u := int64(1); u <= 100 && withProfiles; u++ {
		setProfiles(b, st, people.Profile{User: u, Name: "User Name " + strconv.FormatInt(u, 10),
			Avatar: "https://cdn.example.org/avatars/" + strconv.FormatInt(u, 10) + ".jpg", Lang: "ru",
			Stamp: schema.Stamp{TS: 1, ID: "p"}})
	}
	page := make([]timeline.Item, 20)
	for i := range page {
		it := timeline.Item{EventID: "e" + strconv.Itoa(i), Type: "post", Actor: int64(1 + i*3%100)}
		if i%4 == 3 {
			it.Type, it.Owner = "class", int64(1+i%100)
			it.Actors = []int64{it.Actor, int64(10 + i), int64(20 + i), int64(30 + i), int64(40 + i)}
			it.ActorCount = 7
		}
		page[i] = it
	}
	d := people.NewDirectory(st.Profiles())
	items := make([]timeline.Item, len(page))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		copy(items, page)
		if err := timeline.NamePeople(ctx, d, items); err != nil {
			b.Fatal(err)
		}
	}
	if got := len(items[3].People); withProfiles && got != 6 || !withProfiles && got != 0 {
		b.Fatalf("aggregate names %d people", got)
	}
}
