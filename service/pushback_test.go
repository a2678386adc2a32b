package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/connector/amazon"
	"github.com/orderly-oms/orderly/connector/connectortest"
	"github.com/orderly-oms/orderly/connector/shopify"
	"github.com/orderly-oms/orderly/connector/woocommerce"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/outbound"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// channelSetup is setup plus the three connectors (Amazon without real
// sleeps) and a channel of each kind: shop (Shopify), woo (WooCommerce),
// amzn (Amazon).
func channelSetup(t *testing.T, st store.Store) bundle {
	t.Helper()
	b := setup(t, st)
	reg := connector.NewRegistry()
	reg.Register(channel.KindShopify, shopify.Factory)
	reg.Register(channel.KindWooCommerce, woocommerce.Factory)
	reg.Register(channel.KindAmazon, func(cfg connector.Config) (connector.Connector, error) {
		return amazon.NewWithOptions(cfg, amazon.Options{Sleep: func(context.Context, time.Duration) error { return nil },
			Now: b.clock.Now})
	})
	b.svc.Connectors = reg
	b.svc.AllowPrivateWebhooks = true // the fake platforms listen on 127.0.0.1
	for code, kind := range map[string]channel.Kind{"shop-eu": channel.KindShopify, "woo": channel.KindWooCommerce, "amzn": channel.KindAmazon} {
		if _, err := b.svc.CreateChannel(context.Background(), admin, &channel.Channel{Code: code, Kind: kind, Name: code, Policy: channel.DefaultPolicy()}); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// stock creates the SKUs with stock at wh1.
func stock(t *testing.T, b bundle, skus ...string) {
	t.Helper()
	for _, s := range skus {
		if _, err := b.svc.CreateSKU(context.Background(), admin, &inventory.SKU{SKU: s, Name: s}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.svc.AdjustStock(context.Background(), admin, service.Adjustment{Location: "wh1", SKU: s, Delta: 50, Reason: inventory.ReasonReceive}); err != nil {
			t.Fatal(err)
		}
	}
}

func fixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile("../connector/" + path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func configure(t *testing.T, b bundle, code, baseURL string, settings map[string]string) {
	t.Helper()
	if _, err := b.svc.PutChannelConnector(context.Background(), admin, code, service.ConnectorInput{BaseURL: &baseURL, Settings: settings}); err != nil {
		t.Fatal(err)
	}
}

// capture maps a payload with the channel's connector and captures it as
// a webhook delivery.
func capture(t *testing.T, b bundle, code string, c connector.Connector, payload []byte, delivery string) *order.Order {
	t.Helper()
	in, err := c.ParseOrder(payload)
	if err != nil {
		t.Fatal(err)
	}
	o, _, err := b.svc.CaptureChannelOrder(context.Background(), code, connector.Delivery{ID: delivery, Topic: "orders/create", IsOrder: true}, in)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// ship accepts the order's first fulfilment order and ships lines of it.
func ship(t *testing.T, b bundle, orderID string, lines ...string) {
	t.Helper()
	ctx := context.Background()
	fos, _, err := b.svc.OrderFulfilment(ctx, admin, orderID)
	if err != nil || len(fos) == 0 {
		t.Fatalf("fulfilment orders: %v %v", fos, err)
	}
	f := fos[0]
	if _, err := b.svc.AcceptFulfilment(ctx, admin, f.ID); err != nil {
		t.Fatal(err)
	}
	pc := service.Parcel{Carrier: "UPS", Service: "Ground", TrackingNumber: "1Z999AA10123456784"}
	for _, id := range lines {
		for _, l := range f.Lines {
			if l.LineID == id {
				pc.Lines = append(pc.Lines, fulfilment.LineQuantity{LineID: l.LineID, Quantity: l.Open()})
			}
		}
	}
	if _, err := b.svc.ShipFulfilment(ctx, admin, f.ID, pc); err != nil {
		t.Fatal(err)
	}
}

// jobs returns the jobs of a kind in a state.
func jobs(t *testing.T, st store.Store, kind string, states ...store.JobState) []*store.Job {
	t.Helper()
	if len(states) == 0 {
		states = []store.JobState{store.JobAvailable, store.JobRunning}
	}
	js, err := st.JobsOfKinds(context.Background(), []string{kind}, states, 100)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// newRunner runs the channel jobs; a failed one is due again at once.
func newRunner(b bundle) *outbound.Runner {
	return &outbound.Runner{Store: b.st, Clock: b.clock, Handlers: b.svc.ChannelJobHandlers(), Backoff: func(int) time.Duration { return 0 }}
}

// runJobs runs the due channel jobs until none is due (retries are due at
// once), at most n rounds.
func runJobs(t *testing.T, b bundle, n int) {
	t.Helper()
	r := newRunner(b)
	for range n {
		ran, err := r.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ran == 0 {
			return
		}
	}
}

func bodyJSON(t *testing.T, r connectortest.Request) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%s %s: %v: %s", r.Method, r.Path, err, r.Body)
	}
	return m
}

func requests(f *connectortest.Fake, method, path string) []connectortest.Request {
	var out []connectortest.Request
	for _, r := range f.Requests() {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// TestPushShipmentShopify: shipping a Shopify order's line enqueues a push
// in the shipment's transaction; the job creates a fulfilment with the
// tracking for the matching fulfillment order line item.
func TestPushShipmentShopify(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := channelSetup(t, st)
		stock(t, b, "IPOD2008PINK")
		fake := connectortest.NewFake(t)
		configure(t, b, "shop-eu", fake.URL, map[string]string{shopify.SettingAccessToken: "shpat_x", service.SettingNotifyCustomer: "true"})
		c, _ := shopify.New(connector.Config{})
		// The published example is a cancelled order; this one is not.
		payload := strings.NewReplacer(`"cancel_reason": "customer"`, `"cancel_reason": null`,
			`"cancelled_at": "2021-12-31T19:00:00-05:00"`, `"cancelled_at": null`, `"financial_status": "voided"`, `"financial_status": "paid"`).
			Replace(string(fixture(t, "shopify/testdata/orders_create.json")))
		o := capture(t, b, "shop-eu", c, []byte(payload), "wh-1")
		if len(jobs(t, st, service.KindPushShipment)) != 0 {
			t.Fatal("a push before anything shipped")
		}
		// A shipment whose transaction rolls back enqueues nothing.
		fos, _, err := b.svc.OrderFulfilment(context.Background(), admin, o.ID)
		if err != nil || len(fos) != 1 {
			t.Fatalf("fulfilment orders %v %v", fos, err)
		}
		boom := errors.New("boom")
		err = b.svc.Store().InTx(context.Background(), func(tx store.Querier) error {
			sh, err := fulfilment.NewShipment(fos[0], []fulfilment.ShipmentLine{{LineID: o.Lines[0].ID, SKU: o.Lines[0].SKU, Quantity: 1}},
				"UPS", "Ground", "1Z-ROLLED-BACK", "", b.clock.Now())
			if err != nil {
				return err
			}
			if err := tx.ShipmentInsert(context.Background(), sh); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if len(jobs(t, st, service.KindPushShipment)) != 0 {
			t.Fatal("a rolled-back shipment enqueued a push")
		}
		ship(t, b, o.ID, o.Lines[1].ID)
		if n := len(jobs(t, st, service.KindPushShipment)); n != 1 {
			t.Fatalf("%d push_shipment jobs after shipping, want 1", n)
		}
		fake.Handle("GET /admin/api/2025-01/orders/820982911946154508/fulfillment_orders.json", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Shopify-Access-Token") != "shpat_x" {
				w.WriteHeader(401)
				return
			}
			connectortest.Raw(w, 200, []byte(`{"fulfillment_orders": [{"id": 1046000778, "status": "open", "line_items": [
				{"id": 1025578633, "line_item_id": 866550311766439020, "fulfillable_quantity": 1},
				{"id": 1025578634, "line_item_id": 141249953214522974, "fulfillable_quantity": 1}]}]}`))
		})
		fake.Handle("POST /admin/api/2025-01/fulfillments.json", func(w http.ResponseWriter, r *http.Request) {
			connectortest.JSON(w, 201, map[string]any{"fulfillment": map[string]any{"id": 1}})
		})
		runJobs(t, b, 5)
		posts := requests(fake, "POST", "/admin/api/2025-01/fulfillments.json")
		if len(posts) != 1 {
			t.Fatalf("%d fulfilments created, want 1: %+v", len(posts), fake.Requests())
		}
		body := string(posts[0].Body)
		for _, want := range []string{`"number":"1Z999AA10123456784"`, `"company":"UPS"`, `"notify_customer":true`,
			`"fulfillment_order_id":1046000778`, `"fulfillment_order_line_items":[{"id":1025578634,"quantity":1}]`} {
			if !strings.Contains(body, want) {
				t.Errorf("fulfilment body lacks %s: %s", want, body)
			}
		}
		if n := len(jobs(t, st, service.KindPushShipment, store.JobSucceeded)); n != 1 {
			t.Errorf("%d succeeded push jobs, want 1", n)
		}
		// The control of the rollback above: the same write committed
		// enqueues a push in its transaction.
		fos, _, _ = b.svc.OrderFulfilment(context.Background(), admin, o.ID)
		err = b.svc.Store().InTx(context.Background(), func(tx store.Querier) error {
			sh, err := fulfilment.NewShipment(fos[0], []fulfilment.ShipmentLine{{LineID: o.Lines[0].ID, SKU: o.Lines[0].SKU, Quantity: 1}},
				"UPS", "Ground", "1Z-COMMITTED", "", b.clock.Now())
			if err != nil {
				return err
			}
			return tx.ShipmentInsert(context.Background(), sh)
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(jobs(t, st, service.KindPushShipment)); n != 1 {
			t.Errorf("%d pending pushes after a committed shipment, want 1", n)
		}
	})
}

// wooChannel configures the woo channel against a fake WooCommerce whose
// order poll finds nothing new, and returns the fake.
func wooChannel(t *testing.T, b bundle) *connectortest.Fake {
	t.Helper()
	fake := connectortest.NewFake(t)
	configure(t, b, "woo", fake.URL, map[string]string{woocommerce.SettingConsumerKey: "ck_x", woocommerce.SettingConsumerSecret: "cs_x"})
	fake.Handle("GET /wp-json/wc/v3/orders", func(w http.ResponseWriter, r *http.Request) {
		connectortest.Raw(w, 200, []byte(`[]`)) // the poll: nothing new
	})
	return fake
}

// wooOrder is the published WooCommerce order (727), its first line's
// empty SKU set to Foo1.
func wooOrder(t *testing.T) string {
	t.Helper()
	return strings.Replace(string(fixture(t, "woocommerce/testdata/order_v3.json")), `"sku": ""`, `"sku": "Foo1"`, 1)
}

// TestPushShipmentAndCancelWooCommerce: a shipment of everything adds a
// tracking note and completes the order; an order Orderly cancels is
// cancelled on the store, one the store cancelled is not pushed back.
func TestPushShipmentAndCancelWooCommerce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := channelSetup(t, st)
		stock(t, b, "Foo1", "Bar3")
		fake := wooChannel(t, b)
		fake.Handle("GET /wp-json/wc/v3/orders/{id}/notes", func(w http.ResponseWriter, r *http.Request) {
			connectortest.Raw(w, 200, []byte(`[]`))
		})
		fake.Handle("POST /wp-json/wc/v3/orders/{id}/notes", func(w http.ResponseWriter, r *http.Request) {
			connectortest.JSON(w, 201, map[string]any{"id": 1})
		})
		fake.Handle("PUT /wp-json/wc/v3/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
			connectortest.JSON(w, 200, map[string]any{"id": r.PathValue("id")})
		})
		payload := wooOrder(t)
		c, _ := woocommerce.New(connector.Config{})
		o := capture(t, b, "woo", c, []byte(payload), "")
		ship(t, b, o.ID)
		runJobs(t, b, 5)
		notes := requests(fake, "POST", "/wp-json/wc/v3/orders/727/notes")
		puts := requests(fake, "PUT", "/wp-json/wc/v3/orders/727")
		if len(notes) != 1 || len(puts) != 1 {
			t.Fatalf("notes %d, status changes %d; want 1 and 1: %+v", len(notes), len(puts), fake.Requests())
		}
		if note := bodyJSON(t, notes[0])["note"].(string); !strings.Contains(note, "UPS (Ground), tracking number 1Z999AA10123456784") {
			t.Errorf("note %q", note)
		}
		if got := bodyJSON(t, puts[0])["status"]; got != "completed" {
			t.Errorf("status pushed %v, want completed", got)
		}

		// Orderly cancels a second order: pushed. The store cancels a
		// third: not pushed back.
		second := strings.Replace(payload, `"id": 727`, `"id": 728`, 1)
		o2 := capture(t, b, "woo", c, []byte(second), "")
		if _, err := b.svc.CancelOrder(context.Background(), admin, o2.ID, "customer asked"); err != nil {
			t.Fatal(err)
		}
		third := strings.Replace(strings.Replace(payload, `"id": 727`, `"id": 729`, 1), `"status": "processing"`, `"status": "cancelled"`, 1)
		if o3 := capture(t, b, "woo", c, []byte(third), ""); o3.Status != order.StatusCancelled {
			t.Fatalf("third order %s, want cancelled", o3.Status)
		}
		cancels := jobs(t, st, service.KindPushCancellation)
		if len(cancels) != 1 || !strings.Contains(string(cancels[0].Args), o2.ID) {
			t.Fatalf("cancellation jobs %+v, want one for %s", cancels, o2.ID)
		}
		runJobs(t, b, 5)
		puts = requests(fake, "PUT", "/wp-json/wc/v3/orders/728")
		if len(puts) != 1 || bodyJSON(t, puts[0])["status"] != "cancelled" {
			t.Errorf("cancellation pushed: %+v", puts)
		}
		if len(requests(fake, "PUT", "/wp-json/wc/v3/orders/729")) != 0 {
			t.Error("a cancellation by the store was pushed back to it")
		}
	})
}

// TestPushLineCancellationShopify: units Orderly cancels while the rest of
// the order goes on are cancelled on Shopify (a refund of restock type
// cancel, no money) in a job enqueued with the cancellation; cancelling
// the rest is a whole-order cancellation, pushed as such.
func TestPushLineCancellationShopify(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := channelSetup(t, st)
		ctx := context.Background()
		stock(t, b, "IPOD2008PINK")
		fake := connectortest.NewFake(t)
		configure(t, b, "shop-eu", fake.URL, map[string]string{shopify.SettingAccessToken: "shpat_x"})
		c, _ := shopify.New(connector.Config{})
		payload := strings.NewReplacer(`"cancel_reason": "customer"`, `"cancel_reason": null`,
			`"cancelled_at": "2021-12-31T19:00:00-05:00"`, `"cancelled_at": null`, `"financial_status": "voided"`, `"financial_status": "paid"`).
			Replace(string(fixture(t, "shopify/testdata/orders_create.json")))
		o := capture(t, b, "shop-eu", c, []byte(payload), "wh-1")
		if len(o.Lines) != 2 {
			t.Fatalf("%d lines", len(o.Lines))
		}
		fake.Handle("GET /admin/api/2025-01/orders/820982911946154508/refunds.json", func(w http.ResponseWriter, r *http.Request) {
			connectortest.Raw(w, 200, []byte(`{"refunds": []}`))
		})
		fake.Handle("GET /admin/api/2025-01/orders/820982911946154508/fulfillment_orders.json", func(w http.ResponseWriter, r *http.Request) {
			connectortest.Raw(w, 200, []byte(`{"fulfillment_orders": [{"id": 1046000778, "status": "open", "assigned_location_id": 24826418, "line_items": [
				{"id": 1025578633, "line_item_id": 866550311766439020, "fulfillable_quantity": 1},
				{"id": 1025578634, "line_item_id": 141249953214522974, "fulfillable_quantity": 1}]}]}`))
		})
		fake.Handle("POST /admin/api/2025-01/orders/820982911946154508/refunds.json", func(w http.ResponseWriter, r *http.Request) {
			connectortest.JSON(w, 201, map[string]any{"refund": map[string]any{"id": 1}})
		})
		fake.Handle("POST /admin/api/2025-01/orders/820982911946154508/cancel.json", func(w http.ResponseWriter, r *http.Request) {
			connectortest.JSON(w, 200, map[string]any{"order": map[string]any{"id": 820982911946154508}})
		})

		// The second line's unit: the order goes on; one partial push.
		if _, err := b.svc.CancelLines(ctx, admin, o.ID, []fulfilment.LineQuantity{{LineID: o.Lines[1].ID, Quantity: 1}}, "out of stock"); err != nil {
			t.Fatal(err)
		}
		partial := jobs(t, st, service.KindPushLineCancellation)
		if len(partial) != 1 || len(jobs(t, st, service.KindPushCancellation)) != 0 {
			t.Fatalf("partial pushes %+v, whole-order pushes %d; want 1 and 0", partial, len(jobs(t, st, service.KindPushCancellation)))
		}
		runJobs(t, b, 5)
		posts := requests(fake, "POST", "/admin/api/2025-01/orders/820982911946154508/refunds.json")
		if len(posts) != 1 {
			t.Fatalf("%d refunds posted, want 1: %+v", len(posts), fake.Requests())
		}
		body := string(posts[0].Body)
		for _, want := range []string{`"line_item_id":141249953214522974`, `"quantity":1`, `"restock_type":"cancel"`,
			`"location_id":24826418`, `"transactions":[]`, `: out of stock"`} {
			if !strings.Contains(body, want) {
				t.Errorf("refund body lacks %s: %s", want, body)
			}
		}
		if n := len(jobs(t, st, service.KindPushLineCancellation, store.JobSucceeded)); n != 1 {
			t.Errorf("%d succeeded partial pushes, want 1", n)
		}

		// The rest: the order is cancelled, pushed as a whole-order cancellation.
		if _, err := b.svc.CancelLines(ctx, admin, o.ID, []fulfilment.LineQuantity{{LineID: o.Lines[0].ID, Quantity: 1}}, "customer asked"); err != nil {
			t.Fatal(err)
		}
		if n, m := len(jobs(t, st, service.KindPushLineCancellation)), len(jobs(t, st, service.KindPushCancellation)); n != 0 || m != 1 {
			t.Errorf("after cancelling the rest: %d pending partial pushes, %d whole-order; want 0 and 1", n, m)
		}
	})
}

