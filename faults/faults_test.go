package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The workload of every case: 500 users with 8 friends each, then 10,000
// posts (plus 100 deletes), then 2,000 Class marks and reactions (one in
// ten a react of any kind, one in ten a replace): about 100,000 timeline
// rows of fan-out.
const (
	users   = 500
	degree  = 8
	posts   = 10_000
	deletes = 100
	marks   = 2_000
)

// result is one case's record, written to .artifacts/faults/results/ and
// quoted in docs/reliability.md.
type result struct {
	Case       string             `json:"case"`
	Fault      string             `json:"fault"`
	Events     int                `json:"events"`
	Seconds    map[string]float64 `json:"seconds"`
	Counts     map[string]int64   `json:"counts,omitempty"`
	Notes      []string           `json:"notes,omitempty"`
	Comparison comparison         `json:"comparison"`
	Passed     bool               `json:"passed"`
	When       string             `json:"when"`
}

func newResult(name, fault string) *result {
	return &result{Case: name, Fault: fault, Seconds: map[string]float64{}, Counts: map[string]int64{}}
}

func (r *result) time(key string, d time.Duration) { r.Seconds[key] = roundSec(d) }

func roundSec(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }

// save writes the record; it runs from t.Cleanup so a failed case is
// recorded as failed.
func (r *result) save(t *testing.T) {
	r.Passed = !t.Failed()
	r.When = time.Now().UTC().Format(time.RFC3339)
	dir := filepath.Join(root, ".artifacts", "faults", "results")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Log(err)
		return
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, r.Case+".json"), b, 0o644); err != nil {
		t.Log(err)
	}
	t.Logf("result: %s", b)
}

// lag is the consumer group's lag as a live worker reports it (-1: none).
func (d *deployment) lag() float64 {
	for _, w := range d.live() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		v, err := w.metric(ctx, "lenta_bus_lag_messages")
		cancel()
		if err == nil && v >= 0 {
			return v
		}
	}
	return -1
}

// readers reads random users' feeds from the API until stopped, counting
// answers by status ("200", "503", "transport error").
type readers struct {
	stop   context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	counts map[string]int64
	errs   []string
	ok     atomic.Int64
}

func (d *deployment) startReaders(n int, every time.Duration) *readers {
	ctx, cancel := context.WithCancel(context.Background())
	r := &readers{stop: cancel, counts: map[string]int64{}}
	toks := make([]string, users+1)
	for u := 1; u <= users; u++ {
		toks[u] = d.token(int64(u), false)
	}
	for i := range n {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for ctx.Err() == nil {
				u := rng.IntN(users) + 1
				code, body, err := request(ctx, "GET", d.api.Base()+"/v1/feed?order=recent&limit=20", toks[u], "", nil)
				if ctx.Err() != nil {
					return
				}
				key := fmt.Sprint(code)
				if err != nil {
					key = "transport error"
				}
				r.mu.Lock()
				r.counts[key]++
				if key != "200" && len(r.errs) < 5 {
					r.errs = append(r.errs, fmt.Sprintf("%s %s %v", key, truncate(string(body), 120), err))
				}
				r.mu.Unlock()
				if key == "200" {
					r.ok.Add(1)
				}
				select {
				case <-ctx.Done():
				case <-time.After(every):
				}
			}
		}()
	}
	return r
}

// halt stops the readers and returns the count of answers by status.
func (r *readers) halt() (map[string]int64, []string) {
	r.stop()
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts, r.errs
}

func notOK(counts map[string]int64) int64 {
	var n int64
	for k, v := range counts {
		if k != "200" {
			n += v
		}
	}
	return n
}

// record starts a case: it skips unless the suite is enabled, and saves
// the case's result when it ends, failed or not.
func record(t *testing.T, name, fault string) *result {
	t.Helper()
	needFaults(t)
	res := newResult(name, fault)
	t.Cleanup(func() { res.save(t) })
	return res
}

// begin makes the case's workload and loads its graph into d.
func begin(t *testing.T, res *result, seed uint64, d *deployment, st *pubStats) *workload {
	t.Helper()
	w := newWorkload(seed, users, degree, posts, deletes, marks)
	res.Events = w.total()
	graphPhase(t, d, w, st)
	return w
}

