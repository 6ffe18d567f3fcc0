package feeddproc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fake is the path of testdata/fakefeedd, built once by TestMain.
var fake string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "feeddproc-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	repo, err := RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	bins, err := Build(context.Background(), repo, dir, "./feeddproc/testdata/fakefeedd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fake = bins[0]
	return m.Run()
}

func start(t *testing.T, cfg Config) *Proc {
	t.Helper()
	if cfg.Bin == "" {
		cfg.Bin = fake
	}
	p, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !p.Exited() {
			_ = p.Kill()
		}
	})
	return p
}

func TestStartServesAndStopsCleanly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		logPath bool
	}{{"log in memory", false}, {"log in a file", true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Args: []string{"--say", "hello"}, Env: []string{"FAKEFEEDD_ENV=from-env"}}
			if tc.logPath {
				cfg.LogPath = filepath.Join(t.TempDir(), "fake.log")
			}
			p := start(t, cfg)
			resp, err := http.Get(p.Base() + "/healthz")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("healthz after Start: %v %v", resp, err)
			}
			resp.Body.Close()
			if !strings.HasPrefix(p.Base(), "http://127.0.0.1:") || p.Addr() != strings.TrimPrefix(p.Base(), "http://") {
				t.Errorf("Base %q, Addr %q", p.Base(), p.Addr())
			}
			if p.Exited() || p.ExitErr() != nil {
				t.Fatalf("exited %v (%v) while serving", p.Exited(), p.ExitErr())
			}
			if rss := p.PeakRSS(); rss <= 0 {
				t.Errorf("peak RSS while running: %d", rss)
			}
			if err := p.Stop(); err != nil {
				t.Fatalf("Stop: %v\n%s", err, p.Log())
			}
			if !p.Exited() || p.ExitErr() != nil {
				t.Errorf("after Stop: exited %v, %v", p.Exited(), p.ExitErr())
			}
			if p.PeakRSS() <= 0 {
				t.Errorf("peak RSS after exit: %d", p.PeakRSS())
			}
			log := p.Log()
			for _, want := range []string{"fakefeedd starting hello from-env", "fakefeedd stderr line", "fakefeedd stopped cleanly"} {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %q:\n%s", want, log)
				}
			}
			if strings.Contains(log, "-----") {
				t.Errorf("Log holds the header line:\n%s", log)
			}
			if tc.logPath {
				b, err := os.ReadFile(cfg.LogPath)
				if err != nil || !strings.HasPrefix(string(b), "----- ") || !strings.Contains(string(b), "fakefeedd --http "+p.Addr()+" --say hello") {
					t.Errorf("log file (%v):\n%s", err, b)
				}
			}
		})
	}
}

func TestStartFailsWithTheLogTail(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		cfg  Config
		want []string
		// stopped: the process ran and Start stopped it (its log says so).
		stopped bool
	}{
		{"exits at once", context.Background(), Config{Args: []string{"--exit", "3"}},
			[]string{"exited while starting", "exit status 3", "fakefeedd exiting with 3"}, false},
		{"never healthy", context.Background(), Config{Args: []string{"--unhealthy"}, ReadyTimeout: 300 * time.Millisecond},
			[]string{"did not become healthy within 300ms", "deadline exceeded", "fakefeedd starting"}, true},
		{"context ended", cancelled, Config{Args: []string{"--unhealthy"}},
			[]string{"did not become healthy", "context canceled"}, false}, // SIGTERM may come before its handler
		{"no such binary", context.Background(), Config{Bin: filepath.Join(t.TempDir(), "absent")},
			[]string{"start absent"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.Bin == "" {
				cfg.Bin = fake
			}
			cfg.LogPath = filepath.Join(t.TempDir(), "fake.log")
			p, err := Start(tc.ctx, cfg)
			if err == nil {
				_ = p.Kill()
				t.Fatal("Start succeeded")
			}
			if p != nil {
				t.Errorf("Start returned a process with its error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if tc.stopped {
				b, _ := os.ReadFile(cfg.LogPath)
				if !strings.Contains(string(b), "fakefeedd stopped cleanly") {
					t.Errorf("the unready process was not stopped:\n%s", b)
				}
			}
		})
	}
}

