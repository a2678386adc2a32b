package shopify_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/connector/connectortest"
	"github.com/orderly-oms/orderly/connector/shopify"
	"github.com/orderly-oms/orderly/order"
)

const secret = "hush"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestContract(t *testing.T) {
	c, err := shopify.New(connector.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	ipod := order.Line{SKU: "IPOD2008PINK", Quantity: 1, UnitPrice: 19900}
	connectortest.Run(t, connectortest.Suite{
		Connector: c,
		Sign: func(body []byte) http.Header {
			return http.Header{
				shopify.HeaderHMAC:      {connector.SignBase64(secret, body)},
				shopify.HeaderTopic:     {"orders/create"},
				shopify.HeaderWebhookID: {"b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"},
			}
		},
		Cases: []connectortest.Case{{
			Name:    "orders_create",
			Payload: fixture(t, "orders_create.json"),
			Want: connectortest.Want{
				// The fixture's "id" lost precision; the gid keeps it.
				ExternalID:      "820982911946154508",
				Currency:        "USD",
				PlacedAt:        time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC),
				Status:          order.StatusCancelled,
				Lines:           []order.Line{ipod, ipod},
				LineExternalIDs: []string{"866550311766439020", "141249953214522974"},
				Reported:        &order.Totals{Subtotal: 39800, DiscountTotal: 2000, ShippingTotal: 1000, TaxTotal: 0, Total: 38800},
				// Three ids disagree with their gid; total_price is 20.00
				// below lines + shipping (total_discounts has no allocation).
				Problems: 4,
			},
		}},
	})
}

func TestParseOrderFixture(t *testing.T) {
	in, err := shopify.ParseOrder(fixture(t, "orders_create.json"))
	if err != nil {
		t.Fatal(err)
	}
	o := in.Order
	if o.PlacedAt.Format(time.RFC3339) != "2021-12-31T19:00:00-05:00" {
		t.Errorf("PlacedAt lost its offset: %v", o.PlacedAt)
	}
	if in.Number != "#9999" || in.FinancialStatus != "voided" || in.ChannelStatus != "cancelled" || !in.Test {
		t.Errorf("number/financial/channel status/test = %q %q %q %v", in.Number, in.FinancialStatus, in.ChannelStatus, in.Test)
	}
	if in.Cancellation == nil || in.Cancellation.Reason != "customer" || !in.Cancellation.At.Equal(o.PlacedAt) {
		t.Errorf("Cancellation = %+v", in.Cancellation)
	}
	wantShip := orderly.Address{Name: "Steve Shipper", Company: "Shipping Company", Line1: "123 Shipping Street",
		City: "Shippington", Region: "KY", PostalCode: "40003", Country: "US", Phone: "555-555-SHIP"}
	if o.ShippingAddress != wantShip || o.BillingAddress != wantShip {
		t.Errorf("addresses = %+v / %+v", o.ShippingAddress, o.BillingAddress)
	}
	if o.Customer != (order.Customer{Name: "John Smith", Email: "jon@example.com"}) {
		t.Errorf("Customer = %+v", o.Customer)
	}
	if len(o.ShippingLines) != 1 || o.ShippingLines[0] != (order.ShippingLine{Name: "Generic Shipping", Price: 1000}) {
		t.Errorf("ShippingLines = %+v", o.ShippingLines)
	}
	if !strings.Contains(strings.Join(in.Problems, "\n"), "lines do not add up to the reported total") {
		t.Errorf("Problems = %q", in.Problems)
	}
}

// edit returns the fixture with changes applied to its decoded form.
// Numbers stay json.Number, so the ids keep their text.
func edit(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(string(fixture(t, "orders_create.json"))))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func line(m map[string]any, i int) map[string]any {
	return m["line_items"].([]any)[i].(map[string]any)
}

