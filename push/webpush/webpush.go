package webpush

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	wp "github.com/SherClockHolmes/webpush-go"

	"github.com/lenta-dev/lenta/notify"
)

// RecordSize is the aes128gcm record size pushes are padded to: the whole
// request body is this many bytes. Firefox on Android refuses bodies over
// about 3 KB (its push service re-encodes them for a constrained
// transport), and the library's default of 4096 is refused there; 2048
// is the value reported to work, and leaves room for notify.MaxPayload.
const RecordSize = 2048

// maxResponseRead bounds what is read of a push service's answer.
const maxResponseRead = 8 << 10

// Keys are a VAPID key pair in the encodings browsers and webpush-go use:
// the public key an uncompressed P-256 point, the private key its 32-byte
// scalar, both unpadded base64url.
type Keys struct {
	Public  string
	Private string
}

// GenerateKeys makes a new VAPID key pair.
func GenerateKeys() (Keys, error) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return Keys{}, fmt.Errorf("webpush: generate VAPID keys: %w", err)
	}
	return Keys{Public: base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()),
		Private: base64.RawURLEncoding.EncodeToString(k.Bytes())}, nil
}

// ParseKeys checks a key pair: the private key must be a P-256 scalar whose
// public key is the one given.
func ParseKeys(public, private string) (Keys, error) {
	d, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(private, "="))
	if err != nil {
		return Keys{}, errors.New("webpush: VAPID private key is not base64url")
	}
	k, err := ecdh.P256().NewPrivateKey(d)
	if err != nil {
		return Keys{}, fmt.Errorf("webpush: VAPID private key: %w", err)
	}
	pub := base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes())
	if public != "" && strings.TrimRight(public, "=") != pub {
		return Keys{}, errors.New("webpush: VAPID public key does not match the private key")
	}
	return Keys{Public: pub, Private: base64.RawURLEncoding.EncodeToString(d)}, nil
}

// settingName is where the key pair is kept ("public.private").
const settingName = "vapid.keys"

// LoadOrCreateKeys returns the shared key pair: the one stored, or a new
// one stored now (every process then agrees on the first one written).
func LoadOrCreateKeys(ctx context.Context, s notify.Settings) (Keys, error) {
	k, err := GenerateKeys()
	if err != nil {
		return Keys{}, err
	}
	v, err := s.PutSettingIfAbsent(ctx, settingName, k.Public+"."+k.Private)
	if err != nil {
		return Keys{}, fmt.Errorf("webpush: keep VAPID keys: %w", err)
	}
	pub, priv, ok := strings.Cut(v, ".")
	if !ok {
		return Keys{}, errors.New("webpush: stored VAPID keys are malformed")
	}
	return ParseKeys(pub, priv)
}

// Config wires a Transport.
type Config struct {
	Keys Keys
	// Subject is the VAPID sub claim: "mailto:..." or an https URL.
	Subject string
	Policy  Policy
	// Resolve looks names up (default: the system resolver). Tests use it
	// to make a name resolve to a private address.
	Resolve Resolver
	// Timeout bounds one request, dial to last byte read (default 15s).
	Timeout time.Duration
	// MaxConnsPerHost bounds connections to one push service (default 32).
	MaxConnsPerHost int
}

// Transport sends pushes. It is safe for concurrent use.
type Transport struct {
	cfg    Config
	guard  *guard
	client *http.Client
	sub    string
}

var _ notify.Transport = (*Transport)(nil)

// New makes a Transport with its SSRF-safe HTTP client.
func New(cfg Config) (*Transport, error) {
	if _, err := ParseKeys(cfg.Keys.Public, cfg.Keys.Private); err != nil {
		return nil, err
	}
	if cfg.Subject == "" {
		return nil, errors.New("webpush: a VAPID subject (mailto: or https: URL) is required")
	}
	if cfg.Resolve == nil {
		cfg.Resolve = defaultResolver
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.MaxConnsPerHost <= 0 {
		cfg.MaxConnsPerHost = 32
	}
	g := &guard{policy: cfg.Policy, resolve: cfg.Resolve}
	g.dialer = &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: g.control}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial for us, unchecked
		DialContext:            g.dial,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    cfg.MaxConnsPerHost,
		MaxConnsPerHost:        cfg.MaxConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 16 << 10,
	}
	client := &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a push service never redirects
		},
	}
	// webpush-go v1.4.0 prefixes "mailto:" to any subject that does not
	// start with "https:", so it gets the bare address.
	sub := strings.TrimPrefix(cfg.Subject, "mailto:")
	return &Transport{cfg: cfg, guard: g, client: client, sub: sub}, nil
}

// PublicKey is the VAPID public key browsers subscribe with.
func (t *Transport) PublicKey() string { return t.cfg.Keys.Public }

// CheckEndpoint implements notify.Transport.
func (t *Transport) CheckEndpoint(ctx context.Context, endpoint string) error {
	return t.guard.CheckEndpoint(ctx, endpoint)
}

// Close drops idle connections.
func (t *Transport) Close() { t.client.CloseIdleConnections() }

// Send implements notify.Transport.
func (t *Transport) Send(ctx context.Context, sub *notify.Subscription, msg *notify.Message) (notify.Outcome, error) {
	if err := notify.CheckEndpointURL(sub.Endpoint, t.cfg.Policy.AllowHTTP); err != nil {
		return notify.Outcome{}, fmt.Errorf("%w: %w", notify.ErrRefused, err)
	}
	ttl := int(msg.TTL / time.Second)
	// webpush-go v1.4.0 appends the padding delimiter to the message's
	// backing array when it has spare capacity: a private copy with no
	// spare capacity keeps concurrent sends of one payload apart.
	payload := make([]byte, len(msg.Payload))
	copy(payload, msg.Payload)
	resp, err := wp.SendNotificationWithContext(ctx, payload, &wp.Subscription{
		Endpoint: sub.Endpoint, Keys: wp.Keys{Auth: sub.Auth, P256dh: sub.P256dh},
	}, &wp.Options{
		HTTPClient:      t.client,
		RecordSize:      RecordSize,
		Subscriber:      t.sub,
		Topic:           msg.Topic,
		TTL:             ttl,
		Urgency:         wp.Urgency(msg.Urgency),
		VAPIDPublicKey:  t.cfg.Keys.Public,
		VAPIDPrivateKey: t.cfg.Keys.Private,
		// Ignored by v1.4.0 (it always signs for 12 hours, within RFC
		// 8292's 24-hour limit); set for the fixed versions.
		VapidExpiration: time.Now().Add(12 * time.Hour),
	})
	if err != nil {
		return notify.Outcome{}, fmt.Errorf("webpush: send: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseRead)) // lets the connection be reused
	return notify.Outcome{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}, nil
}

// retryAfter reads a Retry-After header: seconds or an HTTP date; at most
// a day.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		// Cap before multiplying: a huge value would overflow to 0 or less.
		d = time.Duration(min(n, 24*60*60)) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, 24*time.Hour))
}
