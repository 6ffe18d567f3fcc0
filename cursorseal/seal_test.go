package cursorseal

import (
	"errors"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	s := New([]byte("secret"), "feed/v1")
	c := s.Seal(7, []byte{1, 2, 3})
	body, err := s.Open(7, c)
	if err != nil || string(body) != "\x01\x02\x03" {
		t.Fatalf("Open = %q, %v", body, err)
	}
	altered := []byte(c)
	altered[0] ^= 1
	for name, tc := range map[string]struct {
		s      *Sealer
		viewer int64
		cursor string
	}{
		"another viewer":  {s, 8, c},
		"another purpose": {New([]byte("secret"), "ranked/v1"), 7, c},
		"another secret":  {New([]byte("other"), "feed/v1"), 7, c},
		"altered":         {s, 7, string(altered)},
		"empty":           {s, 7, ""},
		"too short":       {s, 7, "AAAA"},
		"not base64url":   {s, 7, c[:len(c)-1] + "+"},
		"line break":      {s, 7, c[:4] + "\n" + c[4:]},
		"too long":        {s, 7, strings.Repeat("A", MaxLen+1)},
	} {
		if _, err := tc.s.Open(tc.viewer, tc.cursor); !errors.Is(err, ErrBad) {
			t.Errorf("%s: Open = %v, want ErrBad", name, err)
		}
	}
}

func FuzzOpen(f *testing.F) {
	s := New([]byte("secret"), "fuzz")
	f.Add(int64(1), s.Seal(1, []byte("body")))
	f.Add(int64(2), "")
	f.Fuzz(func(t *testing.T, viewer int64, cursor string) {
		body, err := s.Open(viewer, cursor)
		if err == nil && len(body) == 0 {
			t.Fatal("an empty body opened")
		}
		if err == nil && s.Seal(viewer, body) != cursor {
			t.Fatalf("opened %q, which does not seal back to it", cursor)
		}
	})
}
