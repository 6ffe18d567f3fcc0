package pebblestore

import (
	"testing"

	"github.com/lenta-dev/lenta/store/storetest"
)

func TestRankingSuite(t *testing.T) {
	storetest.RunRanking(t, func(t *testing.T) storetest.RankingStore { return newStore(t).Ranking() })
}
