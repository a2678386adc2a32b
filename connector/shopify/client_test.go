package shopify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/connector/connectortest"
	"github.com/orderly-oms/orderly/connector/shopify"
)

func newClient(t *testing.T) (*shopify.Connector, *connectortest.Fake) {
	fake := connectortest.NewFake(t)
	c, err := shopify.New(connector.Config{BaseURL: fake.URL + "/", HTTPClient: fake.Client,
		Settings: map[string]string{shopify.SettingAccessToken: "shpat_x", shopify.SettingAPIVersion: "2024-10"}})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

const fulfillmentOrders = `{"fulfillment_orders":[
 {"id":1046000778,"status":"closed","line_items":[{"id":1,"line_item_id":866550311766439020,"fulfillable_quantity":0}]},
 {"id":1046000779,"status":"open","line_items":[
  {"id":1058737482,"line_item_id":866550311766439020,"fulfillable_quantity":1},
  {"id":1058737483,"line_item_id":141249953214522974,"fulfillable_quantity":2}]}]}`

func TestPushShipment(t *testing.T) {
	c, fake := newClient(t)
	fake.Handle("GET /admin/api/2024-10/orders/820982911946154508/fulfillment_orders.json", func(w http.ResponseWriter, r *http.Request) {
		connectortest.Raw(w, 200, []byte(fulfillmentOrders))
	})
	fake.Handle("POST /admin/api/2024-10/fulfillments.json", func(w http.ResponseWriter, r *http.Request) {
		connectortest.JSON(w, 201, map[string]any{"fulfillment": map[string]any{"id": 255858046}})
	})
	err := c.PushShipment(context.Background(), connector.Shipment{
		OrderExternalID: "820982911946154508",
		Lines:           []connector.ShipmentLine{{LineExternalID: "141249953214522974", Quantity: 2}},
		Carrier:         "UPS", TrackingNumber: "1Z2345", TrackingURL: "https://ups.example/1Z2345", NotifyCustomer: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	for _, r := range reqs {
		if r.Header.Get("X-Shopify-Access-Token") != "shpat_x" {
			t.Errorf("%s %s without the access token", r.Method, r.Path)
		}
	}
	var got, want any
	_ = json.Unmarshal(reqs[1].Body, &got)
	_ = json.Unmarshal([]byte(`{"fulfillment":{"line_items_by_fulfillment_order":[{"fulfillment_order_id":1046000779,
	 "fulfillment_order_line_items":[{"id":1058737483,"quantity":2}]}],
	 "tracking_info":{"company":"UPS","number":"1Z2345","url":"https://ups.example/1Z2345"},"notify_customer":true}}`), &want)
	if !jsonEqual(got, want) {
		t.Errorf("body = %s", reqs[1].Body)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestPushShipmentTooMany(t *testing.T) {
	c, fake := newClient(t)
	fake.Handle("GET /admin/api/2024-10/orders/1/fulfillment_orders.json", func(w http.ResponseWriter, r *http.Request) {
		connectortest.Raw(w, 200, []byte(fulfillmentOrders))
	})
	err := c.PushShipment(context.Background(), connector.Shipment{OrderExternalID: "1",
		Lines: []connector.ShipmentLine{{LineExternalID: "866550311766439020", Quantity: 2}}})
	if orderly.KindOf(err) != orderly.KindConflict {
		t.Errorf("err = %v, want conflict", err)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("%d requests; nothing may be posted", n)
	}
}

func TestPushStock(t *testing.T) {
	c, fake := newClient(t)
	fake.Handle("POST /admin/api/2024-10/inventory_levels/set.json", func(w http.ResponseWriter, r *http.Request) {
		connectortest.JSON(w, 200, map[string]any{"inventory_level": map[string]any{}})
	})
	err := c.PushStock(context.Background(), []connector.StockLevel{
		{SKU: "A", ItemRef: "808950810", LocationRef: "905684977", Available: 7},
		{SKU: "B", ItemRef: "39072856", LocationRef: "905684977", Available: -3},
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 || string(reqs[0].Body) != `{"available":7,"inventory_item_id":808950810,"location_id":905684977}` {
		t.Fatalf("requests = %+v", reqs)
	}
	if string(reqs[1].Body) != `{"available":0,"inventory_item_id":39072856,"location_id":905684977}` {
		t.Errorf("negative availability not clamped: %s", reqs[1].Body)
	}
	if err := c.PushStock(context.Background(), []connector.StockLevel{{SKU: "C"}}); orderly.KindOf(err) != orderly.KindInvalid {
		t.Errorf("missing refs: %v", err)
	}
}

func TestPushErrors(t *testing.T) {
	c, fake := newClient(t)
	fake.Handle("POST /admin/api/2024-10/orders/{id}/cancel.json", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("id") {
		case "1":
			connectortest.JSON(w, 200, map[string]any{"order": map[string]any{}})
		case "2":
			w.Header().Set("Retry-After", "2.0")
			connectortest.JSON(w, 429, map[string]any{"errors": "Exceeded 2 calls per second"})
		default:
			connectortest.JSON(w, 401, map[string]any{"errors": "Invalid API key"})
		}
	})
	ctx := context.Background()
	if err := c.PushCancellation(ctx, connector.CancelRequest{OrderExternalID: "1", Reason: "out of stock"}); err != nil {
		t.Fatal(err)
	}
	if b := string(fake.Requests()[0].Body); b != `{"email":false,"reason":"other"}` {
		t.Errorf("cancel body = %s", b)
	}
	if err := c.PushCancellation(ctx, connector.CancelRequest{OrderExternalID: "2"}); orderly.KindOf(err) != orderly.KindUnavailable {
		t.Errorf("429: %v", err)
	}
	if err := c.PushCancellation(ctx, connector.CancelRequest{OrderExternalID: "3"}); orderly.KindOf(err) != orderly.KindUnauthorized {
		t.Errorf("401: %v", err)
	}
	noToken, _ := shopify.New(connector.Config{BaseURL: fake.URL})
	if err := noToken.PushCancellation(ctx, connector.CancelRequest{OrderExternalID: "1"}); orderly.KindOf(err) != orderly.KindInvalid {
		t.Errorf("no token: %v", err)
	}
}

// TestPushShipmentRepeated: pushing a shipment again after its answer was
// lost finds the fulfilment with its tracking number and succeeds; another
// tracking number over lines no longer open is still a conflict.
func TestPushShipmentRepeated(t *testing.T) {
	c, fake := newClient(t)
	fake.Handle("GET /admin/api/2024-10/orders/1/fulfillment_orders.json", func(w http.ResponseWriter, r *http.Request) {
		connectortest.Raw(w, 200, []byte(`{"fulfillment_orders": [{"id": 5, "status": "closed", "line_items": [
			{"id": 7, "line_item_id": 866550311766439020, "fulfillable_quantity": 0}]}]}`))
	})
	fake.Handle("GET /admin/api/2024-10/orders/1/fulfillments.json", func(w http.ResponseWriter, r *http.Request) {
		connectortest.Raw(w, 200, []byte(`{"fulfillments": [{"id": 9, "status": "success", "tracking_number": "1Z2345", "tracking_numbers": ["1Z2345"]}]}`))
	})
	s := connector.Shipment{OrderExternalID: "1", TrackingNumber: "1Z2345",
		Lines: []connector.ShipmentLine{{LineExternalID: "866550311766439020", Quantity: 1}}}
	if err := c.PushShipment(context.Background(), s); err != nil {
		t.Errorf("repeat: %v", err)
	}
	s.TrackingNumber = "1Z9999"
	if err := c.PushShipment(context.Background(), s); orderly.KindOf(err) != orderly.KindConflict {
		t.Errorf("another parcel over closed lines: %v, want conflict", err)
	}
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPost {
			t.Errorf("posted %s", r.Path)
		}
	}
}

// TestPushLineCancellation: units of a line are cancelled by a refund with
// restock_type cancel and no transactions, back at the location of the
// line's open fulfillment order (else the one given); a retry after the
// refund was made finds it by its note and posts nothing.
func TestPushLineCancellation(t *testing.T) {
	c, fake := newClient(t)
	var refunds []string // notes of the refunds made
	fake.Handle("GET /admin/api/2024-10/orders/820982911946154508/refunds.json", func(w http.ResponseWriter, r *http.Request) {
		list := []map[string]any{{"id": 1, "note": "wrong size"}}
		for i, n := range refunds {
			list = append(list, map[string]any{"id": 10 + i, "note": n})
		}
		connectortest.JSON(w, 200, map[string]any{"refunds": list})
	})
	fake.Handle("GET /admin/api/2024-10/orders/820982911946154508/fulfillment_orders.json", func(w http.ResponseWriter, r *http.Request) {
		connectortest.Raw(w, 200, []byte(`{"fulfillment_orders":[
 {"id":1046000778,"status":"closed","assigned_location_id":11,"line_items":[{"id":1,"line_item_id":866550311766439020,"fulfillable_quantity":0}]},
 {"id":1046000779,"status":"open","assigned_location_id":24826418,"line_items":[
  {"id":1058737482,"line_item_id":866550311766439020,"fulfillable_quantity":1},
  {"id":1058737483,"line_item_id":141249953214522974,"fulfillable_quantity":2}]}]}`))
	})
	fake.Handle("POST /admin/api/2024-10/orders/820982911946154508/refunds.json", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Refund struct {
				Note string `json:"note"`
			} `json:"refund"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		refunds = append(refunds, body.Refund.Note)
		connectortest.JSON(w, 201, map[string]any{"refund": map[string]any{"id": 509562969}})
	})
	req := connector.LineCancelRequest{OrderExternalID: "820982911946154508", Ref: "ev-1", Reason: "out of stock",
		Lines: []connector.CancelLine{{LineExternalID: "141249953214522974", SKU: "IPOD2008PINK", Quantity: 1}}, NotifyCustomer: true}
	if err := c.PushLineCancellation(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	posts := 0
	for _, r := range fake.Requests() {
		if r.Method != http.MethodPost {
			continue
		}
		posts++
		var got, want any
		_ = json.Unmarshal(r.Body, &got)
		_ = json.Unmarshal([]byte(`{"refund":{"notify":true,"note":"Orderly cancellation ev-1: out of stock",
		 "refund_line_items":[{"line_item_id":141249953214522974,"quantity":1,"restock_type":"cancel","location_id":24826418}],
		 "transactions":[]}}`), &want)
		if !jsonEqual(got, want) {
			t.Errorf("body = %s", r.Body)
		}
	}
	if posts != 1 {
		t.Fatalf("%d refunds posted, want 1", posts)
	}
	// The same cancellation again (a retry whose answer was lost): nothing posted.
	if err := c.PushLineCancellation(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if len(refunds) != 1 {
		t.Fatalf("a retry posted again: %v", refunds)
	}

	// A line with no open fulfillment order goes back to the location given;
	// without one, nothing is posted and the error says why.
	req = connector.LineCancelRequest{OrderExternalID: "820982911946154508", Ref: "ev-2",
		Lines: []connector.CancelLine{{LineExternalID: "999", SKU: "X", Quantity: 2}}}
	if err := c.PushLineCancellation(context.Background(), req); orderly.KindOf(err) != orderly.KindConflict {
		t.Errorf("no location: %v, want conflict", err)
	}
	req.LocationRef = "655441491"
	if err := c.PushLineCancellation(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != http.MethodPost || !strings.Contains(string(last.Body), `"location_id":655441491`) ||
		!strings.Contains(string(last.Body), `"note":"Orderly cancellation ev-2"`) {
		t.Errorf("last request %s %s %s", last.Method, last.Path, last.Body)
	}
	// Bad input is refused before any call.
	n := len(fake.Requests())
	for _, bad := range []connector.LineCancelRequest{
		{OrderExternalID: "x", Ref: "r", Lines: []connector.CancelLine{{LineExternalID: "1", Quantity: 1}}},
		{OrderExternalID: "1", Ref: "", Lines: []connector.CancelLine{{LineExternalID: "1", Quantity: 1}}},
		{OrderExternalID: "1", Ref: "r"},
		{OrderExternalID: "1", Ref: "r", Lines: []connector.CancelLine{{LineExternalID: "1", Quantity: 0}}},
		{OrderExternalID: "1", Ref: "r", Lines: []connector.CancelLine{{LineExternalID: "gid://x", Quantity: 1}}},
	} {
		if err := c.PushLineCancellation(context.Background(), bad); orderly.KindOf(err) != orderly.KindInvalid {
			t.Errorf("%+v: %v, want invalid", bad, err)
		}
	}
	if len(fake.Requests()) != n {
		t.Error("a refused request called Shopify")
	}
}
