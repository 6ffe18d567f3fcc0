package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/schema"
)

// realEnv is a fresh keyspace, topic prefix and group on the real servers.
type realEnv struct {
	kafka, cass, ns string
}

func newRealEnv(t *testing.T) realEnv {
	t.Helper()
	kafka, cass := os.Getenv("LENTA_TEST_KAFKA"), os.Getenv("LENTA_TEST_CASSANDRA")
	if kafka == "" || cass == "" {
		t.Skip("LENTA_TEST_KAFKA and LENTA_TEST_CASSANDRA not set: real-backend test skipped (make test runs it)")
	}
	ns := fmt.Sprintf("e2e_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000_000)
	return realEnv{kafka: kafka, cass: cass, ns: ns}
}

func (r realEnv) args(extra ...string) []string {
	return append([]string{"--kafka", r.kafka, "--cassandra", r.cass, "--keyspace", r.ns,
		"--topic-prefix", r.ns + ".", "--group", r.ns, "--consistency", "ONE", "--partitions", "4"}, extra...)
}

func (r realEnv) topic() string { return r.ns + ".events" }

// kcat runs Debian's kcat, an independent Kafka client.
func kcat(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed (apt-get install kcat; make test installs it)")
	}
	cmd := exec.Command(path, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %v: %v\n%s", args, err, errb.String())
	}
	return out.Bytes()
}

// TestKcatPublishedEventsAndPoison: events written to the topic by an
// independent client (kcat, msgpack bytes from files) reach the right
// feeds; a poison message goes to the dead-letter topic with its reason and
// the events behind it on the same partition are still applied.
func TestKcatPublishedEventsAndPoison(t *testing.T) {
	r := newRealEnv(t)
	f := startFeedd(t, r.args()...)
	f.publish(ev{"id": "k-g1", "type": "friend", "actor": 1, "target": 2, "ts": time.Now().UnixMilli()})
	f.settle(1)

	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	post := schema.Event{ID: "k-p1", Type: schema.Post, Actor: 1, Text: "from kcat", TS: time.Now().UnixMilli()}
	good, err := schema.MarshalMsgpack(&post)
	if err != nil {
		t.Fatal(err)
	}
	after := schema.Event{ID: "k-p2", Type: schema.Post, Actor: 1, Text: "behind the poison", TS: time.Now().UnixMilli() + 1}
	good2, _ := schema.MarshalMsgpack(&after)
	poison := write("poison.bin", []byte{0x81, 0xa2, 'i', 'd', 0xc1, 0xff}) // not msgpack
	invalid := schema.Event{ID: "k-bad", Type: schema.Friend, Actor: 1, Target: 1, TS: time.Now().UnixMilli()}
	bad, _ := schema.MarshalMsgpack(&invalid) // well formed, but friend with oneself
	// Same key (actor 1), so the same partition, in this order. Each file
	// is one message; murmur2 is the partitioner Java clients and Lenta use.
	for _, file := range []string{write("good.bin", good), poison, write("bad.bin", bad), write("good2.bin", good2)} {
		kcat(t, nil, "-P", "-b", r.kafka, "-t", r.topic(), "-k", "1", "-X", "topic.partitioner=murmur2_random", file)
	}
	f.settle(5)
	f.eventually(2, "k-p2", "k-p1")
	f.eventually(1, "k-p2", "k-p1")
	if n := f.metric("lenta_fanout_dead_lettered_total"); n != 2 {
		t.Fatalf("dead-lettered %v, want 2", n)
	}
	// The dead letters, read by kcat: original bytes and the reason.
	out := kcat(t, nil, "-C", "-b", r.kafka, "-t", r.ns+".events.dlq", "-o", "beginning", "-e", "-q",
		"-f", "%h\n")
	s := string(out)
	if !strings.Contains(s, "lenta-reason=") || !strings.Contains(s, "malformed") ||
		!strings.Contains(s, "friend with oneself") || !strings.Contains(s, "lenta-event-id=k-bad") {
		t.Fatalf("dead-letter headers:\n%s", s)
	}
}

