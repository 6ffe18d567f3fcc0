package httpapi

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/timeline"
)

// TestLogsNeverHoldSecrets runs the server with a debug logger through
// valid, expired, forged, malformed and oversize tokens, in the places a
// client might wrongly put them (header, query, path, body, other headers),
// cursors good and bad, rate-limited requests and requests fasthttp cannot
// parse, and checks that the log holds no token, no part of a token's
// signature, no cursor and not the secret.
func TestLogsNeverHoldSecrets(t *testing.T) {
	e := newServer(t, func(c *Config) {
		c.RatePerToken, c.BurstPerToken = 1, 40 // the loop below runs into it
		c.MaxBodyBytes = 4 << 10
	})
	ln := e.serve(t)

	user, other, svc := e.token(t, 7, false), e.token(t, 8, false), e.token(t, 1, true)
	past, err := auth.New(testSecret, auth.WithClock(func() time.Time { return time.Now().Add(-3 * time.Hour) }))
	if err != nil {
		t.Fatal(err)
	}
	expired, err := past.Issue(7, false, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	foreignTokens, err := auth.New([]byte("some-other-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := foreignTokens.Issue(7, true, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(user, ".")
	algNone := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	tampered := parts[0] + "." + parts[1] + "." + flipLast(parts[2])
	oversize := strings.Repeat(user, 20) // over auth's 4 KiB bound
	tokens := []string{user, other, svc, expired, foreign, algNone, tampered, oversize, "garbage-token-Zx81Qv"}

	cursor := e.cursors.Encode(7, timeline.Position{TS: testTS, ID: "cursor-item"})
	foreignCursor := e.cursors.Encode(8, timeline.Position{TS: testTS, ID: "cursor-item"})
	cursors := []string{cursor, foreignCursor, "bm90LWEtY3Vyc29y"}

	for _, tok := range tokens {
		for _, cur := range cursors {
			e.do(t, "GET", PathFeed+"?limit=5&cursor="+url.QueryEscape(cur), map[string]string{"Authorization": bearer(tok)}, nil)
		}
		// Places a token does not belong, which must not be logged either.
		e.do(t, "GET", PathFeed+"?access_token="+url.QueryEscape(tok), nil, nil)
		e.do(t, "GET", "/v1/feed/"+url.PathEscape(tok), nil, nil)
		e.do(t, "GET", PathFeed, map[string]string{"X-Api-Key": tok, "Cookie": "session=" + tok}, nil)
		e.do(t, "GET", PathFeed, map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("u:"+tok))}, nil)
		e.do(t, "GET", PathFeed, map[string]string{"Authorization": "bearer  " + tok + "  "}, nil)
		e.do(t, "PUT", PathEvents, map[string]string{"Authorization": bearer(tok)}, nil)
		body := mustJSON(t, post("tok-"+fmt.Sprint(len(tok)), 7))
		body = []byte(strings.Replace(string(body), `"hi"`, fmt.Sprintf("%q", tok), 1))
		e.do(t, "POST", PathEvents, map[string]string{"Authorization": bearer(tok), "Content-Type": jsonCT}, body)
		if r := e.do(t, "POST", PathEvents, map[string]string{"Authorization": bearer(tok), "Content-Type": jsonCT},
			[]byte(strings.Repeat(tok, 5000/len(tok)+1))); r.status != 413 {
			t.Fatalf("oversize body: %d", r.status)
		}
		pad := strings.Repeat("p", max(0, DefaultMaxHeaderBytes+64-len(tok)))
		if r := e.do(t, "GET", PathFeed, map[string]string{"X-Pad": tok + pad}, nil); r.status != 431 {
			t.Fatalf("oversize header: %d", r.status)
		}
	}
	// Until the per-token limit answers 429.
	limited := false
	for range 100 {
		if r := e.do(t, "GET", PathFeed, map[string]string{"Authorization": bearer(user)}, nil); r.status == 429 {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("the per-token limit never answered")
	}
	// Requests fasthttp cannot parse, with a token in them.
	for _, raw := range []string{
		"GET /v1/feed?t=" + user + " HTTP/1.1 junk\r\nHost: x\r\n\r\n",
		"GET /v1/feed HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + user + "\r\nBroken header " + svc + "\r\n\r\n",
		"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + user + "\r\nTransfer-Encoding: chunked\r\n\r\nzz" + svc + "\r\n",
		user + "\r\n\r\n",
	} {
		c, err := ln.Dial()
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		c.Close()
	}

	logs := e.logs.String()
	if n := strings.Count(logs, `msg="http request"`); n < 100 {
		t.Fatalf("only %d request lines: is debug logging on?\n%s", n, logs)
	}
	for _, want := range []string{"status=200", "status=400", "status=401", "status=404", "status=405", "status=429", "component=fasthttp"} {
		if !strings.Contains(logs, want) {
			t.Errorf("no request logged with %s", want)
		}
	}
	secrets := map[string]string{"auth secret": string(testSecret)}
	for i, tok := range append(tokens[:len(tokens):len(tokens)], svc) {
		secrets[fmt.Sprintf("token %d", i)] = tok
		if p := strings.Split(tok, "."); len(p) == 3 && len(p[2]) > 8 {
			secrets[fmt.Sprintf("signature of token %d", i)] = p[2]
		}
	}
	for i, cur := range cursors {
		secrets[fmt.Sprintf("cursor %d", i)] = cur
	}
	for what, secret := range secrets {
		for _, form := range []string{secret, url.QueryEscape(secret)} {
			if strings.Contains(logs, form) {
				i := strings.Index(logs, form)
				t.Errorf("the log holds %s: ...%s...", what, logs[max(0, i-200):i])
			}
		}
	}
}

// flipLast changes a base64url string's last character.
func flipLast(s string) string {
	b := []byte(s)
	if b[len(b)-1] == 'A' {
		b[len(b)-1] = 'B'
	} else {
		b[len(b)-1] = 'A'
	}
	return string(b)
}

// TestFastLoggerRedacts feeds fasthttp's own message formats to the
// logger: a connection error keeps its addresses and kind only, at debug
// level; listener messages keep their numbers and errors, at warn.
func TestFastLoggerRedacts(t *testing.T) {
	const tok = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.c2lnbmF0dXJlLXNlY3JldA"
	addr := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 4242}
	tests := []struct {
		format string
		args   []any
		want   string
	}{
		{"error when serving connection %q<->%q: %v", []any{addr, addr,
			fmt.Errorf("error when reading request headers: %w", errors.New(`missing colon: "X `+tok+`"`))},
			`level=DEBUG msg="error when serving connection \"192.0.2.7:4242\"<->\"192.0.2.7:4242\": malformed request"`},
		{"error when serving connection %q<->%q: %v", []any{addr, addr, fasthttp.ErrBodyTooLarge},
			`level=DEBUG msg="error when serving connection \"192.0.2.7:4242\"<->\"192.0.2.7:4242\": request body too large"`},
		{"The incoming connection cannot be served, because %d concurrent connections are served.", []any{32768},
			`level=WARN msg="The incoming connection cannot be served, because 32768 concurrent connections are served."`},
		{"Permanent error when accepting new connections: %v", []any{errors.New("accept: too many open files")},
			`level=WARN msg="Permanent error when accepting new connections: accept: too many open files"`},
		{"%.3f %s - %s", []any{1.5, "#0000000100000001 - 1.2.3.4:5<->6.7.8.9:10 - GET http://x/v1/feed?access_token=" + tok, "oops"},
			`level=WARN msg="1.500 (redacted) - (redacted)"`},
	}
	for _, tt := range tests {
		var buf strings.Builder
		l := fastLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
		l.Printf(tt.format, tt.args...)
		if !strings.Contains(buf.String(), tt.want) || strings.Contains(buf.String(), "c2lnbmF0dXJl") {
			t.Errorf("%s:\n got  %s want %s", tt.format, buf.String(), tt.want)
		}
	}
}
