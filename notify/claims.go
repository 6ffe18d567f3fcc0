package notify

import (
	"context"
	"time"
)

// Claims make a push go out once per group and coalescing window even when
// a queue shard moves between senders mid-window: before it sends a
// window's push for a group, a sender claims (user, group, window), and
// only the sender whose claim stands sends. The claim is taken before the
// send, so the promise is at most once per claim: a sender that dies (or
// loses the store) between its claim and its send loses that push, and the
// next owner of the shard does not send it again.
type Claims interface {
	// Claim records that owner pushes user's group for window (the due
	// second of the queue task), unless someone claimed it already. It
	// reports whether the claim is owner's afterwards, so repeating a call
	// whose answer was lost (a timeout) is harmless. A claim lasts at least
	// until until (unix ms); a store may forget it after that.
	// Implementations must be safe for concurrent use and must never let
	// two owners win one claim.
	Claim(ctx context.Context, user int64, group string, window int64, owner string, until int64) (bool, error)
}

// claimGrace keeps a claim a little past its push's deadline, for clock
// skew between push processes (a task is dropped once past its deadline,
// so an older claim is never asked for).
const claimGrace = time.Minute
