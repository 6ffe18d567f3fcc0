package main

import "testing"

func TestMinFreeDiskFlag(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    uint64
		wantErr bool
	}{
		{nil, 512 << 20, false},
		{[]string{"--min-free-disk", "1GiB"}, 1 << 30, false},
		{[]string{"--min-free-disk", "2GB"}, 2_000_000_000, false},
		{[]string{"--min-free-disk", "1048576"}, 1 << 20, false},
		{[]string{"--min-free-disk", "0"}, 0, false},
		{[]string{"--min-free-disk", "lots"}, 0, true},
		{[]string{"--min-free-disk", "-5MiB"}, 0, true},
	} {
		o, err := parseFlags(tc.args)
		if (err != nil) != tc.wantErr {
			t.Fatalf("%v: err %v, want error %v", tc.args, err, tc.wantErr)
		}
		if err == nil && uint64(o.minFreeDisk) != tc.want {
			t.Fatalf("%v: %d bytes, want %d", tc.args, o.minFreeDisk, tc.want)
		}
	}
}
