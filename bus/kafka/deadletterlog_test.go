package kafkabus

import (
	"context"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
)

// TestDeadLetterLog lists what Put wrote to the dead-letter topic, with
// reason codes, and marks replays with records of its own.
func TestDeadLetterLog(t *testing.T) {
	cfg := testConfig(t)
	dead, err := NewDeadLetters(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := dead.Put(ctx, []fanout.DeadLetter{
		{Raw: []byte("a"), EventID: "e1", Reason: "target 2 is not the owner", Code: fanout.ReasonNotOwner, TS: 100},
		{Raw: []byte("b"), EventID: "e2", Reason: "old letter", TS: 200},
	}); err != nil {
		t.Fatal(err)
	}
	log := NewDeadLetterLog(cfg, dead)
	got, err := log.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].EventID != "e2" || got[0].Code != "" || got[1].Code != fanout.ReasonNotOwner ||
		string(got[1].Raw) != "a" || got[1].TS != 100 || got[1].Reason == "" || got[1].Source == "" || got[0].Replayed || got[1].Replayed {
		t.Fatalf("List = %+v", got)
	}
	for range 2 {
		if err := log.MarkReplayed(ctx, []string{got[1].Source}); err != nil {
			t.Fatal(err)
		}
		again, err := log.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != 2 || again[0].Replayed || !again[1].Replayed || again[1].Source != got[1].Source {
			t.Fatalf("after MarkReplayed: %+v", again)
		}
	}
}
