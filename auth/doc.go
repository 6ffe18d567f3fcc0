// Package auth issues and verifies Lenta's bearer tokens: HS256 JWTs whose
// subject is the decimal user id, issued by "lenta", always with an expiry,
// optionally carrying scope "service" for trusted producers that may act on
// behalf of any user.
//
// It is the only package that imports the JWT library. Verification is
// strict: only HS256 is accepted (never "none", never an asymmetric or other
// HMAC algorithm), the issuer must match, exp is required, and the subject
// must be a canonical positive int64. Every refusal wraps ErrUnauthorized.
//
// This package must never log, return or embed a token or the secret in an
// error message, and must never accept a secret shorter than MinSecretLen.
package auth
