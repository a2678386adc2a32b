package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPagesGolden renders every page for an admin (and the pages other
// roles land on) and compares them with their golden files.
func TestPagesGolden(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string, f *fixture) {
		admin := f.login(t, "admin@example.com")
		pages := []struct{ name, path string }{
			{"dashboard", "/"},
			{"orders", "/orders"},
			{"orders-search", "/orders?q=ada%40example.com"},
			{"orders-filtered", "/orders?channel=web&on_hold=1&backordered=1"},
			{"order", "/orders/1001"},
			{"order-escaped", "/orders/1002"},
			{"order-held", "/orders/1004"},
			{"queues", "/queue"},
			{"queue", "/queue/wh-a"},
			{"inventory", "/inventory?sku=TEE"},
			{"stock", "/inventory/locations/wh-a"},
			{"ledger", "/inventory/locations/wh-a/TEE"},
			{"reports", "/inventory/reports"},
			{"routing", "/routing"},
			{"simulate", "/routing/simulate?version=0&from=2026-03-01&to=2026-03-14"},
			{"account", "/account"},
		}
		for _, p := range pages {
			status, body := admin.get(p.path)
			if status != http.StatusOK {
				t.Errorf("GET %s: %d\n%s", p.path, status, body)
				continue
			}
			golden(t, backend, p.name, body)
		}
		// The report's id is only known from the list.
		_, body := admin.get("/inventory/reports")
		i := strings.Index(body, `href="/inventory/reports/`)
		if i < 0 {
			t.Fatal("no report link")
		}
		link := body[i+len(`href="`):]
		link = link[:strings.Index(link, `"`)]
		if status, body := admin.get(link); status != http.StatusOK {
			t.Errorf("GET %s: %d", link, status)
		} else {
			golden(t, backend, "report", body)
		}

		anon := f.anonymous(t)
		status, body := anon.get("/login")
		if status != http.StatusOK {
			t.Fatalf("GET /login: %d", status)
		}
		golden(t, backend, "login", body)

		wh := f.login(t, "wh-a@example.com")
		status, body = wh.get("/queue/wh-a")
		if status != http.StatusOK {
			t.Fatalf("warehouse queue: %d", status)
		}
		golden(t, backend, "queue-warehouse", body)
		viewer := f.login(t, "viewer@example.com")
		status, body = viewer.get("/orders/1001")
		if status != http.StatusOK {
			t.Fatalf("viewer order: %d", status)
		}
		golden(t, backend, "order-viewer", body)
	})
}

// TestOrderChannelFacts: the order page shows what the channel last said
// and when.
func TestOrderChannelFacts(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ string, f *fixture) {
		ctx := context.Background()
		o, err := f.svc.GetOrder(ctx, seeder, "1001")
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)
		o.ChannelStatus, o.FinancialStatus, o.ChannelUpdatedAt = "open", "paid", &at
		if err := f.st.OrderUpdate(ctx, o); err != nil {
			t.Fatal(err)
		}
		_, body := f.login(t, "admin@example.com").get("/orders/1001")
		for _, want := range []string{"<dt>Channel's status</dt><dd>open</dd>", "<dt>Channel's payment status</dt><dd>paid</dd>",
			`<dt>Channel last changed it</dt><dd><time datetime="2026-03-02T08:30:00Z">`} {
			if !strings.Contains(body, want) {
				t.Errorf("order page lacks %s", want)
			}
		}
	})
}
