package metrics

import (
	"strings"
	"testing"
)

// TestRankedCacheExportsTheStats: each scrape reads the stats again.
func TestRankedCacheExportsTheStats(t *testing.T) {
	r := New()
	s := RankedCacheStats{FirstHits: 9, FirstMisses: 1, NextHits: 4, NextMisses: 2, Stored: 3,
		Bytes: 4096, MaxBytes: 1 << 26, Orders: 2}
	r.RankedCache(func() RankedCacheStats { return s })
	out := scrape(t, r)
	for _, want := range []string{
		`lenta_ranked_pages_total{cache="hit",page="first"} 9`,
		`lenta_ranked_pages_total{cache="miss",page="first"} 1`,
		`lenta_ranked_pages_total{cache="hit",page="next"} 4`,
		`lenta_ranked_pages_total{cache="miss",page="next"} 2`,
		`lenta_ranked_snapshots_stored_total 3`,
		`lenta_ranked_cache_bytes 4096`,
		`lenta_ranked_cache_max_bytes 6.7108864e+07`,
		`lenta_ranked_cache_orders 2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	s.FirstHits = 10
	if out := scrape(t, r); !strings.Contains(out, `lenta_ranked_pages_total{cache="hit",page="first"} 10`) {
		t.Error("a later scrape does not read the stats again")
	}
}

func TestBlockCacheExportsTheStats(t *testing.T) {
	r := New()
	r.BlockCache(func() BlockCacheStats {
		return BlockCacheStats{Hits: 90, Misses: 10, Bytes: 1 << 20, MaxBytes: 1 << 29}
	})
	out := scrape(t, r)
	for _, want := range []string{
		`lenta_store_block_cache_requests_total{result="hit"} 90`,
		`lenta_store_block_cache_requests_total{result="miss"} 10`,
		`lenta_store_block_cache_bytes 1.048576e+06`,
		`lenta_store_block_cache_max_bytes 5.36870912e+08`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

func TestRelationsCacheExportsTheStats(t *testing.T) {
	r := New()
	s := ByteCacheStats{Hits: 70, Misses: 30, Bytes: 2048, MaxBytes: 1 << 26, Entries: 5}
	r.RelationsCache(func() ByteCacheStats { return s })
	out := scrape(t, r)
	for _, want := range []string{
		`lenta_relations_cache_requests_total{result="hit"} 70`,
		`lenta_relations_cache_requests_total{result="miss"} 30`,
		`lenta_relations_cache_bytes 2048`,
		`lenta_relations_cache_max_bytes 6.7108864e+07`,
		`lenta_relations_cache_viewers 5`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	s.Misses = 31
	if out := scrape(t, r); !strings.Contains(out, `lenta_relations_cache_requests_total{result="miss"} 31`) {
		t.Error("a later scrape does not read the stats again")
	}
}

// The byte-bounded caches registered through one collector each export
// their stats under their own names.
func TestByteCachesExportTheirStats(t *testing.T) {
	for _, tc := range []struct {
		name     string
		register func(*Registry, func() ByteCacheStats)
		prefix   string
		entries  string
	}{
		{"class counts", (*Registry).CountsCache, "lenta_class_count_cache", "objects"},
		{"objects", (*Registry).ObjectCache, "lenta_object_cache", "objects"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New()
			tc.register(r, func() ByteCacheStats {
				return ByteCacheStats{Hits: 900, Misses: 100, Bytes: 4096, MaxBytes: 1 << 24, Entries: 50}
			})
			out := scrape(t, r)
			for _, want := range []string{
				tc.prefix + `_requests_total{result="hit"} 900`,
				tc.prefix + `_requests_total{result="miss"} 100`,
				tc.prefix + `_bytes 4096`,
				tc.prefix + `_max_bytes 1.6777216e+07`,
				tc.prefix + "_" + tc.entries + ` 50`,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("scrape lacks %q", want)
				}
			}
		})
	}
}

func TestTokenCacheExportsTheStats(t *testing.T) {
	r := New()
	r.TokenCache(func() (uint64, uint64) { return 40, 2 })
	out := scrape(t, r)
	for _, want := range []string{`lenta_token_cache_requests_total{result="hit"} 40`, `lenta_token_cache_requests_total{result="miss"} 2`} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
