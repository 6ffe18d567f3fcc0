package notify

import (
	"bytes"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrBadSubscription is wrapped by every refusal of a PushSubscription.
var ErrBadSubscription = errors.New("bad push subscription")

// MaxSubscriptionBytes bounds a PushSubscription body.
const MaxSubscriptionBytes = 4096

// MaxEndpointLen bounds an endpoint URL.
const MaxEndpointLen = 2048

// MaxLangLen bounds a language tag.
const MaxLangLen = 35

func badSub(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadSubscription, fmt.Sprintf(format, args...))
}

// wireSubscription is a browser's PushSubscription.toJSON(), plus the
// page's language.
type wireSubscription struct {
	Endpoint       string  `json:"endpoint"`
	ExpirationTime *int64  `json:"expirationTime"`
	Keys           wireKey `json:"keys"`
	Lang           string  `json:"lang"`
}

type wireKey struct {
	P256dh string `json:"p256dh"`
	Auth   string `json:"auth"`
}

// DecodeSubscription reads a PushSubscription JSON and checks what can be
// checked without the network: the endpoint is an absolute https URL (or
// http when allowHTTP) with a host and no user info, p256dh is an
// uncompressed P-256 point that is on the curve (so ECDH with it works),
// auth is 16 bytes. Keys are normalized to unpadded base64url.
func DecodeSubscription(b []byte, allowHTTP bool) (Subscription, error) {
	if len(b) > MaxSubscriptionBytes {
		return Subscription{}, badSub("over %d bytes", MaxSubscriptionBytes)
	}
	var w wireSubscription
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&w); err != nil {
		return Subscription{}, badSub("json: %v", err)
	}
	if dec.More() {
		return Subscription{}, badSub("trailing data")
	}
	if err := CheckEndpointURL(w.Endpoint, allowHTTP); err != nil {
		return Subscription{}, err
	}
	w.Endpoint = normalizeEndpoint(w.Endpoint)
	p, err := decodeKey(w.Keys.P256dh)
	if err != nil || len(p) != 65 || p[0] != 4 {
		return Subscription{}, badSub("keys.p256dh must be a 65-byte uncompressed P-256 point in base64url")
	}
	if _, err := ecdh.P256().NewPublicKey(p); err != nil {
		return Subscription{}, badSub("keys.p256dh is not a point on P-256")
	}
	a, err := decodeKey(w.Keys.Auth)
	if err != nil || len(a) != 16 {
		return Subscription{}, badSub("keys.auth must be 16 bytes in base64url")
	}
	if len(w.Lang) > MaxLangLen || strings.ContainsFunc(w.Lang, func(r rune) bool {
		return !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		return Subscription{}, badSub("lang must be a language tag such as ru-RU")
	}
	return Subscription{ID: SubscriptionID(w.Endpoint), Endpoint: w.Endpoint,
		P256dh: base64.RawURLEncoding.EncodeToString(p), Auth: base64.RawURLEncoding.EncodeToString(a),
		Lang: w.Lang}, nil
}

// CheckEndpointURL checks the shape of a push endpoint (not where it
// resolves: the transport does that, at subscribe time and at dial time).
func CheckEndpointURL(s string, allowHTTP bool) error {
	if s == "" || len(s) > MaxEndpointLen {
		return badSub("endpoint must be a URL of at most %d bytes", MaxEndpointLen)
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return badSub("endpoint must be an absolute URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP:
	default:
		return badSub("endpoint must use https")
	}
	if u.User != nil {
		return badSub("endpoint must not carry user info")
	}
	if u.Fragment != "" {
		return badSub("endpoint must not have a fragment")
	}
	return nil
}

// normalizeEndpoint lowercases an endpoint's scheme and host, which URLs
// compare case-insensitively, so that one browser endpoint written two ways
// is one subscription (its ID is a hash of the endpoint), not two that are
// both pushed. The path and query are kept byte for byte: push services
// compare them exactly. s has passed CheckEndpointURL (scheme://host...,
// no user info).
func normalizeEndpoint(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	return strings.ToLower(scheme) + "://" + strings.ToLower(rest[:end]) + rest[end:]
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "+/") {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return base64.RawURLEncoding.DecodeString(s)
}

// SubscriptionID names a subscription by its endpoint: the first 16 bytes
// of its SHA-256, in hex.
func SubscriptionID(endpoint string) string {
	h := sha256.Sum256([]byte(endpoint))
	return hex.EncodeToString(h[:16])
}
