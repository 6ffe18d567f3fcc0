package fanout

// Profiles: the profile event sets its actor's display name, avatar and
// language. Nothing is fanned out: readers look names up when they show
// a page (people.Names), so a rename shows everywhere at once.

import (
	"context"
	"fmt"

	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/schema"
)

// Profiles is what the engine writes of profiles (people.Store satisfies
// it).
type Profiles interface {
	SetProfile(ctx context.Context, p people.Profile) (people.Profile, error)
}

// profile stores the event's profile unless a later one is stored (its
// stamp decides: a re-delivered or older profile event changes nothing).
func (e *Engine) profile(ctx context.Context, b *batch, ev *schema.Event) error {
	if e.cfg.Profiles == nil {
		return reject("profiles are not kept by this pipeline (no profile store configured)")
	}
	p := people.FromEvent(ev)
	cur, err := e.cfg.Profiles.SetProfile(ctx, p)
	if err != nil {
		return fmt.Errorf("set profile of %d: %w", ev.Actor, err)
	}
	b.eff.applied = cur.Stamp == p.Stamp
	return nil
}
