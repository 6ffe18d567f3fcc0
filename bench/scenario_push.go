package bench

import (
	"context"
	"crypto/ecdh"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/bench/report"
	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/push/webpush"
	"github.com/lenta-dev/lenta/schema"
	cassandrastore "github.com/lenta-dev/lenta/store/cassandra"
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

// device is one fake browser: its ECDH key pair and auth secret.
type device struct {
	user   int64
	p256dh string
	auth   string
}

func newDevice(user int64) (device, error) {
	k, err := ecdh.P256().GenerateKey(crand.Reader)
	if err != nil {
		return device{}, fmt.Errorf("device key: %w", err)
	}
	secret := make([]byte, 16)
	if _, err := crand.Read(secret); err != nil {
		return device{}, fmt.Errorf("auth secret: %w", err)
	}
	return device{user: user, p256dh: base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()),
		auth: base64.RawURLEncoding.EncodeToString(secret)}, nil
}

// subscribe posts d's PushSubscription.toJSON() as its user.
func (c *Client) subscribe(ctx context.Context, token, endpoint string, d device) error {
	body, err := json.Marshal(map[string]any{"endpoint": endpoint, "expirationTime": nil, "lang": "en",
		"keys": map[string]string{"p256dh": d.p256dh, "auth": d.auth}})
	if err != nil {
		return fmt.Errorf("encode subscription: %w", err)
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(c.base + "/v1/push/subscriptions")
	req.Header.SetMethod("POST")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.SetContentType("application/json")
	req.SetBody(body)
	if err := c.h.c.DoDeadline(req, resp, deadline(ctx)); err != nil {
		return fmt.Errorf("subscribe user %d: %w", d.user, err)
	}
	if resp.StatusCode() != fasthttp.StatusCreated {
		return fmt.Errorf("subscribe user %d: %d %s", d.user, resp.StatusCode(), resp.Body())
	}
	return nil
}

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
	defer func() {
		if err := f.Stop(); err != nil {
			e.logf("stop feedd: %v", err)
		}
		s.Add("push feedd peak RSS", float64(f.PeakRSS())/(1<<20), "MiB")
		if target.Real() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			_ = cassandrastore.DropKeyspace(dctx, cassandrastore.Config{Hosts: strings.Split(target.Cassandra, ","), Keyspace: target.Keyspace})
		}
	}()
	c, err := NewClient(f.Base, e.Opts.Secret)
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

