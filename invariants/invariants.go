package invariants

import "fmt"

// Violation is the value a failed check panics with.
type Violation struct {
	Msg string
}

func (v *Violation) Error() string { return "invariant violated: " + v.Msg }

// Failf panics with a *Violation whose message is the formatted text. Call
// it only under if Enabled.
func Failf(format string, args ...any) {
	panic(&Violation{Msg: fmt.Sprintf(format, args...)})
}

// Recover runs fn and returns the *Violation it panicked with, or nil if it
// returned; any other panic goes on. Tests use it to show that a check
// fires.
func Recover(fn func()) (v *Violation) {
	defer func() {
		if r := recover(); r != nil {
			var ok bool
			if v, ok = r.(*Violation); !ok {
				panic(r)
			}
		}
	}()
	fn()
	return nil
}