func TestStopReportsTheExit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    Config
		before func(*Proc) // what happens before Stop
		is     error       // Stop's error wraps it (nil: no sentinel)
		status int         // exit status in Stop's error; -1: killed by a signal
	}{
		{"status after SIGTERM", Config{Args: []string{"--term-status", "4"}}, nil, nil, 4},
		{"SIGTERM ignored", Config{Args: []string{"--ignore-term"}, StopGrace: 300 * time.Millisecond}, nil, ErrNoExit, -1},
		{"crashed before", Config{}, func(p *Proc) { _ = p.Kill() }, ErrExited, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, tc.cfg)
			if tc.before != nil {
				tc.before(p)
			}
			err := p.Stop()
			if err == nil {
				t.Fatal("Stop returned nil")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("Stop: %v, want %v", err, tc.is)
			}
			var ee *exec.ExitError
			if !errors.As(p.ExitErr(), &ee) || ee.ExitCode() != tc.status {
				t.Errorf("exit %v, want status %d", p.ExitErr(), tc.status)
			}
			if tc.status >= 0 && !errors.As(err, &ee) {
				t.Errorf("Stop's error %v does not carry the exit status", err)
			}
		})
	}
}

func TestSignalAndKill(t *testing.T) {
	p := start(t, Config{})
	if err := p.Kill(); err == nil {
		t.Fatal("Kill: nil error, want the signal")
	}
	var ee *exec.ExitError
	if !errors.As(p.ExitErr(), &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("exit after Kill: %v", p.ExitErr())
	}
	q := start(t, Config{})
	took, err := q.Signal(syscall.SIGTERM, 10*time.Second)
	if err != nil || took <= 0 || took > 10*time.Second {
		t.Fatalf("Signal(SIGTERM): %v after %v", err, took)
	}
	select {
	case <-q.Done():
	default:
		t.Fatal("Done not closed after the exit")
	}
}

func TestRestartAppendsToTheLog(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "fake.log")
	p := start(t, Config{LogPath: logPath, Args: []string{"--say", "again"}})
	q, err := p.Restart(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Kill() })
	if !p.Exited() || p.ExitErr() != nil {
		t.Errorf("the first process after Restart: exited %v, %v", p.Exited(), p.ExitErr())
	}
	if resp, err := http.Get(q.Base() + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("restarted process: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if q.Config().Addr != "" || len(q.Config().Args) != 2 {
		t.Errorf("restarted with %+v", q.Config())
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "----- "); n != 2 {
		t.Errorf("%d header lines, want 2:\n%s", n, b)
	}
	if log := q.Log(); strings.Contains(log, "stopped cleanly") || !strings.Contains(log, "fakefeedd starting again") {
		t.Errorf("the second run's log holds the first's or lacks its own:\n%s", log)
	}
	// A restart that cannot stop the running process starts nothing.
	r := start(t, Config{Args: []string{"--term-status", "5"}})
	if s, err := r.Restart(context.Background()); err == nil {
		_ = s.Kill()
		t.Error("Restart after an unclean stop started a process")
	}
}

func TestLogTailIsBoundedAndStartsAtALine(t *testing.T) {
	l, _, err := openLog("", "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		fmt.Fprintf(l, "line %04d of the log\n", i)
	}
	tail := l.tail()
	if len(tail) > tailBytes || !strings.HasPrefix(tail, "line ") || !strings.HasSuffix(tail, "line 0999 of the log\n") {
		t.Fatalf("tail of %d bytes: %.40q ... %.40q", len(tail), tail, tail[max(0, len(tail)-40):])
	}
}

func TestBuildReportsTheCompiler(t *testing.T) {
	repo, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(context.Background(), repo, t.TempDir(), "./feeddproc/testdata/absent")
	if err == nil || !strings.Contains(err.Error(), "go build") || !strings.Contains(err.Error(), "absent") {
		t.Fatalf("Build of a missing package: %v", err)
	}
}
