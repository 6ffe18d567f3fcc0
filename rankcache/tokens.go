package rankcache

import (
	"fmt"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/lenta-dev/lenta/auth"
)

// DefaultTokens is feedd's bound on remembered tokens
// (--token-cache-entries): about 40 MB at 400 bytes a token.
const DefaultTokens = 100_000

// Tokens is an auth.VerifiedCache holding at most a fixed number of
// tokens, each until its Verified.Until. Safe for concurrent use; Close
// stops its goroutines.
type Tokens struct {
	c *otter.Cache[string, auth.Verified]
}

var _ auth.VerifiedCache = (*Tokens)(nil)

// NewTokens makes a cache of at most entries tokens.
func NewTokens(entries int) (*Tokens, error) {
	if entries < 1 {
		return nil, fmt.Errorf("rankcache: a token cache of %d entries", entries)
	}
	c, err := otter.New(&otter.Options[string, auth.Verified]{
		MaximumSize: entries,
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, auth.Verified]) time.Duration {
			return time.Until(e.Value.Until)
		}),
	})
	if err != nil {
		return nil, fmt.Errorf("rankcache: %w", err)
	}
	return &Tokens{c: c}, nil
}

// Get implements auth.VerifiedCache. An entry past its Until is a miss
// even before otter's expiry removes it (auth checks it again too).
func (t *Tokens) Get(token string) (auth.Verified, bool) {
	v, ok := t.c.GetIfPresent(token)
	if !ok || !time.Now().Before(v.Until) {
		return auth.Verified{}, false
	}
	return v, true
}

// Set implements auth.VerifiedCache; an entry already past its Until is
// not kept.
func (t *Tokens) Set(token string, v auth.Verified) {
	if time.Now().Before(v.Until) {
		t.c.Set(token, v)
	}
}

// Close stops the cache's goroutines; it must not be used afterwards.
func (t *Tokens) Close() { t.c.StopAllGoroutines() }
