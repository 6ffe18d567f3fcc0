package httpapi

import (
	"errors"
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/valyala/fasthttp"

	"github.com/lenta-dev/lenta/fanout"
)

const codeInsufficientStorage = "insufficient_storage"

// noSpaceRetryAfter is the Retry-After, in seconds, of a 507: about how
// long an operator or a compaction takes to free space, and long enough
// that a crowd of clients does not spin on a full disk.
const noSpaceRetryAfter = "10"

// failNoSpace answers 507 when err says the store's disk is below its
// watermark; false when err is something else. Nothing was published, so
// the same batch may be sent again later.
func (s *Server) failNoSpace(ctx *fasthttp.RequestCtx, f format, err error) bool {
	if !errors.Is(err, fanout.ErrNoSpace) {
		return false
	}
	msg := "the server's disk is too full to accept events; nothing was accepted, retry the same batch later"
	var ns *fanout.NoSpaceError
	if errors.As(err, &ns) {
		msg = fmt.Sprintf("the server's disk is too full to accept events: %s free, below the %s watermark; nothing was accepted, retry the same batch later",
			humanize.IBytes(ns.Free), humanize.IBytes(ns.Min))
	}
	s.log.Warn("http: events refused, disk below watermark", "err", err)
	ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, noSpaceRetryAfter)
	s.fail(ctx, f, fasthttp.StatusInsufficientStorage, codeInsufficientStorage, msg, -1)
	return true
}
