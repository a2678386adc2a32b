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
