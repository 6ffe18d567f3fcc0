package timeline

import (
	"errors"
	"strings"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	c := NewCursors([]byte("secret-secret-secret"))
	for _, p := range []Position{{TS: 1700000000000, ID: "e1"}, {TS: 1, ID: "x"}, {TS: 1 << 50, ID: "a:b@c.d-e_f"}} {
		s := c.Encode(42, p)
		got, err := c.Decode(42, s)
		if err != nil || got != p {
			t.Fatalf("round trip of %+v: %+v, %v", p, got, err)
		}
	}
	if s := c.Encode(42, Position{}); s != "" {
		t.Fatalf("top encodes as %q", s)
	}
	if p, err := c.Decode(42, ""); err != nil || !p.IsTop() {
		t.Fatalf("empty cursor: %+v %v", p, err)
	}
}

func TestCursorRefused(t *testing.T) {
	c := NewCursors([]byte("secret-secret-secret"))
	other := NewCursors([]byte("another-secret-entirely"))
	good := c.Encode(42, Position{TS: 1700000000000, ID: "e1"})
	flip := []byte(good)
	flip[3] ^= 1
	tests := []struct {
		name, cursor string
		viewer       int64
	}{
		{"other viewer", good, 43},
		{"other secret", other.Encode(42, Position{TS: 1700000000000, ID: "e1"}), 42},
		{"tampered", string(flip), 42},
		{"truncated", good[:len(good)-3], 42},
		{"not base64", "!!!", 42},
		{"line break inside", good[:5] + "\n" + good[5:], 42},
		{"carriage return inside", good[:5] + "\r" + good[5:], 42},
		{"other trailing bits", trailing(good), 42},
		{"too short", "AAAA", 42},
		{"too long", string(make([]byte, 600)), 42},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.Decode(tt.viewer, tt.cursor); !errors.Is(err, ErrBadCursor) {
				t.Fatalf("want ErrBadCursor, got %v", err)
			}
		})
	}
}

func FuzzCursorDecode(f *testing.F) {
	c := NewCursors([]byte("secret-secret-secret"))
	f.Add(c.Encode(7, Position{TS: 1700000000000, ID: "e1"}), int64(7))
	f.Add("", int64(1))
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAA", int64(0))
	f.Fuzz(func(t *testing.T, s string, viewer int64) {
		p, err := c.Decode(viewer, s)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("error does not wrap ErrBadCursor: %v", err)
			}
			return
		}
		// Whatever decodes must be what this service would have encoded.
		if s != "" && c.Encode(viewer, p) != s {
			t.Fatalf("decoded %q to %+v, which encodes differently", s, p)
		}
	})
}

// trailing changes the unused low bits of a cursor's last base64 digit: a
// lax decoder reads the same bytes, so the cursor would not be one string.
func trailing(c string) string {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(digits, c[len(c)-1])
	return c[:len(c)-1] + string(digits[i^1])
}
