package schema

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/vmihailenco/msgpack/v5"
)

// The strict contract of the batch decoders (outside input, POST
// /v1/events), the same in JSON and msgpack and with the same messages:
//
//   - key names match exactly: a key that differs from a known one only
//     in case is refused, naming both (encoding/json would read it, msgpack
//     would drop it); other unknown keys are ignored, as docs/events.md
//     promises for keys a later version adds;
//   - a key appears at most once per event;
//   - every string, key or value, is valid UTF-8.
//
// encoding/json alone matches keys case-insensitively, keeps the last of
// duplicate keys and replaces invalid UTF-8 (raw or an escaped lone
// surrogate) with U+FFFD, so the JSON path walks the body with jsontext
// (github.com/go-json-experiment/json, the json/v2 candidate), whose
// tokenizer follows RFC 8259 and 7493 exactly, before decoding it.
// UnmarshalMsgpack (the bus) still ignores unknown keys: a newer producer
// may add fields while older consumers run.

// fields are the wire keys of Event, from its tags.
var fields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[Event]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = true
	}
	return m
}()

// keyChecker checks the keys of one event.
type keyChecker struct{ seen map[string]bool }

// check returns why key is refused ("" if it is not).
func (k *keyChecker) check(key string) string {
	if !utf8.ValidString(key) {
		return "invalid UTF-8 in a key"
	}
	if !fields[key] {
		// A key the contract knows in another case is a mistake, never a
		// later version's key: refused. Any other unknown key is ignored
		// (docs/events.md: a later version may add keys).
		for f := range fields {
			if strings.EqualFold(f, key) {
				return fmt.Sprintf("unknown field %q (did you mean %q?)", key, f)
			}
		}
	}
	if k.seen[key] {
		return fmt.Sprintf("duplicate field %q", key)
	}
	if k.seen == nil {
		k.seen = map[string]bool{}
	}
	k.seen[key] = true
	return ""
}

func invalidUTF8In(key string) string { return fmt.Sprintf("invalid UTF-8 in field %q", key) }

// refuse is the error for event i of an array (i >= 0) or the only event
// (i < 0), worded the same in both encodings.
func refuse(i int, why string) error {
	if i < 0 {
		return malformed("%s", why)
	}
	return malformed("event %d: %s", i, why)
}

// strictJSON checks a JSON body (an event object or an array of them)
// against the contract. Syntax errors are left to the decoder after it,
// except those jsontext finds first (an escaped lone surrogate).
func strictJSON(b []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(b), jsontext.AllowDuplicateNames(true))
	syntax := func(err error) error { return malformed("json: %v", err) }
	switch dec.PeekKind() {
	case '{':
		return strictJSONEvent(dec, -1, syntax)
	case '[':
		if _, err := dec.ReadToken(); err != nil {
			return syntax(err)
		}
		for i := 0; dec.PeekKind() != ']'; i++ {
			if dec.PeekKind() != '{' {
				if _, err := dec.ReadValue(); err != nil {
					return syntax(err)
				}
				continue // the decoder names the non-object element
			}
			if err := strictJSONEvent(dec, i, syntax); err != nil {
				return err
			}
		}
	}
	return nil
}

func strictJSONEvent(dec *jsontext.Decoder, i int, syntax func(error) error) error {
	if _, err := dec.ReadToken(); err != nil { // {
		return syntax(err)
	}
	var k keyChecker
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if isInvalidUTF8(err) {
			return refuse(i, "invalid UTF-8 in a key")
		}
		if err != nil {
			return syntax(err)
		}
		key := tok.String() // the token is void after the next read
		if why := k.check(key); why != "" {
			return refuse(i, why)
		}
		if _, err := dec.ReadValue(); isInvalidUTF8(err) { // validates the value's strings
			return refuse(i, invalidUTF8In(key))
		} else if err != nil {
			return syntax(err)
		}
	}
	if _, err := dec.ReadToken(); err != nil { // }
		return syntax(err)
	}
	return nil
}

// isInvalidUTF8 reports whether jsontext refused a raw invalid UTF-8
// byte sequence. jsontext does not export that error, only its text.
func isInvalidUTF8(err error) bool {
	var se *jsontext.SyntacticError
	return errors.As(err, &se) && se.Err != nil && se.Err.Error() == "invalid UTF-8"
}

// strictMsgpack checks a msgpack body (an event map or an array of them)
// that scanMsgpack has accepted against the contract.
func strictMsgpack(b []byte) error {
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	if isMsgpackMap(b[0]) {
		return strictMsgpackEvent(dec, -1)
	}
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return malformed("msgpack: %v", err)
	}
	for i := range n {
		c, err := dec.PeekCode()
		if err != nil {
			return malformed("msgpack: event %d: %v", i, err)
		}
		if !isMsgpackMap(c) {
			return nil // the decoder names the non-map element
		}
		if err := strictMsgpackEvent(dec, i); err != nil {
			return err
		}
	}
	return nil
}

func strictMsgpackEvent(dec *msgpack.Decoder, i int) error {
	n, err := dec.DecodeMapLen()
	if err != nil {
		return malformed("msgpack: %v", err)
	}
	var k keyChecker
	for range n {
		c, err := dec.PeekCode()
		if err != nil {
			return malformed("msgpack: %v", err)
		}
		if !isMsgpackStr(c) {
			return refuse(i, "msgpack: a key is not a string")
		}
		key, err := dec.DecodeString()
		if err != nil {
			return malformed("msgpack: %v", err)
		}
		if why := k.check(key); why != "" {
			return refuse(i, why)
		}
		ok, err := validMsgpackStrings(dec)
		if err != nil {
			return malformed("msgpack: %v", err)
		}
		if !ok {
			return refuse(i, invalidUTF8In(key))
		}
	}
	return nil
}

func isMsgpackStr(c byte) bool { return c&0xe0 == 0xa0 || c == 0xd9 || c == 0xda || c == 0xdb }

// validMsgpackStrings reads the next value and reports whether every
// string in it (map keys included) is valid UTF-8. Other values, ext types
// unknown to the decoder included, are skipped unread; scanMsgpack has
// bounded the nesting.
func validMsgpackStrings(dec *msgpack.Decoder) (bool, error) {
	c, err := dec.PeekCode()
	if err != nil {
		return false, err
	}
	switch {
	case isMsgpackStr(c):
		s, err := dec.DecodeString()
		return err == nil && utf8.ValidString(s), err
	case isMsgpackArray(c), isMsgpackMap(c):
		var n int
		if isMsgpackArray(c) {
			n, err = dec.DecodeArrayLen()
		} else {
			n, err = dec.DecodeMapLen()
			n *= 2
		}
		if err != nil {
			return false, err
		}
		valid := true
		for range n {
			ok, err := validMsgpackStrings(dec)
			if err != nil {
				return false, err
			}
			valid = valid && ok
		}
		return valid, nil
	}
	return true, dec.Skip()
}
