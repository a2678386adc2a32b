package service_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// posSetup adds to setup a pos channel "till" and an active store
// "store1" holding 5 of A and 5 of B.
func posSetup(t *testing.T, st store.Store) bundle {
	t.Helper()
	b := setup(t, st)
	ctx := context.Background()
	if _, err := b.svc.CreateChannel(ctx, admin, &channel.Channel{Code: "till", Kind: channel.KindPOS, Name: "Tills", Policy: channel.DefaultPolicy()}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*inventory.Location{
		{Code: "store1", Name: "High Street", Kind: inventory.LocationStore, Active: true},
		{Code: "closed", Name: "Closed shop", Kind: inventory.LocationStore, Active: false},
	} {
		if _, err := b.svc.CreateLocation(ctx, admin, l); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"A", "B"} {
		if _, _, err := b.svc.AdjustStock(ctx, admin, service.Adjustment{Location: "store1", SKU: s, Delta: 5, Reason: inventory.ReasonReceive}); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func wantBalance(t *testing.T, st store.Store, location, sku string, onHand, reserved int64) {
	t.Helper()
	bal, err := st.BalanceGet(context.Background(), location, sku)
	if err != nil {
		t.Fatal(err)
	}
	if bal.OnHand != onHand || bal.Reserved != reserved {
		t.Errorf("%s/%s: on hand %d reserved %d, want %d and %d", location, sku, bal.OnHand, bal.Reserved, onHand, reserved)
	}
}

func eventTypes(t *testing.T, b bundle, orderID string) []string {
	t.Helper()
	es, err := b.svc.Timeline(context.Background(), admin, orderID)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Type
	}
	return out
}

// TestPOSFulfilledSale: a sale handed over at a store moves its stock
// straight out of that store — a ship movement, nothing reserved, no
// allocation — and ends delivered with a shipped fulfilment order and a
// delivered shipment, in one capture; sending it again changes nothing.
func TestPOSFulfilledSale(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := posSetup(t, st)
		ctx := context.Background()
		in := newOrder("till", "T-1")
		in.ShippingLines = nil
		o, created, err := b.svc.CreateFulfilledOrder(ctx, admin, in, "store1")
		if err != nil || !created {
			t.Fatalf("created=%v err=%v", created, err)
		}
		if o.Status != order.StatusDelivered || o.FulfilmentStatus() != order.FulfilmentDelivered {
			t.Errorf("status %s / %s, want delivered", o.Status, o.FulfilmentStatus())
		}
		if o.FinancialStatus != service.FinancialPaid || o.PaymentStatus() != order.PaymentPaid {
			t.Errorf("financial status %q, payment status %s", o.FinancialStatus, o.PaymentStatus())
		}
		if o.Policy == nil || !reflect.DeepEqual(*o.Policy, channel.DefaultPolicy()) {
			t.Errorf("policy %+v", o.Policy)
		}
		stored, err := b.svc.GetOrder(ctx, admin, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range stored.Lines {
			if l.Shipped != l.Quantity || l.Delivered != l.Quantity || l.Allocated != 0 || l.Backordered != 0 {
				t.Errorf("line %+v", l)
			}
		}
		if stored.Status != order.StatusDelivered {
			t.Errorf("stored status %s", stored.Status)
		}
		wantBalance(t, st, "store1", "A", 3, 0)
		wantBalance(t, st, "store1", "B", 4, 0)
		wantBalance(t, st, "wh1", "A", 1000, 0)
		allocs, err := st.AllocationListByOrder(ctx, o.ID)
		if err != nil || len(allocs) != 0 {
			t.Errorf("allocations %v, err %v; want none", allocs, err)
		}
		fos, shs, err := b.svc.OrderFulfilment(ctx, admin, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(fos) != 1 || fos[0].Location != "store1" || fos[0].Status != fulfilment.StatusShipped || fos[0].Open() != 0 {
			t.Fatalf("fulfilment orders %+v", fos)
		}
		if len(shs) != 1 || shs[0].Status != fulfilment.TrackingDelivered || shs[0].Carrier != service.CounterCarrier ||
			shs[0].DeliveredAt == nil || !shs[0].DeliveredAt.Equal(o.PlacedAt) {
			t.Fatalf("shipments %+v", shs)
		}
		ms, _, err := b.svc.Ledger(ctx, admin, store.MovementListParams{Location: "store1", SKU: "A"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 2 || ms[0].Reason != inventory.ReasonShip || ms[0].DeltaOnHand != -2 || ms[0].DeltaReserved != 0 ||
			ms[0].Reference != "shipment:"+shs[0].ID {
			t.Errorf("ledger %+v, want the ship movement newest", ms)
		}
		want := []string{"order.created", "fulfilment.shipped", "shipment.delivered", "order.delivered"}
		if got := eventTypes(t, b, o.ID); !reflect.DeepEqual(got, want) {
			t.Errorf("timeline %v, want %v", got, want)
		}
		// Sent again: the same order, nothing moved.
		again, created, err := b.svc.CreateFulfilledOrder(ctx, admin, newOrder("till", "T-1"), "store1")
		if err != nil || created || again.ID != o.ID {
			t.Fatalf("again: created=%v err=%v", created, err)
		}
		wantBalance(t, st, "store1", "A", 3, 0)
		if m, err := b.svc.CheckLedger(ctx); err != nil || len(m) != 0 {
			t.Errorf("ledger check %v %v", m, err)
		}
	})
}

// TestPOSRefusals: where fulfilled_at_location cannot be, nothing is stored.
func TestPOSRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := posSetup(t, st)
		ctx := context.Background()
		for _, c := range []struct {
			channel, location, field string
		}{
			{"till", "nowhere", "fulfilled_at_location"},
			{"till", "closed", "fulfilled_at_location"},
			{"web", "store1", "fulfilled_at_location"}, // not a pos channel
			{"nope", "store1", "channel"},
		} {
			_, _, err := b.svc.CreateFulfilledOrder(ctx, admin, newOrder(c.channel, "R-"+c.location), c.location)
			assertField(t, err, c.field)
		}
		bad := newOrder("till", "R-sku")
		bad.Lines[1].SKU = "ZZZ"
		_, _, err := b.svc.CreateFulfilledOrder(ctx, admin, bad, "store1")
		assertField(t, err, "lines[1].sku")
		if _, _, err := b.svc.CreateFulfilledOrder(ctx, viewer, newOrder("till", "R-v"), "store1"); err == nil {
			t.Error("a viewer captured a sale")
		}
		wantBalance(t, st, "store1", "A", 5, 0)
		list, _, err := b.svc.ListOrders(ctx, admin, store.OrderListParams{Channel: "till"})
		if err != nil || len(list) != 0 {
			t.Errorf("orders %v err %v; want none", list, err)
		}
	})
}

// TestPOSSaleBeyondStock: selling more than the ledger shows on hand is
// recorded (a sale happened): the missing units are added back by an
// adjust movement with inventory.shortage and inventory.adjusted, the order
// is flagged, and the balance ends at zero, never negative.
func TestPOSSaleBeyondStock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := posSetup(t, st)
		ctx := context.Background()
		in := newOrder("till", "T-short")
		in.Lines = in.Lines[:1]
		in.Lines[0].Quantity = 7 // 5 on hand
		o, created, err := b.svc.CreateFulfilledOrder(ctx, admin, in, "store1")
		if err != nil || !created {
			t.Fatalf("created=%v err=%v", created, err)
		}
		wantBalance(t, st, "store1", "A", 0, 0)
		ms, _, err := b.svc.Ledger(ctx, admin, store.MovementListParams{Location: "store1", SKU: "A"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 3 || ms[1].Reason != inventory.ReasonAdjust || ms[1].DeltaOnHand != 2 || ms[0].DeltaOnHand != -7 {
			t.Errorf("ledger %+v", ms)
		}
		if got := eventTypes(t, b, o.ID); !reflect.DeepEqual(got, []string{"order.created", "fulfilment.shipped",
			"shipment.delivered", "order.delivered", "order.flagged"}) {
			t.Errorf("timeline %v", got)
		}
		es, err := st.EventList(ctx, store.EventListParams{Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		var shortage, adjusted bool
		for _, e := range es {
			shortage = shortage || e.Type == "inventory.shortage" && e.SubjectID == "store1/A"
			adjusted = adjusted || e.Type == "inventory.adjusted" && e.SubjectID == "store1/A"
		}
		if !shortage || !adjusted {
			t.Errorf("inventory.shortage %v, inventory.adjusted %v; want both", shortage, adjusted)
		}
		if m, err := b.svc.CheckLedger(ctx); err != nil || len(m) != 0 {
			t.Errorf("ledger check %v %v", m, err)
		}
	})
}

// TestPolicySnapshot: the channel's policy is copied onto the order at
// capture and stays as it was when the channel's policy changes.
func TestPolicySnapshot(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		o, _, err := b.svc.CreateOrder(ctx, admin, newOrder("web", "P-1"), false)
		if err != nil {
			t.Fatal(err)
		}
		if o.Policy == nil || !reflect.DeepEqual(*o.Policy, channel.DefaultPolicy()) {
			t.Fatalf("policy at capture %+v", o.Policy)
		}
		days, hours, refunder, email := 7, 24, channel.RefundsMarketplace, false
		if _, err := b.svc.UpdateChannel(ctx, admin, "web", service.ChannelPatch{Policy: &service.PolicyPatch{
			ReturnWindowDays: &days, ConfirmShipmentWithinHours: &hours, Refunds: &refunder, MayEmailCustomer: &email}}); err != nil {
			t.Fatal(err)
		}
		got, err := b.svc.GetOrder(ctx, admin, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Policy == nil || !reflect.DeepEqual(*got.Policy, channel.DefaultPolicy()) {
			t.Errorf("policy after the channel changed %+v, want the one at capture", got.Policy)
		}
		later, _, err := b.svc.CreateOrder(ctx, admin, newOrder("web", "P-2"), false)
		if err != nil {
			t.Fatal(err)
		}
		want := channel.DefaultPolicy()
		want.ReturnWindowDays, want.ConfirmShipmentWithinHours, want.Refunds, want.MayEmailCustomer = 7, 24, channel.RefundsMarketplace, false
		if later.Policy == nil || !reflect.DeepEqual(*later.Policy, want) {
			t.Errorf("policy of a later order %+v, want %+v", later.Policy, want)
		}
		bad := "us"
		_, err = b.svc.UpdateChannel(ctx, admin, "web", service.ChannelPatch{Policy: &service.PolicyPatch{Refunds: (*channel.Refunder)(&bad)}})
		assertField(t, err, "policy.refunds")
	})
}

// TestPOSSaleUncoversReservation: a counter sale that leaves another
// order's reservation at the store without stock raises
// inventory.shortage and holds that order (stock_shortage), as a count
// would.
func TestPOSSaleUncoversReservation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := posSetup(t, st)
		ctx := context.Background()
		if _, err := b.svc.CreateChannel(ctx, admin, &channel.Channel{Code: "click", Kind: channel.KindAPI, Name: "Click and collect",
			Policy: channel.DefaultPolicy(), Locations: []string{"store1"}}); err != nil {
			t.Fatal(err)
		}
		web := newOrder("click", "CC-1")
		web.Lines = web.Lines[:1]
		web.Lines[0].Quantity = 3
		reserved, _, err := b.svc.CreateOrder(ctx, admin, web, false)
		if err != nil || reserved.Lines[0].Allocated != 3 {
			t.Fatalf("reserving order: %+v %v", reserved, err)
		}
		sale := newOrder("till", "T-over")
		sale.Lines = sale.Lines[:1]
		sale.Lines[0].Quantity = 4
		if _, _, err := b.svc.CreateFulfilledOrder(ctx, admin, sale, "store1"); err != nil {
			t.Fatal(err)
		}
		wantBalance(t, st, "store1", "A", 1, 3)
		held, err := b.svc.GetOrder(ctx, admin, reserved.ID)
		if err != nil {
			t.Fatal(err)
		}
		if held.Status != order.StatusOnHold || held.Hold == nil || held.Hold.Reason != service.HoldStockShortage {
			t.Errorf("reserving order %s %+v, want held for stock_shortage", held.Status, held.Hold)
		}
		if m, err := b.svc.CheckLedger(ctx); err != nil || len(m) != 0 {
			t.Errorf("ledger check %v %v", m, err)
		}
	})
}
