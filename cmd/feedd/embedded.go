package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/rankcache"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
	"github.com/lenta-dev/lenta/timeline"
)

// stores are the domain's storage seams.
type stores struct {
	graph interface {
		graph.Store
		timeline.Graph
	}
	objects   objects.Store
	comments  objects.Comments
	timelines timeline.Store
	ledger    fanout.Ledger
	ranking   rankingStore
	notify    notifyStore
	profiles  people.Store
}

// openEmbedded opens the Pebble store and its durable event log in o.data.
func openEmbedded(o options, log *slog.Logger) (*backend, error) {
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	var objCache *rankcache.Objects
	sopts := pebblestore.Options{
		CacheSize: int64(o.storeCache),
		Logf:      func(format string, args ...any) { log.Error(fmt.Sprintf(format, args...), "component", "pebble") },
	}
	if o.objectCache != 0 {
		c, err := rankcache.NewObjects(int64(o.objectCache))
		if err != nil {
			return nil, err
		}
		objCache, sopts.ObjectCache = c, c
	}
	st, err := pebblestore.Open(filepath.Join(o.data, "store"), sopts)
	if err != nil {
		if objCache != nil {
			objCache.Close()
		}
		return nil, err
	}
	parts := o.partitions
	if parts == 0 {
		parts = 4
	}
	evlog, err := st.OpenLog(parts)
	if err != nil {
		st.Close()
		return nil, err
	}
	b := &backend{
		name: "embedded (" + o.data + ")",
		stores: stores{graph: st.Graph(), objects: st.Objects(), comments: st.Comments(), timelines: st.Timelines(), ledger: st.Ledger(),
			ranking: st.Ranking(), notify: st.Notify(), profiles: st.Profiles()},
		publisher: evlog,
		dead:      st.DeadLetters(),
		deadStore: st.DeadLetters(),
		consume: func(ctx context.Context, process func(context.Context, [][]byte) error) error {
			return evlog.Run(ctx, func(ctx context.Context, _ int, msgs [][]byte) error {
				return process(ctx, msgs)
			}, o.batchMax)
		},
		health: func(context.Context) error { return nil },
		close: func() error {
			err := st.Close()
			if objCache != nil {
				objCache.Close()
			}
			return err
		},
		pebble:   st,
		objCache: objCache,
	}
	b.setLag(func() float64 { return float64(evlog.Lag()) })
	guardDisk(b, o.data, o.minFreeDisk, log)
	return b, nil
}
