package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"
)

// chromium finds Debian's chromium (scripts/test.sh installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" || os.Getenv("LENTA_TEST_KAFKA") != "" {
		t.Fatal("chromium is not installed (apt-get install chromium); make test installs it")
	}
	t.Skip("chromium is not installed: browser test skipped (apt-get install chromium; make test installs it)")
	return ""
}

// artifactDir is where test artifacts (screenshots) are kept.
func artifactDir(t *testing.T) string {
	d := os.Getenv("LENTA_ARTIFACTS")
	if d == "" {
		d = filepath.Join("..", ".artifacts")
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestBrowserPage drives the page in a real headless Chromium: sign in,
// the feed loads, a Class click reaches the author's inbox through the
// pipeline, the service worker registers, and a push delivered to it over
// the DevTools protocol shows a notification.
func TestBrowserPage(t *testing.T) {
	exe := chromium(t)
	f := startFeedd(t, "--data", t.TempDir())
	now := time.Now().UnixMilli()
	f.publish(ev{"id": "bf1", "type": "friend", "actor": 1, "target": 2, "ts": now - 3000},
		ev{"id": "bp1", "type": "post", "actor": 2, "text": "Hello from Boris", "ts": now - 2000})
	f.eventually(1, "bp1")

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1000, 800))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()

	var mu sync.Mutex
	var regID serviceworker.RegistrationID
	chromedp.ListenTarget(ctx, func(e any) {
		if u, ok := e.(*serviceworker.EventWorkerRegistrationUpdated); ok {
			mu.Lock()
			for _, r := range u.Registrations {
				if !r.IsDeleted && strings.HasPrefix(r.ScopeURL, f.base) {
					regID = r.RegistrationID
				}
			}
			mu.Unlock()
		}
	})
	tok := token(t, 1, false)
	steps := []struct {
		name string
		act  chromedp.Action
	}{
		{"grant notifications", browser.GrantPermissions([]browser.PermissionType{browser.PermissionTypeNotifications}).WithOrigin(f.base)},
		{"enable service worker events", serviceworker.Enable()},
		{"open the page", chromedp.Navigate(f.base + "/")},
		{"sign-in form", chromedp.WaitVisible(`#token`, chromedp.ByID)},
		{"type the token", chromedp.SendKeys(`#token`, tok, chromedp.ByID)},
		{"sign in", chromedp.Click(`#signin button`, chromedp.ByQuery)},
		{"feed shows the post", chromedp.WaitVisible(`#feed li[data-object="bp1"] .class-btn`, chromedp.ByQuery)},
		{"click Class", chromedp.Click(`#feed li[data-object="bp1"] .class-btn`, chromedp.ByQuery)},
		{"Class accepted", chromedp.WaitVisible(`#feed li[data-object="bp1"] .class-btn.on`, chromedp.ByQuery)},
	}
	for _, st := range steps {
		if err := chromedp.Run(ctx, st.act); err != nil {
			var status string
			_ = chromedp.Run(ctx, chromedp.Text(`#status`, &status, chromedp.ByID, chromedp.AtLeast(0)))
			t.Fatalf("%s: %v (page status %q)", st.name, err, status)
		}
	}

	// The Class reached Boris's inbox through the pipeline.
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, body := f.do("GET", "/v1/notifications", token(t, 2, false), "", nil)
		if strings.Contains(string(body), `"class"`) && strings.Contains(string(body), `"actors":[1]`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Boris's inbox has no Class from Anna: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The service worker is active; a push shows a notification.
	var state string
	if err := chromedp.Run(ctx, chromedp.Evaluate(
		`navigator.serviceWorker.ready.then(r => r.active.state)`, &state,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })); err != nil || state != "activated" {
		t.Fatalf("service worker state %q: %v", state, err)
	}
	for time.Now().Before(deadline) {
		mu.Lock()
		id := regID
		mu.Unlock()
		if id != "" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	payload, _ := json.Marshal(map[string]string{"title": "Lenta", "body": "Anna gave Class! to your post",
		"url": "/#notifications", "tag": "t1"})
	var shown struct {
		Type  string
		Title string
		Body  string
		Shown int
	}
	err := chromedp.Run(ctx,
		serviceworker.DeliverPushMessage(f.base, regID, string(payload)),
		chromedp.Poll(`window.lentaLastPush || null`, &shown, chromedp.WithPollingTimeout(15*time.Second)),
	)
	// The worker posts after showNotification resolved, with what
	// registration.getNotifications() then lists.
	if err != nil || shown.Type != "push" || shown.Body != "Anna gave Class! to your post" || shown.Shown < 1 {
		t.Fatalf("notification after push (registration %q): %+v, %v", regID, shown, err)
	}

	// Show the notifications panel and keep a screenshot.
	var png []byte
	if err := chromedp.Run(ctx,
		chromedp.Click(`#bell`, chromedp.ByID),
		chromedp.WaitVisible(`#notifications`, chromedp.ByID),
		chromedp.Sleep(300*time.Millisecond),
		chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(artifactDir(t), "browser-page.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
