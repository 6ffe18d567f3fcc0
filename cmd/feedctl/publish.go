package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lenta-dev/lenta/retry"
	"github.com/lenta-dev/lenta/schema"
)

// serviceUser is the subject of the service tokens feedctl mints.
const serviceUser = 1

// retryBase is the first retry's wait; it doubles each time, up to
// retryMax.
var retryBase = 500 * time.Millisecond

const retryMax = time.Minute

// cmdPublish reads events and POSTs them in batches.
func cmdPublish(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "publish", "[--addr URL] [--token T] [--file F] [--format auto|json|ndjson|msgpack]")
	addr := addrFlag(e, fs)
	token := fs.String("token", "", "bearer token (default: mint a 15-minute service token with the secret)")
	file := fs.String("file", "-", `events file; "-" is standard input`)
	format := fs.String("format", "auto", "input: json (an object, an array, or objects one after another), ndjson (the same reader), msgpack (maps or arrays of maps, one after another), auto (by extension, else by the first byte)")
	batch := fs.Int("batch", schema.MaxBatch, "most events per request")
	maxBytes := fs.Int("max-bytes", 1<<20-4<<10, "most body bytes per request (keep under the server's limit)")
	retries := fs.Int("retries", 3, "retries of a batch the server refused with 503/429 or that hit a network error (safe: events are idempotent by id)")
	secretFile := secretFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *batch < 1 || *batch > schema.MaxBatch {
		return usagef("--batch must be 1..%d", schema.MaxBatch)
	}
	if *maxBytes < 1024 {
		return usagef("--max-bytes must be at least 1024")
	}
	if *retries < 0 {
		return usagef("--retries must not be negative")
	}
	tok := *token
	if tok == "" {
		var err error
		if tok, err = mint(e, *secretFile, serviceUser, true); err != nil {
			return err
		}
	}
	in := e.stdin
	name := "standard input"
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, *file
	}
	br := bufio.NewReaderSize(in, 64<<10)
	fmtName, err := inputFormat(*format, *file, br)
	if err != nil {
		return err
	}
	var src source
	if fmtName == "msgpack" {
		src = newMsgpackSource(br)
	} else {
		src = newJSONSource(br)
	}
	p := &publisher{e: e, url: baseURL(*addr) + "/v1/events", token: tok, msgpack: fmtName == "msgpack",
		batch: *batch, maxBytes: *maxBytes, retries: *retries}
	err = p.run(ctx, src)
	if err != nil {
		if p.total > 0 {
			fmt.Fprintf(e.stderr, "%d events were accepted before the failure; re-running the whole input is safe (events are idempotent by id)\n", p.total)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "published %d events from %s in %d requests\n", p.total, name, p.requests)
	return nil
}

// inputFormat resolves --format auto.
func inputFormat(flagVal, file string, br *bufio.Reader) (string, error) {
	switch flagVal {
	case "json", "ndjson":
		return "json", nil
	case "msgpack":
		return "msgpack", nil
	case "auto":
	default:
		return "", usagef("--format must be auto, json, ndjson or msgpack")
	}
	switch strings.ToLower(filepath.Ext(file)) {
	case ".json", ".ndjson", ".jsonl":
		return "json", nil
	case ".msgpack", ".mpk", ".mp":
		return "msgpack", nil
	}
	for {
		b, err := br.Peek(1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return "json", nil // empty input: the reader says so
			}
			return "", err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.ReadByte()
			continue
		case '{', '[':
			return "json", nil
		}
		return "msgpack", nil
	}
}

// source yields raw encoded events (one JSON object or msgpack map each)
// until io.EOF; n is the event's position in the input, from 0.
type source interface {
	next() (raw []byte, err error)
}

// jsonSource reads JSON objects and arrays of objects, one after another
// (so also newline-delimited JSON).
type jsonSource struct {
	dec     *json.Decoder
	pending []json.RawMessage
	value   int
}

func newJSONSource(r io.Reader) *jsonSource { return &jsonSource{dec: json.NewDecoder(r)} }

func (s *jsonSource) next() ([]byte, error) {
	for len(s.pending) == 0 {
		var raw json.RawMessage
		if err := s.dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("JSON value %d: %w", s.value+1, err)
		}
		s.value++
		raw = bytes.TrimSpace(raw)
		switch raw[0] {
		case '{':
			return raw, nil
		case '[':
			var arr []json.RawMessage
			if err := json.Unmarshal(raw, &arr); err != nil {
				return nil, fmt.Errorf("JSON value %d: %w", s.value, err)
			}
			for i, el := range arr {
				if el = bytes.TrimSpace(el); len(el) == 0 || el[0] != '{' {
					return nil, fmt.Errorf("JSON value %d: element %d is not an event object", s.value, i)
				}
			}
			s.pending = arr
		default:
			return nil, fmt.Errorf("JSON value %d is not an event object or an array of them", s.value)
		}
	}
	raw := s.pending[0]
	s.pending = s.pending[1:]
	return bytes.TrimSpace(raw), nil
}

