package woocommerce_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/connector/connectortest"
	"github.com/orderly-oms/orderly/connector/woocommerce"
	"github.com/orderly-oms/orderly/order"
)

const secret = "wc-secret"

func fixture(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/order_v3.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestContract(t *testing.T) {
	c, _ := woocommerce.New(connector.Config{Secret: secret})
	connectortest.Run(t, connectortest.Suite{
		Connector: c,
		Sign: func(body []byte) http.Header {
			h := http.Header{}
			h.Set(woocommerce.HeaderSignature, connector.SignBase64(secret, body))
			h.Set(woocommerce.HeaderTopic, "order.created")
			h.Set(woocommerce.HeaderDeliveryID, "d-1")
			return h
		},
		Cases: []connectortest.Case{{
			Name:    "order_v3",
			Payload: fixture(t),
			Want: connectortest.Want{
				ExternalID: "727",
				Currency:   "USD",
				// date_created_gmt; date_created is site-local (UTC−3 here).
				PlacedAt: time.Date(2017, 3, 22, 19, 28, 2, 0, time.UTC),
				Status:   order.StatusOpen,
				Lines: []order.Line{
					{SKU: "woocommerce:product:93", Quantity: 2, UnitPrice: 300, Tax: 45},
					{SKU: "Bar3", Quantity: 1, UnitPrice: 1200, Tax: 90},
				},
				LineExternalIDs: []string{"315", "316"},
				Reported:        &order.Totals{Subtotal: 1800, ShippingTotal: 1000, TaxTotal: 135, Total: 2935},
				Problems:        1, // the first line has no sku
			},
		}},
	})
}

func TestParseOrderFixture(t *testing.T) {
	in, err := woocommerce.ParseOrder(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	o := in.Order
	if in.ChannelStatus != "processing" || in.FinancialStatus != "paid" || in.Number != "727" {
		t.Errorf("status %q financial %q number %q", in.ChannelStatus, in.FinancialStatus, in.Number)
	}
	if !in.UpdatedAt.Equal(time.Date(2017, 3, 22, 19, 28, 8, 0, time.UTC)) {
		t.Errorf("UpdatedAt = %v", in.UpdatedAt)
	}
	want := orderly.Address{Name: "John Doe", Line1: "969 Market", City: "San Francisco", Region: "CA", PostalCode: "94103", Country: "US"}
	if o.ShippingAddress != want {
		t.Errorf("shipping address = %+v", o.ShippingAddress)
	}
	want.Phone = "(555) 555-5555"
	if o.BillingAddress != want || o.Customer != (order.Customer{Name: "John Doe", Email: "john.doe@example.com", Phone: "(555) 555-5555"}) {
		t.Errorf("billing %+v customer %+v", o.BillingAddress, o.Customer)
	}
	if len(o.ShippingLines) != 1 || o.ShippingLines[0] != (order.ShippingLine{Code: "flat_rate", Name: "Flat Rate", Price: 1000}) {
		t.Errorf("shipping lines = %+v", o.ShippingLines)
	}
	if len(in.Adjustments) != 0 {
		t.Errorf("adjustments = %+v", in.Adjustments)
	}
}

func edit(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(string(fixture(t))))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, _ := json.Marshal(m)
	return b
}

func item(m map[string]any, i int) map[string]any { return m["line_items"].([]any)[i].(map[string]any) }

func TestParseOrderRules(t *testing.T) {
	for _, tc := range []struct {
		status string
		want   order.Status
		cancel bool
	}{
		{"pending", order.StatusPending, false}, {"on-hold", order.StatusPending, false},
		{"completed", order.StatusOpen, false}, {"cancelled", order.StatusCancelled, true},
		{"refunded", order.StatusCancelled, true}, {"failed", order.StatusCancelled, true},
		{"shipped-by-plugin", order.StatusPending, false},
	} {
		in, err := woocommerce.ParseOrder(edit(t, func(m map[string]any) { m["status"] = tc.status }))
		if err != nil {
			t.Fatal(err)
		}
		if in.Status != tc.want || (in.Cancellation != nil) != tc.cancel {
			t.Errorf("%s: status %q cancellation %+v", tc.status, in.Status, in.Cancellation)
		}
	}

	// A coupon: subtotal − total is the discount; a fee and shipping tax
	// are adjustments; a quantity that does not divide the subtotal is flagged.
	in, err := woocommerce.ParseOrder(edit(t, func(m map[string]any) {
		l := item(m, 1)
		l["total"] = "10.00"
		l["quantity"] = 1
		l0 := item(m, 0)
		l0["quantity"] = 3
		l0["subtotal"] = "10.00"
		l0["total"] = "10.00"
		l0["variation_id"] = 94
		m["shipping_lines"].([]any)[0].(map[string]any)["total_tax"] = "0.75"
		m["fee_lines"] = []any{map[string]any{"name": "Gift wrap", "total": "2.50", "total_tax": "0"}}
		m["discount_total"] = "2.00"
		m["total"] = "34.35"
		delete(m, "date_created_gmt")
	}))
	if err != nil {
		t.Fatal(err)
	}
	l0, l1 := in.Order.Lines[0], in.Order.Lines[1]
	if l0.SKU != "woocommerce:variation:94" || l0.UnitPrice != 333 || l1.Discount != 200 {
		t.Errorf("lines = %+v %+v", l0, l1)
	}
	if len(in.Adjustments) != 2 || in.Adjustments[0].Kind != "shipping_tax" || in.Adjustments[0].Amount != 75 ||
		in.Adjustments[1].Kind != "fee" || in.Adjustments[1].Amount != 250 {
		t.Errorf("adjustments = %+v", in.Adjustments)
	}
	// date_created read as UTC (flagged), sku fallback, 10.00/3, subtotal
	// and total no longer add up.
	got := strings.Join(in.Problems, "\n")
	for _, want := range []string{"date_created (site-local", "woocommerce:variation:94", "does not divide by quantity 3", "reported subtotal", "reported total"} {
		if !strings.Contains(got, want) {
			t.Errorf("no problem about %q in:\n%s", want, got)
		}
	}
	if !in.Order.PlacedAt.Equal(time.Date(2017, 3, 22, 16, 28, 2, 0, time.UTC)) {
		t.Errorf("PlacedAt = %v", in.Order.PlacedAt)
	}
}

func TestParseOrderInvalid(t *testing.T) {
	for name, tc := range map[string]struct {
		f     func(m map[string]any)
		field string
	}{
		"no id":          {func(m map[string]any) { delete(m, "id") }, "id"},
		"float id":       {func(m map[string]any) { m["id"] = json.Number("727.5") }, "id"},
		"bad subtotal":   {func(m map[string]any) { item(m, 0)["subtotal"] = "six" }, "line_items[0].subtotal"},
		"bad quantity":   {func(m map[string]any) { item(m, 1)["quantity"] = true }, "line_items.quantity"},
		"bad total":      {func(m map[string]any) { m["total"] = true }, "total"},
		"no dates":       {func(m map[string]any) { delete(m, "date_created_gmt"); delete(m, "date_created") }, "date_created_gmt"},
		"bad modified":   {func(m map[string]any) { m["date_modified_gmt"] = "22/03/2017" }, "date_modified_gmt"},
		"lower currency": {func(m map[string]any) { m["currency"] = "usdx" }, "currency"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := woocommerce.ParseOrder(edit(t, tc.f))
			var e *orderly.Error
			ok := errors.As(err, &e)
			if !ok || e.Kind != orderly.KindInvalid || e.Fields[0].Field != tc.field {
				t.Errorf("err = %v, want invalid %s", err, tc.field)
			}
		})
	}
}

func FuzzParseOrder(f *testing.F) {
	f.Add(fixture(f))
	f.Add([]byte(`{"id":1,"currency":"KWD","date_created_gmt":"2020-01-01T00:00:00","line_items":[{"quantity":3,"subtotal":"1.0005","total":"2"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := woocommerce.ParseOrder(b)
		if err != nil {
			if k := orderly.KindOf(err); k != orderly.KindInvalid {
				t.Fatalf("error kind %s: %v", k, err)
			}
			return
		}
		if len(in.LineExternalIDs) != len(in.Order.Lines) {
			t.Fatal("line ids out of step with lines")
		}
	})
}