// finish publishes the Class marks and compares every feed with the log.
func finish(t *testing.T, res *result, d *deployment, w *workload, st *pubStats) {
	t.Helper()
	marksPhase(t, d, w, st)
	res.Comparison = d.verify(w, d.api.Base())
}

// readsAnswer reads random feeds from 2 readers for dur and fails t unless
// every read was answered 200 (the reader serves what is stored whatever
// the pipeline's state); the counts go to res as reads_<what> and
// failed_reads_<what>.
func (d *deployment) readsAnswer(t *testing.T, res *result, what string, dur time.Duration) {
	t.Helper()
	rd := d.startReaders(2, 20*time.Millisecond)
	time.Sleep(dur)
	counts, errs := rd.halt()
	res.Counts["reads_"+what] = counts["200"]
	res.Counts["failed_reads_"+what] = notOK(counts)
	if notOK(counts) > 0 || counts["200"] == 0 {
		t.Errorf("reads %s: %v %v", strings.ReplaceAll(what, "_", " "), counts, errs)
	}
}

// publishPaced publishes w's items in the background at about 1,000
// events/s (2 writers, 50-event batches, 100 ms apart), so a run lasts
// ~10 s plus any outage; the channel closes when all are accepted.
func (d *deployment) publishPaced(ctx context.Context, w *workload, st *pubStats) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.publish(ctx, itemsPhase(w), 50, 2, 100*time.Millisecond, st)
	}()
	return done
}

// graphPhase publishes the friendships and waits for them to be applied.
func graphPhase(t *testing.T, d *deployment, w *workload, st *pubStats) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d.publish(ctx, w.graph, 500, 4, 0, st)
	d.drained(5 * time.Minute)
}

// marksPhase publishes the Class marks and waits for them to be applied.
func marksPhase(t *testing.T, d *deployment, w *workload, st *pubStats) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d.publish(ctx, w.marks, 250, 4, 0, st)
	d.drained(5 * time.Minute)
}

func itemsPhase(w *workload) []ev { return append(append([]ev(nil), w.posts...), w.deletes...) }

// TestCassandraKilledMidFanout: Cassandra is SIGKILLed while the workers
// fan out 10,000 posts, and restarted. The workers retry, commit nothing
// while nothing can be written, and resume; the final state is exact.
func TestCassandraKilledMidFanout(t *testing.T) {
	res := record(t, "cassandra_sigkill", "Cassandra (single node) SIGKILLed mid fan-out, restarted")
	kafka, cass := cluster(t, 1)
	d := deploy(t, "cassandra_kill", kafka, cass, 2)
	var st pubStats
	w := begin(t, res, 1, d, &st)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := d.applied(ctx)
	d.publish(ctx, itemsPhase(w), 500, 4, 0, &st)
	d.waitApplied(start+1500, 5*time.Minute) // a sixth of the items are out
	res.Counts["applied_before_kill"] = int64(d.applied(ctx) - start)
	tKill := time.Now()
	svc(t, "kill", "cassandra-1", "KILL")
	time.Sleep(2 * time.Second) // batches in flight fail and start retrying
	lagAfterKill := d.lag()

	// While Cassandra is down: the workers keep running and retrying, and
	// the reader answers at once with a clear 503 (it has no other copy).
	time.Sleep(8 * time.Second)
	for _, w := range d.workers {
		if w.Exited() {
			t.Fatalf("%s exited while Cassandra was down:\n%s", w.name, w.LogTail())
		}
	}
	t0 := time.Now()
	code, body, err := request(ctx, "GET", d.api.Base()+"/v1/feed?order=recent", d.token(7, false), "", nil)
	res.time("reader_answer_while_down", time.Since(t0))
	res.Notes = append(res.Notes, fmt.Sprintf("reader during the outage: %d %s (err %v)", code, truncate(string(body), 100), err))
	if err != nil || code != 503 {
		t.Errorf("feed read with Cassandra down: %d %s %v; want a prompt 503", code, body, err)
	}
	lagBeforeRestart := d.lag()
	res.Counts["lag_after_kill"] = int64(lagAfterKill)
	res.Counts["lag_before_restart"] = int64(lagBeforeRestart)
	if lagBeforeRestart < lagAfterKill {
		t.Errorf("offsets were committed while Cassandra was down: lag %v -> %v", lagAfterKill, lagBeforeRestart)
	}
	res.time("outage", time.Since(tKill))
	res.time("cassandra_restart", svc(t, "start", "cassandra"))
	res.time("catch_up_after_restart", d.drained(10*time.Minute))
	res.time("kill_to_drained", time.Since(tKill))
	retries := 0.0
	for _, w := range d.live() {
		v, _ := w.metric(ctx, "lenta_fanout_retries_total")
		retries += v
	}
	res.Counts["batch_retries"] = int64(retries)
	if retries == 0 {
		t.Errorf("no batch was retried: the kill did not land mid fan-out")
	}
	finish(t, res, d, w, &st)
}

