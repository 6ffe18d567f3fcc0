package main

import (
	"context"
	"fmt"
	"time"

	"github.com/lenta-dev/lenta/auth"
)

// cmdToken prints a signed token: feedctl token --user ID [--service] [--ttl 24h].
func cmdToken(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "token", "--user ID [--service] [--ttl 24h]")
	user := fs.Int64("user", 0, "the user id the token speaks for (required)")
	service := fs.Bool("service", false, "grant the service scope: publish as, and read the feed of, any user; publish profiles")
	ttl := fs.Duration("ttl", auth.DefaultTTL, "how long the token is valid")
	secretFile := secretFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *user <= 0 {
		return usagef("--user must be a positive user id")
	}
	if *ttl <= 0 || *ttl > 366*24*time.Hour {
		return usagef("--ttl must be between 1s and a year")
	}
	t, err := tokens(e, *secretFile)
	if err != nil {
		return err
	}
	s, err := t.Issue(*user, *service, *ttl)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, s)
	return err
}
