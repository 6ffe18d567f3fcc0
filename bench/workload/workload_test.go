package workload

import (
	"reflect"
	"testing"
)

func TestGraphIsSeededAndRealistic(t *testing.T) {
	cfg := Config{Users: 5000, Seed: 42, LargeAuthors: 2}
	a, err := NewGraph(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewGraph(cfg)
	if !reflect.DeepEqual(a.GraphEvents(1), b.GraphEvents(1)) {
		t.Fatal("same seed, different graph")
	}
	st := a.Stats()
	if st.MeanFriends < 70 || st.MeanFriends > 100 {
		t.Errorf("mean friends %.1f, want about 90", st.MeanFriends)
	}
	if st.MaxFriends < 3*st.MedianFriend {
		t.Errorf("max %d vs median %d: no long tail", st.MaxFriends, st.MedianFriend)
	}
	th := a.SuggestedThreshold()
	for _, l := range a.Large {
		if int64(a.Audience(l)) <= th {
			t.Errorf("large author %d has %d followers, threshold %d", l, a.Audience(l), th)
		}
	}
	for _, c := range a.Communities {
		if int64(a.Audience(c)) > th {
			t.Errorf("community %d above the threshold", c)
		}
	}
}

func TestStreamIsSeededAndMixed(t *testing.T) {
	g, err := NewGraph(Config{Users: 1000, Seed: 7, LargeAuthors: 1})
	if err != nil {
		t.Fatal(err)
	}
	s1, s2 := NewStream(g, DefaultMix, 1), NewStream(g, DefaultMix, 1)
	seen := map[string]int{}
	ids := map[string]bool{}
	for range 20000 {
		e1, e2 := s1.Next(5), s2.Next(5)
		if !reflect.DeepEqual(e1, e2) {
			t.Fatalf("same seed, different events: %+v %+v", e1, e2)
		}
		if ids[e1.ID] {
			t.Fatalf("id %s repeats", e1.ID)
		}
		ids[e1.ID] = true
		seen[string(e1.Type)]++
	}
	for _, k := range []string{"post", "photo", "class", "gift", "live", "live_end", "delete", "friend", "follow"} {
		if seen[k] == 0 {
			t.Errorf("no %s in %v", k, seen)
		}
	}
}

func TestParseMix(t *testing.T) {
	m, err := ParseMix("post=1,class=0")
	if err != nil || m.Post != 1 || m.Class != 0 || m.Photo != DefaultMix.Photo {
		t.Errorf("%+v %v", m, err)
	}
	for _, bad := range []string{"post", "poke=1", "post=-1", "post=0,photo=0,class=0,gift=0,live=0,delete=0,graph=0"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
