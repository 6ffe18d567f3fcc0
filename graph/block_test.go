package graph

import (
	"context"
	"errors"
	"testing"
)

// edges is an EdgeReader over a set of On block edges.
type edges struct {
	on  map[[2]int64]bool
	err error
}

func (e edges) Edge(_ context.Context, rel Rel, from, to int64, _ string) (Edge, error) {
	if e.err != nil {
		return Edge{}, e.err
	}
	return Edge{Rel: rel, From: from, To: to, On: rel == Block && e.on[[2]int64{from, to}]}, nil
}

func TestBlockedEitherWay(t *testing.T) {
	boom := errors.New("store down")
	for _, tc := range []struct {
		name    string
		g       edges
		want    bool
		wantErr error
	}{
		{"no block", edges{}, false, nil},
		{"a blocks b", edges{on: map[[2]int64]bool{{1, 2}: true}}, true, nil},
		{"b blocks a", edges{on: map[[2]int64]bool{{2, 1}: true}}, true, nil},
		{"blocks of others do not count", edges{on: map[[2]int64]bool{{1, 3}: true, {3, 2}: true}}, false, nil},
		{"a read error is returned", edges{err: boom}, false, boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := BlockedEitherWay(context.Background(), tc.g, 1, 2)
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("BlockedEitherWay = %v, %v; want %v, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
