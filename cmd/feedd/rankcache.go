package main

import (
	"errors"
	"flag"
	"time"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/metrics"
	"github.com/lenta-dev/lenta/rankcache"
	"github.com/lenta-dev/lenta/ranking"
	"github.com/lenta-dev/lenta/timeline"
)

// rankCacheOptions bound the in-process caches of the read path: ranked
// orders, viewers' relations, verified tokens and the ranking window's
// Class counts.
type rankCacheOptions struct {
	bytes     byteSize
	maxAge    time.Duration
	relations byteSize
	tokens    int
	counts    byteSize
	countsAge time.Duration
}

func addRankCacheFlags(fs *flag.FlagSet, o *rankCacheOptions) {
	o.bytes = rankcache.DefaultBytes
	fs.Var(&o.bytes, "ranked-cache-bytes", "memory for viewers' ranked orders (about 17 KB each): first pages reuse a viewer's order while the viewer's timeline version is unchanged, next pages skip the snapshot read (0: off)")
	o.relations = rankcache.DefaultRelationsBytes
	fs.Var(&o.relations, "relations-cache-bytes", "memory for viewers' friends, follows and blocks (8 bytes each): a feed read reuses them while the viewer's relations version is unchanged (0: off, every read scans them)")
	fs.IntVar(&o.tokens, "token-cache-entries", rankcache.DefaultTokens, "bearer tokens remembered once verified, each until its expiry and at most "+auth.VerifiedMaxAge.String()+", so a client's next request skips the signature check (0: off)")
	o.counts = rankcache.DefaultCountsBytes
	fs.Var(&o.counts, "class-count-cache-bytes", "memory for objects' Class counts and reaction totals (about 90 bytes each) used to rank a window: a first page that misses the order cache reads only the counts not read within --class-count-cache-max-age (0: off, every such page reads all of them)")
	fs.DurationVar(&o.countsAge, "class-count-cache-max-age", timeline.DefaultCountsMaxAge, "how old a cached Class count used to rank may be (it adds to --ranked-cache-max-age as the bound on the engagement factor's age; a page shown reads its items' counts fresh)")
	fs.DurationVar(&o.maxAge, "ranked-cache-max-age", ranking.DefaultOrderMaxAge, "how long a first page may reuse a ranked order whose timeline version is unchanged: the bound on how old its freshness, engagement and affinity factors are")
}

func (o rankCacheOptions) check() error {
	if o.bytes != 0 && o.bytes < rankcache.MinBytes {
		return errors.New("--ranked-cache-bytes must be 0 (off) or at least 1MiB")
	}
	if o.relations != 0 && o.relations < rankcache.MinBytes {
		return errors.New("--relations-cache-bytes must be 0 (off) or at least 1MiB")
	}
	if o.counts != 0 && o.counts < rankcache.MinBytes {
		return errors.New("--class-count-cache-bytes must be 0 (off) or at least 1MiB")
	}
	if o.countsAge <= 0 {
		return errors.New("--class-count-cache-max-age must be positive")
	}
	if o.tokens < 0 {
		return errors.New("--token-cache-entries must be 0 (off) or positive")
	}
	if o.maxAge <= 0 {
		return errors.New("--ranked-cache-max-age must be positive")
	}
	return nil
}

// newFeedReader wires the recent-order reader with its relations cache
// (when one is configured) and exports the cache's figures. close releases
// the cache.
func newFeedReader(o rankCacheOptions, cfg timeline.ReaderConfig, st timeline.Store, g timeline.Graph, c timeline.Content,
	reg *metrics.Registry) (rd *timeline.Reader, close func(), err error) {
	var (
		rels   *rankcache.Relations
		counts *rankcache.Counts
	)
	var closers []func()
	close = func() {
		for _, c := range closers {
			c()
		}
	}
	if o.relations != 0 {
		if rels, err = rankcache.NewRelations(int64(o.relations)); err != nil {
			return nil, nil, err
		}
		cfg.Relations = rels
		closers = append(closers, rels.Close)
	}
	if o.counts != 0 {
		if counts, err = rankcache.NewCounts(int64(o.counts), o.countsAge); err != nil {
			close()
			return nil, nil, err
		}
		cfg.Counts = counts
		closers = append(closers, counts.Close)
	}
	cfg.CountsMaxAge = o.countsAge
	rd = timeline.NewReader(st, g, c, cfg)
	reg.CountsCache(func() metrics.ByteCacheStats {
		s := rd.CountsStats()
		out := metrics.ByteCacheStats{Hits: s.Hits, Misses: s.Misses, MaxBytes: uint64(o.counts)}
		if counts != nil {
			out.Bytes, out.Entries = counts.Bytes(), counts.Len()
		}
		return out
	})
	reg.RelationsCache(func() metrics.ByteCacheStats {
		s := rd.RelationsStats()
		out := metrics.ByteCacheStats{Hits: s.Hits, Misses: s.Misses, MaxBytes: uint64(o.relations)}
		if rels != nil {
			out.Bytes, out.Entries = rels.Bytes(), rels.Len()
		}
		return out
	})
	return rd, close, nil
}

// newRankedReader wires the ranked reader with its order cache (when one
// is configured) and exports the cache's figures. close releases the
// cache.
func newRankedReader(o rankCacheOptions, tl ranking.Timeline, st rankingStore, cursors *ranking.Cursors,
	rk *ranking.Ranker, reg *metrics.Registry) (rd *ranking.Reader, close func(), err error) {
	if o.bytes == 0 {
		rd = ranking.NewReader(tl, st, st, cursors, rk, nil)
		reg.RankedCache(func() metrics.RankedCacheStats { return rankedStats(rd.CacheStats(), nil, 0) })
		return rd, func() {}, nil
	}
	c, err := rankcache.New(int64(o.bytes), time.Duration(rk.Config().SnapshotTTL))
	if err != nil {
		return nil, nil, err
	}
	rd = ranking.NewReader(tl, st, st, cursors, rk, nil, ranking.WithOrderCache(c, o.maxAge))
	reg.RankedCache(func() metrics.RankedCacheStats { return rankedStats(rd.CacheStats(), c, uint64(o.bytes)) })
	return rd, c.Close, nil
}

func rankedStats(s ranking.CacheStats, c *rankcache.Cache, max uint64) metrics.RankedCacheStats {
	out := metrics.RankedCacheStats{FirstHits: s.FirstHits, FirstMisses: s.FirstMisses,
		NextHits: s.NextHits, NextMisses: s.NextMisses, Stored: s.Stored, MaxBytes: max}
	if c != nil {
		out.Bytes, out.Orders = c.Bytes(), c.Len()
	}
	return out
}
