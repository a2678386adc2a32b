package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/connector/shopify"
	"github.com/orderly-oms/orderly/connector/woocommerce"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/service"
)

// testConnectors is the registry every bundle's service opens channel
// connectors from, as the program wires it.
func testConnectors() *connector.Registry {
	r := connector.NewRegistry()
	r.Register(channel.KindShopify, shopify.Factory)
	r.Register(channel.KindWooCommerce, woocommerce.Factory)
	return r
}

const (
	chShop      = "shop"
	chWoo       = "woo"
	shopSecret  = "shpss_test_secret"
	wooSecret   = "woo test secret"
	shopifySKU  = "IPOD2008PINK"
	shopifyPath = "/webhooks/shopify/" + chShop
	wooPath     = "/webhooks/woocommerce/" + chWoo
)

var adminP = auth.Principal{Name: "key:test", Role: auth.RoleAdmin}

// webhookChannels adds a Shopify and a WooCommerce channel with secrets,
// and the Shopify fixture's SKU with stock at leeds.
func webhookChannels(t *testing.T, b *bundle) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []*channel.Channel{
		{Code: chShop, Kind: channel.KindShopify, Name: "Shop", Secret: shopSecret, Policy: channel.DefaultPolicy()},
		{Code: chWoo, Kind: channel.KindWooCommerce, Name: "Woo", Secret: wooSecret, Policy: channel.DefaultPolicy()},
	} {
		if _, err := b.svc.CreateChannel(ctx, adminP, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.svc.CreateSKU(ctx, adminP, &inventory.SKU{SKU: shopifySKU, Name: "IPod Nano"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.svc.AdjustStock(ctx, adminP, service.Adjustment{Location: locLeeds, SKU: shopifySKU, Delta: 10,
		Reason: inventory.ReasonReceive, Reference: "setup"}); err != nil {
		t.Fatal(err)
	}
}

func fixture(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// shopifyOpen is the Shopify fixture as an open order (the fixture itself
// was cancelled); shopifyCancelled is the fixture unchanged.
func shopifyFixtures(t *testing.T) (open, cancelled string) {
	cancelled = fixture(t, "../connector/shopify/testdata/orders_create.json")
	open = strings.Replace(cancelled, `"cancelled_at": "2021-12-31T19:00:00-05:00"`, `"cancelled_at": null`, 1)
	if open == cancelled {
		t.Fatal("fixture changed: cancelled_at not found")
	}
	return open, cancelled
}

func shopifyHeaders(topic, id, body string) map[string]string {
	return map[string]string{shopify.HeaderTopic: topic, shopify.HeaderWebhookID: id,
		shopify.HeaderHMAC: connector.SignBase64(shopSecret, []byte(body)), shopify.HeaderShop: "shop.myshopify.com"}
}

func wooHeaders(topic, id, body string) map[string]string {
	return map[string]string{woocommerce.HeaderTopic: topic, woocommerce.HeaderDeliveryID: id,
		woocommerce.HeaderSignature: connector.SignBase64(wooSecret, []byte(body))}
}

func (b *bundle) hook(t *testing.T, path, body string, header map[string]string) *response {
	t.Helper()
	return b.do(t, req{method: "POST", path: path, body: body, header: header})
}

// channelOrder returns the order the channel knows by ext and the types of
// its timeline's events, routing's left out.
func (b *bundle) channelOrder(t *testing.T, ch, ext string) (*order.Order, []string) {
	t.Helper()
	o, err := b.store.OrderGetByExternalID(context.Background(), ch, ext)
	if err != nil {
		t.Fatalf("order %s/%s: %v", ch, ext, err)
	}
	evs, err := b.svc.Timeline(context.Background(), adminP, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		if e.Type == "order.routed" {
			continue // routing's receipt; routing's tests pin it
		}
		types = append(types, e.Type)
		if e.Actor != service.ChannelActor(ch) && e.Type != "order.created" {
			t.Errorf("%s by %q, want %q", e.Type, e.Actor, service.ChannelActor(ch))
		}
	}
	return o, types
}

// sameMoney fails unless o holds the parsed fixture's lines and money.
func sameMoney(t *testing.T, o *order.Order, in *connector.Inbound) {
	t.Helper()
	if o.Currency != in.Order.Currency || len(o.Lines) != len(in.Order.Lines) {
		t.Fatalf("order %s with %d lines, want %s with %d", o.Currency, len(o.Lines), in.Order.Currency, len(in.Order.Lines))
	}
	for i, l := range o.Lines {
		w := in.Order.Lines[i]
		if l.SKU != w.SKU || l.Quantity != w.Quantity || l.UnitPrice != w.UnitPrice || l.Discount != w.Discount || l.Tax != w.Tax {
			t.Errorf("line %d = %s %d × %d −%d +%d, want %s %d × %d −%d +%d", i, l.SKU, l.Quantity, l.UnitPrice, l.Discount, l.Tax,
				w.SKU, w.Quantity, w.UnitPrice, w.Discount, w.Tax)
		}
	}
	if want := in.Order.ComputeTotals(); o.Totals != want {
		t.Errorf("totals %+v, want %+v", o.Totals, want)
	}
}

// TestWebhookShopifyOutOfOrder: Shopify does not promise to deliver an
// order's webhooks in the order it changed it; an update older than one
// already applied (by the payload's updated_at) is recorded on the timeline
// and changes nothing, a stale cancellation included.
func TestWebhookShopifyOutOfOrder(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		webhookChannels(t, b)
		open, _ := shopifyFixtures(t)
		// The fixture at a given change time and payment status, open or cancelled.
		version := func(at, financial string, cancelled bool) string {
			v := strings.Replace(open, `"updated_at": "2021-12-31T19:00:00-05:00"`, `"updated_at": "`+at+`"`, 1)
			v = strings.Replace(v, `"financial_status": "voided"`, `"financial_status": "`+financial+`"`, 1)
			if cancelled {
				v = strings.Replace(v, `"cancelled_at": null`, `"cancelled_at": "`+at+`"`, 1)
			}
			if v == open || cancelled && !strings.Contains(v, `"cancelled_at": "`+at) {
				t.Fatal("fixture changed: updated_at, financial_status or cancelled_at not found")
			}
			return v
		}
		send := func(id, topic, body string) {
			t.Helper()
			b.hook(t, shopifyPath, body, shopifyHeaders(topic, id, body)).want(t, http.StatusOK)
		}
		lastEvent := func(o *order.Order) (string, map[string]any) {
			t.Helper()
			evs, err := b.svc.Timeline(context.Background(), adminP, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			e := evs[len(evs)-1]
			var data map[string]any
			if err := json.Unmarshal(e.Data, &data); err != nil {
				t.Fatal(err)
			}
			return e.Type, data
		}
		in, err := shopify.ParseOrder([]byte(open))
		if err != nil {
			t.Fatal(err)
		}
		ext := in.Order.ExternalID

		send("o1", "orders/create", version("2026-11-28T10:00:00+01:00", "pending", false))
		o, _ := b.channelOrder(t, chShop, ext)
		if o.FinancialStatus != "pending" || o.ChannelUpdatedAt == nil || !o.ChannelUpdatedAt.Equal(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)) {
			t.Fatalf("captured: financial_status %q, channel_updated_at %v", o.FinancialStatus, o.ChannelUpdatedAt)
		}
		// The newest change arrives second, the one before it third.
		send("o3", "orders/updated", version("2026-11-28T10:10:00+01:00", "paid", false))
		send("o2", "orders/updated", version("2026-11-28T10:05:00+01:00", "authorized", false))
		o2, _ := b.channelOrder(t, chShop, ext)
		newest := time.Date(2026, 11, 28, 9, 10, 0, 0, time.UTC)
		if o2.FinancialStatus != "paid" || o2.PaymentStatus() != "paid" || o2.ChannelUpdatedAt == nil || !o2.ChannelUpdatedAt.Equal(newest) {
			t.Errorf("after a stale update: financial_status %q, channel_updated_at %v; want paid at %v", o2.FinancialStatus, o2.ChannelUpdatedAt, newest)
		}
		typ, data := lastEvent(o2)
		if typ != "order.channel_updated" || data["stale"] == nil || data["delivery_id"] != "o2" || data["financial_status"] != "authorized" {
			t.Errorf("stale update recorded as %s %v", typ, data)
		}
		// A cancellation older than the newest change is not applied either.
		send("o2c", "orders/cancelled", version("2026-11-28T10:07:00+01:00", "voided", true))
		o3, _ := b.channelOrder(t, chShop, ext)
		if o3.Status != order.StatusOpen || o3.Version != o2.Version {
			t.Errorf("a stale cancellation changed the order: %s, version %d→%d", o3.Status, o2.Version, o3.Version)
		}
		if typ, data := lastEvent(o3); typ != "order.channel_updated" || data["stale"] == nil {
			t.Errorf("stale cancellation recorded as %s %v", typ, data)
		}
		bal, err := b.store.BalanceGet(context.Background(), locLeeds, shopifySKU)
		if err != nil || bal.Reserved == 0 {
			t.Errorf("reservation after a stale cancellation: %+v, %v", bal, err)
		}
		// A newer one is: the order is cancelled, with the channel's status and time.
		send("o4", "orders/cancelled", version("2026-11-28T10:20:00+01:00", "voided", true))
		o4, _ := b.channelOrder(t, chShop, ext)
		if o4.Status != order.StatusCancelled || o4.ChannelStatus != "cancelled" || o4.FinancialStatus != "voided" ||
			o4.ChannelUpdatedAt == nil || !o4.ChannelUpdatedAt.Equal(newest.Add(10*time.Minute)) {
			t.Errorf("after a newer cancellation: %s, %q, %q, %v", o4.Status, o4.ChannelStatus, o4.FinancialStatus, o4.ChannelUpdatedAt)
		}
		// The API shows when the channel last changed the order.
		v := b.get(t, b.keys["admin"], "/api/v1/orders/"+o4.ID).want(t, http.StatusOK).json(t)
		if v["channel_updated_at"] != "2026-11-28T09:20:00Z" {
			t.Errorf("API channel_updated_at %v", v["channel_updated_at"])
		}
	})
}

func TestWebhookShopify(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		webhookChannels(t, b)
		open, cancelled := shopifyFixtures(t)
		in, err := shopify.ParseOrder([]byte(open))
		if err != nil {
			t.Fatal(err)
		}
		ext := in.Order.ExternalID
		before := b.countOrders(t)

		// Refused before anything is parsed or written.
		noSig := shopifyHeaders("orders/create", "d1", open)
		noSig[shopify.HeaderHMAC] = ""
		b.hook(t, shopifyPath, open, noSig).wantProblem(t, http.StatusUnauthorized, "")
		bad := shopifyHeaders("orders/create", "d1", open)
		bad[shopify.HeaderHMAC] = connector.SignBase64("another secret", []byte(open))
		res := b.hook(t, shopifyPath, open, bad)
		res.wantProblem(t, http.StatusUnauthorized, "")
		if res.header.Get("WWW-Authenticate") != "" {
			t.Error("a webhook 401 asks for a bearer token")
		}
		b.hook(t, shopifyPath, open+" ", shopifyHeaders("orders/create", "d1", open)).wantProblem(t, http.StatusUnauthorized, "")
		// Unknown channel and wrong kind: the same 404.
		p1 := b.hook(t, "/webhooks/shopify/nope", open, shopifyHeaders("orders/create", "d1", open)).wantProblem(t, http.StatusNotFound, "")
		p2 := b.hook(t, "/webhooks/woocommerce/"+chShop, open, shopifyHeaders("orders/create", "d1", open)).wantProblem(t, http.StatusNotFound, "")
		p3 := b.hook(t, "/webhooks/shopify/"+chWeb, open, shopifyHeaders("orders/create", "d1", open)).wantProblem(t, http.StatusNotFound, "")
		if p1["detail"] != p2["detail"] || p2["detail"] != p3["detail"] {
			t.Errorf("404s differ: %v / %v / %v", p1["detail"], p2["detail"], p3["detail"])
		}
		big := strings.Repeat(" ", maxBodyBytes) + open
		b.hook(t, shopifyPath, big, shopifyHeaders("orders/create", "d1", big)).wantProblem(t, http.StatusRequestEntityTooLarge, "")
		if n := b.countOrders(t); n != before {
			t.Fatalf("%d orders after refused deliveries, want %d", n, before)
		}

		// A signed delivery creates the order, with the fixture's lines and money.
		v := b.hook(t, shopifyPath, open, shopifyHeaders("orders/create", "d1", open)).want(t, http.StatusOK).json(t)
		if v["status"] != "created" || v["order_id"] == "" {
			t.Fatalf("answer %v", v)
		}
		o, types := b.channelOrder(t, chShop, ext)
		sameMoney(t, o, in)
		if ext != "820982911946154508" || o.Lines[0].UnitPrice != 19900 || o.Currency != "USD" || o.Status != order.StatusOpen {
			t.Errorf("order %s %s %d %s", o.ExternalID, o.Currency, o.Lines[0].UnitPrice, o.Status)
		}
		if o.Lines[0].Allocated != 1 || o.Lines[1].Allocated != 1 {
			t.Errorf("allocated %d, %d", o.Lines[0].Allocated, o.Lines[1].Allocated)
		}
		// The fixture's totals do not add up: accepted and flagged.
		if strings.Join(types, ",") != "order.created,order.allocated,order.flagged,fulfilment.requested" {
			t.Errorf("timeline %v", types)
		}
		events := len(types)

		// The platform retries the same delivery: nothing new.
		v = b.hook(t, shopifyPath, open, shopifyHeaders("orders/create", "d1", open)).want(t, http.StatusOK).json(t)
		if v["status"] != "duplicate" {
			t.Errorf("replay answered %v", v)
		}
		if _, types := b.channelOrder(t, chShop, ext); len(types) != events || b.countOrders(t) != before+1 {
			t.Errorf("replay wrote: timeline %v", types)
		}

		// An update under a new delivery id: an event, nothing else.
		v = b.hook(t, shopifyPath, open, shopifyHeaders("orders/updated", "d2", open)).want(t, http.StatusOK).json(t)
		if v["status"] != "updated" || v["order_id"] != o.ID {
			t.Errorf("update answered %v", v)
		}
		o2, types := b.channelOrder(t, chShop, ext)
		if types[len(types)-1] != "order.channel_updated" || o2.Version != o.Version || o2.Status != order.StatusOpen {
			t.Errorf("after update: %v, version %d→%d", types, o.Version, o2.Version)
		}

		// orders/cancelled cancels it and releases its stock.
		b.hook(t, shopifyPath, cancelled, shopifyHeaders("orders/cancelled", "d3", cancelled)).want(t, http.StatusOK)
		o3, types := b.channelOrder(t, chShop, ext)
		if o3.Status != order.StatusCancelled || o3.CancelReason != "customer" || types[len(types)-1] != "order.cancelled" {
			t.Errorf("after cancel: %s %q %v", o3.Status, o3.CancelReason, types)
		}
		bal, err := b.store.BalanceGet(context.Background(), locLeeds, shopifySKU)
		if err != nil || bal.Reserved != 0 {
			t.Errorf("reserved after cancel: %+v, %v", bal, err)
		}
		// A second cancellation cannot apply: recorded, not refused.
		b.hook(t, shopifyPath, cancelled, shopifyHeaders("orders/cancelled", "d4", cancelled)).want(t, http.StatusOK)
		if _, types := b.channelOrder(t, chShop, ext); types[len(types)-1] != "order.channel_updated" {
			t.Errorf("second cancel: %v", types)
		}

		// Topics without an order are answered and ignored.
		v = b.hook(t, shopifyPath, `{"id":1}`, shopifyHeaders("refunds/create", "d5", `{"id":1}`)).want(t, http.StatusOK).json(t)
		if v["status"] != "ignored" {
			t.Errorf("refund answered %v", v)
		}

		metrics := string(b.get(t, "", "/metrics").want(t, http.StatusOK).body)
		for _, m := range []string{
			`orderly_webhooks_total{kind="shopify",outcome="created"} 1`,
			`orderly_webhooks_total{kind="shopify",outcome="duplicate"} 1`,
			`orderly_webhooks_total{kind="shopify",outcome="unauthorized"} 3`,
			`orderly_webhooks_total{kind="shopify",outcome="not_found"} 2`,
			`orderly_webhooks_total{kind="woocommerce",outcome="not_found"} 1`,
			`orderly_webhooks_total{kind="shopify",outcome="too_large"} 1`,
			`orderly_webhooks_total{kind="shopify",outcome="ignored"} 1`,
		} {
			if !strings.Contains(metrics, m) {
				t.Errorf("metrics lack %s", m)
			}
		}
		// No payload or customer data in the logs.
		logs := b.logs.String()
		for _, pii := range []string{"jon@example.com", "john@example.com", "Bob", "Norman", "IPOD2008PINK", "Chestnut"} {
			if strings.Contains(logs, pii) {
				t.Errorf("logs hold %q", pii)
			}
		}
	})
}

