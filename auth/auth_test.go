package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	secret = []byte("0123456789abcdef-test-secret")
	t0     = time.Unix(1_700_000_000, 0)
)

func newTokens(t *testing.T, now *time.Time) *Tokens {
	t.Helper()
	tk, err := New(secret, WithClock(func() time.Time { return *now }), WithLeeway(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestNewRefusesShortSecret(t *testing.T) {
	for _, s := range [][]byte{nil, []byte("short"), []byte("fifteen-bytes!!")} {
		_, err := New(s)
		if err == nil || !strings.Contains(err.Error(), "at least 16") {
			t.Fatalf("secret of %d bytes: want a clear error, got %v", len(s), err)
		}
	}
	if _, err := New([]byte("exactly-16-bytes")); err != nil {
		t.Fatalf("16 bytes: %v", err)
	}
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	now := t0
	tk := newTokens(t, &now)
	tests := []struct {
		name    string
		user    int64
		service bool
		ttl     time.Duration
	}{
		{"user", 42, false, time.Hour},
		{"service", 1, true, time.Minute},
		{"default ttl", 9_000_000_000, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tk.Issue(tt.user, tt.service, tt.ttl)
			if err != nil {
				t.Fatal(err)
			}
			p, err := tk.Verify(s)
			if err != nil {
				t.Fatal(err)
			}
			if p != (Principal{User: tt.user, Service: tt.service}) {
				t.Fatalf("got %+v", p)
			}
		})
	}
	// The default TTL is 24h: valid just before, expired after (plus leeway).
	s, _ := tk.Issue(5, false, 0)
	now = t0.Add(DefaultTTL - time.Second)
	if _, err := tk.Verify(s); err != nil {
		t.Fatalf("before default expiry: %v", err)
	}
	now = t0.Add(DefaultTTL + 10*time.Second)
	if _, err := tk.Verify(s); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("after default expiry: %v", err)
	}
	if _, err := tk.Issue(0, false, 0); err == nil {
		t.Fatal("issued a token for user 0")
	}
}

func TestConfigurableDefaultTTL(t *testing.T) {
	now := t0
	tk, err := New(secret, WithClock(func() time.Time { return now }), WithLeeway(0), WithDefaultTTL(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := tk.Issue(5, false, 0)
	now = t0.Add(2 * time.Minute)
	if _, err := tk.Verify(s); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("want expired, got %v", err)
	}
}

// sign makes a token with any method, claims and key, to forge bad ones.
func sign(t *testing.T, m jwt.SigningMethod, c jwt.MapClaims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestVerifyRefuses(t *testing.T) {
	now := t0
	tk := newTokens(t, &now)
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": Issuer, "sub": "42", "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix()}
	}
	with := func(k string, v any) jwt.MapClaims {
		c := good()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	valid, _ := tk.Issue(42, false, time.Hour)
	parts := strings.Split(valid, ".")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	// A payload that claims the service scope, glued to the user token's
	// signature.
	elevated := parts[0] + "." + b64(`{"iss":"lenta","sub":"42","scope":"service","iat":1700000000,"exp":1700003600}`) + "." + parts[2]
	tests := []struct {
		name, token, reason string
	}{
		{"empty", "", "empty token"},
		{"garbage", "not-a-token", "malformed"},
		{"two segments", parts[0] + "." + parts[1], "malformed"},
		{"too long", strings.Repeat("a", 5000), "longer than"},
		{"tampered payload", elevated, "signature is invalid"},
		{"tampered signature", parts[0] + "." + parts[1] + "." + b64("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), "signature is invalid"},
		{"truncated signature", valid[:len(valid)-3], "signature is invalid"},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, good(), []byte("another-secret-of-16+bytes")), "signature is invalid"},
		{"alg none", sign(t, jwt.SigningMethodNone, good(), jwt.UnsafeAllowNoneSignatureType), `"none" is not allowed`},
		{"alg none handmade", b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + ".", `"none" is not allowed`},
		{"alg HS512", sign(t, jwt.SigningMethodHS512, good(), secret), `"HS512" is not allowed`},
		{"alg RS256", sign(t, jwt.SigningMethodRS256, good(), rsaKey), `"RS256" is not allowed`},
		{"alg unknown", b64(`{"alg":"XX1","typ":"JWT"}`) + "." + parts[1] + "." + parts[2], "not allowed"},
		{"expired", sign(t, jwt.SigningMethodHS256, with("exp", t0.Add(-time.Minute).Unix()), secret), "expired"},
		{"no exp", sign(t, jwt.SigningMethodHS256, with("exp", nil), secret), "no expiry"},
		{"not valid yet", sign(t, jwt.SigningMethodHS256, with("nbf", t0.Add(time.Minute).Unix()), secret), "not valid yet"},
		{"issued in the future", sign(t, jwt.SigningMethodHS256, with("iat", t0.Add(time.Minute).Unix()), secret), "future"},
		{"wrong issuer", sign(t, jwt.SigningMethodHS256, with("iss", "evil"), secret), "issuer"},
		{"no issuer", sign(t, jwt.SigningMethodHS256, with("iss", nil), secret), "issuer"},
		{"exp not a number", sign(t, jwt.SigningMethodHS256, with("exp", "tomorrow"), secret), "malformed"},
		{"subject missing", sign(t, jwt.SigningMethodHS256, with("sub", nil), secret), "subject"},
		{"subject word", sign(t, jwt.SigningMethodHS256, with("sub", "alice"), secret), "subject"},
		{"subject zero", sign(t, jwt.SigningMethodHS256, with("sub", "0"), secret), "subject"},
		{"subject negative", sign(t, jwt.SigningMethodHS256, with("sub", "-5"), secret), "subject"},
		{"subject plus", sign(t, jwt.SigningMethodHS256, with("sub", "+5"), secret), "subject"},
		{"subject leading zero", sign(t, jwt.SigningMethodHS256, with("sub", "042"), secret), "subject"},
		{"subject overflow", sign(t, jwt.SigningMethodHS256, with("sub", "9223372036854775808"), secret), "subject"},
		{"unknown scope", sign(t, jwt.SigningMethodHS256, with("scope", "admin"), secret), "unknown scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tk.Verify(tt.token)
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("want ErrUnauthorized, got %+v, %v", p, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("reason %q not in %q", tt.reason, err)
			}
			if p != (Principal{}) {
				t.Fatalf("a refused token returned principal %+v", p)
			}
			if len(tt.token) > 20 && strings.Contains(err.Error(), tt.token) {
				t.Fatal("the error quotes the token")
			}
		})
	}
}

func TestLeeway(t *testing.T) {
	now := t0
	tk := newTokens(t, &now) // 5 s leeway
	s, _ := tk.Issue(7, false, time.Minute)
	now = t0.Add(time.Minute + 3*time.Second)
	if _, err := tk.Verify(s); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	now = t0.Add(-3 * time.Second) // the verifier's clock is a little behind
	if _, err := tk.Verify(s); err != nil {
		t.Fatalf("iat within leeway: %v", err)
	}
}

// mapCache is a VerifiedCache in a map that counts its hits.
type mapCache struct {
	m    map[string]Verified
	hits int
}

func (c *mapCache) Get(token string) (Verified, bool) {
	v, ok := c.m[token]
	if ok {
		c.hits++
	}
	return v, ok
}

func (c *mapCache) Set(token string, v Verified) { c.m[token] = v }

// A verified token is reused until its expiry or VerifiedMaxAge, whichever
// comes first, and never past it; a refused token is never remembered; a
// token that differs in one byte is checked in full.
func TestVerifiedCache(t *testing.T) {
	now := t0
	c := &mapCache{m: map[string]Verified{}}
	tk, err := New(secret, WithClock(func() time.Time { return now }), WithLeeway(0), WithVerifiedCache(c))
	if err != nil {
		t.Fatal(err)
	}
	long, _ := tk.Issue(7, false, time.Hour)
	short, _ := tk.Issue(8, true, 30*time.Second)
	for range 3 {
		for tok, want := range map[string]Principal{long: {User: 7}, short: {User: 8, Service: true}} {
			if p, err := tk.Verify(tok); err != nil || p != want {
				t.Fatalf("Verify = %+v, %v; want %+v", p, err, want)
			}
		}
	}
	if c.hits != 4 {
		t.Fatalf("%d cache hits for 6 checks of 2 tokens, want 4", c.hits)
	}
	if got := c.m[long].Until; !got.Equal(t0.Add(VerifiedMaxAge)) {
		t.Fatalf("a 1 h token is reused until %v, want %v", got, t0.Add(VerifiedMaxAge))
	}
	if got := c.m[short].Until; !got.Equal(t0.Add(30 * time.Second)) {
		t.Fatalf("a 30 s token is reused until %v, want its expiry", got)
	}
	now = t0.Add(31 * time.Second) // past the short token's expiry
	if _, err := tk.Verify(short); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("an expired token passed through the cache: %v", err)
	}
	altered := long[:len(long)-1] + string(long[len(long)-1]^1)
	if _, err := tk.Verify(altered); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("an altered token passed: %v", err)
	}
	if _, ok := c.m[altered]; ok {
		t.Fatal("a refused token was remembered")
	}
}
