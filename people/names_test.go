package people

import (
	"context"
	"errors"
	"testing"

	"github.com/lenta-dev/lenta/schema"
)

// mapReader serves profiles from a map and counts its calls.
type mapReader struct {
	m     map[int64]Profile
	calls int
	asked []int64
	err   error
}

func (r *mapReader) Profiles(_ context.Context, users []int64) ([]Profile, error) {
	r.calls++
	r.asked = append(r.asked[:0], users...)
	if r.err != nil {
		return nil, r.err
	}
	out := make([]Profile, len(users))
	for i, u := range users {
		out[i] = Profile{User: u}
		if p, ok := r.m[u]; ok {
			out[i] = p
		}
	}
	return out, nil
}

func TestNames(t *testing.T) {
	r := &mapReader{m: map[int64]Profile{
		1: {User: 1, Name: "Anna", Avatar: "https://x.example/1.jpg", Lang: "ru", Stamp: schema.Stamp{TS: 1, ID: "a"}},
		3: {User: 3, Name: "Vera", Stamp: schema.Stamp{TS: 1, ID: "b"}},
	}}
	d := NewDirectory(r)
	n := d.Acquire()
	for _, id := range []int64{3, 2, 1, 3, 0, -4, 1} {
		n.Add(id)
	}
	if err := d.Load(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	if r.calls != 1 || len(r.asked) != 3 {
		t.Fatalf("%d calls asking %v, want one call for 1, 2, 3", r.calls, r.asked)
	}
	tests := []struct {
		id   int64
		want Person
		ok   bool
		lang string
	}{
		{1, Person{ID: 1, Name: "Anna", Avatar: "https://x.example/1.jpg"}, true, "ru"},
		{2, Person{}, false, ""},
		{3, Person{ID: 3, Name: "Vera"}, true, ""},
		{4, Person{}, false, ""},
	}
	for _, tt := range tests {
		got, ok := n.Find(tt.id)
		if got != tt.want || ok != tt.ok || n.Name(tt.id) != tt.want.Name || n.Lang(tt.id) != tt.lang {
			t.Errorf("Find(%d) = %+v, %v (lang %q), want %+v, %v (%q)", tt.id, got, ok, n.Lang(tt.id), tt.want, tt.ok, tt.lang)
		}
	}
	if !n.Any() {
		t.Error("Any is false with two profiles")
	}
	d.Release(n)
	n = d.Acquire()
	n.Add(2)
	if err := d.Load(t.Context(), n); err != nil || n.Any() {
		t.Fatalf("a reused Names: any %v, err %v", n.Any(), err)
	}
	if _, ok := n.Find(1); ok {
		t.Error("a reused Names still finds an earlier page's person")
	}
}

func TestNamesNothingToRead(t *testing.T) {
	r := &mapReader{}
	var n Names
	if err := n.Load(t.Context(), r); err != nil || r.calls != 0 {
		t.Fatalf("no ids: %d calls, err %v", r.calls, err)
	}
	var d *Directory // nil: names nobody
	m := d.Acquire()
	m.Add(1)
	if err := d.Load(t.Context(), m); err != nil || m.Any() {
		t.Fatalf("nil directory: any %v, err %v", m.Any(), err)
	}
}

func TestNamesReadError(t *testing.T) {
	boom := errors.New("boom")
	var n Names
	n.Add(1)
	if err := n.Load(t.Context(), &mapReader{err: boom}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it wrapped", err)
	}
}

func TestNext(t *testing.T) {
	old := Profile{User: 1, Name: "A", Stamp: schema.Stamp{TS: 10, ID: "e1"}}
	newer := Profile{User: 1, Name: "B", Stamp: schema.Stamp{TS: 11, ID: "e0"}}
	tie := Profile{User: 1, Name: "C", Stamp: schema.Stamp{TS: 10, ID: "e2"}}
	for _, tt := range []struct {
		name    string
		cur, p  Profile
		want    string
		changed bool
	}{
		{"first", Profile{User: 1}, old, "A", true},
		{"newer", old, newer, "B", true},
		{"older", newer, old, "B", false},
		{"same again", old, old, "A", false},
		{"same ts, larger id", old, tie, "C", true},
	} {
		got, ok := Next(tt.cur, tt.p)
		if got.Name != tt.want || ok != tt.changed {
			t.Errorf("%s: %q %v, want %q %v", tt.name, got.Name, ok, tt.want, tt.changed)
		}
	}
}