// TestPushLineCancellationWooCommerce: units Orderly cancels on a
// WooCommerce order are refunded there for no money, restocked, with the
// cancellation's event id in the reason; the line is the channel's.
func TestPushLineCancellationWooCommerce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := channelSetup(t, st)
		stock(t, b, "Foo1", "Bar3")
		fake := wooChannel(t, b)
		fake.Handle("GET /wp-json/wc/v3/orders/727/refunds", func(w http.ResponseWriter, r *http.Request) {
			connectortest.Raw(w, 200, []byte(`[]`))
		})
		fake.Handle("POST /wp-json/wc/v3/orders/727/refunds", func(w http.ResponseWriter, r *http.Request) {
			connectortest.JSON(w, 201, map[string]any{"id": 1, "amount": "0.00"})
		})
		payload := wooOrder(t)
		c, _ := woocommerce.New(connector.Config{})
		o := capture(t, b, "woo", c, []byte(payload), "")
		var foo string
		for _, l := range o.Lines {
			if l.SKU == "Foo1" {
				foo = l.ID
			}
		}
		ev, err := b.svc.CancelLines(context.Background(), admin, o.ID, []fulfilment.LineQuantity{{LineID: foo, Quantity: 1}}, "damaged in store")
		if err != nil || ev.Status == order.StatusCancelled {
			t.Fatalf("cancel one unit: %v, %v", ev, err)
		}
		if n := len(jobs(t, st, service.KindPushLineCancellation)); n != 1 {
			t.Fatalf("%d partial pushes, want 1", n)
		}
		runJobs(t, b, 5)
		posts := requests(fake, "POST", "/wp-json/wc/v3/orders/727/refunds")
		if len(posts) != 1 {
			t.Fatalf("%d refunds posted, want 1: %+v", len(posts), fake.Requests())
		}
		body := string(posts[0].Body)
		for _, want := range []string{`"amount":"0"`, `"api_refund":false`, `"api_restock":true`, `"line_items":[{"id":315,"quantity":1,"refund_total":0}]`,
			`"reason":"Orderly cancellation `, `: damaged in store"`} {
			if !strings.Contains(body, want) {
				t.Errorf("refund body lacks %s: %s", want, body)
			}
		}
		if n := len(jobs(t, st, service.KindPushLineCancellation, store.JobSucceeded)); n != 1 {
			t.Errorf("%d succeeded partial pushes, want 1", n)
		}
	})
}

