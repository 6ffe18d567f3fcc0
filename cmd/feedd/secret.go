package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// authSecret returns FEED_AUTH_SECRET. Embedded, when it is unset, feedd
// makes a random one and keeps it in <data>/auth.secret (mode 0600), so the
// zero-flag start works and tokens survive restarts; the secret itself is
// never logged.
func authSecret(o options, log *slog.Logger) ([]byte, error) {
	if s := os.Getenv("FEED_AUTH_SECRET"); s != "" {
		return []byte(s), nil
	}
	if o.kafka != "" {
		return nil, errors.New("FEED_AUTH_SECRET must be set when running on Kafka and Cassandra (all processes share it)")
	}
	path := filepath.Join(o.data, "auth.secret")
	if b, err := os.ReadFile(path); err == nil {
		log.Info("FEED_AUTH_SECRET not set: using the secret kept in the data folder", "file", path)
		return []byte(strings.TrimSpace(string(b))), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("make a secret: %w", err)
	}
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	secret := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("keep the secret: %w", err)
	}
	log.Info("FEED_AUTH_SECRET not set: made a secret and kept it in the data folder; mint tokens with `feedctl token --secret-file`", "file", path)
	return []byte(secret), nil
}