// TestKafkaKilledMidRun: the broker is SIGKILLed while events are being
// published and fanned out, and restarted. Publishers get a clear error
// and retry; the reader keeps answering from what is stored; producers
// and consumers reconnect; nothing is lost or doubled.
func TestKafkaKilledMidRun(t *testing.T) {
	res := record(t, "kafka_sigkill", "Kafka broker SIGKILLed mid run, restarted")
	kafka, cass := cluster(t, 1)
	d := deploy(t, "kafka_kill", kafka, cass, 2)
	var st pubStats
	w := begin(t, res, 2, d, &st)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	pubDone := d.publishPaced(ctx, w, &st)
	time.Sleep(3 * time.Second)
	tKill := time.Now()
	svc(t, "kill", "kafka", "KILL")
	// The pipeline is down; the reader answers from what is stored.
	d.readsAnswer(t, res, "while_kafka_down", 8*time.Second)
	res.time("kafka_restart", svc(t, "start", "kafka"))
	kafkaBack := time.Now()
	select {
	case <-pubDone:
	case <-ctx.Done():
		t.Fatal("publishing did not finish")
	}
	res.time("kill_to_all_accepted", time.Since(tKill))
	// How long after the broker was back publishes still failed (the
	// producer's reconnect and its circuit breaker).
	res.time("publish_failing_after_restart", max(0, time.UnixMilli(st.lastFail.Load()).Sub(kafkaBack)))
	res.time("catch_up", d.drained(10*time.Minute))
	res.time("kill_to_drained", time.Since(tKill))
	res.Counts["publish_retries"] = st.retries.Load()
	res.Notes = append(res.Notes, st.failureList()...)
	if st.retries.Load() == 0 {
		t.Errorf("no publish failed: the kill did not land mid run")
	}
	for _, w := range d.workers {
		if w.Exited() {
			t.Errorf("%s exited: %v\n%s", w.name, w.ExitErr(), w.LogTail())
		}
	}
	finish(t, res, d, w, &st)
}

// TestWorkerKilledAndStopped: one fan-out worker is SIGKILLed mid batch,
// then the other too (the reader keeps answering with no worker at all),
// a new worker takes over, and a worker stopped with SIGTERM drains,
// commits and exits in bounded time.
func TestWorkerKilledAndStopped(t *testing.T) {
	res := record(t, "worker_sigkill_sigterm", "fan-out worker SIGKILLed mid batch; worker stopped with SIGTERM")
	kafka, cass := cluster(t, 1)
	d := deploy(t, "worker_kill", kafka, cass, 2)
	var st pubStats
	w := begin(t, res, 3, d, &st)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := d.applied(ctx)
	d.publish(ctx, itemsPhase(w), 500, 4, 0, &st)
	d.waitApplied(start+1500, 5*time.Minute)
	w1, w2 := d.workers[0], d.workers[1]
	if _, err := w1.Signal(syscall.SIGKILL, 10*time.Second); err == nil {
		t.Fatalf("%s exited with status 0 after SIGKILL", w1.name)
	}
	tKill := time.Now()
	// No worker at all: the reader still answers from Cassandra, and no
	// offset moves.
	if _, err := w2.Signal(syscall.SIGKILL, 10*time.Second); err == nil {
		t.Fatalf("%s exited with status 0 after SIGKILL", w2.name)
	}
	d.readsAnswer(t, res, "with_no_worker", 5*time.Second)
	// A new worker takes every partition over and resumes from the last
	// commits: what the killed ones had half-written is re-applied.
	tStart := time.Now()
	w3 := d.addWorker("worker3")
	res.time("restart_worker", time.Since(tStart))
	mid := d.applied(ctx)
	d.waitApplied(mid+1000, 5*time.Minute)
	res.time("kill_to_resumed", time.Since(tKill))
	// A second one joins (a rebalance), then the first is stopped with
	// SIGTERM mid stream: it finishes its batch, commits and exits.
	d.addWorker("worker4")
	time.Sleep(3 * time.Second)
	if d.lag() == 0 {
		t.Log("the backlog drained before SIGTERM; the drain is still measured")
	}
	took, err := w3.Signal(syscall.SIGTERM, 30*time.Second)
	res.time("sigterm_to_exit", took)
	if err != nil {
		t.Errorf("%s after SIGTERM: %v\n%s", w3.name, err, w3.LogTail())
	}
	if took > 15*time.Second {
		t.Errorf("%s took %v to stop after SIGTERM; the bound is 15s", w3.name, took)
	}
	if !strings.Contains(w3.Log(), "feedd stopped cleanly") {
		t.Errorf("%s did not log a clean stop:\n%s", w3.name, w3.LogTail())
	}
	res.time("catch_up", d.drained(10*time.Minute))
	res.time("kill_to_drained", time.Since(tKill))
	finish(t, res, d, w, &st)
}

