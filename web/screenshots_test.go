package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/httpapi"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/internal/demo"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
	"github.com/orderly-oms/orderly/web"
)

// TestReadmeScreenshots takes the README's pictures of the console: an
// order page and a fulfilment queue, over the demo data. It runs only when
// ORDERLY_SCREENSHOTS names the folder to write them to:
//
//	ORDERLY_SCREENSHOTS=$PWD/docs/img go test ./web -run TestReadmeScreenshots
func TestReadmeScreenshots(t *testing.T) {
	dir := os.Getenv("ORDERLY_SCREENSHOTS")
	if dir == "" {
		t.Skip("set ORDERLY_SCREENSHOTS to a folder to take the README's screenshots")
	}
	ctx := context.Background()
	svc := service.New(dbtest.SQLite(t), orderly.SystemClock{}, nil)
	if _, err := demo.Seed(ctx, svc); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		email string
		role  auth.Role
		loc   string
	}{{"ops@example.com", auth.RoleAgent, ""}, {"leeds@example.com", auth.RoleWarehouse, "wh-manchester"}} {
		if _, _, err := svc.CreateUser(ctx, u.email, u.role, u.loc, password); err != nil {
			t.Fatal(err)
		}
	}
	// The order to show: the newest with a fulfilment order in the queue.
	fos, _, err := svc.ListFulfilmentOrders(ctx, seeder, store.FulfilmentOrderListParams{Location: "wh-manchester", Status: fulfilment.StatusRequested})
	if err != nil || len(fos) == 0 {
		t.Fatalf("no requested fulfilment order in the demo data: %v", err)
	}
	o, err := svc.GetOrder(ctx, seeder, fos[len(fos)-1].OrderID)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Mount(httpapi.NewHandler(svc, httpapi.Config{}), web.New(svc, web.Config{})))
	defer srv.Close()

	tab := newBrowser(t)
	take := func(name string, full bool) {
		shoot := chromedp.CaptureScreenshot()
		if full {
			shoot = chromedp.FullScreenshot(100)
		}
		png, err := chromedp.Run(tab, shoot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	signIn(t, tab, srv.URL, "ops@example.com")
	if err := chromedp.Do(tab, chromedp.Navigate(fmt.Sprintf("%s/orders/%d", srv.URL, o.Number)), waitText("Timeline"),
		chromedp.Click(chromedp.CSS(`details.why > summary`))); err != nil {
		t.Fatal(err)
	}
	take("console-order.png", true)
	if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("email"))); err != nil {
		t.Fatal(err)
	}
	signIn(t, tab, srv.URL, "leeds@example.com")
	if err := chromedp.Do(tab, waitText("Fulfilment queue")); err != nil {
		t.Fatal(err)
	}
	take("console-queue.png", false)
}