// msgpackSource reads msgpack maps and arrays of maps, one after another.
type msgpackSource struct {
	dec   *schema.MsgpackReader
	left  int // elements left in the current array
	value int
}

func newMsgpackSource(r io.Reader) *msgpackSource {
	return &msgpackSource{dec: schema.NewMsgpackReader(r)}
}

func (s *msgpackSource) next() ([]byte, error) {
	for s.left == 0 {
		k, err := s.dec.PeekKind()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("msgpack value %d: %w", s.value+1, err)
		}
		s.value++
		if k == schema.MsgpackMap {
			return s.raw()
		}
		if k != schema.MsgpackArray {
			return nil, fmt.Errorf("msgpack value %d is not an event map or an array of them", s.value)
		}
		n, err := s.dec.ArrayLen()
		if err != nil {
			return nil, fmt.Errorf("msgpack value %d: %w", s.value, err)
		}
		s.left = max(n, 0)
	}
	s.left--
	k, err := s.dec.PeekKind()
	if err != nil {
		return nil, fmt.Errorf("msgpack value %d: %w", s.value, err)
	}
	if k != schema.MsgpackMap {
		return nil, fmt.Errorf("msgpack value %d: an element is not an event map", s.value)
	}
	return s.raw()
}

func (s *msgpackSource) raw() ([]byte, error) {
	r, err := s.dec.Raw()
	if err != nil {
		return nil, fmt.Errorf("msgpack value %d: %w", s.value, err)
	}
	return r, nil
}

// publisher batches raw events and posts them.
type publisher struct {
	e        *env
	url      string
	token    string
	msgpack  bool
	batch    int
	maxBytes int
	retries  int

	chunk    [][]byte
	size     int
	first    int // input position of chunk[0]
	total    int // events accepted so far
	requests int
}

func (p *publisher) run(ctx context.Context, src source) error {
	read := 0
	for {
		raw, err := src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		// +8: array framing and separators.
		if len(p.chunk) == p.batch || (len(p.chunk) > 0 && p.size+len(raw)+8 > p.maxBytes) {
			if err := p.flush(ctx); err != nil {
				return err
			}
		}
		if len(p.chunk) == 0 {
			p.first = read
		}
		p.chunk = append(p.chunk, raw)
		p.size += len(raw) + 1
		read++
	}
	if len(p.chunk) > 0 {
		return p.flush(ctx)
	}
	if read == 0 {
		return errors.New("the input holds no events")
	}
	return nil
}

func (p *publisher) body() ([]byte, string) {
	var b bytes.Buffer
	b.Grow(p.size + 8)
	if p.msgpack {
		schema.NewMsgpackWriter(&b).ArrayLen(len(p.chunk)) // a bytes.Buffer never fails a write
		for _, r := range p.chunk {
			b.Write(r)
		}
		return b.Bytes(), "application/msgpack"
	}
	b.WriteByte('[')
	for i, r := range p.chunk {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r)
	}
	b.WriteByte(']')
	return b.Bytes(), "application/json"
}

func (p *publisher) flush(ctx context.Context) error {
	body, ct := p.body()
	from, to := p.first+1, p.first+len(p.chunk) // 1-based, for people
	var resp []byte
	policy := retry.Policy{Min: retryBase, Max: retryMax, Attempts: p.retries + 1,
		OnRetry: func(err error, wait time.Duration) {
			fmt.Fprintf(p.e.stderr, "events %d-%d: %v; retrying in %v\n", from, to, err, wait)
		}}
	err := retry.Do(ctx, policy, func() error {
		p.requests++
		var err error
		resp, err = send(ctx, p.e, "POST", p.url, p.token, ct, bytes.NewReader(body), 202)
		if ae := (*apiError)(nil); errors.As(err, &ae) && !ae.retryable() {
			return retry.Permanent(err)
		}
		return err
	})
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Index != nil {
			return fmt.Errorf("events %d-%d: input event %d: %w", from, to, p.first+*ae.Index+1, err)
		}
		return fmt.Errorf("events %d-%d: %w", from, to, err)
	}
	var out struct {
		Accepted int `json:"accepted"`
	}
	if err := json.Unmarshal(resp, &out); err != nil {
		return fmt.Errorf("events %d-%d: unreadable answer: %w", from, to, err)
	}
	p.total += out.Accepted
	fmt.Fprintf(p.e.stdout, "events %d-%d: accepted %d (total %d)\n", from, to, out.Accepted, p.total)
	p.chunk, p.size = p.chunk[:0], 0
	return nil
}
