package pebblestore

import (
	"testing"

	"github.com/lenta-dev/lenta/timeline"
)

// Write sorts a call's keys before they go into the batch; the sort is
// stable, so a row written twice in one call keeps the later content, as
// it did when rows went into the batch in call order.
func TestWriteKeepsTheLaterOfTwoWritesOfARow(t *testing.T) {
	st := newStore(t)
	first := timeline.Entry{TS: 100, ID: "e1", Kind: timeline.KindPost, Actor: 7, Object: "first", Audience: "public"}
	second := first
	second.Object, second.Audience = "second", "friends"
	rows := []timeline.Row{
		{NS: timeline.Home, User: 9, Entry: first},
		{NS: timeline.Home, User: 2, Entry: first}, // a smaller key in between
		{NS: timeline.Home, User: 9, Entry: second},
	}
	if err := st.Timelines().Write(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
	page, err := st.Timelines().Page(t.Context(), timeline.Home, 9, timeline.Position{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 || page[0].Object != "second" || page[0].Audience != "friends" {
		t.Fatalf("page %+v, want the second write alone", page)
	}
}
