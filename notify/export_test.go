package notify

import (
	"context"
	"sync"
)

// Step is one turn of Run's loop, for tests that drive a sender with a
// fake clock: the leases, then the scan and the due retries, with the
// sender's workers; it returns once every job it handed out is done
// (first attempts made, failures scheduled as retries).
func (s *Sender) Step(ctx context.Context) error {
	jobs := make(chan *job, s.cfg.Workers*4)
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Go(func() { s.work(ctx, jobs) })
	}
	defer wg.Wait()
	defer close(jobs)
	s.leases(ctx)
	return s.tick(ctx, jobs)
}
