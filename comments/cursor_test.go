package comments

import (
	"errors"
	"strings"
	"testing"

	"github.com/lenta-dev/lenta/objects"
)

func TestCursorRoundTripAndRefusals(t *testing.T) {
	c := NewCursors([]byte("comments-cursor-test-secret-0123"))
	p := objects.CommentPos{TS: 1_700_000_000_000, ID: "c-1"}
	cur := c.Encode(7, "obj", true, p)
	got, err := c.Decode(7, "obj", true, cur)
	if err != nil || got != p {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if s := c.Encode(7, "obj", true, objects.CommentPos{}); s != "" {
		t.Fatalf("the start encodes as %q, want empty", s)
	}
	if got, err := c.Decode(7, "obj", true, ""); err != nil || !got.IsZero() {
		t.Fatalf("empty cursor: %+v, %v", got, err)
	}
	other := NewCursors([]byte("another-secret-0123456789-abcdef"))
	tests := []struct {
		name   string
		viewer int64
		object string
		newest bool
		cursor string
	}{
		{"another viewer", 8, "obj", true, cur},
		{"another object", 7, "obj2", true, cur},
		{"the other order", 7, "obj", false, cur},
		{"another deployment", 7, "obj", true, other.Encode(7, "obj", true, p)},
		{"garbage", 7, "obj", true, "!!!"},
		{"tampered", 7, "obj", true, strings.ToUpper(cur)},
	}
	for _, tt := range tests {
		if _, err := c.Decode(tt.viewer, tt.object, tt.newest, tt.cursor); !errors.Is(err, ErrBadCursor) {
			t.Errorf("%s: err %v, want ErrBadCursor", tt.name, err)
		}
	}
}

func TestDecodeBody(t *testing.T) {
	good := appendBody(nil, "o", false, objects.CommentPos{TS: 5, ID: "x"})
	if o, n, p, err := decodeBody(good); err != nil || o != "o" || n || p.TS != 5 || p.ID != "x" {
		t.Fatalf("decode: %q %v %+v %v", o, n, p, err)
	}
	for _, b := range [][]byte{nil, {1}, {2, 0}, {1, 2}, {1, 0, 9, 'o'}, {1, 0, 1, 'o'}, {1, 0, 1, 'o', 0},
		appendBody(nil, "o", true, objects.CommentPos{TS: -1, ID: "x"}), appendBody(nil, "o", true, objects.CommentPos{TS: 1})} {
		if _, _, _, err := decodeBody(b); !errors.Is(err, ErrBadCursor) {
			t.Errorf("decodeBody(%v) = %v, want ErrBadCursor", b, err)
		}
	}
}

// FuzzCursor: whatever a client sends as a cursor, Decode either refuses
// it with ErrBadCursor or returns a position that encodes back to it; and
// decodeBody never panics on any body, reading back what appendBody wrote.
func FuzzCursor(f *testing.F) {
	c := NewCursors([]byte("comments-cursor-fuzz-secret-0123"))
	f.Add(c.Encode(7, "obj", true, objects.CommentPos{TS: 1_700_000_000_000, ID: "c-1"}), []byte{1, 0, 1, 'o', 2, 'x'})
	f.Add("", []byte{})
	f.Add("AAAA", []byte{1, 1, 0, 2})
	f.Fuzz(func(t *testing.T, cursor string, body []byte) {
		p, err := c.Decode(7, "obj", true, cursor)
		if err != nil && !errors.Is(err, ErrBadCursor) {
			t.Fatalf("Decode: %v is not ErrBadCursor", err)
		}
		if err == nil && c.Encode(7, "obj", true, p) != cursor {
			t.Fatalf("Decode(%q) = %+v, which encodes to another cursor", cursor, p)
		}
		o, n, q, err := decodeBody(body)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("decodeBody: %v is not ErrBadCursor", err)
			}
			return
		}
		if again := appendBody(nil, o, n, q); string(again) != string(body) {
			t.Fatalf("decodeBody(%v) = %q %v %+v, which encodes to %v", body, o, n, q, again)
		}
	})
}
