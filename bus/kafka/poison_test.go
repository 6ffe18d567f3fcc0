package kafkabus

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
	"github.com/lenta-dev/lenta/timeline"
)

// poisonRecord is a record produced straight to the events topic, bytes
// as given, that the pipeline must dead-letter.
type poisonRecord struct {
	name   string
	key    string // the record key ("" for none)
	value  []byte // nil is a null value
	reason string // in the dead letter's lenta-reason header
	id     string // the event id the letter names ("" when it does not decode that far)
	actor  int64  // the actor it claims, whose timelines must stay empty (0: none)
	object string // the object it would create, which must not exist
}

// rawProducer sends records with exact bytes and keys, as a foreign
// producer would.
type rawProducer struct {
	t  *testing.T
	sp sarama.SyncProducer
}

func newRawProducer(t *testing.T, cfg Config) *rawProducer {
	t.Helper()
	c, _ := cfg.withDefaults()
	sc, err := c.producerConfig()
	if err != nil {
		t.Fatal(err)
	}
	sp, err := sarama.NewSyncProducer(c.Brokers, sc)
	if err != nil {
		t.Fatalf("producer: %v", err)
	}
	t.Cleanup(func() { _ = sp.Close() })
	return &rawProducer{t: t, sp: sp}
}

// send produces one record and returns where it landed.
func (p *rawProducer) send(topic, key string, value []byte) (int32, int64) {
	p.t.Helper()
	m := &sarama.ProducerMessage{Topic: topic}
	if key != "" {
		m.Key = sarama.StringEncoder(key)
	}
	if value != nil {
		m.Value = sarama.ByteEncoder(value)
	}
	part, off, err := p.sp.SendMessage(m)
	if err != nil {
		p.t.Fatalf("produce %d bytes: %v", len(value), err)
	}
	return part, off
}

