package feeddproc

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// tailBytes bounds LogTail and the log quoted in Start's errors.
const tailBytes = 6000

// procLog is where one process's stdout and stderr go: a file (appended
// to, each run after a header line) or, with no path, memory.
type procLog struct {
	path string
	from int64 // where this run's output begins in the file

	mu  sync.Mutex // guards buf: the copying goroutine of os/exec writes while callers read
	buf bytes.Buffer
}

// openLog opens the log of one run and returns it with the writer to give
// the process (an *os.File, which the caller closes once the process has
// started, or the buffer).
func openLog(path, header string) (*procLog, io.Writer, error) {
	l := &procLog{path: path}
	if path == "" {
		return l, l, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open the log: %w", err)
	}
	if _, err := io.WriteString(f, header); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("write the log %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("log %s: %w", path, err)
	}
	l.from = st.Size()
	return l, f, nil
}

// Write keeps output in memory (the no-file case).
func (l *procLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String is this run's output so far.
func (l *procLog) String() string {
	if l.path == "" {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.buf.String()
	}
	b, err := os.ReadFile(l.path)
	if err != nil {
		return fmt.Sprintf("(log %s unreadable: %v)", l.path, err)
	}
	if l.from > int64(len(b)) {
		return "" // someone truncated the file
	}
	return string(b[l.from:])
}

// tail is the end of this run's output, at most tailBytes, from the start
// of a line.
func (l *procLog) tail() string {
	s := l.String()
	if len(s) <= tailBytes {
		return s
	}
	s = s[len(s)-tailBytes:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// where says where the whole log is, for error messages.
func (l *procLog) where() string {
	if l.path == "" {
		return "its output"
	}
	return l.path
}