func TestWebhookWooCommerce(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		webhookChannels(t, b)
		body := fixture(t, "../connector/woocommerce/testdata/order_v3.json")
		in, err := woocommerce.ParseOrder([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		noSig := wooHeaders("order.created", "w1", body)
		noSig[woocommerce.HeaderSignature] = ""
		b.hook(t, wooPath, body, noSig).wantProblem(t, http.StatusUnauthorized, "")

		// WooCommerce's unsigned ping when a webhook is saved.
		ping := b.do(t, req{method: "POST", path: wooPath, body: "webhook_id=12",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}).want(t, http.StatusOK).json(t)
		if ping["status"] != "ignored" || b.countOrders(t) != 0 {
			t.Errorf("ping answered %v", ping)
		}

		// The fixture's SKUs are not in the catalogue: accepted, backordered, held.
		v := b.hook(t, wooPath, body, wooHeaders("order.created", "w1", body)).want(t, http.StatusOK).json(t)
		if v["status"] != "created" {
			t.Fatalf("answer %v", v)
		}
		o, types := b.channelOrder(t, chWoo, "727")
		sameMoney(t, o, in)
		if o.Status != order.StatusOnHold || o.Hold == nil || o.Hold.Reason != service.HoldUnknownSKU || o.Hold.Previous != order.StatusOpen {
			t.Errorf("status %s, hold %+v", o.Status, o.Hold)
		}
		for _, l := range o.Lines {
			if l.Allocated != 0 || l.Backordered != l.Quantity {
				t.Errorf("line %s: allocated %d, backordered %d", l.SKU, l.Allocated, l.Backordered)
			}
		}
		if strings.Join(types, ",") != "order.created,order.backordered,order.held,order.flagged" {
			t.Errorf("timeline %v", types)
		}
		v = b.hook(t, wooPath, body, wooHeaders("order.created", "w1", body)).want(t, http.StatusOK).json(t)
		if v["status"] != "duplicate" || b.countOrders(t) != 1 {
			t.Errorf("replay answered %v", v)
		}
	})
}