func mustEncode(t *testing.T, ev schema.Event) []byte {
	t.Helper()
	b, err := schema.MarshalMsgpack(&ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// poisonTable is every kind of poison, each claiming its own actor (901…)
// and keyed like the valid events' actors, so that poison and valid
// events share partitions.
func poisonTable(t *testing.T, now time.Time, keys []string) []poisonRecord {
	ts := now.UnixMilli() - 1000
	ev := func(id string, actor int64) schema.Event {
		return schema.Event{ID: id, Type: schema.Post, Actor: actor, Text: "poison", TS: ts}
	}
	good := mustEncode(t, ev("p-ok", 900))
	random := make([]byte, 512)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(r.UintN(256))
	}
	badType := ev("p-type", 901)
	badType.Type = "poke"
	inSeconds := ev("p-seconds", 902)
	inSeconds.TS = ts / 1000
	noActor := ev("p-noactor", 0)
	v2 := ev("p-v2", 904)
	v2.V = 2
	future := ev("p-future", 905)
	future.TS = now.Add(time.Hour).UnixMilli()
	notUTF8 := ev("p-utf8", 906)
	notUTF8.Text = "\xff\xfe"
	// Near the broker's and the producer's 1,000,000-byte record limit,
	// with room for the dead letter's headers.
	huge := ev("p-huge", 907)
	huge.Text = strings.Repeat("x", 990_000)
	selfFriend := schema.Event{ID: "p-self", Type: schema.Friend, Actor: 908, Target: 908, TS: ts}
	deep := func(depth int) []byte {
		var b bytes.Buffer
		w := schema.NewMsgpackWriter(&b) // writes straight into b: no buffering
		w.MapLen(6)
		for _, kv := range [][2]any{{"id", "p-deep"}, {"type", "post"}, {"actor", 909}, {"text", "x"}, {"ts", ts}} {
			w.String(kv[0].(string))
			w.Value(kv[1])
		}
		w.String("later")
		b.Write(bytes.Repeat([]byte{0x91}, depth))
		b.WriteByte(0xc0)
		return b.Bytes()
	}
	wrongFieldType, _ := schema.MarshalMsgpackValue(map[string]any{"id": 1, "type": "post", "actor": "910", "ts": ts})
	batch, _ := schema.MarshalMsgpackValue([]schema.Event{ev("p-array", 911)})
	str, _ := schema.MarshalMsgpackValue("post")
	ps := []poisonRecord{
		{name: "empty value", value: []byte{}, reason: "empty message"},
		{name: "null value", value: nil, reason: "empty message"},
		{name: "random bytes", value: random, reason: "malformed event encoding"},
		{name: "truncated msgpack", value: good[:len(good)-4], reason: "malformed event encoding"},
		{name: "msgpack trailing bytes", value: append(append([]byte(nil), good...), 0xc0), reason: "trailing bytes"},
		{name: "msgpack array of an event", value: batch, reason: "must be a map"},
		{name: "msgpack string", value: str, reason: "must be a map"},
		{name: "msgpack field of the wrong type", value: wrongFieldType, reason: "malformed event encoding"},
		{name: "msgpack never-used code", value: []byte{0xc1, 0x00}, reason: "must be a map"},
		{name: "nested 100k deep", value: deep(100_000), reason: "nested deeper than", actor: 909, object: "p-deep"},
		{name: "bad type", value: mustEncode(t, badType), reason: `type: unknown type "poke"`, id: "p-type", actor: 901, object: "p-type"},
		{name: "ts in seconds", value: mustEncode(t, inSeconds), reason: "ts is unix milliseconds", id: "p-seconds", actor: 902, object: "p-seconds"},
		{name: "missing actor", value: mustEncode(t, noActor), reason: "actor: missing", id: "p-noactor", object: "p-noactor"},
		{name: "contract version 2", value: mustEncode(t, v2), reason: "contract version 2 is not supported", id: "p-v2", actor: 904, object: "p-v2"},
		{name: "ts in the future", value: mustEncode(t, future), reason: "in the future", id: "p-future", actor: 905, object: "p-future"},
		{name: "text not UTF-8", value: mustEncode(t, notUTF8), reason: "not valid UTF-8", id: "p-utf8", actor: 906, object: "p-utf8"},
		{name: "huge record near the size limit", value: mustEncode(t, huge), reason: "text: 990000 bytes is over the limit", id: "p-huge", actor: 907, object: "p-huge"},
		{name: "friend with oneself", value: mustEncode(t, selfFriend), reason: "friend with oneself", id: "p-self", actor: 908},
	}
	for i := range ps {
		ps[i].key = keys[i%len(keys)]
	}
	ps[2].key = "" // a record without a key
	return ps
}

// TestPoisonMessages produces every kind of poison record straight to the
// events topic of the real Kafka, between valid events on the same
// partitions, and runs the consumer with the real fanout.Processor over a
// Pebble store. Every poison record lands in the dead-letter topic with
// its bytes, its source and a reason naming the problem; every valid event
// is applied, in order; the consumer keeps running, commits past the
// poison, and nothing of a poison record is stored.
func TestPoisonMessages(t *testing.T) {
	cfg := testConfig(t)
	cfg.BatchMax = 4 // poison in many batches, at every position
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dl, err := NewDeadLetters(cfg)
	if err != nil {
		t.Fatalf("NewDeadLetters: %v", err)
	}
	t.Cleanup(func() { _ = dl.Close() })
	engine := fanout.NewEngine(st.Graph(), st.Objects(), st.Timelines(), st.Ledger(), fanout.Config{})
	proc := &fanout.Processor{Engine: engine, Dead: dl, Log: testLog(t)}
	raw := newRawProducer(t, cfg)
	ctx := context.Background()
	now := time.Now()

	actors := []int64{11, 12, 13}
	keys := []string{"11", "12", "13"}
	poison := poisonTable(t, now, keys)
	type sent struct {
		part int32
		off  int64
	}
	where := map[sent]int{} // poison index by source partition and offset
	var valid []schema.Event
	seq := 0
	sendValid := func(actor int64, key string) {
		seq++
		ev := schema.Event{ID: fmt.Sprintf("ok-%d-%d", actor, seq), Type: schema.Post, Actor: actor,
			Text: "valid " + strconv.Itoa(seq), TS: now.UnixMilli() - 60_000 + int64(seq)}
		raw.send(cfg.EventsTopic(), key, mustEncode(t, ev))
		valid = append(valid, ev)
	}
	for i, p := range poison {
		a := actors[i%len(actors)]
		sendValid(a, keys[i%len(keys)])
		part, off := raw.send(cfg.EventsTopic(), p.key, p.value)
		where[sent{part, off}] = i
	}
	for _, a := range actors {
		sendValid(a, strconv.FormatInt(a, 10))
	}
	// A valid event whose key names another actor: the consumer sees only
	// the value, so it is applied like any other (the key only chose the
	// partition; a producer that keys wrongly loses per-actor order, not
	// events).
	seq++
	misKeyed := schema.Event{ID: "ok-mis-keyed", Type: schema.Post, Actor: 14, Text: "keyed 11", TS: now.UnixMilli() - 30_000}
	raw.send(cfg.EventsTopic(), "11", mustEncode(t, misKeyed))
	valid = append(valid, misKeyed)

	c := startConsumer(t, cfg, proc.Process)
	appliedAll := func(evs []schema.Event) func() bool {
		ids := make([]string, len(evs))
		for i, ev := range evs {
			ids[i] = ev.ID
		}
		return func() bool {
			seen, err := st.Ledger().Seen(ctx, ids)
			if err != nil {
				return false
			}
			for _, s := range seen {
				if !s.Found {
					return false
				}
			}
			return true
		}
	}
	waitFor(t, 60*time.Second, "every valid event applied", appliedAll(valid))
	waitLag(t, c.c, 0)

	// Still running: a second round, poison first this time, goes through too.
	select {
	case err := <-c.done:
		t.Fatalf("the consumer stopped: %v", err)
	default:
	}
	late := poisonRecord{name: "late poison", key: "12", value: []byte("\x81\xa2id"), reason: "malformed event encoding"}
	part, off := raw.send(cfg.EventsTopic(), late.key, late.value)
	poison = append(poison, late)
	where[sent{part, off}] = len(poison) - 1
	before := len(valid)
	sendValid(12, "12")
	waitFor(t, 30*time.Second, "the event after the late poison", appliedAll(valid[before:]))
	waitLag(t, c.c, 0)

	// The dead-letter topic holds the poison, each record once, and nothing else.
	if n := topicSize(t, cfg, cfg.DeadLetterTopic()); n != int64(len(poison)) {
		t.Errorf("the dead-letter topic holds %d records, want %d (one per poison record)", n, len(poison))
	}
	got := map[int]bool{}
	for _, m := range readAll(t, cfg, cfg.DeadLetterTopic(), len(poison)) {
		h := headers(m)
		p, _ := strconv.ParseInt(h[HeaderSourcePartition], 10, 32)
		o, _ := strconv.ParseInt(h[HeaderSourceOffset], 10, 64)
		i, ok := where[sent{int32(p), o}]
		if !ok {
			t.Errorf("a dead letter from %s/%s@%s is no poison record we sent (reason %q, id %q)",
				h[HeaderSourceTopic], h[HeaderSourcePartition], h[HeaderSourceOffset], h[HeaderReason], h[HeaderEventID])
			continue
		}
		pr := poison[i]
		t.Run(pr.name, func(t *testing.T) {
			if got[i] {
				t.Errorf("dead-lettered twice")
			}
			got[i] = true
			if !bytes.Equal(m.Value, pr.value) || (pr.value == nil) != (m.Value == nil) {
				t.Errorf("letter value: %d bytes (nil %v), want the %d original bytes (nil %v)", len(m.Value), m.Value == nil, len(pr.value), pr.value == nil)
			}
			if !strings.Contains(h[HeaderReason], pr.reason) {
				t.Errorf("reason %q lacks %q", h[HeaderReason], pr.reason)
			}
			if h[HeaderEventID] != pr.id {
				t.Errorf("event id header %q, want %q", h[HeaderEventID], pr.id)
			}
			if h[HeaderSourceTopic] != cfg.EventsTopic() {
				t.Errorf("source topic %q", h[HeaderSourceTopic])
			}
			if string(m.Key) != pr.key {
				t.Errorf("letter key %q, want the source key %q", m.Key, pr.key)
			}
			if ts, err := strconv.ParseInt(h[HeaderTS], 10, 64); err != nil || ts < now.UnixMilli()-60_000 {
				t.Errorf("letter time %q", h[HeaderTS])
			}
		})
	}
	for i, p := range poison {
		if !got[i] {
			t.Errorf("poison %q was not dead-lettered", p.name)
		}
	}

	// Nothing of the poison is stored: no ledger entry, no object, no
	// timeline row of the actors they claim.
	var ids, objects []string
	for _, p := range poison {
		if p.id != "" {
			ids = append(ids, p.id)
		}
		if p.object != "" {
			objects = append(objects, p.object)
		}
	}
	seen, err := st.Ledger().Seen(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range seen {
		if s.Found {
			t.Errorf("poison %s reached the ledger", ids[i])
		}
	}
	objs, err := st.Objects().Get(ctx, objects)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.Author != 0 || o.Type != "" || o.EventID != "" {
			t.Errorf("poison object stored: %+v", o)
		}
	}
	for _, p := range poison {
		if p.actor == 0 {
			continue
		}
		for _, ns := range []timeline.NS{timeline.Outbox, timeline.Home} {
			if es, err := st.Timelines().Page(ctx, ns, p.actor, timeline.Position{}, 10); err != nil || len(es) != 0 {
				t.Errorf("poison %q: actor %d's timeline %d holds %d rows (%v)", p.name, p.actor, ns, len(es), err)
			}
		}
	}

	// Every valid event is in its author's outbox.
	for _, a := range append(actors, misKeyed.Actor) {
		es, err := st.Timelines().Page(ctx, timeline.Outbox, a, timeline.Position{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for i := len(valid) - 1; i >= 0; i-- { // newest first
			if valid[i].Actor == a {
				want = append(want, valid[i].ID)
			}
		}
		var have []string
		for _, e := range es {
			have = append(have, e.ID)
		}
		if strings.Join(have, ",") != strings.Join(want, ",") {
			t.Errorf("actor %d's outbox %v, want %v", a, have, want)
		}
	}
	t.Logf("%d poison records dead-lettered, %d valid events applied around them", len(poison), len(valid))
}

// topicSize is the number of records in topic: the sum of its partitions'
// high-water marks minus their oldest offsets.
func topicSize(t *testing.T, cfg Config, topic string) int64 {
	t.Helper()
	c, _ := cfg.withDefaults()
	sc, _ := c.consumerConfig()
	client, err := sarama.NewClient(c.Brokers, sc)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	defer client.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	var n int64
	for _, p := range parts {
		newest, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			t.Fatal(err)
		}
		oldest, err := client.GetOffset(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		n += newest - oldest
	}
	return n
}
