package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDiskFullWatermark runs feedd on a 64 MiB tmpfs, fills it on purpose
// and checks that a full disk refuses events with 507 instead of killing
// the process, that reads go on, and that after space returns ingest
// resumes with no restart and every accepted event is applied.
func TestDiskFullWatermark(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (mount -t tmpfs -o size=64m)")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	const watermark = 16 << 20
	f := startFeedd(t, "--data", filepath.Join(mnt, "data"), "--min-free-disk", "16MiB", "--partitions", "2")

	base := time.Now().UnixMilli() - 60_000
	n := 0
	post := func() ev {
		n++
		return ev{"id": fmt.Sprintf("p%d", n), "type": "post", "actor": 1, "text": "hello", "audience": "public", "ts": base + int64(n)*100}
	}
	var accepted []string // newest first, as the feed lists them
	f.publish(ev{"id": "g1", "type": "friend", "actor": 1, "target": 2, "ts": base})
	p := post()
	f.publish(p)
	accepted = append([]string{p["id"].(string)}, accepted...)
	f.eventually(2, accepted...)

	// One more accepted event, then the disk fills: it is applied either
	// before the fill or after space returns, never lost.
	p = post()
	f.publish(p)
	accepted = append([]string{p["id"].(string)}, accepted...)

	filler := filepath.Join(mnt, "filler")
	fill(t, filler, mnt, watermark/2)

	// Below the watermark (seen within the 1 s statfs cache): 507s.
	tok := token(t, 1, true)
	deadline := time.Now().Add(5 * time.Second)
	refused := 0
	for refused < 5 {
		body, _ := json.Marshal([]ev{post()})
		code, resp, hdr := doHeader(t, f, body, tok)
		switch {
		case code == http.StatusAccepted:
			accepted = append([]string{fmt.Sprintf("p%d", n)}, accepted...)
			if time.Now().After(deadline) {
				t.Fatalf("still 202 five seconds after the disk filled")
			}
			time.Sleep(100 * time.Millisecond)
		case code == http.StatusInsufficientStorage:
			var eb struct{ Error, Code string }
			if err := json.Unmarshal(resp, &eb); err != nil || eb.Code != "insufficient_storage" ||
				!strings.Contains(eb.Error, "16 MiB watermark") || hdr.Get("Retry-After") == "" {
				t.Fatalf("507 body %s (err %v), Retry-After %q", resp, err, hdr.Get("Retry-After"))
			}
			refused++
		default:
			t.Fatalf("disk full: POST got %d %s, want 507\n%s", code, resp, f.Log())
		}
	}
	// The "disk" part is probed once a second and is down at once.
	waitFor(t, 5*time.Second, func() bool {
		code, body := f.do("GET", "/healthz", "", "", nil)
		return code == http.StatusServiceUnavailable && strings.Contains(string(body), `"disk"`)
	}, "healthz 503 naming the disk")
	if code, body := f.do("GET", "/v1/feed?order=recent", token(t, 2, false), "", nil); code != 200 {
		t.Fatalf("feed read on a full disk: %d %s", code, body)
	}
	select {
	case <-f.Done():
		t.Fatalf("feedd exited on a full disk: %v\n%s", f.ExitErr(), f.Log())
	default:
	}

	// Space returns: ingest resumes with no restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		body, _ := json.Marshal([]ev{post()})
		code, resp, _ := doHeader(t, f, body, tok)
		if code == http.StatusAccepted {
			accepted = append([]string{fmt.Sprintf("p%d", n)}, accepted...)
			break
		}
		if code != http.StatusInsufficientStorage || time.Now().After(deadline) {
			t.Fatalf("after freeing space: %d %s", code, resp)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i := 0; i < 3; i++ {
		p = post()
		f.publish(p)
		accepted = append([]string{p["id"].(string)}, accepted...)
	}
	f.eventually(2, accepted...)
	waitFor(t, 5*time.Second, func() bool {
		code, _ := f.do("GET", "/healthz", "", "", nil)
		return code == http.StatusOK
	}, "healthz 200 after space returned")
	if !strings.Contains(f.Log(), "fan-out paused") && !strings.Contains(f.Log(), "disk below watermark") {
		t.Fatalf("no log line about the full disk\n%s", f.Log())
	}
}

// fill writes zeros to path until about leave bytes are free on mnt.
func fill(t *testing.T, path, mnt string, leave uint64) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	free := st.Bavail * uint64(st.Bsize)
	if free <= leave {
		t.Fatalf("only %d bytes free before filling", free)
	}
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	chunk := make([]byte, 1<<20)
	for left := free - leave; left > 0; {
		k := min(uint64(len(chunk)), left)
		if _, err := fh.Write(chunk[:k]); err != nil {
			t.Fatalf("fill: %v", err)
		}
		left -= k
	}
}

// doHeader posts body and returns status, body and headers.
func doHeader(t *testing.T, f *feedd, body []byte, tok string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest("POST", f.Base()+"/v1/events", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /v1/events: %v (feedd crashed?)\n%s", err, f.Log())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}
