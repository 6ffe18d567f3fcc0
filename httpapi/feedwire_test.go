package httpapi

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

// fillAll sets every field of *v to a non-zero value by reflection, so a
// field added to timeline.Item without a line in msgpackFeed fails here.
func fillAll(t *testing.T, v reflect.Value) {
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("s" + v.Type().Field(i).Name)
		case reflect.Int, reflect.Int64, reflect.Int32:
			f.SetInt(int64(1000 + i*100_000))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Float64:
			f.SetFloat(float64(i) + 0.25)
		case reflect.Pointer:
			if f.Type().Elem().Kind() != reflect.Struct {
				t.Fatalf("fillAll: unhandled pointer to %s", f.Type().Elem().Kind())
			}
			p := reflect.New(f.Type().Elem())
			fillAll(t, p.Elem())
			f.Set(p)
		case reflect.Slice:
			s := reflect.MakeSlice(f.Type(), 2, 2)
			for j := range 2 {
				switch s.Index(j).Kind() {
				case reflect.String:
					s.Index(j).SetString("m")
				case reflect.Int64:
					s.Index(j).SetInt(int64(300 + j))
				case reflect.Struct:
					fillAll(t, s.Index(j))
				default:
					t.Fatalf("fillAll: unhandled slice of %s", s.Index(j).Kind())
				}
			}
			f.Set(s)
		default:
			t.Fatalf("fillAll: unhandled field kind %s (teach msgpackFeed and this test)", f.Kind())
		}
	}
}

func TestMsgpackFeedMatchesReflection(t *testing.T) {
	var full timeline.Item
	fillAll(t, reflect.ValueOf(&full).Elem())
	pages := []feedBody{
		{Items: []timeline.Item{}},
		{Items: []timeline.Item{full, {}, {EventID: "e", Type: "post", Actor: -1, TS: 1 << 40, Media: []string{}}}, NextCursor: "abc"},
		{Items: samplePage().Items, NextCursor: "x"},
	}
	for i, p := range pages {
		var want, got bytes.Buffer
		if err := schema.WriteMsgpackValue(&want, &p); err != nil { // feedBody: by reflection
			t.Fatal(err)
		}
		if err := schema.WriteMsgpackValue(&got, (*msgpackFeed)(&p)); err != nil { // by hand
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("page %d: hand encoding differs from reflection\n got %x\nwant %x", i, got.Bytes(), want.Bytes())
		}
	}
}

// TestMsgpackFeedAllocatesNothing keeps the feed's msgpack encoding, the
// read path's hot spot, free of allocations once the buffer and the
// pooled writer are warm.
func TestMsgpackFeedAllocatesNothing(t *testing.T) {
	var full timeline.Item
	fillAll(t, reflect.ValueOf(&full).Elem())
	p := feedBody{Items: append(samplePage().Items, full), NextCursor: "abc"}
	var buf bytes.Buffer
	allocs := testing.AllocsPerRun(100, func() {
		buf.Reset()
		if err := schema.WriteMsgpackValue(&buf, (*msgpackFeed)(&p)); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per page, want 0", allocs)
	}
}
