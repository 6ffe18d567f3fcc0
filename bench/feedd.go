package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// BuildFeedd compiles ./cmd/feedd of the module in repo into dir and
// returns the binary's path.
func BuildFeedd(ctx context.Context, repo, dir string) (string, error) {
	bin := filepath.Join(dir, "feedd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/feedd")
	cmd.Dir = repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/feedd: %w\n%s", err, out)
	}
	return bin, nil
}

// RepoRoot finds the module root (the folder of go.mod) from the working
// directory upwards.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for range 64 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("no go.mod above the working directory: run feedbench from the lenta checkout")
}

// FeeddConfig says how to run one feedd.
type FeeddConfig struct {
	Bin    string
	Data   string // embedded data folder
	Target Target
	Secret string
	// Args are extra flags (--large-threshold, --partitions, ...).
	Args []string
	// LogPath receives feedd's stderr.
	LogPath string
}

// Feedd is one running feedd process, started and stopped by its owner.
type Feedd struct {
	Base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	log  *os.File
	done chan error
	hwm  int64
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// secondFeedd is the arguments of a feedd started while the shared one
// runs (large, push): LENTA_PPROF names one address, which the shared
// feedd holds, so the second one serves no profiler.
func secondFeedd() []string { return []string{"--pprof", ""} }

// StartFeedd starts feedd and waits (up to 2 minutes) until /healthz
// answers 200.
func StartFeedd(ctx context.Context, c FeeddConfig) (*Feedd, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// The bench measures capacity, not policy: feedd's per-address and
	// per-token rate limits and its connection cap (README.md, "Limits")
	// would throttle the one address and service token the load comes
	// from. c.Args come after, so a scenario can set them again.
	args := []string{"--http", addr, "--log-level", "warn",
		"--rate-per-ip", "-1", "--rate-per-token", "-1", "--max-conns-per-ip", "-1"}
	if c.Target.Real() {
		args = append(args, "--kafka", c.Target.Kafka, "--cassandra", c.Target.Cassandra,
			"--keyspace", c.Target.Keyspace, "--topic-prefix", c.Target.TopicPrefix,
			"--group", c.Target.TopicPrefix+"fanout")
	} else {
		args = append(args, "--data", c.Data)
	}
	args = append(args, c.Args...)
	logf, err := os.Create(c.LogPath)
	if err != nil {
		return nil, fmt.Errorf("feedd log: %w", err)
	}
	cmd := exec.Command(c.Bin, args...)
	cmd.Env = append(os.Environ(), "FEED_AUTH_SECRET="+c.Secret)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start feedd: %w", err)
	}
	f := &Feedd{Base: "http://" + addr, cmd: cmd, log: logf, done: make(chan error, 1)}
	go func() { f.done <- cmd.Wait() }() // ends when the process does; Stop waits for it
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cl := newHTTP()
	for {
		select {
		case err := <-f.done:
			f.done <- err
			logf.Close()
			return nil, fmt.Errorf("feedd exited early (%v); see %s:\n%s", err, c.LogPath, tail(c.LogPath, 20))
		default:
		}
		if code, _, err := cl.get(wctx, f.Base+"/healthz", "", nil); err == nil && code == 200 {
			return f, nil
		}
		select {
		case <-wctx.Done():
			_ = f.Stop()
			return nil, fmt.Errorf("feedd did not become healthy: %w; see %s:\n%s", wctx.Err(), c.LogPath, tail(c.LogPath, 20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Pid is the process id.
func (f *Feedd) Pid() int { return f.cmd.Process.Pid }

// PeakRSS is the process's peak resident set (VmHWM), in bytes; after Stop,
// the last value read before the process ended.
func (f *Feedd) PeakRSS() int64 {
	if v, err := vmHWM(f.Pid()); err == nil {
		f.hwm = max(f.hwm, v)
	}
	return f.hwm
}

func vmHWM(pid int) (int64, error) {
	fh, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("read status of %d: %w", pid, err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM %q: %w", rest, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// Stop sends SIGTERM and waits up to 60s for a clean exit (then kills).
func (f *Feedd) Stop() error {
	f.PeakRSS()
	defer f.log.Close()
	select {
	case err := <-f.done:
		f.done <- err
		return fmt.Errorf("feedd had already exited: %v", err)
	default:
	}
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-f.done:
		f.done <- err
		if err != nil {
			return fmt.Errorf("feedd exited with %w", err)
		}
		return nil
	case <-time.After(60 * time.Second):
		_ = f.cmd.Process.Kill()
		return errors.New("feedd did not stop within 60s of SIGTERM; killed")
	}
}

// tail returns the last n lines of a file (for error messages).
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Target is where the pipeline runs: embedded (zero value) or Kafka +
// Cassandra.
type Target struct {
	Kafka, Cassandra string
	Keyspace         string
	TopicPrefix      string
}

// Real reports whether the target is Kafka + Cassandra.
func (t Target) Real() bool { return t.Kafka != "" }

// Name is "embedded" or "kafka+cassandra".
func (t Target) Name() string {
	if t.Real() {
		return "kafka+cassandra"
	}
	return "embedded"
}
