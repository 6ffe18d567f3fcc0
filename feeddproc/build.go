package feeddproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
)

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
	return "", errors.New("no go.mod above the working directory: run from the lenta checkout")
}

// Build compiles the main packages pkgs (paths relative to the module in
// repo, such as "./cmd/feedd") into dir with one go build, and returns the
// binaries' paths in the order of pkgs (each named after its package's
// folder). The compiler's output is in the error.
func Build(ctx context.Context, repo, dir string, pkgs ...string) ([]string, error) {
	return BuildTagged(ctx, repo, dir, "", pkgs...)
}

// BuildTagged is Build with build tags (go build -tags, comma-separated;
// "" for none): the e2e and fault suites build feedd with "invariants" so
// the store checks its invariants after every write.
func BuildTagged(ctx context.Context, repo, dir, tags string, pkgs ...string) ([]string, error) {
	if len(pkgs) == 0 {
		return nil, errors.New("build: no packages named")
	}
	// go build -o writes one binary to a file path; for several packages
	// the path must be a folder, which it names with a trailing slash.
	out := dir + string(filepath.Separator)
	args := []string{"build", "-o", out}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.CommandContext(ctx, "go", append(args, pkgs...)...)
	cmd.Dir = repo
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %v: %w\n%s", pkgs, err, msg)
	}
	bins := make([]string, len(pkgs))
	for i, p := range pkgs {
		bins[i] = filepath.Join(dir, filepath.Base(p))
	}
	return bins, nil
}

// FreeAddr returns a 127.0.0.1 address whose port was free a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
