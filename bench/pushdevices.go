package bench

// The push scenario's fake browsers: each device's key pair and auth
// secret, and its subscription through the public API.

import (
	"context"
	"crypto/ecdh"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/lenta-dev/lenta/auth"
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
