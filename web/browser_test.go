package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/store"
)

// screenshotDir is where browser tests save what they saw; git ignores it.
const screenshotDir = "testdata/screenshots"

// browserPath finds a Chrome or Chromium to drive: $ORDERLY_CHROME, then
// Debian's chromium. Without one the browser tests skip, saying how to run
// them, except under CI (CI set), where a missing browser is a failure.
func browserPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("ORDERLY_CHROME"), "/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	msg := "browser tests need Chromium: apt-get install chromium (Debian), or set ORDERLY_CHROME to a Chrome/Chromium binary"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set: .ci/run installs it)")
	}
	t.Skip("browser tests skipped: " + msg)
	return ""
}

// newBrowser starts a headless browser (no sandbox, as tests run as root in
// CI; no background networking) and returns a tab's context.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browserPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1280, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelTab(); cancelAlloc() })
	return ctx
}

// shot saves a full-page screenshot as testdata/screenshots/name.png.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitText waits until the page's text contains s (htmx swaps pages in
// place, so waiting for an element could find the previous page's).
func waitText(s string) chromedp.Action[chromedp.Void] {
	return waitJS("document.body.innerText.includes(" + quoteJS(s) + ")")
}

// waitJS waits until a JavaScript expression is true on a page that is
// done changing: loaded, and with no htmx request, swap or settle under
// way — so that the next step acts on the page the expression saw, not on
// one htmx is about to replace (a summary clicked open just before the
// swap comes back closed, and its input is then "not focusable").
//
// It evaluates the expression again every 25 ms rather than with
// chromedp.Poll, whose in-page wait fails ("Cannot find context with
// specified id") when a boosted form or a redirect replaces the document
// under it; an evaluation that fails is tried again until the timeout. The
// timeout is generous: CI runs these tests with the race detector on a
// busy machine.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	full := `document.readyState === "complete" && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling") && !!(` + expr + `)`
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(60 * time.Second)
		var last error
		for {
			ok, err := chromedp.Evaluate[bool](full)(ctx, t)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			if err != nil {
				last = err
			}
			if time.Now().After(deadline) {
				if last != nil {
					return chromedp.Void{}, fmt.Errorf("waiting for %s: timeout; the last evaluation failed: %w", expr, last)
				}
				return chromedp.Void{}, fmt.Errorf("waiting for %s: timeout", expr)
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(25 * time.Millisecond):
			}
		}
	}
}

func quoteJS(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `\'`) + "'"
}

