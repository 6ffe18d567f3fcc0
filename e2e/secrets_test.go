package e2e

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/auth"
)

// TestSecretsNeverLogged runs feedd at debug level through publishing,
// feed pages with cursors, bad and forged tokens, tokens where they do not
// belong, a rate-limited token and requests feedd cannot parse, then reads
// its whole log: it must hold neither the auth secret nor any token (nor a
// token's signature) nor a cursor.
func TestSecretsNeverLogged(t *testing.T) { eachBackend(t, secretsNeverLogged) }

func secretsNeverLogged(t *testing.T, args []string) {
	f := startFeedd(t, append(args, "--log-level", "debug", "--rate-per-token", "2", "--burst-per-token", "60")...)
	const anna, boris = 1, 2
	now := time.Now().UnixMilli()
	// The friendship first: events of different actors have no order.
	f.publish(ev{"id": "s1", "type": "friend", "actor": anna, "target": boris, "ts": now - 5000})
	f.settle(1)
	f.publish(
		ev{"id": "s2", "type": "post", "actor": boris, "text": "one", "ts": now - 4000},
		ev{"id": "s3", "type": "post", "actor": boris, "text": "two", "ts": now - 3000},
	)
	f.settle(3)

	annaTok, borisTok, svcTok := token(t, anna, false), token(t, boris, false), token(t, 1, true)
	other, err := auth.New([]byte("not-the-e2e-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	forged, err := other.Issue(anna, true, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := f.feedPage(anna, 1, "")
	if len(p.Items) != 1 || p.Items[0].EventID != "s3" || p.NextCursor == "" {
		t.Fatalf("first page: %+v", p)
	}
	cursor := p.NextCursor
	if next := f.feedPage(anna, 1, cursor); len(next.Items) != 1 || next.Items[0].EventID != "s2" {
		t.Fatalf("second page: %+v", next)
	}
	tampered := annaTok[:len(annaTok)-2] + "xy"
	for _, c := range []struct {
		path, tok string
		want      int
	}{
		{"/v1/feed?order=recent&limit=1&cursor=" + url.QueryEscape(cursor), borisTok, 400}, // anna's cursor, boris's feed
		{"/v1/feed?user=2&order=recent", svcTok, 200},
		{"/v1/feed", forged, 401},
		{"/v1/feed", tampered, 401},
		{"/v1/notifications", annaTok, 200},
		{"/v1/feed?access_token=" + annaTok, "", 401},
		{"/v1/" + annaTok, "", 404},
	} {
		if code, body := f.do("GET", c.path, c.tok, "", nil); code != c.want {
			t.Errorf("GET %s: %d %s, want %d", strings.SplitN(c.path, "?", 2)[0], code, body, c.want)
		}
	}
	if code, _ := f.do("POST", "/v1/events", annaTok, "application/json", []byte(`{"id":"s9","type":"post","actor":1,"text":"`+annaTok+`"}`)); code != 400 {
		t.Errorf("an event with no ts: %d", code)
	}
	limited := false
	for range 200 {
		if code, _ := f.do("GET", "/v1/feed?limit=1", borisTok, "", nil); code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("the per-token limit never answered 429")
	}
	// Requests feedd cannot parse, with tokens in them.
	host := strings.TrimPrefix(f.Base(), "http://")
	for _, raw := range []string{
		"GET /v1/feed HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + annaTok + "\r\nBroken " + svcTok + "\r\n\r\n",
		"GET /v1/feed?t=" + annaTok + " HTTP/1.1 junk\r\nHost: x\r\n\r\n",
	} {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 {
				t.Errorf("unparsable request: %d", resp.StatusCode)
			}
		}
		c.Close()
	}

	f.stop() // the log is complete (and no longer written) once feedd has exited
	logs := f.Log()
	if !strings.Contains(logs, `msg="http request"`) {
		t.Fatalf("no debug request lines in the log:\n%s", logs)
	}
	for what, s := range map[string]string{
		"the auth secret": secret, "anna's token": annaTok, "boris's token": borisTok, "the service token": svcTok,
		"the forged token": forged, "the tampered token": tampered, "a cursor": cursor,
		"a token's signature": annaTok[strings.LastIndexByte(annaTok, '.')+1:],
	} {
		if strings.Contains(logs, s) {
			t.Errorf("feedd's log holds %s", what)
		}
	}
}
