package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/bench/report"
	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/schema"
)

var pushScenario = Scenario{
	Name: "push",
	Help: "--push-subs users subscribe to a local push receiver; --pushes private gifts to them at full speed: pushes/s received, publish-to-receive latency, coalescing of Class bursts; the Web Push send loop straight to the receiver (ceiling)",
	Run:  runPush,
}

// Class burst: classOwners subscribed users each get classMarks Class
// marks on one photo at once (fewer on tiny networks).
const (
	classOwners = 20
	classMarks  = 50
	// pushWorkers is feedd's default --push-workers; the ceiling sends
	// with as many goroutines.
	pushWorkers = 32
)

// Push metric names.
const (
	mPushSent    = "lenta_push_sent_total"
	mPushRetried = "lenta_push_retried_total"
	mPushFailed  = "lenta_push_failed_total"
)

func runPush(ctx context.Context, e *Env, s *report.Scenario) error {
	users := e.Graph.Config.Users
	if users < 2 {
		return fmt.Errorf("%w: the push scenario needs at least 2 users", errSkip)
	}
	nSubs := min(e.Opts.PushSubs, users)
	rcv, err := startReceiver()
	if err != nil {
		return err
	}
	defer rcv.Close()

	// A feedd of its own, allowed to push to this machine over http.
	data := filepath.Join(e.Opts.WorkDir, "push-data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	defer os.RemoveAll(data)
	target := e.Opts.Target
	target.Keyspace += "_push"
	target.TopicPrefix += "push."
	f, err := StartFeedd(ctx, FeeddConfig{Bin: e.Opts.FeeddBin, Data: data, Target: target, Secret: e.Opts.Secret,
		Args: append(append(e.feeddArgs(e.threshold), secondFeedd()...),
			"--push-allow-loopback", "--push-allow-http", "--push-workers", strconv.Itoa(pushWorkers)),
		LogPath: filepath.Join(e.Opts.LogDir, "feedd-push.log")})
	if err != nil {
		return err
	}
	defer e.stopSecondFeedd(ctx, s, f, target, "push feedd peak RSS")
	c, err := NewClient(f.Base(), e.Opts.Secret)
	if err != nil {
		return err
	}

	// Subscribe nSubs distinct users of the network, 8 at a time.
	rng := rand.New(rand.NewPCG(e.Graph.Config.Seed, 123))
	devs := make([]device, nSubs)
	for i, u := range rng.Perm(users)[:nSubs] {
		if devs[i], err = newDevice(int64(u + 1)); err != nil {
			return err
		}
	}
	tk, err := auth.New([]byte(e.Opts.Secret))
	if err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	sstart := time.Now()
	if err := subscribeAll(ctx, c, tk, rcv.URL, devs); err != nil {
		return err
	}
	s.Add("subscriptions (one device per user)", float64(nSubs), "devices")
	s.Add("subscribe (POST /v1/push/subscriptions, 8 at a time)", float64(nSubs)/time.Since(sstart).Seconds(), "req/s")

	// Gifts: private (no timeline fan-out), one push each.
	prefix := e.Graph.Config.IDPrefix + "-push-"
	n := e.Opts.Pushes
	gifts := make([]schema.Event, n)
	rcv.recv = make([]time.Time, n)
	rcv.arrived = make([]time.Time, 0, n)
	ts := time.Now().UnixMilli()
	for i := range gifts {
		to := devs[rng.IntN(nSubs)].user
		from := to
		if fr := e.Graph.Friends(to); len(fr) > 0 {
			from = fr[rng.IntN(len(fr))]
		}
		for from == to {
			from = 1 + rng.Int64N(int64(users))
		}
		id := prefix + "g" + strconv.Itoa(i)
		gifts[i] = schema.Event{ID: id, Type: schema.Gift, Actor: from, Target: to, Audience: schema.AudiencePrivate,
			Text: "a gift", TS: ts}
		rcv.gifts[notify.Topic(notify.KindGift, id)] = i
	}
	m0, err := c.Metrics(ctx)
	if err != nil {
		return err
	}
	sent := make([]time.Time, n)
	start := time.Now()
	pubDur, err := e.publishTo(ctx, c, gifts, "push: publish gifts", func(lo, hi int) {
		now := time.Now()
		for i := lo; i < hi; i++ {
			sent[i] = now
		}
	})
	if err != nil {
		return err
	}
	got, last, err := waitPushes(ctx, e, rcv, n)
	if err != nil {
		return err
	}
	m1, err := c.Metrics(ctx)
	if err != nil {
		return err
	}
	elapsed := last.Sub(start).Seconds()
	rate := float64(got) / elapsed
	s.Add("gifts published (private: no timeline fan-out)", float64(n), "events")
	s.Add("ingest (POST /v1/events accepted)", float64(n)/pubDur.Seconds(), "events/s")
	s.Add("gift pushes received", float64(got), "pushes")
	s.Add("pushes/s received, sustained (first publish to last push)", rate, "pushes/s")
	lat := make(Latencies, 0, got)
	rcv.mu.Lock()
	for i, t := range rcv.recv {
		if !t.IsZero() {
			lat = append(lat, t.Sub(sent[i]))
		}
	}
	arrived := slices.Clone(rcv.arrived)
	dup := rcv.dup
	rcv.mu.Unlock()
	series, best := arrivalSeries(arrived, start, e.Opts.Interval)
	s.Series = append(s.Series, series)
	if best > 0 {
		s.Add("pushes/s, best 2 s window", best, "pushes/s")
	}
	sum := lat.Summarize()
	s.Add("publish to received p50", sum.P50, "ms")
	s.Add("publish to received p95", sum.P95, "ms")
	s.Add("publish to received p99", sum.P99, "ms")
	s.Add("publish to received max", sum.Max, "ms")
	s.Latencies = append(s.Latencies, report.Samples{Name: "gift: publish to push received", Millis: lat.Millis(2000)})
	s.Add("duplicate gift pushes", float64(dup), "pushes")
	s.Add("lenta_push_sent_total (gifts)", m1[mPushSent]-m0[mPushSent], "pushes")
	s.Add("lenta_push_retried_total (gifts)", m1[mPushRetried]-m0[mPushRetried], "pushes")
	s.Add("lenta_push_failed_total (gifts)", m1[mPushFailed]-m0[mPushFailed], "pushes")

	if err := pacedGifts(ctx, e, s, c, rcv, devs, rng, rate/2); err != nil {
		return fmt.Errorf("paced gifts: %w", err)
	}
	if err := classBurst(ctx, e, s, c, rcv, devs, rng); err != nil {
		return fmt.Errorf("class burst: %w", err)
	}

	// The ceiling: webpush's send loop (VAPID, RFC 8291 encryption, one
	// HTTP round trip) straight to the same receiver, feedd's worker count.
	ce, done, err := sendCeiling(ctx, rcv, devs, n)
	if err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	s.Add("ceiling: push/webpush Send straight to the receiver, 32 goroutines", ce, "pushes/s")
	s.Add("ceiling pushes sent", float64(done), "pushes")
	s.AddTarget("pipeline / ceiling (pushes/s)", rate/ce, "ratio", true, targetPushCeiling)
	s.Note("gifts are private so the figure is the notification path alone: ingest, the log, the engine, the notification hook, the push queue (gifts are due at once, Class marks at the end of their 2-second window), the sender expanding each task (devices, group, object) and sending with %d workers; latency is from the POST of the gift's batch to the receiver's answer, so in the burst it is mostly the backlog of %d gifts; the paced gifts show the latency while the sender keeps up", pushWorkers, n)
	s.Note("the receiver counts pushes by their Topic header and does not decrypt; the ceiling pays the same VAPID signing, encryption and HTTP round trip per push, with no store reads")
	return nil
}

// waitPushes waits until n gift pushes arrived, or none for 20 s (or 10
// minutes in all), and returns how many arrived and when the last did.
func waitPushes(ctx context.Context, e *Env, rcv *pushReceiver, n int) (int, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	p := NewProgress(e.Opts.Progress, "push: receive", int64(n))
	defer p.Done()
	lastGot, lastChange := -1, time.Now()
	for {
		got, last := rcv.giftCount()
		p.Set(int64(got))
		if got >= n {
			return got, last, nil
		}
		if got != lastGot {
			lastGot, lastChange = got, time.Now()
		}
		if time.Since(lastChange) > 20*time.Second || ctx.Err() != nil {
			if got == 0 {
				return 0, last, fmt.Errorf("no push of %d gifts arrived (see feedd-push.log)", n)
			}
			e.logf("push: %d of %d gift pushes arrived; none for 20 s", got, n)
			return got, last, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// arrivalSeries bins arrival times into pushes/s per interval since start
// and returns the best rate over a busyWindow span.
func arrivalSeries(at []time.Time, start time.Time, interval time.Duration) (report.Series, float64) {
	se := report.Series{Name: "pushes received/s", Unit: "per second", Group: "push throughput over time"}
	if len(at) == 0 {
		return se, 0
	}
	bins := make([]int, int(at[len(at)-1].Sub(start)/interval)+1)
	for _, t := range at {
		bins[max(0, int(t.Sub(start)/interval))]++
	}
	for i, k := range bins {
		se.T = append(se.T, (time.Duration(i+1) * interval).Seconds())
		se.V = append(se.V, float64(k)/interval.Seconds())
	}
	best := 0.0
	j := 0
	for i := range at {
		for at[i].Sub(at[j]) > busyWindow {
			j++
		}
		if at[i].Sub(at[0]) >= busyWindow {
			best = max(best, float64(i-j+1)/busyWindow.Seconds())
		}
	}
	return se, best
}
