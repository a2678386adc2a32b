package service_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/connector/amazon"
	"github.com/orderly-oms/orderly/connector/connectortest"
	"github.com/orderly-oms/orderly/connector/woocommerce"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

func orderByExternal(t *testing.T, st store.Store, ch, ext string) *order.Order {
	t.Helper()
	o, err := st.OrderGetByExternalID(context.Background(), ch, ext)
	if err != nil {
		t.Fatalf("order %s/%s: %v", ch, ext, err)
	}
	return o
}

func countEvents(t *testing.T, b bundle, orderID, typ string) int {
	t.Helper()
	es, err := b.svc.Timeline(context.Background(), admin, orderID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// TestPollWooCommerce: a poll pulls every page; a failure on page 2 keeps
// page 1's orders and the cursor, and the retry resumes at page 2; the same
// order pulled again changes nothing; a 429 is retried, not dead-lettered;
// a poll another node holds the lease of does not run.
func TestPollWooCommerce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := channelSetup(t, st)
		ctx := context.Background()
		stock(t, b, "Foo1", "Bar3")
		base := strings.Replace(string(fixture(t, "woocommerce/testdata/order_v3.json")), `"sku": ""`, `"sku": "Foo1"`, 1)
		second := strings.NewReplacer(`"id": 727`, `"id": 730`, `"date_modified_gmt": "2017-03-22T19:28:08"`, `"date_modified_gmt": "2017-03-23T10:00:00"`).Replace(base)
		fake := connectortest.NewFake(t)
		var mu sync.Mutex
		fail := map[string]int{"2": 1} // page → 500s to answer first
		throttle := 0
		fake.Handle("GET /wp-json/wc/v3/orders", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if user, pass, _ := r.BasicAuth(); user != "ck_x" || pass != "cs_x" {
				connectortest.JSON(w, 401, map[string]any{"code": "woocommerce_rest_cannot_view"})
				return
			}
			if throttle > 0 {
				throttle--
				connectortest.JSON(w, 429, map[string]any{"code": "too_many_requests"})
				return
			}
			page := r.URL.Query().Get("page")
			if fail[page] > 0 {
				fail[page]--
				connectortest.JSON(w, 500, map[string]any{"code": "internal_server_error"})
				return
			}
			w.Header().Set("X-WP-TotalPages", "2")
			if page == "1" {
				connectortest.Raw(w, 200, []byte("["+base+"]"))
			} else {
				connectortest.Raw(w, 200, []byte("["+second+"]"))
			}
		})
		configure(t, b, "woo", fake.URL, map[string]string{woocommerce.SettingConsumerKey: "ck_x", woocommerce.SettingConsumerSecret: "cs_x"})
		polls := jobs(t, st, service.KindChannelPoll)
		if len(polls) != 1 {
			t.Fatalf("%d poll jobs after configuring, want 1", len(polls))
		}

		// Another node holds the lease: this one does not poll.
		if _, took, err := st.PollBegin(ctx, "woo", "other-node", b.clock.Now(), time.Minute); err != nil || !took {
			t.Fatal(took, err)
		}
		r := newRunner(b)
		if _, err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(fake.Requests()); n != 0 {
			t.Fatalf("%d requests while another node polled", n)
		}
		if err := st.PollRelease(ctx, "woo", "other-node"); err != nil {
			t.Fatal(err)
		}

		// Page 1 is captured, page 2 fails: the cursor is kept.
		if _, err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		o727 := orderByExternal(t, st, "woo", "727")
		if _, err := st.OrderGetByExternalID(ctx, "woo", "730"); err == nil {
			t.Fatal("page 2 captured although it failed")
		}
		cfg, err := st.ChannelConnectorGet(ctx, "woo")
		if err != nil || !strings.HasSuffix(cfg.Cursor, "|2") || cfg.Watermark != nil {
			t.Fatalf("state after the failure: %+v %v", cfg.PollState, err)
		}
		// The retry (a crash would do the same) resumes at page 2.
		if _, err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		orderByExternal(t, st, "woo", "730")
		pages := map[string]int{}
		for _, rq := range fake.Requests() {
			pages[rq.Query.Get("page")]++
			if got := rq.Query.Get("modified_after"); got != "2026-11-27T09:00:00Z" {
				t.Errorf("first poll modified_after %s, want a day back", got)
			}
		}
		if pages["1"] != 1 || pages["2"] != 2 {
			t.Errorf("pages requested %v, want page 1 once and page 2 twice", pages)
		}
		cfg, _ = st.ChannelConnectorGet(ctx, "woo")
		if cfg.Cursor != "" || cfg.Watermark == nil || !cfg.Watermark.Equal(b.clock.Now().Add(-2*time.Minute)) {
			t.Errorf("state after the poll: %+v", cfg.PollState)
		}
		next := jobs(t, st, service.KindChannelPoll)
		if len(next) != 1 || !next[0].RunAt.Equal(b.clock.Now().Add(service.DefaultPollInterval)) || next[0].ID != cfg.PollJobID {
			t.Fatalf("next poll %+v, want one due after the interval", next)
		}

		// The next poll: a 429 first (retried), then the same orders again:
		// still one order each, no update recorded.
		mu.Lock()
		throttle = 1
		mu.Unlock()
		b.clock.Advance(service.DefaultPollInterval)
		if _, err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		j, err := st.JobGet(ctx, next[0].ID)
		if err != nil || j.State != store.JobAvailable || !strings.Contains(j.LastError, "429") {
			t.Fatalf("poll after a 429: %+v %v", j, err)
		}
		runJobs(t, b, 3)
		if n := countEvents(t, b, o727.ID, "order.channel_updated"); n != 0 {
			t.Errorf("%d updates from pulling the same order again", n)
		}
		list, _, err := b.svc.ListOrders(ctx, admin, store.OrderListParams{Channel: "woo"})
		if err != nil || len(list) != 2 {
			t.Errorf("woo orders %d, want 2 (%v)", len(list), err)
		}
		if dead := jobs(t, st, service.KindChannelPoll, store.JobDead); len(dead) != 0 {
			t.Errorf("dead polls: %+v", dead)
		}
	})
}

