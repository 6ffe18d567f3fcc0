package bench

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// pushReceiver is a local RFC 8030 push service: it answers 201 to every
// POST and records when each push arrived, by its Topic header. It does
// not decrypt (the Topic names the gift or the photo).
type pushReceiver struct {
	URL string
	srv *http.Server
	ln  net.Listener

	mu      sync.Mutex
	gifts   map[string]int // topic -> gift index (set before publishing)
	recv    []time.Time    // first arrival of each gift's push
	arrived []time.Time    // every gift push, in arrival order
	nGifts  int
	dup     int
	class   map[string]int // topic -> pushes received
	other   int
	ceiling atomic.Int64
}

func startReceiver() (*pushReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("push receiver: %w", err)
	}
	r := &pushReceiver{URL: "http://" + ln.Addr().String(), ln: ln, gifts: map[string]int{}, class: map[string]int{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.handle), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }() // ends when Close closes the listener
	return r, nil
}

func (r *pushReceiver) Close() { _ = r.srv.Close() }

func (r *pushReceiver) handle(w http.ResponseWriter, req *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, 1<<16))
	now := time.Now()
	if req.URL.Path == "/ceiling" {
		r.ceiling.Add(1)
		w.WriteHeader(http.StatusCreated)
		return
	}
	topic := req.Header.Get("Topic")
	r.mu.Lock()
	if i, ok := r.gifts[topic]; ok {
		if r.recv[i].IsZero() {
			r.recv[i] = now
			r.nGifts++
			r.arrived = append(r.arrived, now)
		} else {
			r.dup++
		}
	} else if _, ok := r.class[topic]; ok {
		r.class[topic]++
	} else {
		r.other++
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

// giftCount is how many distinct gifts were pushed so far, and the newest
// arrival.
func (r *pushReceiver) giftCount() (int, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.arrived) == 0 {
		return 0, time.Time{}
	}
	return r.nGifts, r.arrived[len(r.arrived)-1]
}

// classPushes is the pushes received per Class burst topic.
func (r *pushReceiver) classPushes() (total, bursts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.class {
		total += n
		if n > 0 {
			bursts++
		}
	}
	return total, bursts
}
