package invariants

import (
	"strings"
	"testing"
)

func TestFailfPanicsWithViolation(t *testing.T) {
	cases := []struct {
		name string
		fn   func()
		want string // "" means no violation
	}{
		{"no failure", func() {}, ""},
		{"failure", func() { Failf("audience[%d] = %d, counted %d", 7, 3, 2) }, "invariant violated: audience[7] = 3, counted 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Recover(c.fn)
			switch {
			case c.want == "" && v != nil:
				t.Fatalf("Recover = %v, want nil", v)
			case c.want != "" && (v == nil || v.Error() != c.want):
				t.Fatalf("Recover = %v, want %q", v, c.want)
			}
		})
	}
}

func TestRecoverPassesOtherPanics(t *testing.T) {
	defer func() {
		r := recover()
		if s, ok := r.(string); !ok || !strings.Contains(s, "other") {
			t.Fatalf("recovered %v, want the other panic", r)
		}
	}()
	Recover(func() { panic("other") })
	t.Fatal("Recover returned after a panic that is not a Violation")
}