// TestPollAmazon: the first poll pages through getOrders (after a 429) and
// records a Pending order without totals and an Unshipped one; the next
// (after the access token expired) completes the Pending order, which now
// goes to fulfilment, and leaves the unchanged one alone; a Canceled order
// is cancelled. Shipping the completed order confirms the shipment with its
// OrderItemIds.
func TestPollAmazon(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := channelSetup(t, st)
		ctx := context.Background()
		stock(t, b, "CBA_OTF_1", "CBA_OTF_5")
		orders := string(fixture(t, "amazon/testdata/getOrders_example.json"))
		items := fixture(t, "amazon/testdata/getOrderItems_example.json")
		const x, y = "902-3159896-1390916", "902-0000000-0000002"
		page2 := strings.NewReplacer(`"NextToken": "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4",`, "", x, y, `"Pending"`, `"Unshipped"`).Replace(orders)
		// The second poll: x is Unshipped with its total, y unchanged.
		var xUnshipped map[string]any
		var doc struct {
			Payload struct {
				Orders []map[string]any `json:"Orders"`
			} `json:"payload"`
		}
		if err := json.Unmarshal([]byte(orders), &doc); err != nil {
			t.Fatal(err)
		}
		xUnshipped = doc.Payload.Orders[0]
		xUnshipped["OrderStatus"] = "Unshipped"
		xUnshipped["LastUpdateDate"] = "2017-01-21T09:00:00Z"
		xUnshipped["OrderTotal"] = map[string]any{"CurrencyCode": "JPY", "Amount": "100"}
		var yDoc struct {
			Payload struct {
				Orders []map[string]any `json:"Orders"`
			} `json:"payload"`
		}
		if err := json.Unmarshal([]byte(page2), &yDoc); err != nil {
			t.Fatal(err)
		}
		yOrder := yDoc.Payload.Orders[0]

		fake := connectortest.NewFake(t)
		var mu sync.Mutex
		phase, tokens, throttle := 1, 0, 1
		valid := ""
		var confirmations [][]byte
		fake.Handle("POST /auth/o2/token", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			if r.Form.Get("refresh_token") != "Atzr|x" || r.Form.Get("client_secret") != "shh" {
				connectortest.JSON(w, 400, map[string]any{"error": "invalid_grant"})
				return
			}
			mu.Lock()
			tokens++
			valid = "Atza|" + string(rune('0'+tokens))
			tok := valid
			mu.Unlock()
			connectortest.JSON(w, 200, map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": 3600})
		})
		guard := func(next http.HandlerFunc) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				ok, th := r.Header.Get("x-amz-access-token") == valid, throttle
				if ok && th > 0 {
					throttle--
				}
				mu.Unlock()
				switch {
				case !ok:
					connectortest.JSON(w, 403, map[string]any{"errors": []any{map[string]any{"code": "Unauthorized",
						"message": "Access to requested resource is denied.", "details": "The access token you provided has expired."}}})
				case th > 0:
					w.Header().Set(amazon.HeaderRateLimit, "0.0167")
					connectortest.JSON(w, 429, map[string]any{"errors": []any{map[string]any{"code": "QuotaExceeded"}}})
				default:
					next(w, r)
				}
			}
		}
		fake.Handle("GET /orders/v0/orders", guard(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			p := phase
			mu.Unlock()
			switch {
			case p == 1 && r.URL.Query().Get("NextToken") == "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4":
				connectortest.Raw(w, 200, []byte(page2))
			case p == 1:
				if r.URL.Query().Get("LastUpdatedAfter") == "" || r.URL.Query().Get("MarketplaceIds") != "A1VC38T7YXB528" {
					t.Errorf("getOrders query %v", r.URL.Query())
				}
				connectortest.Raw(w, 200, []byte(orders))
			case p == 2:
				connectortest.JSON(w, 200, map[string]any{"payload": map[string]any{"Orders": []any{xUnshipped, yOrder}}})
			default:
				cancelled := map[string]any{}
				for k, v := range yOrder {
					cancelled[k] = v
				}
				cancelled["OrderStatus"], cancelled["LastUpdateDate"] = "Canceled", "2017-01-22T09:00:00Z"
				connectortest.JSON(w, 200, map[string]any{"payload": map[string]any{"Orders": []any{cancelled}}})
			}
		}))
		// A Pending order's items have no prices yet.
		var itemsDoc map[string]any
		if err := json.Unmarshal(items, &itemsDoc); err != nil {
			t.Fatal(err)
		}
		var unpriced []any
		for _, it := range itemsDoc["payload"].(map[string]any)["OrderItems"].([]any) {
			m := map[string]any{}
			for k, v := range it.(map[string]any) {
				if !strings.Contains(k, "Price") && !strings.Contains(k, "Tax") && !strings.Contains(k, "Discount") {
					m[k] = v
				}
			}
			unpriced = append(unpriced, m)
		}
		fake.Handle("GET /orders/v0/orders/{id}/orderItems", guard(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			p := phase
			mu.Unlock()
			switch {
			case r.URL.Query().Get("NextToken") != "":
				connectortest.JSON(w, 200, map[string]any{"payload": map[string]any{"OrderItems": []any{}}})
			case p == 1 && r.PathValue("id") == x:
				connectortest.JSON(w, 200, map[string]any{"payload": map[string]any{"AmazonOrderId": x, "OrderItems": unpriced}})
			default:
				connectortest.Raw(w, 200, items)
			}
		}))
		fake.Handle("POST /orders/v0/orders/{id}/shipmentConfirmation", guard(func(w http.ResponseWriter, r *http.Request) {
			if r.PathValue("id") != x {
				t.Errorf("confirmed %s", r.PathValue("id"))
			}
			body := make([]byte, r.ContentLength)
			_, _ = r.Body.Read(body)
			mu.Lock()
			confirmations = append(confirmations, body)
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		}))
		configure(t, b, "amzn", fake.URL, map[string]string{amazon.SettingRefreshToken: "Atzr|x", amazon.SettingClientID: "amzn1.app",
			amazon.SettingClientSecret: "shh", amazon.SettingMarketplaceIDs: "A1VC38T7YXB528", amazon.SettingTokenURL: fake.URL + "/auth/o2/token"})

		runJobs(t, b, 3)
		ox, oy := orderByExternal(t, st, "amzn", x), orderByExternal(t, st, "amzn", y)
		if ox.Status != order.StatusPending || oy.Status != order.StatusOpen || ox.ReportedTotals != nil || ox.Totals.Subtotal != 0 {
			t.Fatalf("after the first poll: x %s (reported %+v), y %s; want pending without totals, and open", ox.Status, ox.ReportedTotals, oy.Status)
		}
		if fos, _, _ := b.svc.OrderFulfilment(ctx, admin, ox.ID); len(fos) != 0 {
			t.Fatal("a pending order went to fulfilment")
		}

		// The access token expires; x becomes Unshipped.
		mu.Lock()
		phase, valid = 2, "expired"
		mu.Unlock()
		b.clock.Advance(service.DefaultPollInterval)
		runJobs(t, b, 3)
		ox = orderByExternal(t, st, "amzn", x)
		if ox.Status != order.StatusOpen || countEvents(t, b, ox.ID, "order.confirmed") != 1 {
			t.Fatalf("x after Unshipped: %s", ox.Status)
		}
		if ox.Totals.Subtotal == 0 {
			t.Errorf("x's prices after Unshipped: %+v", ox.Totals)
		}
		if ox.ReportedTotals == nil || ox.ReportedTotals.Total == 0 {
			t.Errorf("x's reported totals after Unshipped: %+v, want Amazon's OrderTotal", ox.ReportedTotals)
		}
		for _, l := range ox.Lines {
			if l.UnitPrice == 0 {
				t.Errorf("x's line %s has no price after Unshipped: the confirmed prices must be stored", l.SKU)
			}
		}
		if n := countEvents(t, b, oy.ID, "order.channel_updated"); n != 0 {
			t.Errorf("y, pulled again unchanged, recorded %d updates", n)
		}
		if tokens != 2 {
			t.Errorf("%d tokens issued, want 2 (the first, and one after expiry)", tokens)
		}

		// Shipping x confirms it on Amazon with the items' ids.
		ship(t, b, ox.ID)
		runJobs(t, b, 3)
		if len(confirmations) != 1 {
			t.Fatalf("%d shipment confirmations, want 1", len(confirmations))
		}
		var conf map[string]any
		if err := json.Unmarshal(confirmations[0], &conf); err != nil {
			t.Fatal(err)
		}
		pkg, _ := conf["packageDetail"].(map[string]any)
		got, _ := json.Marshal(pkg["orderItems"])
		if conf["marketplaceId"] != "A1VC38T7YXB528" || pkg["trackingNumber"] != "1Z999AA10123456784" ||
			string(got) != `[{"orderItemId":"68828574383266","quantity":1},{"orderItemId":"79039765272157","quantity":2}]` {
			t.Errorf("confirmShipment body %s", confirmations[0])
		}

		// y is cancelled on Amazon.
		mu.Lock()
		phase = 3
		mu.Unlock()
		b.clock.Advance(service.DefaultPollInterval)
		runJobs(t, b, 3)
		if oy = orderByExternal(t, st, "amzn", y); oy.Status != order.StatusCancelled {
			t.Errorf("y after Canceled: %s", oy.Status)
		}
		if n := len(jobs(t, st, service.KindPushCancellation)); n != 0 {
			t.Errorf("%d cancellation pushes for a channel's own cancellation", n)
		}
	})
}

