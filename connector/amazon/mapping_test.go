package amazon_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/connector/amazon"
	"github.com/orderly-oms/orderly/connector/connectortest"
	"github.com/orderly-oms/orderly/order"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// published builds a Bundle from the two published examples: the Pending
// order of getOrders and the items of getOrderItems. (Amazon's examples
// describe different orders; PullOrders pairs them by id in real use.)
func published(t testing.TB, edit func(o map[string]any)) []byte {
	t.Helper()
	var orders struct {
		Payload struct{ Orders []json.RawMessage } `json:"payload"`
	}
	var items struct {
		Payload struct{ OrderItems []json.RawMessage } `json:"payload"`
	}
	if err := json.Unmarshal(fixture(t, "getOrders_example.json"), &orders); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(fixture(t, "getOrderItems_example.json"), &items); err != nil {
		t.Fatal(err)
	}
	o := orders.Payload.Orders[0]
	if edit != nil {
		var m map[string]any
		if err := json.Unmarshal(o, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		o, _ = json.Marshal(m)
	}
	b, err := json.Marshal(amazon.Bundle{Order: o, Items: items.Payload.OrderItems})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestContract(t *testing.T) {
	c, _ := amazon.New(connector.Config{})
	connectortest.Run(t, connectortest.Suite{
		Connector: c,
		Cases: []connectortest.Case{{
			Name:    "published pending order",
			Payload: published(t, nil),
			Want: connectortest.Want{
				ExternalID: "902-3159896-1390916",
				// No OrderTotal while Pending: the items' currency.
				Currency: "JPY",
				PlacedAt: time.Date(2017, 1, 20, 19, 49, 35, 0, time.UTC),
				Status:   order.StatusPending,
				Lines: []order.Line{
					{SKU: "CBA_OTF_1", Quantity: 1, UnitPrice: 26},
					{SKU: "CBA_OTF_5", Quantity: 2, UnitPrice: 9},
				},
				LineExternalIDs: []string{"68828574383266", "79039765272157"},
				Reported:        nil,
				// JPY vs the US marketplace; 25.99, 1.26, 1.99, 17.95 JPY
				// rounded; GBP gift wrap kept apart; two buyer cancel requests.
				Problems: 8,
			},
		}},
	})
}

func TestParseOrderPublished(t *testing.T) {
	in, err := amazon.ParseOrder(published(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	o := in.Order
	if in.ChannelStatus != "Pending" || o.Customer != (order.Customer{Name: "John Doe", Email: "user@example.com"}) {
		t.Errorf("status %q customer %+v", in.ChannelStatus, o.Customer)
	}
	if o.ShippingAddress != (orderly.Address{Name: "Michigan address", Line1: "1 Cross St.", City: "Canton", Region: "MI", PostalCode: "48817", Country: "US"}) {
		t.Errorf("address %+v", o.ShippingAddress)
	}
	if len(o.ShippingLines) != 1 || o.ShippingLines[0] != (order.ShippingLine{Code: "Standard", Name: "Standard", Price: 1}) {
		t.Errorf("shipping %+v", o.ShippingLines)
	}
	want := []connector.Adjustment{
		{Kind: "cod_fee", Amount: 10, Currency: "JPY", Ref: "items[0].CODFee"},
		{Kind: "cod_fee_discount", Amount: -1, Currency: "JPY", Ref: "items[0].CODFeeDiscount"},
		{Kind: "gift_wrap", Amount: 4199, Currency: "GBP", Ref: "items[0].BuyerInfo.GiftWrapPrice"},
		{Kind: "gift_wrap", Amount: 2, Currency: "JPY", Ref: "items[1].BuyerInfo.GiftWrapPrice"},
	}
	if len(in.Adjustments) != len(want) {
		t.Fatalf("adjustments %+v", in.Adjustments)
	}
	for i := range want {
		if in.Adjustments[i] != want[i] {
			t.Errorf("adjustments[%d] = %+v, want %+v", i, in.Adjustments[i], want[i])
		}
	}
	all := strings.Join(in.Problems, "\n")
	for _, p := range []string{"41.99 GBP is not in the order's currency JPY", "25.99 JPY has more decimals", "buyer requested cancellation: Found cheaper"} {
		if !strings.Contains(all, p) {
			t.Errorf("no problem %q in\n%s", p, all)
		}
	}
}

func TestParseOrderStatuses(t *testing.T) {
	// Unshipped with a total: open, reported totals kept and checked.
	in, err := amazon.ParseOrder(published(t, func(o map[string]any) {
		o["OrderStatus"] = "Unshipped"
		o["MarketplaceId"] = "A1VC38T7YXB528"
		o["OrderTotal"] = map[string]any{"CurrencyCode": "JPY", "Amount": "100"}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if in.Status != order.StatusOpen || in.Reported == nil || in.Reported.Total != 100 || in.Reported.Subtotal != 44 {
		t.Errorf("status %q reported %+v", in.Status, in.Reported)
	}
	if !strings.Contains(strings.Join(in.Problems, "\n"), "reported total") {
		t.Errorf("problems %q", in.Problems)
	}
	in, err = amazon.ParseOrder(published(t, func(o map[string]any) { o["OrderStatus"] = "Canceled" }))
	if err != nil {
		t.Fatal(err)
	}
	if in.Status != order.StatusCancelled || in.Cancellation == nil || in.Cancellation.Reason != "Found cheaper somewhere else." {
		t.Errorf("status %q cancellation %+v", in.Status, in.Cancellation)
	}
}

func TestParseOrderInvalid(t *testing.T) {
	for name, tc := range map[string]struct {
		edit  func(o map[string]any)
		field string
	}{
		"no id":      {func(o map[string]any) { delete(o, "AmazonOrderId") }, "order.AmazonOrderId"},
		"no date":    {func(o map[string]any) { delete(o, "PurchaseDate") }, "order.PurchaseDate"},
		"bad total":  {func(o map[string]any) { o["OrderTotal"] = map[string]any{"CurrencyCode": "JPY", "Amount": "lots"} }, "order.OrderTotal.Amount"},
		"bad cur":    {func(o map[string]any) { o["OrderTotal"] = map[string]any{"CurrencyCode": "ZZZ", "Amount": "1"} }, "order.OrderTotal.CurrencyCode"},
		"bad shipTo": {func(o map[string]any) { o["ShippingAddress"] = "Canton" }, "order.ShippingAddress"},
	} {
		_, err := amazon.ParseOrder(published(t, tc.edit))
		var e *orderly.Error
		ok := errors.As(err, &e)
		if !ok || e.Kind != orderly.KindInvalid || e.Fields[0].Field != tc.field {
			t.Errorf("%s: err = %v, want invalid %s", name, err, tc.field)
		}
	}
}

func FuzzParseOrder(f *testing.F) {
	f.Add(published(f, nil))
	f.Add([]byte(`{"order":{"AmazonOrderId":"1","PurchaseDate":"2020-01-01T00:00:00Z","OrderTotal":{"CurrencyCode":"EUR","Amount":"1.005"}},"items":[{"QuantityOrdered":0}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := amazon.ParseOrder(b)
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
