package auth

import (
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is the iss claim of every Lenta token.
const Issuer = "lenta"

// ScopeService is the scope claim value of a service token.
const ScopeService = "service"

// MinSecretLen is the shortest HMAC secret New accepts, in bytes.
const MinSecretLen = 16

// DefaultTTL is how long a token lives when Issue is given no TTL.
const DefaultTTL = 24 * time.Hour

// DefaultLeeway is the clock skew tolerated on exp, nbf and iat.
const DefaultLeeway = 30 * time.Second

// maxTokenLen bounds the work done on a presented token; real tokens are a
// few hundred bytes.
const maxTokenLen = 4096

// ErrUnauthorized is wrapped by every verification failure.
var ErrUnauthorized = errors.New("unauthorized")

// Principal is who a verified token speaks for.
type Principal struct {
	User    int64 // the subject: a positive user id
	Service bool  // the token has the service scope: it may act for any user
}

// Tokens issues and verifies tokens with one secret. It is safe for
// concurrent use.
type Tokens struct {
	secret     []byte
	now        func() time.Time
	leeway     time.Duration
	defaultTTL time.Duration
	parser     *jwt.Parser
	verified   VerifiedCache // nil: every Verify checks the signature
	hits       atomic.Uint64 // Verify answered from verified
	misses     atomic.Uint64 // Verify checked the signature with a cache set
}

// CacheStats reports how many Verify calls the VerifiedCache answered
// (hits) and how many checked the signature while one was set (misses).
func (t *Tokens) CacheStats() (hits, misses uint64) { return t.hits.Load(), t.misses.Load() }

// VerifiedCache remembers tokens Verify accepted, so a client's next
// request with the same token skips the signature check. Implementations
// are safe for concurrent use and may forget any entry at any time; they
// are keyed by the whole token, so only the exact bytes Verify accepted
// hit.
type VerifiedCache interface {
	Get(token string) (Verified, bool)
	Set(token string, v Verified)
}

// Verified is an accepted token's principal and the instant until which it
// may be reused: its expiry, and at most VerifiedMaxAge after it was
// checked.
type Verified struct {
	Principal Principal
	Until     time.Time
}

// VerifiedMaxAge bounds how long a verified token is reused before it is
// checked again.
const VerifiedMaxAge = time.Minute

// WithVerifiedCache makes Verify remember accepted tokens in c.
func WithVerifiedCache(c VerifiedCache) Option { return func(t *Tokens) { t.verified = c } }

// Option configures Tokens.
type Option func(*Tokens)

// WithClock makes Tokens read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(t *Tokens) { t.now = now } }

// WithLeeway sets the tolerated clock skew (default DefaultLeeway).
func WithLeeway(d time.Duration) Option { return func(t *Tokens) { t.leeway = d } }

// WithDefaultTTL sets the lifetime of tokens issued with ttl <= 0 (default
// DefaultTTL).
func WithDefaultTTL(d time.Duration) Option { return func(t *Tokens) { t.defaultTTL = d } }

// New makes Tokens for secret, which must be at least MinSecretLen bytes.
// The secret is copied.
func New(secret []byte, opts ...Option) (*Tokens, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("auth: the secret is %d bytes; at least %d are required", len(secret), MinSecretLen)
	}
	t := &Tokens{
		secret:     append([]byte(nil), secret...),
		now:        time.Now,
		leeway:     DefaultLeeway,
		defaultTTL: DefaultTTL,
	}
	for _, o := range opts {
		o(t)
	}
	if t.leeway < 0 {
		return nil, fmt.Errorf("auth: negative leeway %v", t.leeway)
	}
	if t.defaultTTL <= 0 {
		return nil, fmt.Errorf("auth: default TTL must be positive, got %v", t.defaultTTL)
	}
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(t.leeway),
		jwt.WithTimeFunc(t.now),
		jwt.WithStrictDecoding(),
	)
	return t, nil
}

// claims is the token body.
type claims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope,omitempty"`
}

// Issue signs a token for user that expires after ttl (DefaultTTL, or the
// configured default, when ttl <= 0). service grants the service scope.
func (t *Tokens) Issue(user int64, service bool, ttl time.Duration) (string, error) {
	if user <= 0 {
		return "", fmt.Errorf("auth: user id must be positive, got %d", user)
	}
	if ttl <= 0 {
		ttl = t.defaultTTL
	}
	now := t.now()
	c := claims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    Issuer,
		Subject:   strconv.FormatInt(user, 10),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}}
	if service {
		c.Scope = ScopeService
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// Verify checks token and returns whom it speaks for. Every failure wraps
// ErrUnauthorized and says why, without quoting the token.
func (t *Tokens) Verify(token string) (Principal, error) {
	if token == "" {
		return Principal{}, deny("empty token")
	}
	if len(token) > maxTokenLen {
		return Principal{}, deny("token is longer than %d bytes", maxTokenLen)
	}
	if t.verified != nil {
		if v, ok := t.verified.Get(token); ok && t.now().Before(v.Until) {
			t.hits.Add(1)
			return v.Principal, nil
		}
		t.misses.Add(1)
	}
	var c claims
	tok, err := t.parser.ParseWithClaims(token, &c, t.key)
	if err != nil {
		if tok != nil && tok.Method != nil && tok.Method.Alg() != jwt.SigningMethodHS256.Alg() {
			// The algorithm name is one the library knows, never free text.
			return Principal{}, deny("signing method %q is not allowed (only HS256)", tok.Method.Alg())
		}
		return Principal{}, deny("%s", reason(err, &c))
	}
	user, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || user <= 0 || strconv.FormatInt(user, 10) != c.Subject {
		return Principal{}, deny("subject is not a positive user id")
	}
	var p Principal
	switch c.Scope {
	case "":
		p = Principal{User: user}
	case ScopeService:
		p = Principal{User: user, Service: true}
	default:
		return Principal{}, deny("unknown scope")
	}
	if t.verified != nil && c.ExpiresAt != nil {
		until := t.now().Add(VerifiedMaxAge)
		if exp := c.ExpiresAt.Time; exp.Before(until) {
			until = exp
		}
		t.verified.Set(token, Verified{Principal: p, Until: until})
	}
	return p, nil
}

// key hands the secret to the parser only for HS256; WithValidMethods
// already refuses other algorithms, this is the second lock.
func (t *Tokens) key(tok *jwt.Token) (any, error) {
	if m, ok := tok.Method.(*jwt.SigningMethodHMAC); !ok || m != jwt.SigningMethodHS256 {
		return nil, fmt.Errorf("signing method %q is not allowed", tok.Method.Alg())
	}
	return t.secret, nil
}

func deny(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnauthorized, fmt.Sprintf(format, args...))
}

// reason turns a jwt error into a short, token-free explanation.
func reason(err error, c *claims) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token is not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token is issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "token has the wrong issuer"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		if c.ExpiresAt == nil {
			return "token has no expiry"
		}
		return "token has no issuer"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "token signing method is not allowed (only HS256)"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "token signature is invalid"
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return "token claims are invalid"
	}
	return "token is invalid"
}
