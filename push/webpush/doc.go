// Package webpush delivers Web Push messages (RFC 8030) encrypted with
// aes128gcm (RFC 8291) and signed with VAPID (RFC 8292), through
// github.com/SherClockHolmes/webpush-go, over an HTTP client that refuses
// to reach private networks (SSRF): addresses are checked after DNS
// resolution, at dial time, so DNS rebinding cannot get around it.
//
// It implements notify.Transport and keeps the VAPID key pair through
// notify.Settings. It is the only package that imports webpush-go; it
// must never decide what to send or when (package notify does).
package webpush