// TestTwoWorkersShareAndHandOver: two fan-out processes in one group share
// the partitions; when one stops mid-run, the other finishes the work.
func TestTwoWorkersShareAndHandOver(t *testing.T) {
	r := newRealEnv(t)
	front := startFeedd(t, r.args("--role", "ingest,reader")...)
	w1 := startFeedd(t, r.args("--role", "fanout")...)
	w2 := startFeedd(t, r.args("--role", "fanout", "--migrate=false")...)
	const reader, authors, posts = 1, 40, 10 // 400 posts by 40 authors
	now := time.Now().UnixMilli()
	var graph []ev
	for a := 0; a < authors; a++ {
		graph = append(graph, ev{"id": "w-f" + strconv.Itoa(a), "type": "follow", "actor": reader,
			"target": 1000 + a, "ts": now - 100_000 + int64(a)})
	}
	front.publish(graph...)
	applied := func() float64 {
		return w1.metric("lenta_fanout_events_applied_total") + w2.metric("lenta_fanout_events_applied_total")
	}
	waitFor(t, 60*time.Second, func() bool { return applied() >= authors }, "graph applied")
	var items []ev
	var want []string
	for i := 0; i < authors*posts; i++ {
		id := "w-p" + strconv.Itoa(i)
		items = append(items, ev{"id": id, "type": "post", "actor": 1000 + i%authors, "text": "post " + id,
			"ts": now - 50_000 + int64(i)})
		want = append(want, id)
	}
	// Trickle posts until both workers have applied some (the second may
	// join the group only after the first has taken every partition), then
	// publish the rest and stop one worker while they are in flight.
	both := func() bool {
		return w1.metric("lenta_fanout_events_applied_total") > 0 && w2.metric("lenta_fanout_events_applied_total") > 0
	}
	sent := 0
	for deadline := time.Now().Add(90 * time.Second); !both(); {
		if time.Now().After(deadline) || sent >= len(items)-40 {
			t.Fatalf("the two workers did not both apply events (sent %d)", sent)
		}
		front.publish(items[sent : sent+10]...)
		sent += 10
		time.Sleep(200 * time.Millisecond)
	}
	front.publish(items[sent:]...)
	w1.stop()
	waitFor(t, 90*time.Second, func() bool { return len(walk(front, reader)) >= len(want) }, "all posts visible")
	got := walk(front, reader)
	for i := range want { // newest first
		if got[i] != want[len(want)-1-i] {
			t.Fatalf("feed position %d: %s, want %s (of %d)", i, got[i], want[len(want)-1-i], len(got))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("feed has %d items, want %d", len(got), len(want))
	}
}

// walk reads a whole feed through its cursors.
func walk(f *feedd, user int64) []string {
	var out []string
	cursor := ""
	for i := 0; i < 100; i++ {
		p := f.feedPage(user, 100, cursor)
		out = append(out, ids(p.Items)...)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	return out
}

func waitFor(t *testing.T, d time.Duration, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRewoundOffsetsChangeNothing: after the group's offsets are rewound
// to the start (feedctl rewind), every event is delivered again and no
// feed or count changes.
func TestRewoundOffsetsChangeNothing(t *testing.T) {
	r := newRealEnv(t)
	f := startFeedd(t, r.args()...)
	now := time.Now().UnixMilli()
	evs := []ev{
		{"id": "r-g1", "type": "friend", "actor": 1, "target": 2, "ts": now - 9000},
		{"id": "r-g2", "type": "friend", "actor": 3, "target": 2, "ts": now - 8000},
		{"id": "r-p1", "type": "photo", "actor": 2, "object": "ph", "media": []string{"m"}, "ts": now - 7000},
		{"id": "r-c1", "type": "class", "actor": 1, "target": 2, "object": "ph", "ts": now - 6000},
		{"id": "r-c2", "type": "class", "actor": 3, "target": 2, "object": "ph", "ts": now - 5000},
		{"id": "r-u1", "type": "unclass", "actor": 3, "target": 2, "object": "ph", "ts": now - 4000},
		{"id": "r-p2", "type": "post", "actor": 1, "text": "later deleted", "ts": now - 3000},
		{"id": "r-d2", "type": "delete", "actor": 1, "object": "r-p2", "ts": now - 2000},
	}
	f.publish(evs[:2]...)
	f.settle(2)
	f.publish(evs[2:]...)
	f.settle(len(evs))
	before := snapshotOf(f, 1, 2, 3)
	f.stop()
	out, err := exec.Command(feedctlBin, "rewind", "--kafka", r.kafka, "--topic-prefix", r.ns+".", "--group", r.ns).CombinedOutput()
	if err != nil {
		t.Fatalf("feedctl rewind: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("%d events will be delivered again", len(evs))) {
		t.Fatalf("feedctl rewind: %s", out)
	}
	f2 := startFeedd(t, r.args("--migrate=false")...)
	f2.settle(len(evs)) // the new process counts from zero: all re-delivered
	if after := snapshotOf(f2, 1, 2, 3); after != before {
		t.Fatalf("re-delivery changed feeds:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if !strings.Contains(before, `"class_count":1`) {
		t.Fatalf("expected the photo's count of 1 in:\n%s", before)
	}
}
