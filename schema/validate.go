package schema

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Limits of contract version 1.
const (
	MaxIDLen       = 128           // id, object and group ids, in bytes
	MaxTextLen     = 8 << 10       // text, in bytes of UTF-8
	MaxMedia       = 10            // media references per event
	MaxMediaLen    = 1024          // one media reference, in bytes
	MaxFutureSkew  = 5 * 60_000    // how far ts may be ahead of the receiver's clock, ms
	MinTS          = 946684800000  // 2000-01-01: anything earlier is a unit mistake
	MaxLiveSpan    = 24 * 3600_000 // longest planned broadcast, ms
	DefaultLiveFor = 12 * 3600_000 // a live without until counts as live for this long, ms
)

// ErrInvalid is wrapped by every validation error, so callers can tell bad
// input (never retried) from failures of the system.
var ErrInvalid = errors.New("invalid event")

// ValidationError says which field of which event is wrong and why.
type ValidationError struct {
	ID     string // the event's id, if it had one
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	if e.ID == "" {
		return fmt.Sprintf("invalid event: %s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("invalid event %q: %s: %s", e.ID, e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

func invalid(ev *Event, field, format string, args ...any) error {
	return &ValidationError{ID: ev.ID, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// validID accepts 1..MaxIDLen bytes of [A-Za-z0-9._:@-].
func validID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '_', c == ':', c == '-', c == '@':
		default:
			return false
		}
	}
	return true
}

// Normalize fills defaults that the contract defines (object of an item
// defaults to its id, the version to the current one) and then validates.
// now is the receiver's clock, used to refuse timestamps from the future.
func (ev *Event) Normalize(now time.Time) error {
	if ev.V == 0 {
		ev.V = Version
	}
	if ev.Type.IsItem() && ev.Object == "" {
		ev.Object = ev.ID
	}
	if ev.Type == Live && ev.Until == 0 && ev.TS > 0 {
		ev.Until = ev.TS + DefaultLiveFor
	}
	return ev.Validate(now)
}

// Validate checks the event against the contract without changing it.
func (ev *Event) Validate(now time.Time) error {
	if ev.V < 0 || ev.V > MaxVersion {
		return invalid(ev, "v", "contract version %d is not supported (max %d)", ev.V, MaxVersion)
	}
	if ev.ID == "" {
		return invalid(ev, "id", "missing")
	}
	if !validID(ev.ID) {
		return invalid(ev, "id", "must be 1..%d characters of [A-Za-z0-9._:@-]", MaxIDLen)
	}
	if ev.Type == "" {
		return invalid(ev, "type", "missing")
	}
	if !ev.Type.Known() {
		return invalid(ev, "type", "unknown type %q", truncate(string(ev.Type), 40))
	}
	if ev.Actor <= 0 {
		if ev.Actor == 0 {
			return invalid(ev, "actor", "missing")
		}
		return invalid(ev, "actor", "must be a positive user id")
	}
	if ev.TS == 0 {
		return invalid(ev, "ts", "missing")
	}
	if ev.TS < MinTS {
		return invalid(ev, "ts", "%d is before 2000-01-01; ts is unix milliseconds", ev.TS)
	}
	if lim := now.UnixMilli() + MaxFutureSkew; ev.TS > lim {
		return invalid(ev, "ts", "%d is more than %d s in the future", ev.TS, MaxFutureSkew/1000)
	}
	if ev.Target < 0 {
		return invalid(ev, "target", "must be a positive user id")
	}
	if ev.Object != "" && !validID(ev.Object) {
		return invalid(ev, "object", "must be 1..%d characters of [A-Za-z0-9._:@-]", MaxIDLen)
	}
	if len(ev.Text) > MaxTextLen {
		return invalid(ev, "text", "%d bytes is over the limit of %d", len(ev.Text), MaxTextLen)
	}
	if !utf8.ValidString(ev.Text) {
		return invalid(ev, "text", "not valid UTF-8")
	}
	if len(ev.Media) > MaxMedia {
		return invalid(ev, "media", "%d references is over the limit of %d", len(ev.Media), MaxMedia)
	}
	for i, m := range ev.Media {
		if m == "" || len(m) > MaxMediaLen || !utf8.ValidString(m) {
			return invalid(ev, "media", "reference %d must be 1..%d bytes of UTF-8", i, MaxMediaLen)
		}
	}
	kind, _, ok := ParseAudience(ev.Audience)
	if !ok {
		return invalid(ev, "audience", "%q is not public, friends, private or group:<id>", truncate(ev.Audience, 40))
	}
	if ev.Until < 0 {
		return invalid(ev, "until", "must be unix milliseconds")
	}
	return ev.validateType(kind)
}

func (ev *Event) validateType(aud AudienceKind) error {
	needTarget := func() error {
		if ev.Target == 0 {
			return invalid(ev, "target", "missing: %s needs the other user", ev.Type)
		}
		if ev.Target == ev.Actor {
			return invalid(ev, "target", "%s with oneself", ev.Type)
		}
		return nil
	}
	needObject := func() error {
		if ev.Object == "" {
			return invalid(ev, "object", "missing: %s needs the object id", ev.Type)
		}
		return nil
	}
	onlyItemsHaveAudience := func() error {
		if ev.Audience != "" {
			return invalid(ev, "audience", "only post, photo, gift and live take an audience")
		}
		return nil
	}
	if ev.Type != Live && ev.Until != 0 {
		return invalid(ev, "until", "only live takes until")
	}
	if err := ev.validateReaction(); err != nil {
		return err
	}
	if ev.Type != Profile {
		if err := ev.noProfileKeys(); err != nil {
			return err
		}
	}
	if ev.ReplyTo != "" && ev.Type != Comment {
		return invalid(ev, "reply_to", "only comment takes reply_to")
	}
	if ev.CommentID != "" && ev.Type != CommentDelete {
		return invalid(ev, "comment", "only comment_delete takes comment")
	}
	// Items without an object use their id as the object id (see Normalize).
	switch ev.Type {
	case Post, Photo:
		if ev.Type == Photo && len(ev.Media) == 0 {
			return invalid(ev, "media", "missing: a photo needs at least one media reference")
		}
		if ev.Type == Post && ev.Text == "" && len(ev.Media) == 0 {
			return invalid(ev, "text", "missing: a post needs text or media")
		}
	case Gift:
		if err := needTarget(); err != nil {
			return err
		}
		if aud == ToGroup {
			return invalid(ev, "audience", "a gift is public, friends or private")
		}
	case Live:
		if ev.Until != 0 && ev.Until <= ev.TS {
			return invalid(ev, "until", "must be after ts")
		}
		if ev.Until-ev.TS > MaxLiveSpan {
			return invalid(ev, "until", "a broadcast may be planned for at most %d h", MaxLiveSpan/3600_000)
		}
	case Class, Unclass, React, Unreact:
		if err := needObject(); err != nil {
			return err
		}
		if ev.Target == 0 {
			return invalid(ev, "target", "missing: %s needs the object's owner", ev.Type)
		}
		return onlyItemsHaveAudience()
	case LiveEnd, Delete:
		if err := needObject(); err != nil {
			return err
		}
		return onlyItemsHaveAudience()
	case Friend, Unfriend, Follow, Unfollow, Block, Unblock:
		if err := needTarget(); err != nil {
			return err
		}
		if ev.Object != "" {
			return invalid(ev, "object", "%s takes no object", ev.Type)
		}
		return onlyItemsHaveAudience()
	case Comment, CommentDelete:
		return ev.validateComment()
	case GroupAdd, GroupRemove:
		if err := needTarget(); err != nil {
			return err
		}
		if ev.Object == "" {
			return invalid(ev, "object", "missing: %s needs the group id", ev.Type)
		}
		return onlyItemsHaveAudience()
	case Profile:
		return ev.validateProfile()
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
