package amazon_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/connector/amazon"
	"github.com/orderly-oms/orderly/connector/connectortest"
)

// spAPI is a fake Selling Partner API and LWA serving the published
// examples: getOrders in two pages (the second an Unshipped copy of the
// first order), getOrderItems in two pages.
type spAPI struct {
	*connectortest.Fake
	mu       sync.Mutex
	tokens   int    // tokens issued
	valid    string // the access token the API accepts
	throttle int    // how many 429s to answer before serving
	slept    []time.Duration
	now      time.Time
}

func newSPAPI(t *testing.T) (*spAPI, *amazon.Connector) {
	s := &spAPI{Fake: connectortest.NewFake(t), now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	orders := fixture(t, "getOrders_example.json")
	page2 := strings.NewReplacer(`"NextToken": "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4",`, "",
		"902-3159896-1390916", "902-0000000-0000002", `"Pending"`, `"Unshipped"`,
		`"LastUpdateDate": "2017-01-20T19:49:35Z"`, `"LastUpdateDate": "2017-01-21T08:00:00Z"`).Replace(string(orders))
	items := fixture(t, "getOrderItems_example.json")
	s.Handle("POST /auth/o2/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		if r.Form.Get("grant_type") != "refresh_token" || r.Form.Get("refresh_token") != "Atzr|x" || r.Form.Get("client_id") != "amzn1.app" || r.Form.Get("client_secret") != "shh" {
			connectortest.JSON(w, 400, map[string]any{"error": "invalid_grant"})
			return
		}
		s.mu.Lock()
		s.tokens++
		s.valid = "Atza|" + string(rune('0'+s.tokens))
		tok := s.valid
		s.mu.Unlock()
		connectortest.JSON(w, 200, map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": 3600, "refresh_token": "Atzr|x"})
	})
	guard := func(next http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			valid, throttle := s.valid, s.throttle
			if throttle > 0 {
				s.throttle--
			}
			s.mu.Unlock()
			if r.Header.Get("x-amz-access-token") != valid {
				connectortest.JSON(w, 403, map[string]any{"errors": []any{map[string]any{"code": "Unauthorized",
					"message": "Access to requested resource is denied.", "details": "The access token you provided has expired."}}})
				return
			}
			if throttle > 0 {
				w.Header().Set("x-amzn-RateLimit-Limit", "0.0167")
				connectortest.JSON(w, 429, map[string]any{"errors": []any{map[string]any{"code": "QuotaExceeded"}}})
				return
			}
			next(w, r)
		}
	}
	s.Handle("GET /orders/v0/orders", guard(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("NextToken") == "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4" {
			connectortest.Raw(w, 200, []byte(page2))
			return
		}
		connectortest.Raw(w, 200, orders)
	}))
	s.Handle("GET /orders/v0/orders/{id}/orderItems", guard(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("NextToken") != "" {
			connectortest.JSON(w, 200, map[string]any{"payload": map[string]any{"AmazonOrderId": r.PathValue("id"), "OrderItems": []any{}}})
			return
		}
		connectortest.Raw(w, 200, items)
	}))
	s.Handle("POST /orders/v0/orders/{id}/shipmentConfirmation", guard(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	c, err := amazon.NewWithOptions(connector.Config{BaseURL: s.URL, HTTPClient: s.Client, Settings: map[string]string{
		amazon.SettingRefreshToken: "Atzr|x", amazon.SettingClientID: "amzn1.app", amazon.SettingClientSecret: "shh",
		amazon.SettingMarketplaceIDs: "ATVPDKIKX0DER", amazon.SettingTokenURL: s.URL + "/auth/o2/token",
	}}, amazon.Options{
		MaxAttempts: 3,
		Sleep: func(ctx context.Context, d time.Duration) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.slept = append(s.slept, d)
			return nil
		},
		Now: func() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func (s *spAPI) count(path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Path == path {
			n++
		}
	}
	return n
}

func TestPullOrdersPaginates(t *testing.T) {
	s, c := newSPAPI(t)
	ctx := context.Background()
	since := time.Date(2017, 1, 20, 0, 0, 0, 0, time.UTC)
	var ids, statuses []string
	cursor := ""
	var last time.Time
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		p, err := c.PullOrders(ctx, connector.PullQuery{UpdatedAfter: since, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range p.Payloads {
			in, err := amazon.ParseOrder(b)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, in.Order.ExternalID)
			statuses = append(statuses, string(in.Status))
			if len(in.Order.Lines) != 2 {
				t.Errorf("%s: %d lines", in.Order.ExternalID, len(in.Order.Lines))
			}
		}
		last = p.LastUpdated
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if strings.Join(ids, ",") != "902-3159896-1390916,902-0000000-0000002" || strings.Join(statuses, ",") != "pending,open" {
		t.Errorf("ids %v statuses %v", ids, statuses)
	}
	if !last.Equal(time.Date(2017, 1, 21, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("LastUpdated = %v", last)
	}
	reqs := s.Requests()
	var first, second connectortest.Request
	for _, r := range reqs {
		if r.Path == "/orders/v0/orders" {
			if first.Path == "" {
				first = r
			} else {
				second = r
			}
		}
	}
	if first.Query.Get("LastUpdatedAfter") != "2017-01-20T00:00:00Z" || first.Query.Get("MarketplaceIds") != "ATVPDKIKX0DER" {
		t.Errorf("first getOrders query %v", first.Query)
	}
	if second.Query.Get("NextToken") != "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4" || second.Query.Get("MarketplaceIds") == "" {
		t.Errorf("second getOrders query %v", second.Query)
	}
	// Two pages of items per order; one LWA token for everything.
	if n := s.count("/orders/v0/orders/902-3159896-1390916/orderItems"); n != 2 {
		t.Errorf("%d getOrderItems calls for the first order, want 2 pages", n)
	}
	if s.tokens != 1 {
		t.Errorf("%d tokens fetched, want 1 (cached)", s.tokens)
	}
}

func TestRateLimitBackoff(t *testing.T) {
	s, c := newSPAPI(t)
	s.throttle = 2
	_, err := c.PullOrders(context.Background(), connector.PullQuery{UpdatedAfter: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	// 0.0167 requests per second: about a minute between tries.
	if len(s.slept) != 2 || s.slept[0] < 59*time.Second || s.slept[1] < 59*time.Second {
		t.Errorf("slept %v", s.slept)
	}

	// Retries are bounded: a 429 that never ends is KindUnavailable.
	s.throttle = 100
	_, err = c.PullOrders(context.Background(), connector.PullQuery{UpdatedAfter: time.Unix(0, 0)})
	if orderly.KindOf(err) != orderly.KindUnavailable {
		t.Errorf("err = %v, want unavailable", err)
	}
	if len(s.slept) != 4 {
		t.Errorf("slept %d times, want 2 more (3 attempts)", len(s.slept))
	}
}

func TestTokenExpiry(t *testing.T) {
	s, c := newSPAPI(t)
	ctx := context.Background()
	q := connector.PullQuery{UpdatedAfter: time.Unix(0, 0)}
	if _, err := c.PullOrders(ctx, q); err != nil {
		t.Fatal(err)
	}
	// The clock passes the token's expiry: refreshed before the call.
	s.mu.Lock()
	s.now = s.now.Add(time.Hour)
	s.mu.Unlock()
	if _, err := c.PullOrders(ctx, q); err != nil {
		t.Fatal(err)
	}
	if s.tokens != 2 {
		t.Errorf("%d tokens, want 2", s.tokens)
	}
	// Amazon revokes the token early (403 "expired"): refreshed once, retried.
	s.mu.Lock()
	s.valid = "something else"
	s.mu.Unlock()
	if _, err := c.PullOrders(ctx, q); err != nil {
		t.Fatal(err)
	}
	if s.tokens != 3 {
		t.Errorf("%d tokens, want 3", s.tokens)
	}
}

func TestBadCredentials(t *testing.T) {
	s, _ := newSPAPI(t)
	c, _ := amazon.New(connector.Config{BaseURL: s.URL, HTTPClient: s.Client, Settings: map[string]string{
		amazon.SettingRefreshToken: "revoked", amazon.SettingClientID: "amzn1.app", amazon.SettingClientSecret: "shh",
		amazon.SettingMarketplaceIDs: "ATVPDKIKX0DER", amazon.SettingTokenURL: s.URL + "/auth/o2/token"}})
	_, err := c.PullOrders(context.Background(), connector.PullQuery{UpdatedAfter: time.Unix(0, 0)})
	if orderly.KindOf(err) != orderly.KindUnauthorized {
		t.Errorf("err = %v, want unauthorized", err)
	}
}

func TestConfirmShipment(t *testing.T) {
	s, c := newSPAPI(t)
	err := c.PushShipment(context.Background(), connector.Shipment{
		OrderExternalID: "903-1671087-0812628", Carrier: "UPS", Service: "Ground", TrackingNumber: "1Z999",
		ShippedAt: time.Date(2024, 5, 2, 9, 30, 0, 0, time.FixedZone("", 7200)), Sequence: 2,
		Lines: []connector.ShipmentLine{{LineExternalID: "68828574383266", Quantity: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var body, want any
	for _, r := range s.Requests() {
		if r.Path == "/orders/v0/orders/903-1671087-0812628/shipmentConfirmation" {
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
		}
	}
	_ = json.Unmarshal([]byte(`{"marketplaceId":"ATVPDKIKX0DER","packageDetail":{"packageReferenceId":"2","carrierCode":"UPS",
	 "shippingMethod":"Ground","trackingNumber":"1Z999","shipDate":"2024-05-02T07:30:00Z",
	 "orderItems":[{"orderItemId":"68828574383266","quantity":1}]}}`), &want)
	b1, _ := json.Marshal(body)
	b2, _ := json.Marshal(want)
	if string(b1) != string(b2) {
		t.Errorf("body = %s\nwant   %s", b1, b2)
	}
	if err := c.PushShipment(context.Background(), connector.Shipment{OrderExternalID: "x"}); orderly.KindOf(err) != orderly.KindInvalid {
		t.Errorf("no lines: %v", err)
	}
}

func TestHints(t *testing.T) {
	var c connector.Connector
	c, _ = amazon.New(connector.Config{})
	h, ok := c.(connector.Hinter)
	if !ok || !h.Hints().BuyerEmailIsRelay || !h.Hints().NoMarketing {
		t.Errorf("hints %+v", h)
	}
	if _, ok := c.(connector.WebhookVerifier); ok {
		t.Error("Amazon has no webhooks here")
	}
}