// subscribeAll subscribes every device to endpoint <url>/p/<user>, 8 at
// a time (bounded by the count and 2 minutes).
func subscribeAll(ctx context.Context, c *Client, tk *auth.Tokens, url string, devs []device) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var next atomic.Int64
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(devs) || ctx.Err() != nil {
					return
				}
				d := devs[i]
				tok, err := tk.Issue(d.user, false, time.Hour)
				if err == nil {
					err = c.subscribe(ctx, tok, url+"/p/"+strconv.FormatInt(d.user, 10), d)
				}
				if err != nil {
					errs[w] = err
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return ctx.Err()
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

// classBurst gives Class to one photo of each of up to classOwners
// subscribed users, classMarks marks each at once, and reports how many
// pushes they made.
func classBurst(ctx context.Context, e *Env, s *report.Scenario, c *Client, rcv *pushReceiver, devs []device, rng *rand.Rand) error {
	users := e.Graph.Config.Users
	owners := devs[:min(classOwners, len(devs))]
	marks := min(classMarks, users-1)
	prefix := e.Graph.Config.IDPrefix + "-push-"
	now := time.Now().UnixMilli()
	photos := make([]schema.Event, len(owners))
	for i, d := range owners {
		id := prefix + "p" + strconv.Itoa(i)
		photos[i] = schema.Event{ID: id, Type: schema.Photo, Actor: d.user, Media: []string{"https://img.example/" + id + ".jpg"}, TS: now}
	}
	base, err := readCounters(ctx, c)
	if err != nil {
		return err
	}
	if _, err := e.publishTo(ctx, c, photos, "push: photos", nil); err != nil {
		return err
	}
	if _, err := e.waitAppliedOn(ctx, c, base.Applied+float64(len(photos)), 2*time.Minute, "push: photos applied", int64(len(photos)), base.Applied); err != nil {
		return err
	}
	var evs []schema.Event
	rcv.mu.Lock()
	for i, d := range owners {
		rcv.class[notify.Topic(notify.KindClass, photos[i].ID)] = 0
		k := 0
		for _, a := range rng.Perm(users) {
			actor := int64(a + 1)
			if actor == d.user {
				continue
			}
			evs = append(evs, schema.Event{ID: prefix + "c" + strconv.Itoa(i) + "-" + strconv.Itoa(k), Type: schema.Class,
				Actor: actor, Target: d.user, Object: photos[i].ID, TS: time.Now().UnixMilli()})
			if k++; k == marks {
				break
			}
		}
	}
	rcv.mu.Unlock()
	if _, err := e.publishTo(ctx, c, evs, "push: class burst", nil); err != nil {
		return err
	}
	// Every burst pushes at least once, within 30 s; later pushes of the
	// same burst (the next 2 s window) come within a few seconds more.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		if _, b := rcv.classPushes(); b == len(owners) || wctx.Err() != nil {
			break
		}
		select {
		case <-wctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(6 * time.Second):
	}
	pushes, bursts := rcv.classPushes()
	s.Add("class bursts (one photo each)", float64(len(owners)), "bursts")
	s.Add("class marks per burst", float64(marks), "marks")
	s.Add("class bursts pushed", float64(bursts), "bursts")
	s.Add("class pushes", float64(pushes), "pushes")
	if pushes > 0 {
		s.Add("coalescing: class marks per push", float64(len(evs))/float64(pushes), "ratio")
	}
	return nil
}

// sendCeiling sends n pushes (at most for 10 s) with webpush's Transport
// from pushWorkers goroutines to the receiver and returns pushes/s.
func sendCeiling(ctx context.Context, rcv *pushReceiver, devs []device, n int) (float64, int64, error) {
	keys, err := webpush.GenerateKeys()
	if err != nil {
		return 0, 0, err
	}
	tr, err := webpush.New(webpush.Config{Keys: keys, Subject: "mailto:bench@lenta.invalid",
		Policy: webpush.Policy{AllowHTTP: true, AllowLoopback: true}, MaxConnsPerHost: pushWorkers})
	if err != nil {
		return 0, 0, err
	}
	defer tr.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msg := &notify.Message{Payload: []byte(`{"title":"Lenta","body":"User 17 sent you a gift","url":"/#notifications","tag":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","id":"gift:x","type":"gift","ts":1790000000000}`),
		TTL: 24 * time.Hour, Urgency: "normal", Topic: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
	var next, done atomic.Int64
	errs := make([]error, pushWorkers)
	var wg sync.WaitGroup
	base := rcv.ceiling.Load()
	start := time.Now()
	for w := range errs {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				d := devs[int(i)%len(devs)]
				sub := &notify.Subscription{User: d.user, Endpoint: rcv.URL + "/ceiling", P256dh: d.p256dh, Auth: d.auth}
				out, err := tr.Send(ctx, sub, msg)
				if err == nil && out.Status != http.StatusCreated {
					err = fmt.Errorf("receiver answered %d", out.Status)
				}
				if err != nil {
					if ctx.Err() == nil {
						errs[w] = err
						cancel()
					}
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	if err := errors.Join(errs...); err != nil {
		return 0, 0, err
	}
	k := done.Load()
	if got := rcv.ceiling.Load() - base; got < k {
		return 0, 0, fmt.Errorf("receiver counted %d of %d ceiling pushes", got, k)
	}
	if k == 0 {
		return 0, 0, errors.New("no ceiling push was sent")
	}
	return float64(k) / el, k, nil
}
