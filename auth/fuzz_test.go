package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParseToken feeds arbitrary strings to Verify, the parser of every
// bearer token the API receives. It must never panic; a refusal wraps
// ErrUnauthorized, returns no principal and never quotes the token; an
// accepted token names a positive user and is refused under another
// secret (only a real signature gets through).
func FuzzParseToken(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	clock := WithClock(func() time.Time { return now })
	tk, err := New([]byte("fuzz-secret-0123456789"), clock)
	if err != nil {
		f.Fatal(err)
	}
	other, err := New([]byte("fuzz-other-secret-0123456789"), clock)
	if err != nil {
		f.Fatal(err)
	}
	user, _ := tk.Issue(7, false, time.Hour)
	svc, _ := tk.Issue(1, true, time.Hour)
	parts := strings.Split(user, ".")
	enc := base64.RawURLEncoding.EncodeToString
	f.Add(user)
	f.Add(svc)
	f.Add("")
	f.Add("a.b.c")
	f.Add(parts[0] + "." + parts[1])
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".")
	f.Add(parts[0] + "." + enc([]byte(`{"iss":"lenta","sub":"7","scope":"service","iat":1700000000,"exp":1700003600}`)) + "." + parts[2])
	f.Add(parts[0] + "." + enc([]byte(`{"iss":"lenta","sub":[[[[[[[[1]]]]]]]],"exp":1e400}`)) + "." + parts[2])
	f.Add(strings.Repeat("A", maxTokenLen+1))

	f.Fuzz(func(t *testing.T, token string) {
		p, err := tk.Verify(token)
		if err != nil {
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("error %v does not wrap ErrUnauthorized", err)
			}
			if p != (Principal{}) {
				t.Fatalf("a refused token returned principal %+v", p)
			}
			if len(token) >= 16 && strings.Contains(err.Error(), token) {
				t.Fatalf("the error quotes the token: %v", err)
			}
			return
		}
		if p.User <= 0 {
			t.Fatalf("accepted a token for user %d", p.User)
		}
		if q, err := other.Verify(token); err == nil {
			t.Fatalf("a token accepted with one secret is accepted with another too (%+v)", q)
		}
	})
}
