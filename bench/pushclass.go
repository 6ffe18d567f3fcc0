package bench

// The push scenario's Class burst: many marks on one photo at once, and
// how far the pushes they make are coalesced.

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/lenta-dev/lenta/bench/report"
	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/schema"
)

// classBurst gives Class to one photo of each of up to classOwners
// subscribed users, classMarks marks each at once, and reports how many
// pushes they made.
func classBurst(ctx context.Context, e *Env, s *report.Scenario, c *Client, rcv *pushReceiver, devs []device, rng *rand.Rand) error {
	users := e.Graph.Config.Users
	owners := devs[:min(classOwners, len(devs))]
	marks := min(classMarks, users-1)
	prefix := e.Graph.Config.IDPrefix + "-push-"
	now := time.Now().UnixMilli()
	photos := make([]schema.Event, len(owners))
	for i, d := range owners {
		id := prefix + "p" + strconv.Itoa(i)
		photos[i] = schema.Event{ID: id, Type: schema.Photo, Actor: d.user, Media: []string{"https://img.example/" + id + ".jpg"}, TS: now}
	}
	base, err := readCounters(ctx, c)
	if err != nil {
		return err
	}
	if _, err := e.publishTo(ctx, c, photos, "push: photos", nil); err != nil {
		return err
	}
	if _, err := e.waitAppliedOn(ctx, c, base.Applied+float64(len(photos)), 2*time.Minute, "push: photos applied", int64(len(photos)), base.Applied); err != nil {
		return err
	}
	var evs []schema.Event
	rcv.mu.Lock()
	for i, d := range owners {
		rcv.class[notify.Topic(notify.KindClass, photos[i].ID)] = 0
		k := 0
		for _, a := range rng.Perm(users) {
			actor := int64(a + 1)
			if actor == d.user {
				continue
			}
			evs = append(evs, schema.Event{ID: prefix + "c" + strconv.Itoa(i) + "-" + strconv.Itoa(k), Type: schema.Class,
				Actor: actor, Target: d.user, Object: photos[i].ID, TS: time.Now().UnixMilli()})
			if k++; k == marks {
				break
			}
		}
	}
	rcv.mu.Unlock()
	if _, err := e.publishTo(ctx, c, evs, "push: class burst", nil); err != nil {
		return err
	}
	// Every burst pushes at least once, within 30 s; later pushes of the
	// same burst (the next 2 s window) come within a few seconds more.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		if _, b := rcv.classPushes(); b == len(owners) || wctx.Err() != nil {
			break
		}
		select {
		case <-wctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(6 * time.Second):
	}
	pushes, bursts := rcv.classPushes()
	s.Add("class bursts (one photo each)", float64(len(owners)), "bursts")
	s.Add("class marks per burst", float64(marks), "marks")
	s.Add("class bursts pushed", float64(bursts), "bursts")
	s.Add("class pushes", float64(pushes), "pushes")
	if pushes > 0 {
		s.Add("coalescing: class marks per push", float64(len(evs))/float64(pushes), "ratio")
	}
	return nil
}
