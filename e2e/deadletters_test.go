package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestDeadLettersListAndReplay(t *testing.T) { eachBackend(t, deadLettersListAndReplay) }

type letterRow struct {
	Reason   string `json:"reason"`
	EventID  string `json:"event_id"`
	Source   string `json:"source"`
	TS       int64  `json:"ts"`
	Replayed bool   `json:"replayed"`
}

// feedctl runs feedctl against f and returns its output.
func (f *feedd) feedctl(args ...string) string {
	f.t.Helper()
	cmd := exec.Command(feedctlBin, append(args, "--addr", f.Base())...)
	cmd.Env = append(os.Environ(), "FEED_AUTH_SECRET="+secret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		f.t.Fatalf("feedctl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (f *feedd) letters(args ...string) []letterRow {
	f.t.Helper()
	var out struct {
		Letters []letterRow `json:"letters"`
	}
	if err := json.Unmarshal([]byte(f.feedctl(append([]string{"deadletters", "list", "--json"}, args...)...)), &out); err != nil {
		f.t.Fatal(err)
	}
	return out.Letters
}

// counts are the pipeline's totals: applied, duplicates, dead-lettered.
func (f *feedd) counts() [3]float64 {
	return [3]float64{f.metric("lenta_fanout_events_applied_total"),
		f.metric("lenta_fanout_duplicates_skipped_total"), f.metric("lenta_fanout_dead_lettered_total")}
}

func deadLettersListAndReplay(t *testing.T, args []string) {
	f := startFeedd(t, args...)
	now := time.Now().UnixMilli() - 60_000
	post := ev{"id": "p1", "type": "post", "actor": 1, "text": "first", "ts": now + 2000}
	f.publish(
		ev{"id": "g1", "type": "friend", "actor": 1, "target": 2, "ts": now + 1000},
		post,
		ev{"id": "b1", "type": "block", "actor": 3, "target": 4, "ts": now + 3000},
		ev{"id": "p3", "type": "post", "actor": 3, "text": "by three", "ts": now + 4000},
	)
	f.settle(4)
	f.eventually(2, "p1")

	// The same id with other content, then with the same content; and a
	// follow across the block.
	f.publish(ev{"id": "p1", "type": "post", "actor": 1, "text": "changed", "ts": now + 2000},
		ev{"id": "f1", "type": "follow", "actor": 4, "target": 3, "ts": now + 5000})
	f.publish(post)
	f.settle(7)
	if got, want := f.counts(), [3]float64{4, 1, 2}; got != want {
		t.Fatalf("applied, duplicates, dead = %v, want %v", got, want)
	}
	if items := f.feed(2); len(items) != 1 || items[0].Text != "first" {
		t.Fatalf("the conflicting copy changed the feed: %+v", items)
	}
	for reason, want := range map[string]float64{"id_conflict": 1, "blocked": 1, "not_owner": 0} {
		if got := f.metric(`lenta_dead_letters_total{reason="` + reason + `"}`); got != want {
			t.Errorf("lenta_dead_letters_total{reason=%q} = %v, want %v", reason, got, want)
		}
	}
	all := f.letters()
	if len(all) != 2 {
		t.Fatalf("letters: %+v", all)
	}
	conflict := f.letters("--reason", "id_conflict")
	if len(conflict) != 1 || conflict[0].EventID != "p1" || conflict[0].Source == "" || conflict[0].TS == 0 || conflict[0].Replayed {
		t.Fatalf("id_conflict letters: %+v", conflict)
	}
	table := f.feedctl("deadletters", "list", "--reason", "blocked")
	if !strings.Contains(table, "blocked") || !strings.Contains(table, `"f1"`) || strings.Contains(table, `"p1"`) {
		t.Fatalf("table:\n%s", table)
	}

	// Fix the cause, replay: the follow is applied, once.
	f.publish(ev{"id": "u1", "type": "unblock", "actor": 3, "target": 4, "ts": now + 6000})
	f.settle(8)
	out := f.feedctl("deadletters", "replay", "--reason", "blocked")
	if !strings.Contains(out, "replayed 1 event") || !strings.Contains(out, `"f1"`) {
		t.Fatalf("replay:\n%s", out)
	}
	f.settle(9)
	f.eventually(4, "p3")
	if got, want := f.counts(), [3]float64{6, 1, 2}; got != want {
		t.Fatalf("after replay: applied, duplicates, dead = %v, want %v", got, want)
	}
	// Replaying again, by reason or by id, changes nothing.
	for _, sel := range [][]string{{"--reason", "blocked"}, {"--id", "f1"}} {
		out := f.feedctl(append([]string{"deadletters", "replay"}, sel...)...)
		if !strings.Contains(out, "replayed 0 event") {
			t.Fatalf("second replay %v:\n%s", sel, out)
		}
	}
	time.Sleep(time.Second)
	if got, want := f.counts(), [3]float64{6, 1, 2}; got != want {
		t.Fatalf("after second replay: applied, duplicates, dead = %v, want %v", got, want)
	}
	blocked := f.letters("--reason", "blocked")
	if len(blocked) != 1 || !blocked[0].Replayed {
		t.Fatalf("blocked letters after replay: %+v", blocked)
	}
	if all := f.letters(); len(all) != 2 {
		t.Fatalf("letters after replay: %+v", all)
	}

	// Only a service token may see them.
	if code, _ := f.do("GET", "/v1/admin/deadletters", token(t, 4, false), "", nil); code != 403 {
		t.Errorf("user token: %d, want 403", code)
	}
	if code, _ := f.do("GET", "/v1/admin/deadletters", "", "", nil); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
}
