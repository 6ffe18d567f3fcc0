package fanout

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/lenta-dev/lenta/schema"
)

// Reason codes of dead letters: a small fixed set, so they can label a
// metric and an operator can filter and replay by them.
const (
	ReasonMalformed  = "malformed"   // the bytes did not decode as an event
	ReasonInvalid    = "invalid"     // decoded, but broke the event contract
	ReasonNotOwner   = "not_owner"   // the actor does not own the object it acts on
	ReasonBlocked    = "blocked"     // a block stands between the two users
	ReasonNotVisible = "not_visible" // the actor may not see the object
	ReasonIDConflict = "id_conflict" // an applied event id re-sent with other content
	ReasonOther      = "other"       // any other refusal
)

// Reasons lists every reason code, in a stable order.
var Reasons = []string{ReasonMalformed, ReasonInvalid, ReasonNotOwner, ReasonBlocked, ReasonNotVisible, ReasonIDConflict, ReasonOther}

// Sentinel errors the engine's refusals wrap (rejectAs); ReasonOf maps
// them to codes. A visibility check refuses with
// rejectAs(ErrNotVisibleRefusal, ...), or with any refusal whose text, or
// the text of an error it wraps, starts with "not_visible".
var (
	ErrNotOwner          = errors.New("not_owner")
	ErrBlocked           = errors.New("blocked")
	ErrNotVisibleRefusal = errors.New("not_visible")
	ErrIDConflict        = errors.New("id_conflict")
	ErrUnknownType       = errors.New("unknown event type")
)

// ReasonOf maps a refusal (or decoding) error to its reason code.
func ReasonOf(err error) string {
	switch {
	case err == nil:
		return ReasonOther
	case errors.Is(err, schema.ErrMalformed):
		return ReasonMalformed
	case errors.Is(err, schema.ErrInvalid), errors.Is(err, ErrUnknownType):
		return ReasonInvalid
	case errors.Is(err, ErrNotOwner):
		return ReasonNotOwner
	case errors.Is(err, ErrBlocked):
		return ReasonBlocked
	case errors.Is(err, ErrNotVisibleRefusal), textStarts(err, ReasonNotVisible):
		return ReasonNotVisible
	case errors.Is(err, ErrIDConflict):
		return ReasonIDConflict
	}
	return ReasonOther
}

// textStarts reports whether the text of err, or of an error it wraps,
// starts with prefix.
func textStarts(err error, prefix string) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if strings.HasPrefix(err.Error(), prefix) {
			return true
		}
	}
	return false
}

// rejectAs is a refusal wrapping a sentinel, so ReasonOf can classify it.
func rejectAs(sentinel error, format string, args ...any) error {
	return &rejectError{reason: fmt.Sprintf(format, args...), err: sentinel}
}

// Digest is the content digest kept with a ledger row: FNV-1a 64 of the
// canonical msgpack encoding of the normalized event. 0 means unknown (a
// row written before digests existed); a real digest of 0 is mapped to 1.
func Digest(ev *schema.Event) uint64 {
	b, err := schema.MarshalMsgpack(ev)
	if err != nil {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write(b)
	if d := h.Sum64(); d != 0 {
		return d
	}
	return 1
}

// duplicate tells whether id with digest dg was already applied (in this
// batch or per the ledger mark m) with the same content (dup), or with
// other content (conflict). A ledger row without a digest counts as the
// same content.
func (b *batch) duplicate(id string, dg uint64, m LedgerMark) (dup, conflict bool) {
	if prev, ok := b.seen[id]; ok {
		return prev == dg || prev == 0 || dg == 0, !(prev == dg || prev == 0 || dg == 0)
	}
	if !m.Found {
		return false, false
	}
	same := m.Digest == 0 || dg == 0 || m.Digest == dg
	return same, !same
}

func conflictRejection(i int, id string) Rejection {
	return Rejection{Index: i, EventID: id, Code: ReasonIDConflict,
		Reason: fmt.Sprintf("%s: event id %q was already applied with different content", ReasonIDConflict, id)}
}
