package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"time"

	"github.com/lenta-dev/lenta/httpapi"
)

// maxLimitValue bounds the integer limit flags: far above any sensible
// setting, and inside int everywhere.
const maxLimitValue = 1 << 30

// httpLimits are the HTTP server's size, rate, connection and time limits
// (see httpapi.Config and README.md, "Limits").
type httpLimits struct {
	ratePerIP, ratePerToken   float64
	burstPerIP, burstPerToken int
	maxConnsPerIP             int
	maxBody                   int
	readHeaderTimeout         time.Duration
	readTimeout               time.Duration
	writeTimeout              time.Duration
	idleTimeout               time.Duration
	maxFeedReads              int
	feedReadWait              time.Duration
}

func addLimitFlags(fs *flag.FlagSet, l *httpLimits) {
	fs.Float64Var(&l.ratePerIP, "rate-per-ip", httpapi.DefaultRatePerAddress, "requests per second one client address (IPv4 address or IPv6 /64) may make, /healthz and /metrics aside; negative: no limit")
	fs.IntVar(&l.burstPerIP, "burst-per-ip", 0, "requests one address may make at once (0: twice --rate-per-ip)")
	fs.Float64Var(&l.ratePerToken, "rate-per-token", httpapi.DefaultRatePerToken, "requests per second with one token subject (user, or service token); negative: no limit")
	fs.IntVar(&l.burstPerToken, "burst-per-token", 0, "requests one token subject may make at once (0: twice --rate-per-token)")
	fs.IntVar(&l.maxConnsPerIP, "max-conns-per-ip", httpapi.DefaultMaxConnsPerAddress, "open connections from one client address; negative: no cap")
	fs.IntVar(&l.maxBody, "max-body", httpapi.DefaultMaxBodyBytes, "largest request body, in bytes")
	fs.DurationVar(&l.readHeaderTimeout, "read-header-timeout", httpapi.DefaultReadHeaderTimeout, "time a client has to send a request's line and headers")
	fs.DurationVar(&l.readTimeout, "read-timeout", httpapi.DefaultReadTimeout, "time a client has to send a request body, after its headers")
	fs.DurationVar(&l.writeTimeout, "write-timeout", httpapi.DefaultWriteTimeout, "time to write a response")
	fs.DurationVar(&l.idleTimeout, "idle-timeout", httpapi.DefaultIdleTimeout, "time a keep-alive connection may wait for its next request")
	fs.IntVar(&l.maxFeedReads, "max-feed-reads", 0, "feed reads of each order (ranked, recent) served at once; more wait their turn, so reads never starve the fan-out of the cores and a recent page never waits behind ranked ones (0: two per core; negative: no bound)")
	fs.DurationVar(&l.feedReadWait, "feed-read-wait", httpapi.DefaultFeedReadWait, "how long a feed read waits for its turn before a 503 with Retry-After")
}

// check says every flag that is out of range, and why.
func (l httpLimits) check() error {
	var errs []error
	for _, r := range []struct {
		name string
		v    float64
	}{{"rate-per-ip", l.ratePerIP}, {"rate-per-token", l.ratePerToken}} {
		if r.v == 0 || math.IsNaN(r.v) || math.IsInf(r.v, 0) {
			errs = append(errs, fmt.Errorf("--%s %v: give the requests per second (above 0), or a negative number for no limit", r.name, r.v))
		}
	}
	for _, b := range []struct {
		name string
		v    int
	}{{"burst-per-ip", l.burstPerIP}, {"burst-per-token", l.burstPerToken}} {
		if b.v < 0 || b.v > maxLimitValue {
			errs = append(errs, fmt.Errorf("--%s %d: must be between 0 (twice the rate) and %d", b.name, b.v, maxLimitValue))
		}
	}
	if l.maxConnsPerIP == 0 || l.maxConnsPerIP > maxLimitValue {
		errs = append(errs, fmt.Errorf("--max-conns-per-ip %d: give a number of connections from 1 to %d, or a negative number for no cap", l.maxConnsPerIP, maxLimitValue))
	}
	if l.maxFeedReads > maxLimitValue {
		errs = append(errs, fmt.Errorf("--max-feed-reads %d: give at most %d, 0 for two per core, or a negative number for no bound", l.maxFeedReads, maxLimitValue))
	}
	if l.maxBody < 1 || l.maxBody > maxLimitValue {
		errs = append(errs, fmt.Errorf("--max-body %d: must be between 1 and %d bytes", l.maxBody, maxLimitValue))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"read-header-timeout", l.readHeaderTimeout}, {"read-timeout", l.readTimeout}, {"write-timeout", l.writeTimeout},
		{"idle-timeout", l.idleTimeout}, {"feed-read-wait", l.feedReadWait}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("--%s %v: must be positive", d.name, d.v))
		}
	}
	return errors.Join(errs...)
}

// apply sets the limits in c.
func (l httpLimits) apply(c *httpapi.Config) {
	c.RatePerAddress, c.BurstPerAddress = l.ratePerIP, l.burstPerIP
	c.RatePerToken, c.BurstPerToken = l.ratePerToken, l.burstPerToken
	c.MaxConnsPerAddress = l.maxConnsPerIP
	c.MaxBodyBytes = l.maxBody
	c.ReadHeaderTimeout, c.ReadTimeout = l.readHeaderTimeout, l.readTimeout
	c.WriteTimeout, c.IdleTimeout = l.writeTimeout, l.idleTimeout
	c.MaxFeedReads, c.FeedReadWait = l.maxFeedReads, l.feedReadWait
}
