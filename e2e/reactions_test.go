package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/schema"
)

// reactionItem is a feed item's reaction fields as the API writes them.
type reactionItem struct {
	EventID    string `json:"event_id" msgpack:"event_id"`
	Type       string `json:"type" msgpack:"type"`
	Object     string `json:"object" msgpack:"object"`
	ClassCount int64  `json:"class_count" msgpack:"class_count"`
	Reactions  []struct {
		Kind  string `json:"kind" msgpack:"kind"`
		Count int64  `json:"count" msgpack:"count"`
	} `json:"reactions" msgpack:"reactions"`
	ReactionCount int64  `json:"reaction_count" msgpack:"reaction_count"`
	MyReaction    string `json:"my_reaction" msgpack:"my_reaction"`
}

// render is "class=1 love=2 total=3 mine=love" (class_count first).
func (it *reactionItem) render() string {
	parts := []string{fmt.Sprintf("class_count=%d", it.ClassCount)}
	for _, r := range it.Reactions {
		parts = append(parts, fmt.Sprintf("%s=%d", r.Kind, r.Count))
	}
	parts = append(parts, fmt.Sprintf("total=%d", it.ReactionCount))
	if it.MyReaction != "" {
		parts = append(parts, "mine="+it.MyReaction)
	}
	return strings.Join(parts, " ")
}

// reactionsOf reads user's recent feed in JSON and in msgpack and returns
// the reaction fields of the post item of object ("" when the feed has
// none), or both when the two encodings disagree.
func (f *feedd) reactionsOf(user int64, object string) string {
	f.t.Helper()
	var out [2]string
	for i, accept := range []string{"application/json", "application/msgpack"} {
		code, body := f.do("GET", "/v1/feed?order=recent&limit=50", token(f.t, user, false), "", nil, "Accept", accept)
		if code != 200 {
			f.t.Fatalf("feed of %d (%s): %d %s", user, accept, code, body)
		}
		var p struct {
			Items []reactionItem `json:"items" msgpack:"items"`
		}
		var err error
		if i == 0 {
			err = json.Unmarshal(body, &p)
		} else {
			err = schema.UnmarshalMsgpackValue(body, &p)
		}
		if err != nil {
			f.t.Fatalf("feed of %d (%s): %v", user, accept, err)
		}
		for _, it := range p.Items {
			if it.Object == object && it.Type == "post" {
				out[i] = it.render()
			}
		}
	}
	if out[0] != out[1] {
		// Read a moment apart: an event may have been applied between
		// the two; eventuallyReactions reads again.
		return fmt.Sprintf("JSON %q but msgpack %q", out[0], out[1])
	}
	return out[0]
}

// eventuallyReactions waits until user's feed shows want on object's post.
func (f *feedd) eventuallyReactions(user int64, object, want string) {
	f.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := f.reactionsOf(user, object)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("reactions on %s in the feed of %d:\n got  %s\n want %s", object, user, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReactions: react, replace, undo, counts per kind and my_reaction
// through HTTP, JSON and msgpack, on each backend; an unknown kind is a
// 400; the owner's notification groups the reactions with their kinds.
func TestReactions(t *testing.T) { eachBackend(t, reactions) }

func reactions(t *testing.T, args []string) {
	f := startFeedd(t, append(args, "--reactions", "class,love,lol,wow,sad,party")...)
	base := time.Now().UnixMilli() - 60_000
	n := int64(0)
	next := func(e ev) ev { n++; e["ts"] = base + n*1000; return e }
	const owner, anna, boris = 71, 72, 73
	f.publish(
		next(ev{"id": "rx-f1", "type": "friend", "actor": owner, "target": anna}),
		next(ev{"id": "rx-f2", "type": "friend", "actor": owner, "target": boris}),
		next(ev{"id": "rx-p", "type": "post", "actor": owner, "text": "react to me"}),
	)
	f.eventually(anna, "rx-p")
	f.eventuallyReactions(anna, "rx-p", "class_count=0 total=0")

	// Anna reacts with love; Boris gives Class! the v1 way.
	f.publish(next(ev{"id": "rx-r1", "type": "react", "actor": anna, "target": owner, "object": "rx-p", "reaction": "love"}))
	f.publish(next(ev{"id": "rx-c1", "type": "class", "actor": boris, "target": owner, "object": "rx-p"}))
	f.eventuallyReactions(anna, "rx-p", "class_count=1 class=1 love=1 total=2 mine=love")
	f.eventuallyReactions(boris, "rx-p", "class_count=1 class=1 love=1 total=2 mine=class")
	f.eventuallyReactions(owner, "rx-p", "class_count=1 class=1 love=1 total=2")

	// The owner's notification groups both, with the kinds.
	waitNotification(t, f, owner, func(n notification) bool {
		return n.Type == "react" && n.Object == "rx-p" && n.ActorCount == 2 &&
			slices.Equal(n.Reactions, []string{"class", "love"})
	})

	// Anna replaces love with a configured custom kind; the count moves.
	f.publish(next(ev{"id": "rx-r2", "type": "react", "actor": anna, "target": owner, "object": "rx-p", "reaction": "party"}))
	f.eventuallyReactions(anna, "rx-p", "class_count=1 class=1 party=1 total=2 mine=party")

	// A re-delivered old react changes nothing (the same id: a duplicate).
	f.publish(ev{"id": "rx-r1", "type": "react", "actor": anna, "target": owner, "object": "rx-p", "reaction": "love", "ts": base + 4000})

	// Boris takes his Class! back with unreact; Anna with unclass.
	f.publish(next(ev{"id": "rx-u1", "type": "unreact", "actor": boris, "target": owner, "object": "rx-p"}))
	f.eventuallyReactions(boris, "rx-p", "class_count=0 party=1 total=1")
	f.publish(next(ev{"id": "rx-u2", "type": "unclass", "actor": anna, "target": owner, "object": "rx-p"}))
	f.eventuallyReactions(anna, "rx-p", "class_count=0 total=0")
	f.eventuallyReactions(owner, "rx-p", "class_count=0 total=0")

	// An unknown kind is a 400 naming the configured set.
	body := `{"id":"rx-bad","type":"react","actor":72,"target":71,"object":"rx-p","reaction":"angry","ts":` +
		fmt.Sprint(time.Now().UnixMilli()) + `}`
	code, resp := f.do("POST", "/v1/events", token(t, anna, false), "application/json", []byte(body))
	if code != 400 || !strings.Contains(string(resp), `unknown reaction \"angry\"`) || !strings.Contains(string(resp), "party") {
		t.Fatalf("unknown kind: %d %s", code, resp)
	}
}

type notification struct {
	Type       string   `json:"type"`
	Object     string   `json:"object"`
	ActorCount int      `json:"actor_count"`
	Reactions  []string `json:"reactions"`
}

// waitNotification waits until one of user's notifications matches ok.
func waitNotification(t *testing.T, f *feedd, user int64, ok func(notification) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := f.do("GET", "/v1/notifications?limit=20", token(t, user, false), "", nil)
		if code != 200 {
			t.Fatalf("notifications of %d: %d %s", user, code, body)
		}
		var p struct {
			Items []notification `json:"items"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("notifications of %d: %v", user, err)
		}
		if slices.ContainsFunc(p.Items, ok) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("notifications of %d: none matches: %s", user, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
