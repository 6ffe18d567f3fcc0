package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"

	"github.com/valyala/bytebufferpool"
	"github.com/valyala/fasthttp"

	"github.com/lenta-dev/lenta/schema"
)

// format is a wire encoding of request or response bodies.
type format uint8

const (
	formatJSON format = iota
	formatMsgpack
)

// Media types.
const (
	ContentTypeJSON    = "application/json"
	ContentTypeMsgpack = "application/msgpack"
)

// Error codes: the stable, machine-readable part of an error body.
const (
	codeUnauthorized     = "unauthorized"
	codeForbidden        = "forbidden"
	codeMalformed        = "malformed"
	codeInvalidEvent     = "invalid_event"
	codeDuplicateID      = "duplicate_id"
	codeTooLarge         = "body_too_large"
	codeHeaderTooLarge   = "header_too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeBadLimit         = "bad_limit"
	codeBadCursor        = "bad_cursor"
	codeBadRequest       = "bad_request"
	codeTimeout          = "timeout"
	codeRateLimited      = "rate_limited"
	codeTooManyConns     = "too_many_connections"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeUnavailable      = "unavailable"
	codeInternal         = "internal"
)

// errorBody is every error response. Index is the position of the event an
// ingest error is about.
type errorBody struct {
	Error string `json:"error" msgpack:"error"`
	Code  string `json:"code" msgpack:"code"`
	Index *int   `json:"index,omitempty" msgpack:"index,omitempty"`
}

// fail writes an error response; index < 0 means no index.
func (s *Server) fail(ctx *fasthttp.RequestCtx, f format, status int, code, msg string, index int) {
	body := errorBody{Error: msg, Code: code}
	if index >= 0 {
		body.Index = &index
	}
	s.reply(ctx, f, status, &body)
}

// fallback500 is the body when encoding a response fails.
var fallback500 = []byte(`{"error":"internal error","code":"internal"}` + "\n")

// bodies recycles encoding buffers. reply encodes into one and swaps it
// into the response (fasthttp's body buffer comes back and is reused), so
// a response is written once and never copied.
var bodies bytebufferpool.Pool

// reply writes v as the response body in format f with status.
func (s *Server) reply(ctx *fasthttp.RequestCtx, f format, status int, v any) {
	resp := &ctx.Response
	buf := bodies.Get()
	var err error
	if f == formatMsgpack {
		err = schema.WriteMsgpackValue(buf, v) // a ByteBuffer has WriteByte: no wrapping writer
		resp.Header.SetContentType(ContentTypeMsgpack)
	} else if a, ok := v.(jsonAppender); ok {
		buf.B = a.AppendJSON(buf.B[:0])
		resp.Header.SetContentType(ContentTypeJSON)
	} else {
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		err = enc.Encode(v)
		resp.Header.SetContentType(ContentTypeJSON)
	}
	resp.SetStatusCode(status)
	resp.Header.Set(fasthttp.HeaderVary, fasthttp.HeaderAccept)
	if err != nil {
		s.log.Error("http: encode response", slog.Any("err", err))
		resp.SetStatusCode(fasthttp.StatusInternalServerError)
		resp.Header.SetContentType(ContentTypeJSON)
		buf.Set(fallback500)
	}
	buf.B = resp.SwapBody(buf.B)
	bodies.Put(buf)
}

// bodyFormat reads a request Content-Type; ok is false for anything but
// JSON or msgpack. Parameters (charset) are ignored.
func bodyFormat(ct []byte) (f format, ok bool) {
	switch mt := mediaType(ct); {
	case isJSON(mt):
		return formatJSON, true
	case isMsgpack(mt):
		return formatMsgpack, true
	}
	return formatJSON, false
}

func mediaType(b []byte) []byte {
	if i := bytes.IndexByte(b, ';'); i >= 0 {
		b = b[:i]
	}
	return bytes.TrimSpace(b)
}

func isJSON(mt []byte) bool { return bytes.EqualFold(mt, []byte(ContentTypeJSON)) }

func isMsgpack(mt []byte) bool {
	return bytes.EqualFold(mt, []byte(ContentTypeMsgpack)) ||
		bytes.EqualFold(mt, []byte("application/x-msgpack")) ||
		bytes.EqualFold(mt, []byte("application/vnd.msgpack"))
}

// negotiate picks the response format from an Accept header: msgpack when
// a msgpack type has a higher quality than JSON (application/json,
// application/*, */*), or the same quality and comes first; JSON otherwise,
// including when nothing acceptable is listed.
func negotiate(accept []byte) format {
	if len(accept) == 0 {
		return formatJSON
	}
	qm, qj := -1, -1 // best quality seen, in thousandths
	posM, posJ := 0, 0
	for pos := 0; len(accept) > 0; pos++ {
		var part []byte
		if i := bytes.IndexByte(accept, ','); i >= 0 {
			part, accept = accept[:i], accept[i+1:]
		} else {
			part, accept = accept, nil
		}
		mt, q := mediaType(part), quality(part)
		switch {
		case isMsgpack(mt):
			if q > qm {
				qm, posM = q, pos
			}
		case isJSON(mt), bytes.Equal(mt, []byte("*/*")), bytes.EqualFold(mt, []byte("application/*")):
			if q > qj {
				qj, posJ = q, pos
			}
		}
	}
	if qm > 0 && (qm > qj || (qm == qj && posM < posJ)) {
		return formatMsgpack
	}
	return formatJSON
}

// quality returns the q parameter of one Accept element in thousandths
// (1000 when absent, 0 when unreadable).
func quality(part []byte) int {
	for {
		i := bytes.IndexByte(part, ';')
		if i < 0 {
			return 1000
		}
		part = part[i+1:]
		p := bytes.TrimSpace(part)
		if len(p) < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=' {
			continue
		}
		v := p[2:]
		if j := bytes.IndexByte(v, ';'); j >= 0 {
			v = v[:j]
		}
		return parseQ(bytes.TrimSpace(v))
	}
}

// parseQ reads an RFC 9110 qvalue: "0", "1", "0.xyz" or "1.000".
func parseQ(v []byte) int {
	if len(v) == 0 || (v[0] != '0' && v[0] != '1') {
		return 0
	}
	q := int(v[0]-'0') * 1000
	if len(v) == 1 {
		return q
	}
	if v[1] != '.' || len(v) > 5 {
		return 0
	}
	scale := 100
	for _, c := range v[2:] {
		if c < '0' || c > '9' {
			return 0
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	if q > 1000 {
		return 0
	}
	return q
}
