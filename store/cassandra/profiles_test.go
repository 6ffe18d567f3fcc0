package cassandrastore

import (
	"testing"

	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/store/storetest"
)

func TestStoreSuiteProfiles(t *testing.T) {
	storetest.RunProfiles(t, func(t *testing.T) people.Store {
		s := fresh(t)
		if err := s.sess.Query("TRUNCATE profiles").ExecContext(t.Context()); err != nil {
			t.Fatalf("truncate profiles: %v", err)
		}
		return s.Profiles()
	})
}
