package httpapi

import (
	"bytes"

	"github.com/valyala/fasthttp"

	"github.com/lenta-dev/lenta/auth"
)

const (
	challenge             = `Bearer realm="lenta"`
	challengeInvalidToken = `Bearer realm="lenta", error="invalid_token"`
)

// authenticate verifies the bearer token and applies the per-token rate
// limit; on failure it has written the 401 (or 429) and returns false. The
// token is never logged or echoed.
func (s *Server) authenticate(ctx *fasthttp.RequestCtx, f format) (auth.Principal, bool) {
	h := ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)
	if len(h) == 0 {
		ctx.Response.Header.Set(fasthttp.HeaderWWWAuthenticate, challenge)
		s.fail(ctx, f, fasthttp.StatusUnauthorized, codeUnauthorized,
			"missing bearer token: send Authorization: Bearer <token>", -1)
		return auth.Principal{}, false
	}
	const scheme = "bearer "
	if len(h) <= len(scheme) || !bytes.EqualFold(h[:len(scheme)], []byte(scheme)) {
		ctx.Response.Header.Set(fasthttp.HeaderWWWAuthenticate, challenge)
		s.fail(ctx, f, fasthttp.StatusUnauthorized, codeUnauthorized,
			"the Authorization header must use the Bearer scheme", -1)
		return auth.Principal{}, false
	}
	p, err := s.cfg.Tokens.Verify(string(bytes.TrimSpace(h[len(scheme):])))
	if err != nil {
		// auth errors state a reason and never quote the token.
		ctx.Response.Header.Set(fasthttp.HeaderWWWAuthenticate, challengeInvalidToken)
		s.fail(ctx, f, fasthttp.StatusUnauthorized, codeUnauthorized, err.Error(), -1)
		return auth.Principal{}, false
	}
	if !s.allowToken(ctx, f, p) {
		return auth.Principal{}, false
	}
	return p, true
}