// TestPushStockCoalesced: movements of listed SKUs make one pending
// stock push per channel; it sets the channel's availability of the listed
// SKUs; a rolled-back movement enqueues nothing; a movement after the push
// makes the next one.
func TestPushStockCoalesced(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := channelSetup(t, st)
		ctx := context.Background()
		fake := connectortest.NewFake(t)
		var sets []map[string]any
		fake.Handle("POST /admin/api/2025-01/inventory_levels/set.json", func(w http.ResponseWriter, r *http.Request) {
			var m map[string]any
			_ = json.NewDecoder(r.Body).Decode(&m)
			sets = append(sets, m)
			connectortest.JSON(w, 200, map[string]any{"inventory_level": m})
		})
		configure(t, b, "shop-eu", fake.URL, map[string]string{shopify.SettingAccessToken: "shpat_x",
			service.SettingStockLocation: "655441491", service.SettingItemPrefix + "A": "808950810"})

		// A rolled-back movement: nothing pending, no job.
		boom := errors.New("boom")
		err := b.svc.Store().InTx(ctx, func(tx store.Querier) error {
			if _, err := tx.StockMove(ctx, &inventory.Movement{SKU: "A", Location: "wh1", DeltaOnHand: 1, Reason: inventory.ReasonAdjust,
				Actor: "test", At: b.clock.Now()}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if n := len(jobs(t, st, service.KindPushStock)); n != 0 {
			t.Fatalf("%d stock jobs after a rollback", n)
		}

		for _, sku := range []string{"A", "B", "A", "A"} {
			if _, _, err := b.svc.AdjustStock(ctx, admin, service.Adjustment{Location: "wh1", SKU: sku, Delta: -1, Reason: inventory.ReasonDamage}); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := b.svc.CreateOrder(ctx, admin, newOrder("web", "W-stock"), false); err != nil { // reserves 2 A
			t.Fatal(err)
		}
		if n := len(jobs(t, st, service.KindPushStock)); n != 1 {
			t.Fatalf("%d stock jobs, want 1 (coalesced)", n)
		}
		runJobs(t, b, 5)
		// 1000 received, 3 damaged, 2 reserved.
		if len(sets) != 1 || sets[0]["available"] != float64(995) || sets[0]["inventory_item_id"] != float64(808950810) || sets[0]["location_id"] != float64(655441491) {
			t.Fatalf("inventory levels set: %v", sets)
		}
		pending, err := st.StockPushPending(ctx, "shop-eu")
		if err != nil || len(pending) != 0 {
			t.Errorf("pending after the push: %v %v", pending, err)
		}
		// A capture on its own pushes too (capture reads the connector
		// configurations before its transaction).
		if _, _, err := b.svc.CreateOrder(ctx, admin, newOrder("web", "W-stock-2"), false); err != nil { // reserves 2 more A
			t.Fatal(err)
		}
		if n := len(jobs(t, st, service.KindPushStock)); n != 1 {
			t.Fatalf("%d stock jobs after a capture, want 1", n)
		}
		runJobs(t, b, 5)
		if len(sets) != 2 || sets[1]["available"] != float64(993) {
			t.Fatalf("push after a capture: %v", sets)
		}
		if _, _, err := b.svc.AdjustStock(ctx, admin, service.Adjustment{Location: "wh1", SKU: "A", Delta: 5, Reason: inventory.ReasonReceive}); err != nil {
			t.Fatal(err)
		}
		if n := len(jobs(t, st, service.KindPushStock)); n != 1 {
			t.Fatalf("%d stock jobs after a later movement, want 1", n)
		}
		runJobs(t, b, 5)
		if len(sets) != 3 || sets[2]["available"] != float64(998) {
			t.Errorf("third push: %v", sets)
		}
	})
}
