package cassandrastore

import (
	"testing"

	"github.com/lenta-dev/lenta/store/storetest"
)

// rankingTables are the tables of 003_ranking.cql.
var rankingTables = []string{"affinity_interactions", "ranked_snapshots"}

func TestStoreSuiteRanking(t *testing.T) {
	storetest.RunRanking(t, func(t *testing.T) storetest.RankingStore {
		s := fresh(t)
		for _, tbl := range rankingTables {
			if err := s.sess.Query("TRUNCATE " + tbl).ExecContext(t.Context()); err != nil {
				t.Fatalf("truncate %s: %v", tbl, err)
			}
		}
		return s.Ranking()
	})
}