// TestEnsureChannelPolls: the safety net gives a polling channel whose poll
// job was lost a new one, once however often it runs, and leaves a dead
// one for an operator.
func TestEnsureChannelPolls(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := channelSetup(t, st)
		ctx := context.Background()
		configure(t, b, "woo", "https://shop.example", map[string]string{woocommerce.SettingConsumerKey: "ck", woocommerce.SettingConsumerSecret: "cs"})
		configure(t, b, "shop-eu", "https://shop.myshopify.com", map[string]string{"access_token": "x"}) // Shopify does not poll
		first := jobs(t, st, service.KindChannelPoll)
		if len(first) != 1 {
			t.Fatalf("poll jobs %d, want 1", len(first))
		}
		if ok, err := st.ChannelJobSwap(ctx, "woo", store.SlotPoll, first[0].ID, "lost-job"); err != nil || !ok {
			t.Fatal(ok, err)
		}
		for range 3 {
			if err := b.svc.EnsureChannelPolls(ctx); err != nil {
				t.Fatal(err)
			}
		}
		all := jobs(t, st, service.KindChannelPoll)
		cfg, _ := st.ChannelConnectorGet(ctx, "woo")
		if len(all) != 2 || cfg.PollJobID == "lost-job" || cfg.PollJobID == first[0].ID {
			t.Fatalf("after the safety net: %d jobs, slot %s", len(all), cfg.PollJobID)
		}
		// A dead poll stays dead until retried.
		claimed, err := st.JobClaim(ctx, b.clock.Now(), time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range claimed {
			if err := st.JobFail(ctx, j.ID, j.Attempt, "boom", nil, b.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.svc.EnsureChannelPolls(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(jobs(t, st, service.KindChannelPoll)); n != 0 {
			t.Errorf("%d poll jobs beside a dead one", n)
		}
	})
}
