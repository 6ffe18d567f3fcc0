package main

import (
	"strings"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/httpapi"
)

func TestLimitFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // an error names this; "" for valid
		cfg  func(httpapi.Config) bool
	}{
		{"defaults", nil, "", func(c httpapi.Config) bool {
			return c.RatePerAddress == httpapi.DefaultRatePerAddress && c.BurstPerAddress == 0 &&
				c.RatePerToken == httpapi.DefaultRatePerToken && c.BurstPerToken == 0 &&
				c.MaxConnsPerAddress == httpapi.DefaultMaxConnsPerAddress && c.MaxBodyBytes == httpapi.DefaultMaxBodyBytes &&
				c.ReadHeaderTimeout == httpapi.DefaultReadHeaderTimeout && c.ReadTimeout == httpapi.DefaultReadTimeout &&
				c.WriteTimeout == httpapi.DefaultWriteTimeout && c.IdleTimeout == httpapi.DefaultIdleTimeout &&
				c.MaxFeedReads == 0 && c.FeedReadWait == httpapi.DefaultFeedReadWait
		}},
		{"all set", []string{"--rate-per-ip", "50", "--burst-per-ip", "80", "--rate-per-token", "2.5", "--burst-per-token", "5",
			"--max-conns-per-ip", "64", "--max-body", "65536", "--read-header-timeout", "2s", "--read-timeout", "3s",
			"--write-timeout", "4s", "--idle-timeout", "30s", "--max-feed-reads", "6", "--feed-read-wait", "500ms"}, "", func(c httpapi.Config) bool {
			return c.MaxFeedReads == 6 && c.FeedReadWait == 500*time.Millisecond &&
				c.RatePerAddress == 50 && c.BurstPerAddress == 80 && c.RatePerToken == 2.5 && c.BurstPerToken == 5 &&
				c.MaxConnsPerAddress == 64 && c.MaxBodyBytes == 65536 && c.ReadHeaderTimeout == 2*time.Second &&
				c.ReadTimeout == 3*time.Second && c.WriteTimeout == 4*time.Second && c.IdleTimeout == 30*time.Second
		}},
		{"limits off", []string{"--rate-per-ip", "-1", "--rate-per-token", "-1", "--max-conns-per-ip", "-1"}, "", func(c httpapi.Config) bool {
			return c.RatePerAddress < 0 && c.RatePerToken < 0 && c.MaxConnsPerAddress < 0
		}},
		{"zero rate", []string{"--rate-per-ip", "0"}, "--rate-per-ip 0: give the requests per second", nil},
		{"NaN rate", []string{"--rate-per-token", "NaN"}, "--rate-per-token NaN", nil},
		{"infinite rate", []string{"--rate-per-token", "+Inf"}, "--rate-per-token +Inf", nil},
		{"negative burst", []string{"--burst-per-ip", "-3"}, "--burst-per-ip -3: must be between 0", nil},
		{"huge burst", []string{"--burst-per-token", "2000000000"}, "--burst-per-token 2000000000", nil},
		{"zero conns", []string{"--max-conns-per-ip", "0"}, "--max-conns-per-ip 0: give a number of connections", nil},
		{"zero body", []string{"--max-body", "0"}, "--max-body 0: must be between 1 and", nil},
		{"negative body", []string{"--max-body", "-5"}, "--max-body -5", nil},
		{"zero header timeout", []string{"--read-header-timeout", "0s"}, "--read-header-timeout 0s: must be positive", nil},
		{"negative read timeout", []string{"--read-timeout", "-1s"}, "--read-timeout -1s: must be positive", nil},
		{"zero write timeout", []string{"--write-timeout", "0"}, "--write-timeout 0s", nil},
		{"zero idle timeout", []string{"--idle-timeout", "0"}, "--idle-timeout 0s", nil},
		{"zero feed read wait", []string{"--feed-read-wait", "0"}, "--feed-read-wait 0s: must be positive", nil},
		{"huge feed reads", []string{"--max-feed-reads", "2000000000"}, "--max-feed-reads 2000000000", nil},
		{"not a number", []string{"--rate-per-ip", "fast"}, "invalid value \"fast\" for flag -rate-per-ip", nil},
		{"every error at once", []string{"--max-body", "0", "--idle-timeout", "0"}, "--max-body 0: must be between 1 and 1073741824 bytes\n--idle-timeout 0s", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want one with %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var c httpapi.Config
			o.limits.apply(&c)
			if !tt.cfg(c) {
				t.Fatalf("config %+v", c)
			}
			// What the flags give, httpapi takes.
			if _, err := httpapi.New(withTokens(t, c)); err != nil {
				t.Fatalf("httpapi refuses the flags' config: %v", err)
			}
		})
	}
}
