package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/valyala/fasthttp"

	"github.com/lenta-dev/lenta/schema"
)

type acceptedBody struct {
	Accepted int `json:"accepted" msgpack:"accepted"`
}

// postEvents is POST /v1/events: all events of the request are published,
// or none.
func (s *Server) postEvents(ctx *fasthttp.RequestCtx, f format) {
	if s.cfg.Publisher == nil {
		s.fail(ctx, f, fasthttp.StatusNotFound, codeNotFound, "ingest is not served by this process", -1)
		return
	}
	p, ok := s.authenticate(ctx, f)
	if !ok {
		return
	}
	if ce := ctx.Request.Header.ContentEncoding(); len(ce) > 0 && !bytes.EqualFold(ce, []byte("identity")) {
		s.fail(ctx, f, fasthttp.StatusUnsupportedMediaType, codeUnsupportedMedia,
			"compressed request bodies are not supported; send the body without Content-Encoding", -1)
		return
	}
	in, ok := bodyFormat(ctx.Request.Header.ContentType())
	if !ok {
		s.fail(ctx, f, fasthttp.StatusUnsupportedMediaType, codeUnsupportedMedia,
			"Content-Type must be application/json or application/msgpack", -1)
		return
	}
	body := ctx.Request.Body()
	if len(body) > s.cfg.MaxBodyBytes { // Serve refuses these earlier; a bare Handler does it here
		s.failTooLarge(ctx, f)
		return
	}
	var evs []schema.Event
	var err error
	if in == formatMsgpack {
		evs, err = schema.DecodeMsgpackBatch(body)
	} else {
		evs, err = schema.DecodeJSONBatch(body)
	}
	if err != nil {
		s.fail(ctx, f, fasthttp.StatusBadRequest, codeMalformed, err.Error(), -1)
		return
	}
	now := s.cfg.Now()
	for i := range evs {
		ev := &evs[i]
		err := ev.Normalize(now)
		if err == nil {
			err = s.cfg.Reactions.Check(ev)
		}
		if err != nil {
			s.fail(ctx, f, fasthttp.StatusBadRequest, codeInvalidEvent, fmt.Sprintf("event %d: %v", i, err), i)
			return
		}
		if ev.Type == schema.Profile && !p.Service {
			s.fail(ctx, f, fasthttp.StatusForbidden, codeForbidden,
				fmt.Sprintf("event %d: only a service token may publish a profile", i), i)
			return
		}
		if ev.Actor != p.User && !p.Service {
			s.fail(ctx, f, fasthttp.StatusForbidden, codeForbidden,
				fmt.Sprintf("event %d: publishing as user %d is not allowed for user %d", i, ev.Actor, p.User), i)
			return
		}
	}
	if i, j := firstDuplicate(evs); i >= 0 {
		s.fail(ctx, f, fasthttp.StatusBadRequest, codeDuplicateID,
			fmt.Sprintf("event %d: id %q repeats event %d", i, evs[i].ID, j), i)
		return
	}
	if err := s.cfg.Publisher.Publish(s.base, evs); err != nil {
		if s.failNoSpace(ctx, f, err) {
			return
		}
		level := slog.LevelWarn
		if errors.Is(err, context.Canceled) {
			level = slog.LevelInfo // shutting down
		}
		s.log.Log(s.base, level, "http: publish failed", slog.Int("events", len(evs)), slog.Any("err", err))
		ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, "1")
		// Part of the batch may have reached the bus before the failure
		// (the fault suite saw it when Kafka died mid-request): the answer
		// promises nothing, and the same batch, same ids, is safe to resend.
		s.fail(ctx, f, fasthttp.StatusServiceUnavailable, codeUnavailable,
			"the events were not all accepted; retry the same batch later (event ids make a resend safe)", -1)
		return
	}
	s.cfg.Metrics.EventsAccepted(len(evs))
	s.reply(ctx, f, fasthttp.StatusAccepted, &acceptedBody{Accepted: len(evs)})
}

// firstDuplicate returns the first event whose id repeats an earlier one,
// and that earlier one; (-1, -1) when all ids differ.
func firstDuplicate(evs []schema.Event) (int, int) {
	const linear = 16 // below this a quadratic scan beats a map
	if len(evs) <= linear {
		for i := 1; i < len(evs); i++ {
			for j := 0; j < i; j++ {
				if evs[i].ID == evs[j].ID {
					return i, j
				}
			}
		}
		return -1, -1
	}
	seen := make(map[string]int, len(evs))
	for i := range evs {
		if j, ok := seen[evs[i].ID]; ok {
			return i, j
		}
		seen[evs[i].ID] = i
	}
	return -1, -1
}
