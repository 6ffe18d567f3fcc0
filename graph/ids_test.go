package graph

import (
	"fmt"
	"testing"
)

func TestUnionIntersect(t *testing.T) {
	tests := []struct{ a, b, union, inter []int64 }{
		{nil, nil, nil, nil},
		{[]int64{1, 3}, nil, []int64{1, 3}, nil},
		{nil, []int64{2}, []int64{2}, nil},
		{[]int64{1, 3, 5}, []int64{2, 3, 6}, []int64{1, 2, 3, 5, 6}, []int64{3}},
		{[]int64{1, 2}, []int64{1, 2}, []int64{1, 2}, []int64{1, 2}},
	}
	for _, tt := range tests {
		if got := Union(tt.a, tt.b); fmt.Sprint(got) != fmt.Sprint(tt.union) {
			t.Errorf("Union(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.union)
		}
		if got := Intersect(tt.a, tt.b); fmt.Sprint(got) != fmt.Sprint(tt.inter) {
			t.Errorf("Intersect(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.inter)
		}
	}
}