func TestParseOrderRules(t *testing.T) {
	b := edit(t, func(m map[string]any) {
		m["cancelled_at"] = nil
		m["processed_at"] = "2022-01-02T10:00:00+09:00"
		m["tags"] = "vip, gift ,"
		m["taxes_included"] = false
		l0 := line(m, 0)
		l0["sku"] = nil
		l0["discount_allocations"] = []any{map[string]any{"amount": "5.00"}, map[string]any{"amount": "1.50"}}
		l0["tax_lines"] = []any{map[string]any{"title": "State", "price": "12.34"}}
		l1 := line(m, 1)
		l1["sku"] = ""
		l1["variant_id"] = nil
		l1["total_discount"] = "2.00"
		l1["quantity"] = 3
		sh := m["shipping_lines"].([]any)[0].(map[string]any)
		sh["discounted_price"] = "8.00"
		sh["tax_lines"] = []any{map[string]any{"price": "0.80"}}
		addr := m["shipping_address"].(map[string]any)
		addr["latitude"] = 45.4215
		addr["longitude"] = "-75.6972"
	})
	in, err := shopify.ParseOrder(b)
	if err != nil {
		t.Fatal(err)
	}
	o := in.Order
	if in.Status != order.StatusOpen || in.Cancellation != nil || in.ChannelStatus != "open" {
		t.Errorf("status = %q %q %+v", in.Status, in.ChannelStatus, in.Cancellation)
	}
	if !o.PlacedAt.Equal(time.Date(2022, 1, 2, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("PlacedAt = %v, want processed_at", o.PlacedAt)
	}
	if strings.Join(o.Tags, "|") != "vip|gift" {
		t.Errorf("Tags = %q", o.Tags)
	}
	l0, l1 := o.Lines[0], o.Lines[1]
	if l0.SKU != "shopify:variant:808950810" || l0.Discount != 650 || l0.Tax != 1234 {
		t.Errorf("line 0 = %+v", l0)
	}
	if l1.SKU != "shopify:product:632910392" || l1.Discount != 200 || l1.Quantity != 3 {
		t.Errorf("line 1 = %+v", l1)
	}
	if o.ShippingLines[0].Price != 800 {
		t.Errorf("shipping = %+v, want the discounted price", o.ShippingLines[0])
	}
	if len(in.Adjustments) != 1 || in.Adjustments[0] != (connector.Adjustment{Kind: "shipping_tax", Amount: 80, Currency: "USD", Ref: "shipping_lines[0].tax_lines"}) {
		t.Errorf("Adjustments = %+v", in.Adjustments)
	}
	if a := o.ShippingAddress; a.Lat == nil || *a.Lat != 45.4215 || a.Lon == nil || *a.Lon != -75.6972 {
		t.Errorf("lat/lon = %v %v", a.Lat, a.Lon)
	}
	if err := func() error { o.Channel = "x"; return o.Validate() }(); err != nil {
		t.Error(err)
	}
}

func TestParseOrderTaxesIncluded(t *testing.T) {
	// With taxes included, tax is not added on top when checking the total.
	b := edit(t, func(m map[string]any) {
		m["taxes_included"] = true
		m["total_price"] = "408.00"
		line(m, 0)["tax_lines"] = []any{map[string]any{"price": "33.17"}}
	})
	in, err := shopify.ParseOrder(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range in.Problems {
		if strings.Contains(p, "reported total") {
			t.Errorf("unexpected problem %q", p)
		}
	}
}

func TestParseOrderInvalid(t *testing.T) {
	for name, tc := range map[string]struct {
		f     func(m map[string]any)
		field string
	}{
		"float id":         {func(m map[string]any) { m["id"] = json.Number("8.2e17"); delete(m, "admin_graphql_api_id") }, "id"},
		"no id":            {func(m map[string]any) { delete(m, "id"); delete(m, "admin_graphql_api_id") }, "id"},
		"bad price":        {func(m map[string]any) { line(m, 1)["price"] = "19,99" }, "line_items[1].price"},
		"object price":     {func(m map[string]any) { line(m, 1)["price"] = map[string]any{} }, "line_items.price"},
		"float quantity":   {func(m map[string]any) { line(m, 0)["quantity"] = 1.5 }, "line_items[0].quantity"},
		"unknown currency": {func(m map[string]any) { m["currency"] = "XXX" }, "currency"},
		"bad created_at":   {func(m map[string]any) { m["created_at"] = "yesterday" }, "created_at"},
		"no created_at":    {func(m map[string]any) { delete(m, "created_at") }, "created_at"},
		"bad latitude":     {func(m map[string]any) { m["billing_address"].(map[string]any)["latitude"] = "NaN" }, "billing_address.latitude"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := shopify.ParseOrder(edit(t, tc.f))
			var e *orderly.Error
			if !asError(err, &e) || e.Kind != orderly.KindInvalid || e.Fields[0].Field != tc.field {
				t.Errorf("err = %v, want invalid %s", err, tc.field)
			}
		})
	}
}

func TestParseOrderExcessDecimals(t *testing.T) {
	// 19.995 USD cannot be kept exactly: rounded and flagged, never silent.
	in, err := shopify.ParseOrder(edit(t, func(m map[string]any) { line(m, 0)["price"] = "199.005" }))
	if err != nil {
		t.Fatal(err)
	}
	if in.Order.Lines[0].UnitPrice != 19901 || !strings.Contains(strings.Join(in.Problems, "\n"), "line_items[0].price: 199.005 USD has more decimals") {
		t.Errorf("unit %d, problems %q", in.Order.Lines[0].UnitPrice, in.Problems)
	}
}
