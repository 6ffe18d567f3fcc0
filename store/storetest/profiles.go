package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/lenta-dev/lenta/people"
)

// RunProfiles checks people.Store: last writer wins by stamp (a
// re-delivered or older profile changes nothing; a later one replaces the
// whole profile), reads in order with misses as zero profiles, repeated
// ids, many users in one call, and concurrent writers of one user.
func RunProfiles(t *testing.T, newStore func(t *testing.T) people.Store) {
	t.Helper()
	run(t, newStore, []subtest[people.Store]{
		{"ProfileMissingReadsZero", profMissing},
		{"ProfileRoundTrip", profRoundTrip},
		{"ProfileLastWriterWins", profLWW},
		{"ProfileReplacesWhole", profReplacesWhole},
		{"ProfilesManyInOrder", profMany},
		{"ProfileConcurrentWriters", profConcurrent},
	})
}

func prof(user int64, name string, ts int64, id string) people.Profile {
	return people.Profile{User: user, Name: name, Stamp: st(ts, id)}
}

func readProfiles(t *testing.T, s people.Store, users ...int64) []people.Profile {
	t.Helper()
	ps, err := s.Profiles(t.Context(), users)
	must(t, err)
	if len(ps) != len(users) {
		t.Fatalf("Profiles(%v) gave %d profiles", users, len(ps))
	}
	for i := range ps {
		if ps[i].User != users[i] {
			t.Fatalf("Profiles(%v)[%d].User = %d", users, i, ps[i].User)
		}
	}
	return ps
}

func profMissing(t *testing.T, s people.Store) {
	ps := readProfiles(t, s, 5)
	if ps[0].Exists() || ps[0].Name != "" || ps[0].Avatar != "" || ps[0].Lang != "" {
		t.Errorf("a user without a profile reads %+v", ps[0])
	}
	if ps, err := s.Profiles(t.Context(), nil); err != nil || len(ps) != 0 {
		t.Errorf("Profiles(nil) = %v, %v", ps, err)
	}
}

func profRoundTrip(t *testing.T, s people.Store) {
	p := people.Profile{User: 7, Name: "Анна «Ок» 👩‍👩‍👧", Avatar: "https://cdn.example.org/a/7.jpg?s=64",
		Lang: "ru-RU", Stamp: st(100, "e1")}
	// Read before any profile exists, then write: the read after must
	// see it (a store's may-exist shortcut must not remember "none").
	if ps := readProfiles(t, s, 7); ps[0].Exists() {
		t.Fatalf("before any write: %+v", ps[0])
	}
	got, err := s.SetProfile(t.Context(), p)
	must(t, err)
	if got != p {
		t.Errorf("SetProfile returned %+v, want %+v", got, p)
	}
	if ps := readProfiles(t, s, 7); ps[0] != p {
		t.Errorf("read %+v, want %+v", ps[0], p)
	}
	// Only a name: the optional fields read empty.
	q := prof(8, "B", 100, "e2")
	_, err = s.SetProfile(t.Context(), q)
	must(t, err)
	if ps := readProfiles(t, s, 8); ps[0] != q {
		t.Errorf("read %+v, want %+v", ps[0], q)
	}
}

func profLWW(t *testing.T, s people.Store) {
	ctx := t.Context()
	_, err := s.SetProfile(ctx, prof(1, "second", 200, "e2"))
	must(t, err)
	for _, tt := range []struct {
		name string
		p    people.Profile
		want string
	}{
		{"older", prof(1, "first", 100, "e1"), "second"},
		{"re-delivered", prof(1, "second", 200, "e2"), "second"},
		{"same ts, smaller id", prof(1, "tie-lost", 200, "e1"), "second"},
		{"same ts, larger id", prof(1, "tie-won", 200, "e3"), "tie-won"},
		{"newer", prof(1, "third", 300, "e0"), "third"},
		{"older again", prof(1, "second", 200, "e2"), "third"},
	} {
		got, err := s.SetProfile(ctx, tt.p)
		must(t, err)
		if got.Name != tt.want {
			t.Errorf("%s: SetProfile returned %q, want %q", tt.name, got.Name, tt.want)
		}
		if ps := readProfiles(t, s, 1); ps[0].Name != tt.want {
			t.Errorf("%s: stored %q, want %q", tt.name, ps[0].Name, tt.want)
		}
	}
}

func profReplacesWhole(t *testing.T, s people.Store) {
	ctx := t.Context()
	full := people.Profile{User: 2, Name: "Boris", Avatar: "https://x.example/b.jpg", Lang: "en", Stamp: st(10, "a")}
	_, err := s.SetProfile(ctx, full)
	must(t, err)
	bare := prof(2, "Borya", 20, "b")
	_, err = s.SetProfile(ctx, bare)
	must(t, err)
	if ps := readProfiles(t, s, 2); ps[0] != bare {
		t.Errorf("a later profile without avatar and lang reads %+v, want %+v", ps[0], bare)
	}
}

func profMany(t *testing.T, s people.Store) {
	ctx := t.Context()
	const n = 150
	for u := int64(1); u <= n; u += 2 { // odd users have profiles
		_, err := s.SetProfile(ctx, people.Profile{User: u, Name: fmt.Sprintf("user-%d", u),
			Avatar: fmt.Sprintf("https://x.example/%d.jpg", u), Stamp: st(u, "e")})
		must(t, err)
	}
	users := make([]int64, 0, n+3)
	for u := int64(n); u >= 1; u-- {
		users = append(users, u)
	}
	users = append(users, 3, 3, 1<<40) // repeats and an unknown id
	ps := readProfiles(t, s, users...)
	for i, u := range users {
		has := u%2 == 1 && u <= n
		if ps[i].Exists() != has {
			t.Fatalf("user %d: exists %v, want %v", u, ps[i].Exists(), has)
		}
		if has && (ps[i].Name != fmt.Sprintf("user-%d", u) || ps[i].Avatar != fmt.Sprintf("https://x.example/%d.jpg", u)) {
			t.Fatalf("user %d reads %+v", u, ps[i])
		}
	}
}

func profConcurrent(t *testing.T, s people.Store) {
	ctx := t.Context()
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 5 {
				ts := int64(100 + k*writers + w)
				if _, err := s.SetProfile(ctx, prof(9, fmt.Sprintf("n%d", ts), ts, "e")); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := fmt.Sprintf("n%d", 100+4*writers+writers-1)
	if ps := readProfiles(t, s, 9); ps[0].Name != want {
		t.Errorf("after concurrent writers: %q, want the latest stamp's %q", ps[0].Name, want)
	}
}
