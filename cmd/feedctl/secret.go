package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/lenta-dev/lenta/auth"
)

// secretFlag adds --secret-file to fs.
func secretFlag(fs *flag.FlagSet) *string {
	return fs.String("secret-file", "", "read the signing secret from this file when FEED_AUTH_SECRET is unset (e.g. lenta-data/auth.secret)")
}

// tokens returns the signer for FEED_AUTH_SECRET or the secret file. The
// secret is never printed, not even in an error.
func tokens(e *env, secretFile string) (*auth.Tokens, error) {
	secret := e.getenv("FEED_AUTH_SECRET")
	source := "FEED_AUTH_SECRET"
	if secret == "" && secretFile != "" {
		b, err := os.ReadFile(secretFile)
		if err != nil {
			return nil, fmt.Errorf("secret file: %w", err)
		}
		secret, source = strings.TrimSpace(string(b)), secretFile
	}
	if secret == "" {
		return nil, errors.New("FEED_AUTH_SECRET is not set (or pass --secret-file lenta-data/auth.secret)")
	}
	t, err := auth.New([]byte(secret))
	if err != nil {
		return nil, fmt.Errorf("secret from %s: %w", source, err)
	}
	return t, nil
}

// mint signs a short-lived token for a command that was given none.
func mint(e *env, secretFile string, user int64, service bool) (string, error) {
	t, err := tokens(e, secretFile)
	if err != nil {
		return "", fmt.Errorf("no --token given and cannot mint one: %w", err)
	}
	return t.Issue(user, service, 15*time.Minute)
}
