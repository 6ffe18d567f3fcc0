package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
)

// seedDemo publishes a small network: six people and a community with
// their profiles (names, avatars, languages), posts, photos, Class marks,
// a gift and a live broadcast. Event ids are fixed,
// so seeding twice changes nothing. Events of different actors have no
// order between them, so the graph is published first and the items only
// once the ledger shows it applied, as it would be in life.
func seedDemo(ctx context.Context, p fanout.Publisher, ledger fanout.Ledger, log *slog.Logger) error {
	now := time.Now().UnixMilli()
	n := int64(0)
	e := func(ev schema.Event) schema.Event {
		n++
		ev.TS = now - 60_000 + n*1000
		return ev
	}
	const anna, boris, vera, gleb, dasha, zhenya, club = 1, 2, 3, 4, 5, 6, 100
	profile := func(id string, user int64, name, seed, lang string) schema.Event {
		return e(schema.Event{ID: id, Type: schema.Profile, Actor: user, Name: name, Lang: lang,
			Avatar: "https://api.dicebear.com/9.x/initials/svg?seed=" + seed})
	}
	evs := []schema.Event{
		e(schema.Event{ID: "demo-f1", Type: schema.Friend, Actor: anna, Target: boris}),
		e(schema.Event{ID: "demo-f2", Type: schema.Friend, Actor: anna, Target: vera}),
		e(schema.Event{ID: "demo-f3", Type: schema.Friend, Actor: boris, Target: vera}),
		e(schema.Event{ID: "demo-f4", Type: schema.Friend, Actor: anna, Target: gleb}),
		e(schema.Event{ID: "demo-f5", Type: schema.Friend, Actor: dasha, Target: anna}),
		e(schema.Event{ID: "demo-f6", Type: schema.Friend, Actor: zhenya, Target: boris}),
		e(schema.Event{ID: "demo-s1", Type: schema.Follow, Actor: anna, Target: club}),
		e(schema.Event{ID: "demo-s2", Type: schema.Follow, Actor: boris, Target: club}),
		e(schema.Event{ID: "demo-g1", Type: schema.GroupAdd, Actor: anna, Target: vera, Object: "family"}),
		// Profiles: display names, avatars (initials drawn by DiceBear,
		// the demo's only outside address: a page that cannot reach it
		// shows its fallback) and languages.
		profile("demo-pr1", anna, "Anna Ivanova", "Anna", "ru"),
		profile("demo-pr2", boris, "Boris Petrov", "Boris", "ru"),
		profile("demo-pr3", vera, "Вера Смирнова", "Vera", "ru"),
		profile("demo-pr4", gleb, "Gleb Sokolov", "Gleb", "en"),
		profile("demo-pr5", dasha, "Dasha Kuznetsova", "Dasha", ""),
		profile("demo-pr6", zhenya, "Zhenya", "Zhenya", "en-GB"),
		profile("demo-pr7", club, "Volga Photo Club", "Club", ""),
		e(schema.Event{ID: "demo-p1", Type: schema.Post, Actor: boris, Text: "Привет! First post on Lenta."}),
		e(schema.Event{ID: "demo-p2", Type: schema.Photo, Actor: vera, Text: "Sunset over the Volga",
			Media: []string{"https://example.org/volga.jpg"}}),
		e(schema.Event{ID: "demo-p3", Type: schema.Post, Actor: club, Text: "Club meeting on Friday"}),
		e(schema.Event{ID: "demo-p4", Type: schema.Post, Actor: anna, Text: "Family only: dinner at 7",
			Audience: "group:family"}),
		e(schema.Event{ID: "demo-c1", Type: schema.Class, Actor: anna, Target: vera, Object: "demo-p2"}),
		e(schema.Event{ID: "demo-c2", Type: schema.Class, Actor: boris, Target: vera, Object: "demo-p2"}),
		e(schema.Event{ID: "demo-c3", Type: schema.Class, Actor: zhenya, Target: boris, Object: "demo-p1"}),
		e(schema.Event{ID: "demo-gift1", Type: schema.Gift, Actor: gleb, Target: anna, Text: "A rose"}),
		e(schema.Event{ID: "demo-live1", Type: schema.Live, Actor: dasha, Text: "Live from the dacha",
			Until: now + 6*3600_000}),
	}
	nowT := time.Now()
	for i := range evs {
		if err := evs[i].Normalize(nowT); err != nil {
			return fmt.Errorf("demo event: %w", err)
		}
	}
	graphEvents := 0
	for graphEvents < len(evs) && evs[graphEvents].Type.IsGraph() {
		graphEvents++
	}
	if err := p.Publish(ctx, evs[:graphEvents]); err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	ids := make([]string, graphEvents)
	for i := range ids {
		ids[i] = evs[i].ID
	}
	if err := waitApplied(ctx, ledger, ids, 60*time.Second); err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	if err := p.Publish(ctx, evs[graphEvents:]); err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	log.Info("demo network seeded", "events", len(evs), "users", "1 anna, 2 boris, 3 vera, 4 gleb, 5 dasha, 6 zhenya, 100 club")
	return nil
}

// waitApplied polls the ledger until every id is applied.
func waitApplied(ctx context.Context, ledger fanout.Ledger, ids []string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		seen, err := ledger.Seen(ctx, ids)
		if err != nil {
			return fmt.Errorf("read ledger: %w", err)
		}
		all := true
		for _, s := range seen {
			all = all && s.Found
		}
		if all {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the graph events were not applied within %v (is a fan-out worker running?)", limit)
		case <-tick.C:
		}
	}
}
