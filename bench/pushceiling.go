package bench

// The push scenario's ceiling: webpush's Transport sending straight to
// the receiver, without feedd.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/push/webpush"
)

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