// TestWebhookConcurrentDeliveries sends one order under ten delivery ids at
// once: exactly one order is created, the others are updates of it.
func TestWebhookConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		webhookChannels(t, b)
		open, _ := shopifyFixtures(t)
		const n = 10
		statuses := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				statuses[i] = postRaw(b, shopifyPath, open, shopifyHeaders("orders/create", fmt.Sprint("c", i), open))
			})
		}
		wg.Wait()
		count := map[string]int{}
		for _, s := range statuses {
			count[s]++
		}
		if count["200 created"] != 1 || count["200 updated"] != n-1 {
			t.Errorf("answers %v", count)
		}
		if got := b.countOrders(t); got != 1 {
			t.Errorf("%d orders, want 1", got)
		}
		o, _ := b.channelOrder(t, chShop, "820982911946154508")
		bal, err := b.store.BalanceGet(context.Background(), locLeeds, shopifySKU)
		if err != nil || bal.Reserved != 2 || o.Lines[0].Allocated+o.Lines[1].Allocated != 2 {
			t.Errorf("reserved %+v, %v", bal, err)
		}
	})
}

// postRaw posts without testing.T (safe in goroutines) and returns
// "<status> <answer status>".
func postRaw(b *bundle, path, body string, header map[string]string) string {
	r, err := http.NewRequestWithContext(context.Background(), "POST", b.srv.URL+path, strings.NewReader(body))
	if err != nil {
		return err.Error()
	}
	r.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	res, err := b.srv.Client().Do(r)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var v webhookView
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&v); err != nil || v.Status == "" {
		return fmt.Sprintf("%d %s", res.StatusCode, data)
	}
	return fmt.Sprintf("%d %s", res.StatusCode, v.Status)
}