func signIn(t *testing.T, ctx context.Context, base, email string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label=Main]`)),
	); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("sign in as %s: %v (at %s)", email, err, loc)
	}
}

// TestBrowser drives the console in a real browser: an agent finds an
// order by number, holds and releases it and cancels a line; a warehouse
// user ships it from the queue; the order's timeline shows each step.
func TestBrowser(t *testing.T) {
	path := browserPath(t)
	_ = path
	eachBackend(t, func(t *testing.T, backend string, f *fixture) {
		ctx := newBrowser(t)
		base := f.srv.URL
		o, err := f.svc.GetOrder(context.Background(), seeder, "1001")
		if err != nil {
			t.Fatal(err)
		}
		mug := o.Lines[1].ID

		signIn(t, ctx, base, "agent@example.com")
		if err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/orders"),
			chromedp.SendKeys(chromedp.ID("q"), "1001\n"),
			// The search result, not the list it replaces: one row.
			waitJS(`location.search.includes("q=1001") && document.querySelectorAll("#orders tbody tr").length === 1`),
			waitText("Ada Lovelace"),
			chromedp.Click(chromedp.CSS(`#orders a[href="/orders/1001"]`)),
			waitText("Order 1001"),
			chromedp.WaitVisible(chromedp.ID("timeline")),
		); err != nil {
			t.Fatalf("search and open order 1001: %v", err)
		}
		shot(t, ctx, backend+"-order")

		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`details:has(#hold-reason) > summary`)),
			chromedp.SendKeys(chromedp.ID("hold-reason"), "address check"),
			chromedp.Click(chromedp.CSS(`form[action$="/hold"] button`)),
			waitText("The order is on hold."),
			waitText("order.held"),
		); err != nil {
			t.Fatalf("hold: %v", err)
		}
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`details:has(form[action$="/release"]) > summary`)),
			chromedp.Click(chromedp.CSS(`form[action$="/release"] button`)),
			waitText("The hold is released."),
			waitText("order.released"),
		); err != nil {
			t.Fatalf("release: %v", err)
		}
		// A refused action shows its reason in place (htmx swaps error
		// pages in too).
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`details:has(form[action$="/cancel-lines"]) > summary`)),
			chromedp.SendKeys(chromedp.ID("cancel-lines-reason"), "nothing chosen"),
			chromedp.Click(chromedp.CSS(`form[action$="/cancel-lines"] button`)),
			waitText("must have at least one line"),
		); err != nil {
			t.Fatalf("cancel no line: %v", err)
		}
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`details:has(form[action$="/cancel-lines"]) > summary`)),
			chromedp.SetValue(chromedp.ID("qty-"+mug), "1"),
			chromedp.SendKeys(chromedp.ID("cancel-lines-reason"), "out of mugs"),
			chromedp.Click(chromedp.CSS(`form[action$="/cancel-lines"] button`)),
			waitText("The lines are cancelled."),
			waitText("order.lines_cancelled"),
		); err != nil {
			t.Fatalf("cancel a line: %v", err)
		}
		got, _ := f.svc.GetOrder(context.Background(), seeder, "1001")
		if got.Lines[1].Cancelled != 1 {
			t.Fatalf("the mug line was not cancelled: %+v", got.Lines[1])
		}

		// The warehouse ships what is left from its queue.
		fos, _, err := f.svc.ListFulfilmentOrders(context.Background(), seeder, store.FulfilmentOrderListParams{Location: "wh-a", Status: fulfilment.StatusRequested})
		if err != nil {
			t.Fatal(err)
		}
		var fo string
		for _, x := range fos {
			if x.OrderID == o.ID {
				fo = x.ID
			}
		}
		if fo == "" {
			t.Fatal("order 1001 has no requested fulfilment order at wh-a")
		}
		card := "#fo-" + fo + " "
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
			chromedp.WaitVisible(chromedp.ID("email")),
		); err != nil {
			t.Fatalf("sign out: %v", err)
		}
		signIn(t, ctx, base, "wh-a@example.com")
		if err := chromedp.Do(ctx,
			waitText("Fulfilment queue · Leeds warehouse"),
			chromedp.WaitVisible(chromedp.CSS(card+`form[action$="/accept"] button`)),
		); err != nil {
			t.Fatalf("queue: %v", err)
		}
		shot(t, ctx, backend+"-queue")
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(card+`form[action$="/accept"] button`)),
			waitText("Accepted."),
			chromedp.Click(chromedp.CSS(card+`form[action$="/pick"] button`)),
			waitText("Picking started."),
			chromedp.Click(chromedp.CSS(card+`form[action$="/pack"] button`)),
			waitText("Packed."),
			chromedp.Click(chromedp.CSS(card+`details:has(form[action$="/ship"]) > summary`)),
			chromedp.SendKeys(chromedp.ID("tn-"+fo), "TRACK-1001"),
			chromedp.Click(chromedp.CSS(card+`form[action$="/ship"] button`)),
			waitText("Shipped."),
		); err != nil {
			t.Fatalf("accept, pick, pack, ship: %v", err)
		}
		if err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/orders/1001"),
			waitText("fulfilment.shipped"),
			waitText("TRACK-1001"),
			waitText("shipped"),
		); err != nil {
			t.Fatalf("the order's timeline after shipping: %v", err)
		}
		shot(t, ctx, backend+"-order-shipped")
		got, _ = f.svc.GetOrder(context.Background(), seeder, "1001")
		if got.Status != "shipped" || got.Lines[0].Shipped != 2 {
			t.Errorf("after shipping from the queue: %s %+v", got.Status, got.Lines)
		}

		// An admin makes an API key for the warehouse's WMS and revokes it.
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
			chromedp.WaitVisible(chromedp.ID("email")),
		); err != nil {
			t.Fatalf("sign out: %v", err)
		}
		signIn(t, ctx, base, "admin@example.com")
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`nav a[href="/keys"]`)),
			waitText("Make a key"),
			chromedp.SendKeys(chromedp.ID("key-name"), "leeds-wms"),
			chromedp.SetValue(chromedp.ID("key-role"), "warehouse"),
			chromedp.SendKeys(chromedp.ID("key-location"), "wh-a"),
			chromedp.Click(chromedp.CSS(`form[action="/keys"] button`)),
			waitText("Key leeds-wms made"),
		); err != nil {
			t.Fatalf("make a key: %v", err)
		}
		secret, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("new-secret")))
		if err != nil {
			t.Fatal(err)
		}
		if p, err := f.svc.Authenticate(context.Background(), secret); err != nil || p.Location != "wh-a" {
			t.Fatalf("the key the page showed (%q) authenticates as %+v, %v", secret[:min(len(secret), 10)], p, err)
		}
		shot(t, ctx, backend+"-keys")
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`form[action="/keys/leeds-wms/revoke"] button`)),
			waitText("The key is revoked."),
		); err != nil {
			t.Fatalf("revoke the key: %v", err)
		}
		if _, err := f.svc.Authenticate(context.Background(), secret); err == nil {
			t.Error("the revoked key authenticates")
		}
	})
}
