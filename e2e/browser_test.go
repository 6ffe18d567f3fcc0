package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
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

	// Subscribe before ServiceWorker.enable: the registration the page
	// makes is read from this queue once the worker is active.
	registrations := chromedp.Events(ctx, serviceworker.WorkerRegistrationUpdated)
	tok := token(t, 1, false)
	steps := []struct {
		name string
		act  chromedp.Action[chromedp.Void]
	}{
		{"grant notifications", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: string(browser.PermissionTypeNotifications)},
				Setting:    browser.PermissionSettingGranted,
				Origin:     f.Base(),
			})
			return err
		})},
		{"enable service worker events", chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
			_, err := cdp.Call(ctx, tgt, serviceworker.Enable, cdp.Empty{})
			return err
		})},
		{"open the page", chromedp.Navigate(f.Base() + "/")},
		{"sign-in form", chromedp.WaitVisible(chromedp.ID("token"))},
		{"type the token", chromedp.SendKeys(chromedp.ID("token"), tok)},
		{"sign in", chromedp.Click(chromedp.CSS(`#signin button`))},
		{"feed shows the post", chromedp.WaitVisible(chromedp.CSS(`#feed li[data-object="bp1"] .class-btn`))},
		{"click Class", chromedp.Click(chromedp.CSS(`#feed li[data-object="bp1"] .class-btn`))},
		{"Class accepted", chromedp.WaitVisible(chromedp.CSS(`#feed li[data-object="bp1"] .class-btn.on`))},
	}
	for _, st := range steps {
		if err := chromedp.Do(ctx, st.act); err != nil {
			status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status"), chromedp.AtLeast(0)))
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
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`navigator.serviceWorker.ready.then(r => r.active.state)`, chromedp.EvalAwaitPromise))
	if err != nil || state != "activated" {
		t.Fatalf("service worker state %q: %v", state, err)
	}
	var regID serviceworker.RegistrationID
	for u, err := range registrations {
		if err != nil {
			t.Fatalf("no service worker registration for %s: %v", f.Base(), err)
		}
		for _, r := range u.Registrations {
			if !r.IsDeleted && strings.HasPrefix(r.ScopeURL, f.Base()) {
				regID = r.RegistrationID
			}
		}
		if regID != "" {
			break
		}
	}
	if regID == "" {
		t.Fatalf("no service worker registration for %s", f.Base())
	}
	payload, _ := json.Marshal(map[string]string{"title": "Lenta", "body": "Anna gave Class! to your post",
		"url": "/#notifications", "tag": "t1"})
	type pushShown struct {
		Type  string
		Title string
		Body  string
		Shown int
	}
	shown, err := chromedp.Run(ctx, func(ctx context.Context, tgt *chromedp.Target) (pushShown, error) {
		if _, err := cdp.Call(ctx, tgt, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{
			Origin: f.Base(), RegistrationID: regID, Data: string(payload),
		}); err != nil {
			return pushShown{}, err
		}
		return chromedp.Poll[pushShown](`window.lentaLastPush || null`, chromedp.WithPollingTimeout(15*time.Second))(ctx, tgt)
	})
	// The worker posts after showNotification resolved, with what
	// registration.getNotifications() then lists.
	if err != nil || shown.Type != "push" || shown.Body != "Anna gave Class! to your post" || shown.Shown < 1 {
		t.Fatalf("notification after push (registration %q): %+v, %v", regID, shown, err)
	}

	// Show the notifications panel and keep a screenshot.
	png, err := chromedp.Run(ctx, func(ctx context.Context, tgt *chromedp.Target) ([]byte, error) {
		if _, err := chromedp.Steps(
			chromedp.Click(chromedp.ID("bell")),
			chromedp.WaitVisible(chromedp.ID("notifications")),
			chromedp.Sleep(300*time.Millisecond),
		)(ctx, tgt); err != nil {
			return nil, err
		}
		return chromedp.FullScreenshot(100)(ctx, tgt)
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(artifactDir(t), "browser-page.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
