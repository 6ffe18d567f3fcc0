package feeddproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults of the Config bounds.
const (
	DefaultReadyTimeout = time.Minute
	DefaultStopGrace    = 30 * time.Second
)

// pollEvery is the pause between two /healthz probes while starting.
const pollEvery = 50 * time.Millisecond

var (
	// ErrExited is in Stop's error when the process had exited before
	// Stop was called (a crash, or an exit its owner did not ask for).
	ErrExited = errors.New("the process had already exited")
	// ErrNoExit is in Signal's and Stop's error when the process did not
	// exit within the bound and was killed.
	ErrNoExit = errors.New("the process did not exit in time and was killed")
)

// Config says how to run one process.
type Config struct {
	// Bin is the binary; Name names the process in errors (default: the
	// binary's file name).
	Bin, Name string
	// Addr is the --http address; empty: a free port on 127.0.0.1. It is
	// given as the first flag, before Args.
	Addr string
	Args []string
	// Env is added to this process's environment (KEY=value).
	Env []string
	// LogPath receives stdout and stderr, appended after a header line
	// naming the command and the time; empty: they are kept in memory.
	LogPath string
	// ReadyTimeout bounds the wait for /healthz to answer 200
	// (DefaultReadyTimeout when 0); StopGrace is how long Stop waits after
	// SIGTERM before it kills (DefaultStopGrace when 0).
	ReadyTimeout, StopGrace time.Duration
}

func (c Config) name() string {
	if c.Name != "" {
		return c.Name
	}
	return filepath.Base(c.Bin)
}

// Proc is one running (or exited) process, owned by the caller of Start,
// who must end it (Stop, Signal or Kill).
type Proc struct {
	cfg  Config
	addr string
	cmd  *exec.Cmd
	log  *procLog
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // Wait's result; read only after done
	hwm  atomic.Int64  // peak resident set seen while running, in bytes
}

// Start starts cfg.Bin with --http on cfg.Addr (or a free port) and
// cfg.Args, and waits until GET /healthz answers 200. If the process exits
// first, the wait times out or ctx ends, the process is stopped and the
// error quotes the end of its log.
func Start(ctx context.Context, cfg Config) (*Proc, error) {
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = DefaultStopGrace
	}
	addr := cfg.Addr
	if addr == "" {
		var err error
		if addr, err = FreeAddr(); err != nil {
			return nil, err
		}
	}
	args := append([]string{"--http", addr}, cfg.Args...)
	header := fmt.Sprintf("----- %s %s %s\n", time.Now().Format(time.RFC3339Nano), filepath.Base(cfg.Bin), strings.Join(args, " "))
	log, out, err := openLog(cfg.LogPath, header)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.name(), err)
	}
	cmd := exec.Command(cfg.Bin, args...)
	cmd.Env = append(os.Environ(), cfg.Env...)
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Start()
	if f, ok := out.(*os.File); ok {
		f.Close() // the child has its own descriptor
	}
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.name(), err)
	}
	p := &Proc{cfg: cfg, addr: addr, cmd: cmd, log: log, done: make(chan struct{})}
	go func() { // ends when the process does
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := p.awaitReady(ctx); err != nil {
		if !p.Exited() {
			_ = p.Stop()
		}
		return nil, err
	}
	return p, nil
}

// awaitReady polls /healthz until it answers 200, the process exits, the
// ready timeout passes or ctx ends.
func (p *Proc) awaitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ReadyTimeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		if p.healthy(ctx, client) {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited while starting (%v); see %s:\n%s", p.cfg.name(), p.err, p.log.where(), p.log.tail())
		case <-ctx.Done():
			return fmt.Errorf("%s did not become healthy within %v: %w; see %s:\n%s",
				p.cfg.name(), p.cfg.ReadyTimeout, ctx.Err(), p.log.where(), p.log.tail())
		case <-tick.C:
		}
	}
}

func (p *Proc) healthy(ctx context.Context, client *http.Client) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Base()+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Addr is the process's HTTP address (host:port); Base is its URL,
// http://127.0.0.1:port.
func (p *Proc) Addr() string { return p.addr }

// Base is the process's base URL.
func (p *Proc) Base() string { return "http://" + p.addr }

// Config is the configuration the process was started with (its bounds
// filled in).
func (p *Proc) Config() Config { return p.cfg }

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitErr is how the process exited once Done is closed: nil for status
// 0, else the *exec.ExitError (status or signal). Before, it is nil.
func (p *Proc) ExitErr() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// Log is the process's output of this run so far; LogTail is its last
// few kilobytes, from the start of a line.
func (p *Proc) Log() string { return p.log.String() }

// LogTail is the end of Log.
func (p *Proc) LogTail() string { return p.log.tail() }

// Signal sends sig and waits up to limit for the exit. It returns how long
// the exit took and ExitErr; if the process did not exit in time, it is
// killed and the error wraps ErrNoExit.
func (p *Proc) Signal(sig os.Signal, limit time.Duration) (time.Duration, error) {
	p.PeakRSS() // the last reading while /proc still has the process
	t0 := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil && !p.Exited() {
		return 0, fmt.Errorf("signal %v to %s: %w", sig, p.cfg.name(), err)
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-p.done:
		return time.Since(t0), p.err
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return time.Since(t0), fmt.Errorf("%s: no exit within %v of %v (%w); then %v",
			p.cfg.name(), limit, sig, ErrNoExit, p.err)
	}
}

// Stop sends SIGTERM and waits up to the stop grace for the exit, then
// kills. It returns nil after a clean exit (status 0); an error wrapping
// ErrExited if the process had exited before; ErrNoExit if it was killed;
// else the exit status.
func (p *Proc) Stop() error {
	if p.Exited() {
		return fmt.Errorf("%s: %w: %v", p.cfg.name(), ErrExited, p.err)
	}
	if _, err := p.Signal(syscall.SIGTERM, p.cfg.StopGrace); err != nil {
		if errors.Is(err, ErrNoExit) {
			return err
		}
		return fmt.Errorf("%s exited with %w", p.cfg.name(), err)
	}
	return nil
}

// Kill sends SIGKILL and waits for the exit (kill -9); it returns ExitErr,
// which is not nil unless the process had already exited with status 0.
func (p *Proc) Kill() error {
	_, err := p.Signal(syscall.SIGKILL, p.cfg.StopGrace)
	return err
}

// Restart stops the process if it still runs (an unclean stop is an
// error, and nothing is started) and starts the same command again: on a
// fresh free port unless Config.Addr names one, its log appended to the
// same file (or a fresh buffer).
func (p *Proc) Restart(ctx context.Context) (*Proc, error) {
	if err := p.Stop(); err != nil && !errors.Is(err, ErrExited) {
		return nil, fmt.Errorf("restart: %w", err)
	}
	return Start(ctx, p.cfg)
}
