package storetest

import (
	"testing"
	"time"

	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// orderPolicyTests cover the columns of migrations 0011 and 0017: the
// policy copied onto an order and what the channel reported about it.
var orderPolicyTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"OrderPolicyRoundTrip", testOrderPolicyRoundTrip},
	{"OrderPolicyCapture", testOrderPolicyCapture},
	{"OrderPolicyUpdate", testOrderPolicyUpdate},
}

// withChannelFacts sets every field of 0011 and 0017 on o.
func withChannelFacts(o *order.Order) *order.Order {
	o.Policy = &channel.Policy{CancellationWindowMinutes: 60, ReturnWindowDays: 14, PartialCancellation: false,
		Refunds: channel.RefundsMarketplace, ConfirmShipmentWithinHours: 48, MayEmailCustomer: false}
	o.ChannelStatus, o.FinancialStatus = "Unshipped", "paid"
	o.ReportedTotals = &order.Totals{Subtotal: 4897, DiscountTotal: 200, ShippingTotal: 495, TaxTotal: 0, Total: 5192}
	at := time.Date(2026, 11, 28, 9, 30, 15, 123456000, time.UTC)
	o.ChannelUpdatedAt = &at
	return o
}

// testOrderPolicyRoundTrip stores orders with and without the channel's
// facts through OrderInsert and reads them back every way.
func testOrderPolicyRoundTrip(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web")
	full := mustInsertOrder(t, s, withChannelFacts(NewOrder("web", "POL1")))
	got := getOrderEveryWay(t, s, full)
	equal(t, "order with policy", got, full)
	if got.Policy == nil || got.Policy.Refunds != channel.RefundsMarketplace || got.ReportedTotals == nil || got.ReportedTotals.Total != 5192 {
		t.Errorf("read back policy %+v, reported %+v", got.Policy, got.ReportedTotals)
	}
	bare := mustInsertOrder(t, s, NewOrder("web", "POL2"))
	got = getOrderEveryWay(t, s, bare)
	equal(t, "order without policy", got, bare)
	if got.Policy != nil || got.ReportedTotals != nil || got.ChannelStatus != "" || got.FinancialStatus != "" || got.ChannelUpdatedAt != nil {
		t.Errorf("an order stored without them reads back policy %+v, reported %+v, %q, %q, channel time %v",
			got.Policy, got.ReportedTotals, got.ChannelStatus, got.FinancialStatus, got.ChannelUpdatedAt)
	}
	list, err := s.OrderList(ctx, store.OrderListParams{Channel: "web", Limit: 10})
	ok(t, "list", err)
	if len(list) != 2 {
		t.Fatalf("listed %d orders", len(list))
	}
	equal(t, "listed order with policy", list[1], full)
}

// testOrderPolicyCapture stores the facts through OrderCapture, with picks
// (one round trip on PostgreSQL) and without.
func testOrderPolicyCapture(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds"}, []string{"A"})
	mustInsertChannels(t, s, "web")
	mustMove(t, s, newMove("leeds", "A", 10, 0, inventory.ReasonReceive, 0))
	o := withChannelFacts(NewOrder("web", "POLCAP1"))
	o.Lines[0].Allocated = 1
	p := captureParams(o, pk(o.Lines[0].ID, "A", "leeds", 1))
	ok(t, "capture with picks", s.InTx(ctx, func(tx store.Querier) error { return tx.OrderCapture(ctx, p) }))
	equal(t, "captured with picks", getOrderEveryWay(t, s, o), o)

	o2 := withChannelFacts(NewOrder("web", "POLCAP2"))
	o2.ReportedTotals = nil
	ok(t, "capture without picks", s.OrderCapture(ctx, captureParams(o2)))
	equal(t, "captured without picks", getOrderEveryWay(t, s, o2), o2)
}

// testOrderPolicyUpdate: OrderUpdate writes the channel and financial
// status and the reported totals when given (a pending marketplace order
// gets them when it is confirmed); the policy never changes after capture.
func testOrderPolicyUpdate(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web")
	o := mustInsertOrder(t, s, withChannelFacts(NewOrder("web", "POLUPD")))
	stored := *o.Policy
	o.ChannelStatus, o.FinancialStatus = "Shipped", "refunded"
	later := o.ChannelUpdatedAt.Add(90 * time.Minute)
	o.ChannelUpdatedAt = &later
	o.Policy.ReturnWindowDays = 99
	reported := o.ReportedTotals
	o.ReportedTotals = nil // not given: the stored ones stay
	ok(t, "update", s.OrderUpdate(ctx, o))
	got, err := s.OrderGet(ctx, o.ID)
	ok(t, "get", err)
	if got.ChannelStatus != "Shipped" || got.FinancialStatus != "refunded" {
		t.Errorf("statuses %q, %q after update", got.ChannelStatus, got.FinancialStatus)
	}
	if got.ChannelUpdatedAt == nil || !got.ChannelUpdatedAt.Equal(later) {
		t.Errorf("channel_updated_at %v after update, want %v", got.ChannelUpdatedAt, later)
	}
	equal(t, "policy after update", *got.Policy, stored)
	if got.ReportedTotals == nil || got.ReportedTotals.Total != 5192 {
		t.Errorf("reported totals %+v after an update without them, want the captured total 5192", got.ReportedTotals)
	}

	// Given: they replace the stored ones, and line prices change with them.
	reported.Total = 7777
	got.ReportedTotals = reported
	got.Lines[0].UnitPrice, got.Lines[0].Name = 2500, "Red tee, M (confirmed)"
	ok(t, "update with reported totals", s.OrderUpdate(ctx, got))
	again, err := s.OrderGet(ctx, o.ID)
	ok(t, "get", err)
	if again.ReportedTotals == nil || again.ReportedTotals.Total != 7777 {
		t.Errorf("reported totals %+v after an update with them, want total 7777", again.ReportedTotals)
	}
	if again.Lines[0].UnitPrice != 2500 || again.Lines[0].Name != "Red tee, M (confirmed)" {
		t.Errorf("line 0 after update: %+v, want the new price and name", again.Lines[0])
	}
}
