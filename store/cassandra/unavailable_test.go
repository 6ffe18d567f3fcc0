package cassandrastore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

func TestIsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"no hosts", gocql.ErrNoConnections, true},
		{"wrapped no hosts", fmt.Errorf("read feed: %w", fmt.Errorf("timeline: %w", gocql.ErrNoConnections)), true},
		{"no response", fmt.Errorf("x: %w", gocql.ErrTimeoutNoResponse), true},
		{"unavailable", fmt.Errorf("x: %w", &gocql.RequestErrUnavailable{}), true},
		{"read timeout", &gocql.RequestErrReadTimeout{}, true},
		{"joined", errors.Join(errors.New("other"), fmt.Errorf("y: %w", gocql.ErrConnectionClosed)), true},
		{"syntax", fmt.Errorf("x: %w", &gocql.RequestErrUnprepared{}), false},
		{"not found", gocql.ErrNotFound, false},
		{"plain", errors.New("boom"), false},
		{"cancelled", context.Canceled, false},
	} {
		if got := IsUnavailable(tc.err); got != tc.want {
			t.Errorf("%s: IsUnavailable(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
