// Package cursorseal signs and checks the opaque cursors every paged read
// of Lenta hands out (the feed newest first, the ranked feed, the
// notification inbox): a cursor is base64url(body | HMAC-SHA256(key,
// viewer | body)[:16]), with a key derived from the service secret and the
// cursor's purpose, so a cursor cannot be forged, altered, replayed on
// another viewer's pages, or passed off as a cursor of another kind.
//
// It knows nothing of what a body holds (each kind encodes its own), does
// no I/O and must never accept a cursor whose signature does not match.
package cursorseal
