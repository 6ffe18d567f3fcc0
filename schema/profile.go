package schema

// The profile event: a trusted service (a service token over HTTP) sets
// the display name, avatar and language of its actor. The rules below are
// the contract's; docs/events.md describes them.

import (
	"net/url"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Limits of a profile.
const (
	MaxNameRunes  = 64   // display name, in runes (so at most 256 bytes)
	MaxAvatarLen  = 1024 // avatar URL, in bytes
	MaxLangLen    = 35   // language tag, in bytes
	maxLangSubtag = 8    // one subtag of a language tag
)

// validateProfile checks a profile event: a name, optionally an avatar and
// a language, and nothing of the other types.
func (ev *Event) validateProfile() error {
	switch {
	case ev.Target != 0:
		return invalid(ev, "target", "profile takes no target: its actor is the user whose profile it is")
	case ev.Object != "":
		return invalid(ev, "object", "profile takes no object")
	case ev.Audience != "":
		return invalid(ev, "audience", "profile takes no audience")
	case ev.Text != "":
		return invalid(ev, "text", "profile takes no text (the display name is name)")
	case len(ev.Media) > 0:
		return invalid(ev, "media", "profile takes no media (the picture is avatar)")
	}
	if why := NameProblem(ev.Name); why != "" {
		return invalid(ev, "name", "%s", why)
	}
	if why := AvatarProblem(ev.Avatar); ev.Avatar != "" && why != "" {
		return invalid(ev, "avatar", "%s", why)
	}
	if why := LangProblem(ev.Lang); ev.Lang != "" && why != "" {
		return invalid(ev, "lang", "%s", why)
	}
	return nil
}

// noProfileKeys refuses the profile's keys on an event of another type.
func (ev *Event) noProfileKeys() error {
	switch {
	case ev.Name != "":
		return invalid(ev, "name", "only profile takes name")
	case ev.Avatar != "":
		return invalid(ev, "avatar", "only profile takes avatar")
	case ev.Lang != "":
		return invalid(ev, "lang", "only profile takes lang")
	}
	return nil
}

// NameProblem says why s is not a display name ("" if it is one): 1 to
// MaxNameRunes runes of UTF-8, not only white space, with no control
// character, no bidirectional override or isolate (which reorder the text
// around the name: "Anna gave Class" shown as something else), and no
// '<' or '>': no name needs them, and a name with markup in it is an
// attempt to inject it into a page (pages escape names all the same).
func NameProblem(s string) string {
	if s == "" {
		return "missing: a profile needs a display name"
	}
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	if n := utf8.RuneCountInString(s); n > MaxNameRunes {
		return "is " + itoa(n) + " characters, over the limit of " + itoa(MaxNameRunes)
	}
	blank := true
	for _, r := range s {
		switch {
		case r == '<' || r == '>':
			return "must not contain '<' or '>' (markup is not allowed in a name)"
		case unicode.IsControl(r):
			return "must not contain control characters (tab, newline, ...)"
		case bidiControl(r):
			return "must not contain bidirectional control characters (U+202A..U+202E, U+2066..U+2069)"
		case r == '\u2028' || r == '\u2029':
			return "must not contain line or paragraph separators"
		}
		if !unicode.IsSpace(r) {
			blank = false
		}
	}
	if blank {
		return "must not be only white space"
	}
	return ""
}

func bidiControl(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
}

// AvatarProblem says why s is not an avatar reference ("" if it is one):
// an absolute https URL with a host, no user name or password in it, of
// at most MaxAvatarLen bytes of the characters RFC 3986 allows unencoded
// (percent-encode the rest). http is refused: a page served over https
// would load it as mixed content, and it leaks who views whom to the
// network.
func AvatarProblem(s string) string {
	if s == "" || len(s) > MaxAvatarLen {
		return "must be 1.." + itoa(MaxAvatarLen) + " bytes"
	}
	for i := 0; i < len(s); i++ {
		if !uriChar(s[i]) {
			return "must be a URL of RFC 3986 characters (percent-encode spaces, quotes, '<', '>' and non-ASCII)"
		}
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "is not a URL"
	case !u.IsAbs() || u.Opaque != "":
		return "must be an absolute URL (https://host/path)"
	case u.Scheme != "https":
		return "scheme " + quoteShort(u.Scheme) + " is not allowed: an avatar is an https URL"
	case u.Host == "" || u.Hostname() == "":
		return "must name a host"
	case u.User != nil:
		return "must not carry a user name or password"
	}
	return ""
}

// uriChar reports whether c may appear unencoded in a URI (RFC 3986
// unreserved, reserved and '%').
func uriChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', ':', '/', '?', '#', '[', ']', '@', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', '%':
		return true
	}
	return false
}

// LangProblem says why s is not a language tag ("" if it is one): the
// shape of BCP 47 that browsers send, a primary language of 2 or 3
// letters and optional subtags of 1 to 8 letters or digits, joined by
// '-' ("ru", "en-GB", "zh-Hant-TW"), at most MaxLangLen bytes. Whether a
// catalog has texts for it is the reader's business: an unknown language
// falls back to English.
func LangProblem(s string) string {
	const shape = "must be a language tag such as ru, en-GB or zh-Hant-TW"
	if s == "" || len(s) > MaxLangLen {
		return shape
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '-' {
			c := s[i]
			letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			if !letter && !(start > 0 && c >= '0' && c <= '9') {
				return shape
			}
			continue
		}
		n := i - start
		if start == 0 && (n < 2 || n > 3) || n < 1 || n > maxLangSubtag {
			return shape
		}
		start = i + 1
	}
	return ""
}

func quoteShort(s string) string { return `"` + truncate(s, 20) + `"` }

func itoa(n int) string { return strconv.Itoa(n) }