// TestRingNodeLost: on a 3-node Cassandra (RF 3, LOCAL_QUORUM) one node is
// SIGKILLed while events are published, fanned out and read; no reader or
// writer sees an error. The node returns; hints cannot restore the writes it
// acknowledged but had not synced to its commitlog (periodic sync), so a
// full repair runs and a repair preview then finds every table in sync.
func TestRingNodeLost(t *testing.T) {
	res := record(t, "ring_node_sigkill", "1 of 3 Cassandra nodes (RF 3, LOCAL_QUORUM) SIGKILLed mid run, returned")
	tRing := time.Now()
	kafka, cass := cluster(t, 3)
	res.time("ring_start", time.Since(tRing))
	d := deploy(t, "ring", kafka, cass, 2, "--replication", "3", "--consistency", "LOCAL_QUORUM")
	var st pubStats
	w := begin(t, res, 4, d, &st)

	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	rd := d.startReaders(2, 25*time.Millisecond)
	pubDone := d.publishPaced(ctx, w, &st)
	time.Sleep(3 * time.Second)
	tKill := time.Now()
	svc(t, "kill", "cassandra-2", "KILL")
	time.Sleep(15 * time.Second)
	res.time("node_down", time.Since(tKill))
	res.time("node_restart", svc(t, "start", "cassandra-2"))
	<-pubDone
	res.time("catch_up", d.drained(10*time.Minute))
	counts, errs := rd.halt()
	res.Counts["reads"] = counts["200"]
	res.Counts["failed_reads"] = notOK(counts)
	res.Counts["publish_retries"] = st.retries.Load()
	res.Notes = append(res.Notes, st.failureList()...)
	if notOK(counts) > 0 {
		t.Errorf("readers saw errors while a node was down: %v %v", counts, errs)
	}
	if st.retries.Load() > 0 {
		t.Errorf("writers saw errors while a node was down: %v", st.failureList())
	}
	finish(t, res, d, w, &st)

	// Hints replay what the coordinators saw fail; they cannot replay what
	// node 2 acknowledged and then lost to the SIGKILL (commitlog_sync
	// periodic: the last unsynced writes). LOCAL_QUORUM reads were exact
	// throughout (above); a real full repair must then make the replicas
	// agree, which a repair preview checks table by table.
	tHints := time.Now()
	for _, n := range []string{"1", "3"} {
		waitNoHints(t, n, 5*time.Minute)
	}
	res.time("hints_delivered", time.Since(tHints))
	ks := d.flag("--keyspace")
	before := previewMismatches(t, ks)
	res.Notes = append(res.Notes, "repair preview before repair: "+mismatchNote(before))
	res.Counts["ranges_out_of_sync_before_repair"] = sumRanges(before)
	tRepair := time.Now()
	out := nodetool(t, "2", "repair", "--full", ks)
	res.time("repair_full", time.Since(tRepair))
	res.Notes = append(res.Notes, "repair --full: "+lastLine(out))
	after := previewMismatches(t, ks)
	res.Notes = append(res.Notes, "repair preview after repair: "+mismatchNote(after))
	res.Counts["ranges_out_of_sync_after_repair"] = sumRanges(after)
	if len(after) > 0 {
		t.Errorf("replicas still differ after nodetool repair --full: %s", mismatchNote(after))
	}
}

