//go:build integration

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser is a headless Debian chromium driven through chromedp, one per
// test, with its own profile (cookies) in the test's temp directory. It is
// a child of the test process: cancelling its context (at cleanup) kills
// it.
type browser struct {
	t   testing.TB
	ctx context.Context
}

// browserTimeout bounds each step (a navigation and what it waits for).
const browserTimeout = 45 * time.Second

func newBrowser(t testing.TB) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin["chromium"]),
		chromedp.NoSandbox, // the tests run as root
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("no-proxy-server", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Start the browser now (without a timeout: the first call's context
	// is the browser's life), so a missing or broken chromium fails here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium (%s): %v", bin["chromium"], err)
	}
	return &browser{t: t, ctx: ctx}
}

// do runs steps with a timeout; on failure it prints where the browser is
// and what the page holds, then fails the test.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %s: %v\n%s", what, err, b.describe())
	}
}

// get runs one action that reads a value, as do does.
func get[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %s: %v\n%s", what, err, b.describe())
	}
	return v
}

// describe is the current URL and the page, for failure messages.
func (b *browser) describe() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	return "at " + loc + ":\n" + html
}

// location is the page's URL.
func (b *browser) location() string { return get(b, "read the location", chromedp.Location()) }

// text waits for the first element matching the CSS selector sel and
// returns its text.
func (b *browser) text(sel string) string {
	b.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	return strings.TrimSpace(get(b, "read "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// count is how many elements match the CSS selector sel now.
func (b *browser) count(sel string) int {
	return get(b, "count "+sel, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
}

// bodyText is the page's visible text.
func (b *browser) bodyText() string {
	return get(b, "read the page", chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}
