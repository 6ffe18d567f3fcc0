package main

import (
	"testing"
	"time"
)

func TestPurgeFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    purgeOptions
		wantErr bool
	}{
		{nil, purgeOptions{time.Minute, 7 * 24 * time.Hour, 30 * 24 * time.Hour, 7 * 24 * time.Hour}, false},
		{[]string{"--ledger-retention=20s", "--purge-every=2s", "--notify-retention=1h", "--dead-letter-retention=2h"}, purgeOptions{2 * time.Second, 20 * time.Second, time.Hour, 2 * time.Hour}, false},
		{[]string{"--ledger-retention=0"}, purgeOptions{}, true},
		{[]string{"--purge-every=-1s"}, purgeOptions{}, true},
	}
	for _, tc := range tests {
		o, err := parseFlags(tc.args)
		if (err != nil) != tc.wantErr {
			t.Errorf("%v: err = %v, want error %v", tc.args, err, tc.wantErr)
			continue
		}
		if err == nil && o.purge != tc.want {
			t.Errorf("%v: purge = %+v, want %+v", tc.args, o.purge, tc.want)
		}
	}
}
