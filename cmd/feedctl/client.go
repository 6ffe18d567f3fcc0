package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
)

const defaultAddr = "http://127.0.0.1:8080"

// addrFlag adds --addr to fs, defaulting to FEED_ADDR.
func addrFlag(e *env, fs *flag.FlagSet) *string {
	def := e.getenv("FEED_ADDR")
	if def == "" {
		def = defaultAddr
	}
	return fs.String("addr", def, "feedd base URL; FEED_ADDR sets the default")
}

// baseURL accepts host:port or a URL and drops a trailing slash.
func baseURL(addr string) string {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	return strings.TrimRight(addr, "/")
}

// apiError is the server's error body.
type apiError struct {
	Status int
	Msg    string `json:"error"`
	Code   string `json:"code"`
	Index  *int   `json:"index"`
}

func (a *apiError) Error() string {
	if a.Code == "" {
		return fmt.Sprintf("server answered %d: %s", a.Status, a.Msg)
	}
	return fmt.Sprintf("server answered %d %s: %s", a.Status, a.Code, a.Msg)
}

// retryable reports whether the same request may succeed later.
func (a *apiError) retryable() bool {
	return a.Status == http.StatusServiceUnavailable || a.Status == http.StatusTooManyRequests ||
		a.Status == http.StatusBadGateway || a.Status == http.StatusGatewayTimeout
}

// send does one request; a status other than want becomes an *apiError
// carrying the server's message.
func send(ctx context.Context, e *env, method, url, token, contentType string, body io.Reader, want int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode != want {
		ae := &apiError{Status: resp.StatusCode}
		if json.Unmarshal(b, ae) != nil || ae.Msg == "" {
			ae.Msg = strings.TrimSpace(string(b))
			if len(ae.Msg) > 300 {
				ae.Msg = ae.Msg[:300] + "..."
			}
			if ae.Msg == "" {
				ae.Msg = http.StatusText(resp.StatusCode)
			}
		}
		return nil, ae
	}
	return b, nil
}
