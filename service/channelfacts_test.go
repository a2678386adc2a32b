package service_test

import (
	"context"
	"testing"

	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// TestChannelFactsKept: what a channel reports about an order — its own
// status, its payment status, its totals — is stored on the order as
// reported (a tax-inclusive total differing from Orderly's stays visible),
// and a later delivery's new statuses replace the old ones.
func TestChannelFactsKept(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		reported := &order.Totals{Subtotal: 2550, ShippingTotal: 495, Total: 3045} // tax included in prices
		in := &connector.Inbound{Order: *newOrder("", "CF-1"), Status: order.StatusOpen,
			ChannelStatus: "open", FinancialStatus: "authorized", Reported: reported}
		o, created, err := b.svc.CaptureChannelOrder(ctx, "shop", connector.Delivery{ID: "d1", Topic: "orders/create", IsOrder: true}, in)
		if err != nil || !created {
			t.Fatalf("capture: %v %v", created, err)
		}
		got, err := b.svc.GetOrder(ctx, admin, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ChannelStatus != "open" || got.FinancialStatus != "authorized" || got.PaymentStatus() != order.PaymentAuthorized ||
			got.ReportedTotals == nil || *got.ReportedTotals != *reported || got.Totals.Total == reported.Total || got.Policy == nil {
			t.Fatalf("stored %+v", got)
		}
		in2 := &connector.Inbound{Order: *newOrder("", "CF-1"), Status: order.StatusOpen, ChannelStatus: "closed", FinancialStatus: "paid"}
		if _, _, err := b.svc.CaptureChannelOrder(ctx, "shop", connector.Delivery{ID: "d2", Topic: "orders/updated", IsOrder: true}, in2); err != nil {
			t.Fatal(err)
		}
		got, err = b.svc.GetOrder(ctx, admin, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ChannelStatus != "closed" || got.FinancialStatus != "paid" || got.PaymentStatus() != order.PaymentPaid ||
			*got.ReportedTotals != *reported {
			t.Errorf("after the update %+v", got)
		}
	})
}
