package kafkabus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
)

const kafkaEnv = "LENTA_TEST_KAFKA"

func init() {
	// SARAMA_DEBUG=1 shows sarama's own log (joins, rebalances, fetches).
	if os.Getenv("SARAMA_DEBUG") != "" {
		sarama.Logger = log.New(os.Stderr, "[sarama] ", log.Lmicroseconds)
	}
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9-]+`)

// testConfig gives each test its own topics and group, created now and
// deleted when the test ends. It skips the test when no Kafka is given.
func testConfig(t testing.TB) Config {
	t.Helper()
	addr := os.Getenv(kafkaEnv)
	if addr == "" {
		t.Skipf("Kafka tests need a broker: set %s=127.0.0.1:9092 (start one with `bash scripts/services.sh start kafka`)", kafkaEnv)
	}
	id := fmt.Sprintf("%s-%d", strings.ToLower(unsafeName.ReplaceAllString(t.Name(), "-")), time.Now().UnixNano())
	cfg := Config{
		Brokers:      strings.Split(addr, ","),
		TopicPrefix:  "test-" + id + ".",
		Partitions:   6,
		Group:        "test-" + id,
		BatchWait:    10 * time.Millisecond,
		ClientID:     "lenta-test",
		DrainTimeout: 5 * time.Second,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := EnsureTopics(ctx, cfg); err != nil {
		t.Fatalf("EnsureTopics: %v", err)
	}
	// A second call finds them and is fine.
	if err := EnsureTopics(ctx, cfg); err != nil {
		t.Fatalf("EnsureTopics again: %v", err)
	}
	t.Cleanup(func() {
		admin := testAdmin(t, cfg)
		defer admin.Close()
		_ = admin.DeleteConsumerGroup(cfg.Group)
		for _, topic := range []string{cfg.EventsTopic(), cfg.DeadLetterTopic()} {
			if err := admin.DeleteTopic(topic); err != nil {
				t.Logf("delete topic %s: %v", topic, err)
			}
		}
	})
	return cfg
}

func testAdmin(t testing.TB, cfg Config) sarama.ClusterAdmin {
	t.Helper()
	c, _ := cfg.withDefaults()
	sc, err := c.base()
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sarama.NewClusterAdmin(c.Brokers, sc)
	if err != nil {
		t.Fatalf("admin: %v", err)
	}
	return admin
}

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("test", t.Name())
	}
	return nil
}

func event(actor int64, seq int) schema.Event {
	return schema.Event{
		ID:    fmt.Sprintf("e-%d-%d", actor, seq),
		Type:  schema.Post,
		Actor: actor,
		Text:  "hello " + strconv.Itoa(seq),
		TS:    1_700_000_000_000 + int64(seq),
	}
}

// events makes n events per actor, interleaved across actors.
func events(actors []int64, n int) []schema.Event {
	var evs []schema.Event
	for seq := range n {
		for _, a := range actors {
			evs = append(evs, event(a, seq))
		}
	}
	return evs
}

func publish(t testing.TB, p *Producer, evs []schema.Event, batch int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 0; i < len(evs); i += batch {
		if err := p.Publish(ctx, evs[i:min(i+batch, len(evs))]); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
}

func newProducer(t testing.TB, cfg Config) *Producer {
	t.Helper()
	p, err := NewProducer(cfg)
	if err != nil {
		t.Fatalf("NewProducer: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// recorder is a process func that decodes and keeps what it is given.
type recorder struct {
	mu    sync.Mutex
	got   []schema.Event
	raw   [][]byte
	parts []int32 // source partition of each
	fail  func(msgs [][]byte) error
}

func (r *recorder) process(ctx context.Context, msgs [][]byte) error {
	if r.fail != nil {
		if err := r.fail(msgs); err != nil {
			return err
		}
	}
	src := sourceFrom(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range msgs {
		ev, err := schema.UnmarshalMsgpack(m)
		if err != nil {
			return fmt.Errorf("test recorder: %w", err)
		}
		r.got = append(r.got, ev)
		r.raw = append(r.raw, m)
		r.parts = append(r.parts, src.partition)
	}
	return nil
}

func (r *recorder) events() []schema.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func ids(evs []schema.Event) map[string]int {
	m := make(map[string]int, len(evs))
	for _, e := range evs {
		m[e.ID]++
	}
	return m
}

// running is a consumer whose Run goes on in the background.
type running struct {
	c      *Consumer
	cancel context.CancelFunc
	done   chan error
}

func startConsumer(t testing.TB, cfg Config, process func(context.Context, [][]byte) error) *running {
	t.Helper()
	c, err := NewConsumer(cfg, process, testLog(t))
	if err != nil {
		t.Fatalf("NewConsumer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{c: c, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- c.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and waits for it; idempotent.
func (r *running) stop(t testing.TB) {
	t.Helper()
	if r.done == nil {
		return
	}
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30s of cancel")
	}
	r.done = nil
	_ = r.c.Close()
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitLag(t testing.TB, c *Consumer, want int64) {
	t.Helper()
	var last int64
	var lastErr error
	deadline := time.Now().Add(20 * time.Second)
	for {
		last, lastErr = c.Lag(context.Background())
		if lastErr == nil && last == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lag: want %d, have %d (err %v)", want, last, lastErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkOrder fails unless, per actor, the sequence numbers of evs (first
// occurrences) appear in increasing order.
func checkOrder(t testing.TB, evs []schema.Event) {
	t.Helper()
	last := map[int64]int64{}
	seen := map[string]bool{}
	for _, e := range evs {
		if seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		if prev, ok := last[e.Actor]; ok && e.TS <= prev {
			t.Fatalf("actor %d: event %s (ts %d) after ts %d: per-actor order broken", e.Actor, e.ID, e.TS, prev)
		}
		last[e.Actor] = e.TS
	}
}

func TestPublishConsumeCommit(t *testing.T) {
	cfg := testConfig(t)
	p := newProducer(t, cfg)
	actors := []int64{1, 2, 3, 5, 8, 13, 21, 1 << 40}
	evs := events(actors, 75)
	publish(t, p, evs, 100)

	rec := &recorder{}
	c1 := startConsumer(t, cfg, rec.process)
	waitFor(t, 30*time.Second, "all events", func() bool { return rec.count() >= len(evs) })
	got := rec.events()
	if len(got) != len(evs) {
		t.Fatalf("received %d events, published %d", len(got), len(evs))
	}
	for id, n := range ids(got) {
		if n != 1 {
			t.Errorf("event %s received %d times", id, n)
		}
	}
	if !sameKeys(ids(got), ids(evs)) {
		t.Fatal("received events differ from published ones")
	}
	checkOrder(t, got)
	// One actor, one partition.
	rec.mu.Lock()
	partOf := map[int64]int32{}
	for i, e := range rec.got {
		if p, ok := partOf[e.Actor]; ok && p != rec.parts[i] {
			t.Errorf("actor %d seen on partitions %d and %d", e.Actor, p, rec.parts[i])
		}
		partOf[e.Actor] = rec.parts[i]
	}
	rec.mu.Unlock()
	waitLag(t, c1.c, 0)
	c1.stop(t)

	// A new member of the group starts from the committed offsets: it sees
	// only what was published after.
	marker := event(99, 0)
	publish(t, p, []schema.Event{marker}, 1)
	rec2 := &recorder{}
	c2 := startConsumer(t, cfg, rec2.process)
	waitFor(t, 30*time.Second, "the marker event", func() bool { return rec2.count() >= 1 })
	time.Sleep(time.Second) // anything else would arrive by now
	if got := rec2.events(); len(got) != 1 || got[0].ID != marker.ID {
		t.Fatalf("second consumer got %d events (first %v), want only the marker", len(got), got[0].ID)
	}
	waitLag(t, c2.c, 0)
}

func sameKeys(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func TestRedeliveryAfterFailure(t *testing.T) {
	cfg := testConfig(t)
	p := newProducer(t, cfg)
	evs := events([]int64{10, 11, 12, 13}, 50)
	publish(t, p, evs, 500)

	var mu sync.Mutex
	var failed []string
	rec := &recorder{}
	rec.fail = func(msgs [][]byte) error {
		mu.Lock()
		defer mu.Unlock()
		if failed != nil || len(msgs) < 2 {
			return nil
		}
		for _, m := range msgs {
			ev, _ := schema.UnmarshalMsgpack(m)
			failed = append(failed, ev.ID)
		}
		return errors.New("injected failure")
	}
	c := startConsumer(t, cfg, rec.process)
	waitFor(t, 30*time.Second, "all events", func() bool { return len(ids(rec.events())) >= len(evs) })
	waitLag(t, c.c, 0)
	mu.Lock()
	defer mu.Unlock()
	if len(failed) == 0 {
		t.Fatal("no batch was failed")
	}
	got := ids(rec.events())
	for _, id := range failed {
		if got[id] == 0 {
			t.Errorf("event %s of the failed batch was never delivered again", id)
		}
	}
	if !sameKeys(got, ids(evs)) {
		t.Fatalf("received %d distinct events, published %d", len(got), len(evs))
	}
	checkOrder(t, rec.events())
	t.Logf("failed a batch of %d; all %d events delivered", len(failed), len(evs))
}

func TestRewind(t *testing.T) {
	cfg := testConfig(t)
	p := newProducer(t, cfg)
	evs := events([]int64{7, 8, 9}, 40)
	publish(t, p, evs, 50)

	rec := &recorder{}
	c := startConsumer(t, cfg, rec.process)
	waitFor(t, 30*time.Second, "all events", func() bool { return rec.count() >= len(evs) })
	waitLag(t, c.c, 0)
	c.stop(t)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var n int64
	var err error
	// Right after the member left, the coordinator may still be finishing
	// the rebalance; retry briefly.
	for {
		n, err = ResetGroupOffsets(ctx, cfg)
		if err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("ResetGroupOffsets: %v", err)
	}
	if n != int64(len(evs)) {
		t.Fatalf("ResetGroupOffsets: %d messages to re-deliver, want %d", n, len(evs))
	}

	rec2 := &recorder{}
	c2 := startConsumer(t, cfg, rec2.process)
	waitLag(t, c2.c, 0)
	waitFor(t, 30*time.Second, "everything again", func() bool { return rec2.count() >= len(evs) })
	if got := ids(rec2.events()); !sameKeys(got, ids(evs)) {
		t.Fatalf("after rewind received %d distinct events, want %d", len(got), len(evs))
	}
	checkOrder(t, rec2.events())
}

// groupMembers returns the number of partitions assigned to each member of
// a stable group, or nil if it is not stable.
func groupMembers(t testing.TB, admin sarama.ClusterAdmin, group string) []int {
	d, err := admin.DescribeConsumerGroups([]string{group})
	if err != nil || len(d) != 1 || d[0].State != "Stable" {
		return nil
	}
	var out []int
	for _, m := range d[0].Members {
		a, err := m.GetMemberAssignment()
		if err != nil {
			return nil
		}
		n := 0
		for _, ps := range a.Topics {
			n += len(ps)
		}
		out = append(out, n)
	}
	return out
}

func TestTwoConsumersShareAndTakeOver(t *testing.T) {
	cfg := testConfig(t)
	p := newProducer(t, cfg)
	admin := testAdmin(t, cfg)
	defer admin.Close()

	rec1, rec2 := &recorder{}, &recorder{}
	c1 := startConsumer(t, cfg, rec1.process)
	c2 := startConsumer(t, cfg, rec2.process)
	waitFor(t, 60*time.Second, "a stable group of two members, both with partitions", func() bool {
		m := groupMembers(t, admin, cfg.Group)
		return len(m) == 2 && m[0] > 0 && m[1] > 0 && m[0]+m[1] == int(cfg.Partitions)
	})

	if d, err := admin.DescribeConsumerGroups([]string{cfg.Group}); err != nil || len(d) != 1 || d[0].Protocol != "cooperative-sticky" {
		t.Fatalf("group protocol: %+v (%v), want cooperative-sticky", d, err)
	}

	actors := make([]int64, 30)
	for i := range actors {
		actors[i] = int64(100 + i)
	}
	first := events(actors, 10)
	publish(t, p, first, 100)
	total := func() map[string]int {
		all := append(rec1.events(), rec2.events()...)
		return ids(all)
	}
	waitFor(t, 30*time.Second, "the first half", func() bool { return len(total()) >= len(first) })
	n1, n2 := rec1.count(), rec2.count()
	if n1 == 0 || n2 == 0 {
		t.Fatalf("partitions not shared: consumer 1 got %d, consumer 2 got %d", n1, n2)
	}
	t.Logf("first half: consumer 1 got %d, consumer 2 got %d", n1, n2)
	waitLag(t, c1.c, 0)

	c1.stop(t)
	waitFor(t, 60*time.Second, "consumer 2 to own every partition", func() bool {
		m := groupMembers(t, admin, cfg.Group)
		return len(m) == 1 && m[0] == int(cfg.Partitions)
	})
	second := make([]schema.Event, 0, len(first))
	for seq := 10; seq < 20; seq++ {
		for _, a := range actors {
			second = append(second, event(a, seq))
		}
	}
	publish(t, p, second, 100)
	waitFor(t, 30*time.Second, "the second half", func() bool { return len(total()) >= len(first)+len(second) })
	waitLag(t, c2.c, 0)

	all := append(slices.Clone(first), second...)
	if got := total(); !sameKeys(got, ids(all)) {
		t.Fatalf("received %d distinct events, published %d", len(got), len(all))
	}
	got2 := ids(rec2.events())
	for _, e := range second {
		if got2[e.ID] == 0 {
			t.Fatalf("event %s of the second half not received by consumer 2", e.ID)
		}
	}
	checkOrder(t, rec1.events())
	checkOrder(t, rec2.events())
}

// TestRevokeWhileBusy: consumer 1 is stuck (its store is down: process
// blocks until its context ends). A second member joins; the partitions
// moved to it must be released within DrainTimeout (not sarama's 60s
// rebalance timeout) and their batches re-delivered there. When consumer 1
// stops, its stuck batches are abandoned after DrainTimeout and consumer 2
// gets everything.
func TestRevokeWhileBusy(t *testing.T) {
	cfg := testConfig(t)
	cfg.DrainTimeout = time.Second
	p := newProducer(t, cfg)
	admin := testAdmin(t, cfg)
	defer admin.Close()
	actors := make([]int64, 24)
	for i := range actors {
		actors[i] = int64(500 + i)
	}
	evs := events(actors, 5)
	publish(t, p, evs, 100)

	var mu sync.Mutex
	stuck := 0
	c1 := startConsumer(t, cfg, func(ctx context.Context, msgs [][]byte) error {
		mu.Lock()
		stuck++
		mu.Unlock()
		<-ctx.Done()
		return ctx.Err()
	})
	waitFor(t, 30*time.Second, "consumer 1 stuck on every partition", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return stuck >= int(cfg.Partitions)
	})

	rec2 := &recorder{}
	joined := time.Now()
	startConsumer(t, cfg, rec2.process)
	waitFor(t, 15*time.Second, "consumer 2 to get the revoked partitions' events", func() bool { return rec2.count() > 0 })
	t.Logf("consumer 2 got its first events %v after joining", time.Since(joined).Round(time.Millisecond))
	waitFor(t, 30*time.Second, "a stable group of two", func() bool {
		m := groupMembers(t, admin, cfg.Group)
		return len(m) == 2 && m[0] > 0 && m[1] > 0
	})

	stopped := time.Now()
	c1.stop(t)
	t.Logf("consumer 1 stopped in %v", time.Since(stopped).Round(time.Millisecond))
	waitFor(t, 30*time.Second, "consumer 2 to get everything", func() bool { return len(ids(rec2.events())) >= len(evs) })
	if got := ids(rec2.events()); !sameKeys(got, ids(evs)) {
		t.Fatalf("consumer 2 received %d distinct events, want %d", len(got), len(evs))
	}
	checkOrder(t, rec2.events())
}

// TestGracefulStopDrains: cancelling Run while a batch is being applied
// lets it finish and commits it; nothing is delivered again.
func TestGracefulStopDrains(t *testing.T) {
	cfg := testConfig(t)
	p := newProducer(t, cfg)
	evs := events([]int64{42}, 30)
	publish(t, p, evs, 100)

	entered := make(chan struct{}, 1)
	var mu sync.Mutex
	var finished int
	c := startConsumer(t, cfg, func(ctx context.Context, msgs [][]byte) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-time.After(time.Second): // a slow but healthy store
		case <-ctx.Done():
			return ctx.Err()
		}
		mu.Lock()
		finished += len(msgs)
		mu.Unlock()
		return nil
	})
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("no batch started")
	}
	c.stop(t)
	mu.Lock()
	defer mu.Unlock()
	if finished == 0 {
		t.Fatal("the batch in flight was not allowed to finish")
	}
	lc, err := NewConsumer(cfg, func(context.Context, [][]byte) error { return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	waitLag(t, lc, int64(len(evs)-finished))
}

// TestSmallBatchesBackpressure: with tiny batches and a slow process the
// claim queue pauses and resumes its partition many times; everything
// arrives, in order, in batches of at most BatchMax.
func TestSmallBatchesBackpressure(t *testing.T) {
	cfg := testConfig(t)
	cfg.BatchMax = 5
	p := newProducer(t, cfg)
	evs := events([]int64{3, 4}, 150)
	publish(t, p, evs, 500)

	rec := &recorder{}
	var mu sync.Mutex
	biggest := 0
	rec.fail = func(msgs [][]byte) error {
		mu.Lock()
		biggest = max(biggest, len(msgs))
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		return nil
	}
	c := startConsumer(t, cfg, rec.process)
	waitFor(t, 60*time.Second, "all events", func() bool { return rec.count() >= len(evs) })
	waitLag(t, c.c, 0)
	got := rec.events()
	if len(got) != len(evs) || !sameKeys(ids(got), ids(evs)) {
		t.Fatalf("received %d events (%d distinct), published %d", len(got), len(ids(got)), len(evs))
	}
	checkOrder(t, got)
	mu.Lock()
	defer mu.Unlock()
	if biggest > cfg.BatchMax {
		t.Fatalf("a batch of %d messages, BatchMax is %d", biggest, cfg.BatchMax)
	}
}

// TestRunWithoutTopic: the topic missing (auto-creation is off) is logged
// and retried, and Run still stops promptly.
func TestRunWithoutTopic(t *testing.T) {
	cfg := testConfig(t)
	cfg.TopicPrefix = "missing-" + cfg.TopicPrefix
	r := startConsumer(t, cfg, func(context.Context, [][]byte) error { return nil })
	time.Sleep(1500 * time.Millisecond)
	start := time.Now()
	r.stop(t)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Run took %v to stop", d)
	}
}

// readAll reads every message of topic from the oldest, until it has n.
func readAll(t testing.TB, cfg Config, topic string, n int) []*sarama.ConsumerMessage {
	t.Helper()
	c, _ := cfg.withDefaults()
	sc, _ := c.consumerConfig()
	cons, err := sarama.NewConsumer(c.Brokers, sc)
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	defer cons.Close()
	parts, err := cons.Partitions(topic)
	if err != nil {
		t.Fatalf("partitions: %v", err)
	}
	out := make(chan *sarama.ConsumerMessage, 1024)
	var pcs []sarama.PartitionConsumer
	for _, p := range parts {
		pc, err := cons.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatalf("consume %s/%d: %v", topic, p, err)
		}
		pcs = append(pcs, pc)
		go func() {
			for m := range pc.Messages() {
				out <- m
			}
		}()
	}
	defer func() {
		for _, pc := range pcs {
			pc.AsyncClose()
		}
	}()
	var msgs []*sarama.ConsumerMessage
	timeout := time.After(20 * time.Second)
	for len(msgs) < n {
		select {
		case m := <-out:
			msgs = append(msgs, m)
		case <-timeout:
			t.Fatalf("read %d of %d messages from %s", len(msgs), n, topic)
		}
	}
	return msgs
}

func headers(m *sarama.ConsumerMessage) map[string]string {
	h := map[string]string{}
	for _, r := range m.Headers {
		h[string(r.Key)] = string(r.Value)
	}
	return h
}

func TestDeadLetters(t *testing.T) {
	cfg := testConfig(t)
	dl, err := NewDeadLetters(cfg)
	if err != nil {
		t.Fatalf("NewDeadLetters: %v", err)
	}
	defer dl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Directly, outside any consumer batch.
	direct := fanout.DeadLetter{Raw: []byte{0x81, 0xa1, 'x'}, EventID: "ev-1", Reason: "unknown type \"x\"", TS: 1234}
	if err := dl.Put(ctx, []fanout.DeadLetter{direct}); err != nil {
		t.Fatalf("Put: %v", err)
	}

	// Through the consumer: a poison message on the events topic.
	c0, _ := cfg.withDefaults()
	sc, _ := c0.producerConfig()
	sp, err := sarama.NewSyncProducer(c0.Brokers, sc)
	if err != nil {
		t.Fatalf("producer: %v", err)
	}
	poison := []byte("\xc1 not msgpack")
	ppart, poff, err := sp.SendMessage(&sarama.ProducerMessage{Topic: cfg.EventsTopic(), Key: sarama.StringEncoder("77"), Value: sarama.ByteEncoder(poison)})
	_ = sp.Close()
	if err != nil {
		t.Fatalf("produce poison: %v", err)
	}
	p := newProducer(t, cfg)
	good := events([]int64{77}, 3)
	publish(t, p, good, 10)

	var mu sync.Mutex
	var applied []string
	process := func(ctx context.Context, msgs [][]byte) error {
		var dead []fanout.DeadLetter
		for _, m := range msgs {
			ev, err := schema.UnmarshalMsgpack(m)
			if err != nil {
				dead = append(dead, fanout.DeadLetter{Raw: m, EventID: ev.ID, Reason: err.Error(), TS: time.Now().UnixMilli()})
				continue
			}
			mu.Lock()
			applied = append(applied, ev.ID)
			mu.Unlock()
		}
		return dl.Put(ctx, dead)
	}
	c := startConsumer(t, cfg, process)
	waitLag(t, c.c, 0)
	mu.Lock()
	if len(applied) != len(good) {
		t.Errorf("applied %d good events, want %d: the poison message must not block them", len(applied), len(good))
	}
	mu.Unlock()

	msgs := readAll(t, cfg, cfg.DeadLetterTopic(), 2)
	var sawDirect, sawPoison bool
	for _, m := range msgs {
		h := headers(m)
		switch {
		case bytes.Equal(m.Value, direct.Raw):
			sawDirect = true
			if h[HeaderReason] != direct.Reason || h[HeaderEventID] != "ev-1" || h[HeaderTS] != "1234" {
				t.Errorf("direct letter headers: %v", h)
			}
			if _, ok := h[HeaderSourcePartition]; ok {
				t.Errorf("direct letter has a source partition: %v", h)
			}
		case bytes.Equal(m.Value, poison):
			sawPoison = true
			if !strings.Contains(h[HeaderReason], "malformed") {
				t.Errorf("poison reason: %q", h[HeaderReason])
			}
			if h[HeaderSourceTopic] != cfg.EventsTopic() ||
				h[HeaderSourcePartition] != strconv.Itoa(int(ppart)) ||
				h[HeaderSourceOffset] != strconv.FormatInt(poff, 10) {
				t.Errorf("poison headers %v, want source %s/%d@%d", h, cfg.EventsTopic(), ppart, poff)
			}
			if string(m.Key) != "77" {
				t.Errorf("poison letter key %q, want the source key 77", m.Key)
			}
		default:
			t.Errorf("unexpected dead letter %q", m.Value)
		}
	}
	if !sawDirect || !sawPoison {
		t.Fatalf("dead letters: direct %v, poison %v", sawDirect, sawPoison)
	}
}

// TestKcatInterop produces with an independent client (librdkafka's kcat)
// and checks the consumer gets exactly those bytes, on the partition our
// producer uses for the same actor.
func TestKcatInterop(t *testing.T) {
	cfg := testConfig(t)
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat not installed (apt-get install -y kcat); skipping the independent-client check")
	}
	const actor = 4242
	ev := event(actor, 1)
	ev.Text = "line one\nline two" // a newline inside: the file is one message
	val, err := schema.MarshalMsgpack(&ev)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "event.msgpack")
	if err := os.WriteFile(file, val, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(kcat, "-P", "-b", cfg.Brokers[0], "-t", cfg.EventsTopic(),
		"-k", strconv.Itoa(actor), "-X", "partitioner=murmur2_random", file).CombinedOutput()
	if err != nil {
		t.Fatalf("kcat: %v: %s", err, out)
	}
	// The same actor through our producer.
	p := newProducer(t, cfg)
	ev2 := event(actor, 2)
	publish(t, p, []schema.Event{ev2}, 1)

	rec := &recorder{}
	startConsumer(t, cfg, rec.process)
	waitFor(t, 30*time.Second, "both events", func() bool { return rec.count() >= 2 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.raw) != 2 {
		t.Fatalf("received %d messages, want 2", len(rec.raw))
	}
	if !bytes.Equal(rec.raw[0], val) {
		t.Fatalf("kcat message: received %x, sent %x", rec.raw[0], val)
	}
	if rec.got[0].Text != ev.Text || rec.got[1].ID != ev2.ID {
		t.Fatalf("received %+v", rec.got)
	}
	if rec.parts[0] != rec.parts[1] {
		t.Fatalf("kcat (murmur2) put actor %d on partition %d, our producer on %d", actor, rec.parts[0], rec.parts[1])
	}
}

// BenchmarkPublish measures events/s through the idempotent producer, one
// Publish of 500 events per op, waiting for acks=all each time.
func BenchmarkPublish(b *testing.B) {
	cfg := testConfig(b)
	p := newProducer(b, cfg)
	batch := make([]schema.Event, 500)
	for i := range batch {
		batch[i] = event(int64(i%97), i)
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if err := p.Publish(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkPublishParallel is BenchmarkPublish with concurrent publishers
// (as ingest handlers would be), which share the producer's batches.
func BenchmarkPublishParallel(b *testing.B) {
	cfg := testConfig(b)
	p := newProducer(b, cfg)
	batch := make([]schema.Event, 500)
	for i := range batch {
		batch[i] = event(int64(i%97), i)
	}
	ctx := context.Background()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := p.Publish(ctx, batch); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
}