// previewLine is one table's line of a repair preview's summary:
// "    <keyspace>.<table> - <n> ranges, ...".
var previewLine = regexp.MustCompile(`([A-Za-z0-9_]+)\.([A-Za-z0-9_]+) - ([0-9]+) ranges`)

// previewMismatches runs a full repair preview of keyspace ks from node 2
// and returns the ranges each of its tables would stream (none: in sync).
// A preview that neither reports sync nor names a table fails t.
func previewMismatches(t *testing.T, ks string) map[string]int64 {
	t.Helper()
	out := nodetool(t, "2", "repair", "--preview", "--full", ks)
	got := map[string]int64{}
	for _, m := range previewLine.FindAllStringSubmatch(out, -1) {
		if m[1] != ks {
			continue
		}
		// A preview that finds differences lists every table, most with 0.
		if n, _ := strconv.ParseInt(m[3], 10, 64); n > 0 {
			got[m[2]] += n
		}
	}
	inSync := strings.Contains(out, "Previewed data was in sync")
	switch {
	case inSync && len(got) > 0:
		t.Fatalf("repair preview says in sync and names tables %v:\n%s", got, out)
	case !inSync && len(got) == 0:
		t.Fatalf("repair preview neither in sync nor per table:\n%s", out)
	}
	t.Logf("repair preview of %s: %s", ks, mismatchNote(got))
	return got
}

func mismatchNote(m map[string]int64) string {
	if len(m) == 0 {
		return "in sync"
	}
	var parts []string
	for _, tb := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d ranges", tb, m[tb]))
	}
	return "out of sync: " + strings.Join(parts, ", ")
}

func sumRanges(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// nodetool runs Cassandra's nodetool against node n of the suite's ring.
func nodetool(t *testing.T, n string, args ...string) string {
	t.Helper()
	out, err := services(0, append([]string{"nodetool", "-n", n}, args...)...)
	if err != nil {
		t.Fatalf("nodetool -n %s %s: %v\n%s", n, strings.Join(args, " "), err, out)
	}
	return out
}

var hintLine = regexp.MustCompile(`(?m)^[0-9a-f]{8}-[0-9a-f-]+\s`)

// waitNoHints waits until node n holds no hints for other nodes.
func waitNoHints(t *testing.T, n string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		out := nodetool(t, n, "listpendinghints")
		if !hintLine.MatchString(out) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s still has hints after %v:\n%s", n, limit, out)
		}
		time.Sleep(2 * time.Second)
	}
}

// TestEmbeddedKilledMidFanout: the default deployment (one feedd, embedded
// log and Pebble store) is SIGKILLed while it fans out 10,000 posts, and
// restarted on the same data: the log replays from the last committed
// offsets and the state is exact.
func TestEmbeddedKilledMidFanout(t *testing.T) {
	res := record(t, "embedded_sigkill", "embedded feedd (log + Pebble) SIGKILLed mid fan-out, restarted on its data")
	d := deployEmbedded(t, "embedded_kill")
	var st pubStats
	w := begin(t, res, 5, d, &st)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := d.applied(ctx)
	d.publish(ctx, itemsPhase(w), 500, 4, 0, &st)
	d.waitApplied(start+1500, 5*time.Minute)
	lagAtKill := d.lag()
	tKill := time.Now()
	if _, err := d.api.Signal(syscall.SIGKILL, 10*time.Second); err == nil {
		t.Fatal("feedd exited with status 0 after SIGKILL")
	}
	res.Counts["lag_at_kill"] = int64(lagAtKill)
	if lagAtKill <= 0 {
		t.Errorf("lag %v at the kill: it did not land mid fan-out", lagAtKill)
	}
	tStart := time.Now()
	d.restartEmbedded("feedd-restarted")
	res.time("restart", time.Since(tStart))
	res.time("catch_up", d.drained(5*time.Minute))
	res.time("kill_to_drained", time.Since(tKill))
	// What the restarted process applied is what the killed one had not
	// committed: the replay.
	replayed := d.applied(ctx) + metricOr0(ctx, d.api, "lenta_fanout_duplicates_skipped_total")
	res.Counts["replayed_after_restart"] = int64(replayed)
	if replayed == 0 {
		t.Errorf("the restarted feedd replayed nothing: the kill did not land mid fan-out")
	}
	finish(t, res, d, w, &st)
}

func metricOr0(ctx context.Context, p *proc, name string) float64 {
	v, _ := p.metric(ctx, name)
	return v
}
