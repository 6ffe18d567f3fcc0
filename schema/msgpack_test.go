package schema

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"testing"
)

// streamed writes itself by hand; reflection would write an empty map.
type streamed struct{}

func (*streamed) StreamMsgpack(w *MsgpackWriter) { w.String("by hand") }

// TestMsgpackWriters checks each way of writing against known bytes:
// compact integers, and a streamer writing itself.
func TestMsgpackWriters(t *testing.T) {
	tests := []struct {
		name  string
		write func(w io.Writer) error
		want  string // hex
	}{
		{"compact int by reflection", func(w io.Writer) error { return WriteMsgpackValue(w, int64(5)) }, "05"},
		{"struct by reflection", func(w io.Writer) error {
			return WriteMsgpackValue(w, struct {
				A string `msgpack:"a"`
				N int64  `msgpack:"n"`
			}{"x", 300})
		}, "82a161a178a16ecd012c"},
		{"streamer", func(w io.Writer) error { return WriteMsgpackValue(w, &streamed{}) }, "a762792068616e64"},
		{"writer, every kind", func(w io.Writer) error {
			mw := NewMsgpackWriter(w)
			mw.ArrayLen(6)
			mw.MapLen(0)
			mw.String("")
			mw.Int(-1)
			mw.Bool(true)
			mw.Float64(0.5)
			mw.Value([]int{1})
			return mw.Err()
		}, "9680a0ffc3cb3fe000000000000091" + "01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(b.Bytes()); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMsgpackValueRoundTrip(t *testing.T) {
	in := map[string]any{"items": []any{"a", "b"}, "next_cursor": "c"}
	b, err := MarshalMsgpackValue(in)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := UnmarshalMsgpackValue(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("got %#v, want %#v", out, in)
	}
	if err := UnmarshalMsgpackValue(b[:len(b)-1], &out); err == nil {
		t.Fatal("a truncated value decoded without error")
	}
	if _, err := MarshalMsgpackValue(make(chan int)); err == nil {
		t.Fatal("a channel encoded without error")
	}
}

// TestMsgpackReader reads a stream of a map, an array and a string, as
// feedctl and feedbench do, with a fresh and a pooled reader.
func TestMsgpackReader(t *testing.T) {
	var b bytes.Buffer
	w := NewMsgpackWriter(&b)
	w.MapLen(1)
	w.String("k")
	w.Int(1)
	w.ArrayLen(2)
	w.String("x")
	w.Bool(false)
	w.String("end")
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
	stream := b.Bytes()
	for name, r := range map[string]*MsgpackReader{
		"new":    NewMsgpackReader(bytes.NewReader(stream)),
		"pooled": AcquireMsgpackReader(bytes.NewReader(stream)),
	} {
		t.Run(name, func(t *testing.T) {
			steps := []struct {
				kind MsgpackKind
				read func() (any, error)
				want any
			}{
				{MsgpackMap, func() (any, error) { raw, err := r.Raw(); return hex.EncodeToString(raw), err }, "81a16b01"},
				{MsgpackArray, func() (any, error) { return r.ArrayLen() }, 2},
				{MsgpackOther, func() (any, error) { return r.String() }, "x"},
				{MsgpackOther, func() (any, error) { return nil, r.Skip() }, nil},
				{MsgpackOther, func() (any, error) { return r.String() }, "end"},
			}
			for i, s := range steps {
				if k, err := r.PeekKind(); err != nil || k != s.kind {
					t.Fatalf("step %d: kind %d, %v; want %d", i, k, err, s.kind)
				}
				if got, err := s.read(); err != nil || !reflect.DeepEqual(got, s.want) {
					t.Fatalf("step %d: %#v, %v; want %#v", i, got, err, s.want)
				}
			}
			if _, err := r.PeekKind(); !errors.Is(err, io.EOF) {
				t.Fatalf("after the stream: %v, want io.EOF", err)
			}
		})
	}
}

func TestMsgpackReaderMapLen(t *testing.T) {
	r := AcquireMsgpackReader(bytes.NewReader([]byte{0x82, 0xc0}))
	defer ReleaseMsgpackReader(r)
	if n, err := r.MapLen(); n != 2 || err != nil {
		t.Fatalf("MapLen = %d, %v; want 2", n, err)
	}
	if n, err := r.MapLen(); n != -1 || err != nil {
		t.Fatalf("MapLen of nil = %d, %v; want -1", n, err)
	}
}
