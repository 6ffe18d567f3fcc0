package cassandrastore

import (
	"testing"

	"github.com/lenta-dev/lenta/store/storetest"
)

// notifyTables are the tables of 002_notify.cql , 004_push_retry_lease.cql and 006_push_claim.cql.
var notifyTables = []string{"notify_activity", "notify_index", "notify_read", "push_subscriptions",
	"push_queue", "push_checkpoint", "settings", "push_retry", "push_lease", "push_members", "push_claim"}

func TestStoreSuiteNotify(t *testing.T) {
	storetest.RunNotify(t, func(t *testing.T) storetest.NotifyStore {
		s := fresh(t)
		for _, tbl := range notifyTables {
			if err := s.sess.Query("TRUNCATE " + tbl).ExecContext(t.Context()); err != nil {
				t.Fatalf("truncate %s: %v", tbl, err)
			}
		}
		return s.Notify()
	})
}
