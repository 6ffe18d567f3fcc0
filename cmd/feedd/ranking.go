package main

import (
	"github.com/lenta-dev/lenta/ranking"
)

// rankingStore is what the ranking keeps in a store.
type rankingStore interface {
	ranking.AffinityStore
	ranking.SnapshotStore
}

// loadRanker reads the weights file (none: the defaults).
func loadRanker(path string) (*ranking.Ranker, error) {
	cfg := ranking.Defaults()
	if path != "" {
		c, err := ranking.LoadConfig(path)
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	return ranking.NewRanker(cfg)
}

// rankedFor serves the ranked feed only on processes with the reader role
// (elsewhere the feed route refuses, as feedFor does).
func rankedFor(r roles, f ranking.Feed) ranking.Feed {
	if r.reader {
		return f
	}
	return nil
}
