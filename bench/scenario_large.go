package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lenta-dev/lenta/bench/report"
	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/schema"
	cassandrastore "github.com/lenta-dev/lenta/store/cassandra"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
)

var largeScenario = Scenario{
	Name: "large",
	Help: "an author with --followers followers (graph written straight into the store before feedd starts) posts; time until --sample random followers and the last one read it",
	Run:  runLarge,
}

// largeAuthor is the author's id; followers are 2..Followers+1.
const largeAuthor = 1

// writeFollows writes the follow edges straight into the target's store
// (the documented shortcut: a million follow events through the API would
// take minutes and measure the graph path, not this one).
func (e *Env) writeFollows(ctx context.Context, data string, keyspace string, n int) error {
	var set func(ctx context.Context, edges []graph.Edge) error
	if e.Opts.Target.Real() {
		cfg := cassandrastore.Config{Hosts: strings.Split(e.Opts.Target.Cassandra, ","), Keyspace: keyspace}
		if err := cassandrastore.Migrate(ctx, cfg); err != nil {
			return err
		}
		st, err := cassandrastore.Open(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		set = st.Graph().SetEdges
	} else {
		st, err := pebblestore.Open(filepath.Join(data, "store"), pebblestore.Options{})
		if err != nil {
			return err
		}
		defer st.Close()
		set = st.Graph().SetEdges
	}
	stamp := schema.Stamp{TS: time.Now().UnixMilli(), ID: "bench-follow"}
	const chunk = 10_000
	p := NewProgress(e.Opts.Progress, "large: follows", int64(n))
	defer p.Done()
	edges := make([]graph.Edge, 0, chunk)
	for lo := 0; lo < n; lo += chunk {
		edges = edges[:0]
		for u := lo; u < min(lo+chunk, n); u++ {
			edges = append(edges, graph.Edge{Rel: graph.Follow, From: int64(u + 2), To: largeAuthor, On: true, Stamp: stamp})
		}
		if err := set(ctx, edges); err != nil {
			return fmt.Errorf("follow edges: %w", err)
		}
		p.Set(int64(lo + len(edges)))
	}
	return nil
}

func runLarge(ctx context.Context, e *Env, s *report.Scenario) error {
	n := e.Opts.Followers
	data := filepath.Join(e.Opts.WorkDir, "large-data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	defer os.RemoveAll(data)
	target := e.Opts.Target
	target.Keyspace += "_large"
	target.TopicPrefix += "large."
	gstart := time.Now()
	if err := e.writeFollows(ctx, data, target.Keyspace, n); err != nil {
		return err
	}
	s.Add("followers", float64(n), "users")
	s.Add("graph written straight into the store", time.Since(gstart).Seconds(), "s")
	threshold := int64(fanout.DefaultLargeThreshold)
	if int64(n) <= threshold {
		threshold = int64(n / 2) // tiny runs: still above the threshold
	}
	f, err := StartFeedd(ctx, FeeddConfig{Bin: e.Opts.FeeddBin, Data: data, Target: target, Secret: e.Opts.Secret,
		Args: append(e.feeddArgs(threshold), secondFeedd()...), LogPath: filepath.Join(e.Opts.LogDir, "feedd-large.log")})
	if err != nil {
		return err
	}
	defer e.stopSecondFeedd(ctx, s, f, target, "feedd peak RSS")
	c, err := NewClient(f.Base(), e.Opts.Secret)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(e.Graph.Config.Seed, 99))
	sample := []int64{int64(n + 1)} // the last follower
	for range min(e.Opts.Sample, n) {
		sample = append(sample, 2+rng.Int64N(int64(n)))
	}
	// The first post marks the author large (merged at read time).
	first := schema.Event{ID: e.Graph.Config.IDPrefix + "-large-0", Type: schema.Post, Actor: largeAuthor,
		Text: "first", TS: time.Now().UnixMilli()}
	firstLat, err := e.readableBy(ctx, c, first, sample[:1])
	if err != nil {
		return fmt.Errorf("first post: %w", err)
	}
	s.Add("first post (marks the author large) visible to the last follower", ms(firstLat[0]), "ms")
	post := schema.Event{ID: e.Graph.Config.IDPrefix + "-large-1", Type: schema.Post, Actor: largeAuthor,
		Text: "to a million", TS: time.Now().UnixMilli()}
	lat, err := e.readableBy(ctx, c, post, sample)
	if err != nil {
		return err
	}
	sum := lat.Summarize()
	s.Add("followers checked (random + the last)", float64(len(sample)), "users")
	s.AddTarget("post readable by every checked follower", sum.Max, "ms", false, 1000)
	s.Add("readable p50", sum.P50, "ms")
	s.Add("readable p99", sum.P99, "ms")
	s.Latencies = append(s.Latencies, report.Samples{Name: "publish to readable, per follower", Millis: lat.Millis(2000)})
	s.Note("the %d follow edges are written straight into the store before feedd starts (graph.Store.SetEdges, the same code the follow events run); the post goes through POST /v1/events", n)
	s.Note("the author is above the hybrid threshold, so the post is merged at read time: once it is in the outbox every follower's next read has it; a follower counts when a feed read returned after the publish lists it (so the times include the sweep of %d reads over %d clients)", len(sample), e.Opts.Clients)
	return nil
}

// readableBy publishes ev and polls every user's feed (Clients at a time)
// until each lists it; it returns each user's time from publish to the read
// that showed it. Bounded by 30s.
func (e *Env) readableBy(ctx context.Context, c *Client, ev schema.Event, users []int64) (Latencies, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	t0 := time.Now()
	if err := c.Publish(ctx, []schema.Event{ev}); err != nil {
		return nil, err
	}
	lat := make(Latencies, len(users))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range max(1, min(e.Opts.Clients, len(users))) {
		wg.Go(func() {
			r := c.NewReader("recent")
			for i := range next {
				for ctx.Err() == nil {
					ids, err := r.Page(ctx, users[i], 20)
					if err == nil && slices.Contains(ids, ev.ID) {
						lat[i] = time.Since(t0)
						break
					}
					if err != nil && ctx.Err() == nil {
						mu.Lock()
						first = err
						mu.Unlock()
					}
					time.Sleep(2 * time.Millisecond)
				}
			}
		})
	}
	for i := range users {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("not every follower saw %s within 30s (last read error: %v)", ev.ID, first)
	}
	return lat, nil
}
