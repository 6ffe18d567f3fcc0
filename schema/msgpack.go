package schema

import (
	"fmt"
	"io"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// This file is Lenta's one seam onto the msgpack library: schema is its
// only importer, and every other package (the HTTP API's bodies, feedctl,
// feedbench, tests crafting odd bytes) encodes and decodes msgpack through
// the functions and types below. They add no contract of their own: struct
// fields follow their `msgpack` tags, as the library does.

// MarshalMsgpackValue encodes v with the library's reflection (its
// `msgpack` struct tags).
func MarshalMsgpackValue(v any) ([]byte, error) {
	b, err := msgpack.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("msgpack encode %T: %w", v, err)
	}
	return b, nil
}

// UnmarshalMsgpackValue decodes b into v, which must be a pointer.
func UnmarshalMsgpackValue(b []byte, v any) error {
	if err := msgpack.Unmarshal(b, v); err != nil {
		return fmt.Errorf("msgpack decode %T: %w", v, err)
	}
	return nil
}

// MsgpackStreamer is a value that writes its own msgpack, without
// reflection (a hot path's hand-written encoding).
type MsgpackStreamer interface {
	StreamMsgpack(w *MsgpackWriter)
}

// writers recycles the writers of WriteMsgpackValue, each with its encoder,
// so that encoding a response allocates nothing once warm.
var writers = sync.Pool{New: func() any { return &MsgpackWriter{enc: msgpack.NewEncoder(nil)} }}

// WriteMsgpackValue writes v to w: by its StreamMsgpack method if it is a
// MsgpackStreamer, else by reflection. Integers take their most compact
// encoding. w is written to directly (no buffering) when it has WriteByte,
// as bytes.Buffer and bytebufferpool.ByteBuffer do.
func WriteMsgpackValue(w io.Writer, v any) error {
	mw := writers.Get().(*MsgpackWriter)
	mw.reset(w)
	if s, ok := v.(MsgpackStreamer); ok {
		s.StreamMsgpack(mw)
	} else {
		mw.Value(v)
	}
	err := mw.err
	mw.reset(nil)
	writers.Put(mw)
	return err
}

// MsgpackWriter writes msgpack values one at a time and keeps the first
// error (Err), so a sequence of writes needs one check at its end.
type MsgpackWriter struct {
	enc *msgpack.Encoder
	err error
}

// NewMsgpackWriter writes to w, integers in their most compact encoding.
// Bytes written to w between its calls land between its values (when w has
// WriteByte the writer does not buffer), which tests use to insert raw
// bytes.
func NewMsgpackWriter(w io.Writer) *MsgpackWriter {
	mw := &MsgpackWriter{enc: msgpack.NewEncoder(nil)}
	mw.reset(w)
	return mw
}

func (w *MsgpackWriter) reset(to io.Writer) {
	w.enc.Reset(to)
	w.enc.UseCompactInts(true)
	w.err = nil
}

func (w *MsgpackWriter) keep(err error) {
	if w.err == nil && err != nil {
		w.err = fmt.Errorf("msgpack encode: %w", err)
	}
}

// Err returns the first error of the writes so far.
func (w *MsgpackWriter) Err() error { return w.err }

// MapLen starts a map of n key/value pairs.
func (w *MsgpackWriter) MapLen(n int) { w.keep(w.enc.EncodeMapLen(n)) }

// ArrayLen starts an array of n values.
func (w *MsgpackWriter) ArrayLen(n int) { w.keep(w.enc.EncodeArrayLen(n)) }

// String writes a string.
func (w *MsgpackWriter) String(s string) { w.keep(w.enc.EncodeString(s)) }

// Int writes an integer in its most compact encoding.
func (w *MsgpackWriter) Int(n int64) { w.keep(w.enc.EncodeInt(n)) }

// Bool writes a boolean.
func (w *MsgpackWriter) Bool(b bool) { w.keep(w.enc.EncodeBool(b)) }

// Float64 writes a 64-bit float.
func (w *MsgpackWriter) Float64(f float64) { w.keep(w.enc.EncodeFloat64(f)) }

// Value writes v by reflection.
func (w *MsgpackWriter) Value(v any) { w.keep(w.enc.Encode(v)) }

// MsgpackKind is the kind of the next msgpack value, as far as a reader of
// events needs it.
type MsgpackKind uint8

// The kinds PeekKind tells apart.
const (
	MsgpackOther MsgpackKind = iota // anything but a map or an array
	MsgpackMap
	MsgpackArray
)

// MsgpackReader reads msgpack values one at a time from a stream. Its
// errors are the library's, unwrapped, so io.EOF at the end of the stream
// stays io.EOF; callers wrap them.
type MsgpackReader struct{ dec *msgpack.Decoder }

// NewMsgpackReader reads from r.
func NewMsgpackReader(r io.Reader) *MsgpackReader {
	return &MsgpackReader{dec: msgpack.NewDecoder(r)}
}

var readers = sync.Pool{New: func() any { return &MsgpackReader{dec: msgpack.NewDecoder(nil)} }}

// AcquireMsgpackReader is NewMsgpackReader from a pool, for hot paths;
// give it back with ReleaseMsgpackReader.
func AcquireMsgpackReader(r io.Reader) *MsgpackReader {
	mr := readers.Get().(*MsgpackReader)
	mr.dec.Reset(r)
	return mr
}

// ReleaseMsgpackReader returns a reader from AcquireMsgpackReader to the
// pool; it must not be used after.
func ReleaseMsgpackReader(r *MsgpackReader) {
	r.dec.Reset(nil)
	readers.Put(r)
}

// PeekKind reports the kind of the next value without reading it.
func (r *MsgpackReader) PeekKind() (MsgpackKind, error) {
	c, err := r.dec.PeekCode()
	switch {
	case err != nil:
		return MsgpackOther, err
	case isMsgpackMap(c):
		return MsgpackMap, nil
	case isMsgpackArray(c):
		return MsgpackArray, nil
	}
	return MsgpackOther, nil
}

// MapLen reads a map's length (-1 for nil).
func (r *MsgpackReader) MapLen() (int, error) { return r.dec.DecodeMapLen() }

// ArrayLen reads an array's length (-1 for nil).
func (r *MsgpackReader) ArrayLen() (int, error) { return r.dec.DecodeArrayLen() }

// String reads a string.
func (r *MsgpackReader) String() (string, error) { return r.dec.DecodeString() }

// Skip reads the next value, whatever it is, and drops it.
func (r *MsgpackReader) Skip() error { return r.dec.Skip() }

// Raw reads the next value and returns its bytes, undecoded.
func (r *MsgpackReader) Raw() ([]byte, error) {
	raw, err := r.dec.DecodeRaw()
	return raw, err
}
