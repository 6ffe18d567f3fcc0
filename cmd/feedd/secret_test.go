package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/httpapi"
	"github.com/lenta-dev/lenta/push/webpush"
)

// lockedBuffer is a log sink for loggers used from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func debugLogger() (*slog.Logger, *lockedBuffer) {
	var buf lockedBuffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

func withTokens(t *testing.T, c httpapi.Config) httpapi.Config {
	t.Helper()
	tk, err := auth.New([]byte("feedd-test-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	c.Tokens = tk
	return c
}

// TestAuthSecretNeverLogged takes the secret from the environment, makes
// one and keeps it, then reads the kept one: the log names the file, never
// the secret, and the file is private.
func TestAuthSecretNeverLogged(t *testing.T) {
	dir := t.TempDir()
	o := options{data: filepath.Join(dir, "data")}

	const fromEnv = "env-secret-0123456789abcdef"
	t.Setenv("FEED_AUTH_SECRET", fromEnv)
	log, buf := debugLogger()
	got, err := authSecret(o, log)
	if err != nil || string(got) != fromEnv {
		t.Fatalf("from the environment: %q %v", got, err)
	}

	t.Setenv("FEED_AUTH_SECRET", "")
	made, err := authSecret(o, log)
	if err != nil || len(made) < auth.MinSecretLen {
		t.Fatalf("made: %q %v", made, err)
	}
	path := filepath.Join(o.data, "auth.secret")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kept secret: %v %v", fi, err)
	}
	kept, err := authSecret(o, log)
	if err != nil || !bytes.Equal(kept, made) {
		t.Fatalf("kept: %q %v, want %q", kept, err, made)
	}

	logs := buf.String()
	if strings.Count(logs, path) != 2 {
		t.Fatalf("the two file-secret lines should name %s:\n%s", path, logs)
	}
	for _, s := range [][]byte{[]byte(fromEnv), made} {
		if strings.Contains(logs, string(s)) {
			t.Fatalf("the log holds a secret:\n%s", logs)
		}
	}

	if _, err := authSecret(options{kafka: "127.0.0.1:9092", data: o.data}, log); err == nil {
		t.Fatal("on Kafka a missing FEED_AUTH_SECRET must be an error")
	}
}

// TestRunNeverLogsSecrets runs the whole service in process at debug level,
// with the auth secret made in the data folder and VAPID keys from the
// environment, sends it requests with good and bad tokens, and checks the
// log holds neither secret nor any token.
func TestRunNeverLogsSecrets(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole service")
	}
	keys, err := webpush.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FEED_AUTH_SECRET", "")
	t.Setenv("VAPID_PUBLIC_KEY", keys.Public)
	t.Setenv("VAPID_PRIVATE_KEY", keys.Private)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	data := filepath.Join(t.TempDir(), "data")
	o, err := parseFlags([]string{"--http", addr, "--data", data, "--log-level", "debug", "--rate-per-token", "5", "--burst-per-token", "10"})
	if err != nil {
		t.Fatal(err)
	}
	log, buf := debugLogger()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, o, log) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			t.Error("run did not stop")
		}
	}()

	base := "http://" + addr
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	get := func(path, authz string) int {
		req, err := http.NewRequest("GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(60 * time.Second)
	for get("/healthz", "") != 200 {
		select {
		case err := <-done:
			t.Fatalf("run ended: %v\n%s", err, buf.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("feedd did not become healthy\n%s", buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	secret, err := os.ReadFile(filepath.Join(data, "auth.secret"))
	if err != nil {
		t.Fatal(err)
	}
	secret = bytes.TrimSpace(secret)
	tk, err := auth.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	user, err := tk.Issue(1, false, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := tk.Issue(1, true, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := auth.New([]byte("not-the-feedd-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	forged, err := other.Issue(1, true, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[int]int{}
	for range 3 {
		statuses[get("/v1/feed?limit=3", "Bearer "+user)]++
		statuses[get("/v1/feed?order=recent&user=2", "Bearer "+svc)]++
		statuses[get("/v1/notifications", "Bearer "+user)]++
		statuses[get("/v1/feed", "Bearer "+forged)]++
		statuses[get("/v1/feed?access_token="+user, "")]++
		statuses[get("/v1/push/subscriptions", "Bearer "+user+"x")]++
	}
	for range 20 {
		statuses[get("/v1/feed", "Bearer "+user)]++
	}
	for _, want := range []int{200, 401, 429} {
		if statuses[want] == 0 {
			t.Errorf("no %d among %v", want, statuses)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("run did not stop")
	}
	done <- nil // for the deferred wait

	logs := buf.String()
	if !strings.Contains(logs, `msg="http request"`) {
		t.Fatalf("no debug request lines:\n%s", logs)
	}
	for what, s := range map[string]string{"auth secret": string(secret), "VAPID private key": keys.Private,
		"user token": user, "service token": svc, "forged token": forged,
		"a token signature": user[strings.LastIndexByte(user, '.')+1:]} {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds the %s", what)
		}
	}
}
