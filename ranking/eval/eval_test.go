package eval

import (
	"flag"
	"math"
	"testing"

	"github.com/lenta-dev/lenta/ranking"
)

var full = flag.Bool("eval.full", false, "run the full evaluation and print its figures (docs/ranking.md)")

func TestNDCG(t *testing.T) {
	for _, tc := range []struct {
		rel  []bool
		nrel int
		want float64
	}{
		{[]bool{true, false, false}, 1, 1},
		{[]bool{false, true}, 1, 1 / math.Log2(3)},
		{[]bool{false, true, true}, 2, (1/math.Log2(3) + 0.5) / (1 + 1/math.Log2(3))},
		{[]bool{false, false}, 1, 0},
	} {
		if got := ndcg(tc.rel, tc.nrel, 20); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("ndcg(%v) = %v, want %v", tc.rel, got, tc.want)
		}
	}
}

// TestRankedBeatsChronological runs the small evaluation: ranked order
// must beat newest first on held-out interactions. With -eval.full it
// runs the full one and prints its figures.
func TestRankedBeatsChronological(t *testing.T) {
	p := Small()
	if *full {
		p = Full()
	}
	res, err := Run(t.Context(), p, ranking.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", res)
	if res.Evaluations < 50 {
		t.Fatalf("only %d evaluations", res.Evaluations)
	}
	if res.NDCGRanked <= res.NDCGChrono {
		t.Fatalf("ranked NDCG@%d %.4f does not beat chronological %.4f", p.K, res.NDCGRanked, res.NDCGChrono)
	}
	again, err := Run(t.Context(), p, ranking.Defaults())
	if err != nil || again != res {
		t.Fatalf("not deterministic: %v vs %v (%v)", again, res, err)
	}
}
