package woocommerce_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/connector/connectortest"
	"github.com/orderly-oms/orderly/connector/woocommerce"
)

func newClient(t *testing.T) (*woocommerce.Connector, *connectortest.Fake) {
	fake := connectortest.NewFake(t)
	c, _ := woocommerce.New(connector.Config{BaseURL: fake.URL, HTTPClient: fake.Client,
		Settings: map[string]string{woocommerce.SettingConsumerKey: "ck_1", woocommerce.SettingConsumerSecret: "cs_2"}})
	return c, fake
}

func TestVerifyWebhookDelivery(t *testing.T) {
	c, _ := woocommerce.New(connector.Config{Secret: secret})
	body := fixture(t)
	h := http.Header{}
	h.Set(woocommerce.HeaderSignature, connector.SignBase64(secret, body))
	h.Set(woocommerce.HeaderTopic, "order.updated")
	h.Set(woocommerce.HeaderDeliveryID, "7b1c")
	d, err := c.VerifyWebhook(h, body)
	if err != nil || d != (connector.Delivery{ID: "7b1c", Topic: "order.updated", IsOrder: true}) {
		t.Errorf("%+v %v", d, err)
	}
}

func TestPullOrdersPaginates(t *testing.T) {
	c, fake := newClient(t)
	order := string(fixture(t))
	later := strings.Replace(strings.Replace(order, `"id": 727`, `"id": 728`, 1), "2017-03-22T19:28:08", "2017-03-23T08:00:00", 1)
	fake.Handle("GET /wp-json/wc/v3/orders", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ck_1" || p != "cs_2" {
			connectortest.JSON(w, 401, map[string]any{"code": "woocommerce_rest_cannot_view"})
			return
		}
		// One order a page, of those modified after modified_after
		// (exclusive, as WordPress's date_query is).
		after, _ := time.Parse(time.RFC3339, r.URL.Query().Get("modified_after"))
		var match []string
		for _, o := range []struct {
			body string
			at   time.Time
		}{{order, time.Date(2017, 3, 22, 19, 28, 8, 0, time.UTC)}, {later, time.Date(2017, 3, 23, 8, 0, 0, 0, time.UTC)}} {
			if o.at.After(after) {
				match = append(match, o.body)
			}
		}
		w.Header().Set("X-WP-Total", strconv.Itoa(len(match)))
		w.Header().Set("X-WP-TotalPages", strconv.Itoa(len(match)))
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page < 1 || page > len(match) {
			connectortest.Raw(w, 200, []byte("[]"))
			return
		}
		connectortest.Raw(w, 200, []byte("["+match[page-1]+"]"))
	})
	since := time.Date(2017, 3, 1, 12, 0, 0, 0, time.FixedZone("", 3600))
	var ids []string
	cursor, pages := "", 0
	var last time.Time
	for {
		p, err := c.PullOrders(context.Background(), connector.PullQuery{UpdatedAfter: since, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, b := range p.Payloads {
			in, err := woocommerce.ParseOrder(b)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, in.Order.ExternalID)
		}
		last = p.LastUpdated
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	// The second request asks again from a second before 727's change (727
	// is read twice: the caller deduplicates); that page holds only 727,
	// so the third moves on by page number.
	if pages != 3 || strings.Join(ids, ",") != "727,727,728" || !last.Equal(time.Date(2017, 3, 23, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("pages %d ids %v last %v", pages, ids, last)
	}
	q := fake.Requests()[0].Query
	if q.Get("modified_after") != "2017-03-01T11:00:00Z" || q.Get("per_page") != "100" || q.Get("dates_are_gmt") != "true" || q.Get("orderby") != "modified" {
		t.Errorf("query = %v", q)
	}
	if q := fake.Requests()[1].Query; q.Get("modified_after") != "2017-03-22T19:28:07Z" || q.Get("page") != "1" {
		t.Errorf("second page query = %v", q)
	}
	if q := fake.Requests()[2].Query; q.Get("modified_after") != "2017-03-22T19:28:07Z" || q.Get("page") != "2" {
		t.Errorf("third page query = %v", q)
	}
}

func TestPullOrdersLinkAndShortPage(t *testing.T) {
	c, fake := newClient(t)
	fake.Handle("GET /wp-json/wc/v3/orders", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "1" {
			w.Header().Set("Link", fmt.Sprintf(`<%s/wp-json/wc/v3/orders?page=2>; rel="next"`, "https://shop.example"))
		}
		connectortest.Raw(w, 200, []byte("[]"))
	})
	p, err := c.PullOrders(context.Background(), connector.PullQuery{})
	if err != nil || p.NextCursor != "2" {
		t.Fatalf("page 1: %+v %v", p, err)
	}
	p, err = c.PullOrders(context.Background(), connector.PullQuery{Cursor: "2"})
	if err != nil || p.NextCursor != "" {
		t.Fatalf("page 2: %+v %v", p, err)
	}
	if _, err := c.PullOrders(context.Background(), connector.PullQuery{Cursor: "x"}); orderly.KindOf(err) != orderly.KindInvalid {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestPushShipment(t *testing.T) {
	c, fake := newClient(t)
	// The fake keeps the notes, as WooCommerce does.
	var mu sync.Mutex
	notes := []map[string]any{{"id": 280, "note": "Order status changed from Pending payment to Processing."}}
	fake.Handle("GET /wp-json/wc/v3/orders/727/notes", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		connectortest.JSON(w, 200, notes)
	})
	fake.Handle("POST /wp-json/wc/v3/orders/727/notes", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		_ = json.NewDecoder(r.Body).Decode(&in)
		mu.Lock()
		defer mu.Unlock()
		n := map[string]any{"id": 281 + len(notes), "note": in["note"], "customer_note": in["customer_note"]}
		notes = append(notes, n)
		connectortest.JSON(w, 201, n)
	})
	fake.Handle("PUT /wp-json/wc/v3/orders/727", func(w http.ResponseWriter, r *http.Request) {
		connectortest.JSON(w, 200, map[string]any{"id": 727, "status": "completed"})
	})
	ctx := context.Background()
	s := connector.Shipment{OrderExternalID: "727", Carrier: "UPS", Service: "Ground", TrackingNumber: "1Z999", TrackingURL: "https://ups.example/1Z999", NotifyCustomer: true}
	if err := c.PushShipment(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.Complete = true
	if err := c.PushShipment(ctx, s); err != nil {
		t.Fatal(err)
	}
	// The second push (the same shipment, now completing the order — or a
	// retry) finds its note and adds only the status change.
	reqs := fake.Requests()
	var got []string
	for _, r := range reqs {
		got = append(got, r.Method+" "+r.Path)
	}
	want := []string{
		"GET /wp-json/wc/v3/orders/727/notes", "POST /wp-json/wc/v3/orders/727/notes",
		"GET /wp-json/wc/v3/orders/727/notes", "PUT /wp-json/wc/v3/orders/727",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("requests %q, want %q", got, want)
	}
	if b := string(reqs[1].Body); b != `{"customer_note":true,"note":"Shipped with UPS (Ground), tracking number 1Z999: https://ups.example/1Z999."}` {
		t.Errorf("note = %s", b)
	}
	if b := string(reqs[3].Body); b != `{"status":"completed"}` {
		t.Errorf("status = %s", b)
	}
	if len(notes) != 2 {
		t.Errorf("%d notes on the order, want the old one and one shipping note", len(notes))
	}
	for _, r := range reqs {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Basic ") {
			t.Errorf("%s without basic auth", r.Path)
		}
	}
}

func TestPushCancellation(t *testing.T) {
	c, fake := newClient(t)
	fake.Handle("PUT /wp-json/wc/v3/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "404" {
			connectortest.JSON(w, 404, map[string]any{"code": "woocommerce_rest_shop_order_invalid_id"})
			return
		}
		connectortest.JSON(w, 200, map[string]any{})
	})
	ctx := context.Background()
	if err := c.PushCancellation(ctx, connector.CancelRequest{OrderExternalID: "727"}); err != nil {
		t.Fatal(err)
	}
	if err := c.PushCancellation(ctx, connector.CancelRequest{OrderExternalID: "404"}); orderly.KindOf(err) != orderly.KindNotFound {
		t.Errorf("404: %v", err)
	}
	if b := string(fake.Requests()[0].Body); b != `{"status":"cancelled"}` {
		t.Errorf("body = %s", b)
	}
}

