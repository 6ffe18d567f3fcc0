package storetest

import (
	"slices"
	"testing"

	"github.com/lenta-dev/lenta/schema"
)

// st is a stamp.
func st(ts int64, id string) schema.Stamp { return schema.Stamp{TS: ts, ID: id} }

// subtest is one table row of a suite.
type subtest[S any] struct {
	name string
	run  func(t *testing.T, s S)
}

// run runs every subtest against its own fresh store.
func run[S any](t *testing.T, newStore func(t *testing.T) S, tests []subtest[S]) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newStore(t))
		})
	}
}

// must fails the test at once on an error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// equalIDs compares id lists, nil and empty being equal.
func equalIDs(got, want []int64) bool {
	return len(got) == len(want) && (len(got) == 0 || slices.Equal(got, want))
}

func wantIDs(t *testing.T, what string, got []int64, want ...int64) {
	t.Helper()
	if !equalIDs(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