// TestPushLineCancellation: units are cancelled by a refund of no money
// that restocks them and calls no payment gateway; a retry after the
// refund was made finds it by its reason and posts nothing; bad input
// calls nothing.
func TestPushLineCancellation(t *testing.T) {
	c, fake := newClient(t)
	var reasons []string
	fake.Handle("GET /wp-json/wc/v3/orders/727/refunds", func(w http.ResponseWriter, r *http.Request) {
		list := []map[string]any{{"id": 1, "reason": "damaged"}}
		for i, s := range reasons {
			list = append(list, map[string]any{"id": 10 + i, "reason": s})
		}
		connectortest.JSON(w, 200, list)
	})
	fake.Handle("POST /wp-json/wc/v3/orders/727/refunds", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Reason string `json:"reason"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		reasons = append(reasons, body.Reason)
		connectortest.JSON(w, 201, map[string]any{"id": 726, "amount": "0.00"})
	})
	ctx := context.Background()
	req := connector.LineCancelRequest{OrderExternalID: "727", Ref: "ev-1", Reason: "out of stock",
		Lines: []connector.CancelLine{{LineExternalID: "315", SKU: "Foo1", Quantity: 2}}}
	if err := c.PushLineCancellation(ctx, req); err != nil {
		t.Fatal(err)
	}
	var posts []connectortest.Request
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPost {
			posts = append(posts, r)
		}
	}
	if len(posts) != 1 {
		t.Fatalf("%d refunds posted, want 1", len(posts))
	}
	var got, want any
	_ = json.Unmarshal(posts[0].Body, &got)
	_ = json.Unmarshal([]byte(`{"amount":"0","reason":"Orderly cancellation ev-1: out of stock","api_refund":false,"api_restock":true,
		"line_items":[{"id":315,"quantity":2,"refund_total":0}]}`), &want)
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Errorf("body = %s", posts[0].Body)
	}
	if posts[0].Header.Get("Authorization") == "" {
		t.Error("posted without credentials")
	}
	if err := c.PushLineCancellation(ctx, req); err != nil || len(reasons) != 1 {
		t.Fatalf("a retry: %v, %d refunds", err, len(reasons))
	}
	n := len(fake.Requests())
	for _, bad := range []connector.LineCancelRequest{
		{OrderExternalID: "x", Ref: "r", Lines: []connector.CancelLine{{LineExternalID: "1", Quantity: 1}}},
		{OrderExternalID: "727", Lines: []connector.CancelLine{{LineExternalID: "1", Quantity: 1}}},
		{OrderExternalID: "727", Ref: "r"},
		{OrderExternalID: "727", Ref: "r", Lines: []connector.CancelLine{{LineExternalID: "1", Quantity: -1}}},
		{OrderExternalID: "727", Ref: "r", Lines: []connector.CancelLine{{LineExternalID: "li_1", Quantity: 1}}},
	} {
		if err := c.PushLineCancellation(ctx, bad); orderly.KindOf(err) != orderly.KindInvalid {
			t.Errorf("%+v: %v, want invalid", bad, err)
		}
	}
	if len(fake.Requests()) != n {
		t.Error("a refused request called WooCommerce")
	}
}
