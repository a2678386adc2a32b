package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

func TestRerouteOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		if _, err := b.svc.CreateLocation(ctx, admin, &inventory.Location{Code: "wh2", Name: "Second", Kind: inventory.LocationWarehouse, Active: true}); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"A", "B"} {
			if _, _, err := b.svc.AdjustStock(ctx, admin, service.Adjustment{Location: "wh2", SKU: s, Delta: 10, Reason: inventory.ReasonReceive}); err != nil {
				t.Fatal(err)
			}
		}
		o, _, err := b.svc.CreateOrder(ctx, admin, newOrder("web", "R-1"), false)
		if err != nil {
			t.Fatal(err)
		}
		allocs, _ := b.svc.OrderAllocations(ctx, admin, o.ID)
		if len(allocs) == 0 {
			t.Fatal("the order has nothing allocated")
		}
		from := allocs[0].Location
		to := map[string]string{"wh1": "wh2", "wh2": "wh1"}[from]

		if _, err := b.svc.RerouteOrder(ctx, viewer, "1001", from, ""); orderly.KindOf(err) != orderly.KindForbidden {
			t.Fatalf("viewer: %v", err)
		}
		wh := auth.Principal{Name: "key:wh", Role: auth.RoleWarehouse, Location: from}
		if _, err := b.svc.RerouteOrder(ctx, wh, "1001", from, ""); orderly.KindOf(err) != orderly.KindForbidden {
			t.Fatalf("warehouse: %v", err)
		}
		if _, err := b.svc.RerouteOrder(ctx, agent, "1001", "nowhere", ""); orderly.KindOf(err) != orderly.KindConflict {
			t.Fatalf("nothing reserved there: %v", err)
		}
		got, err := b.svc.RerouteOrder(ctx, agent, "1001", from, "closer to the customer")
		if err != nil {
			t.Fatalf("reroute: %v", err)
		}
		if got.Status != order.StatusOpen {
			t.Fatalf("status %s, want open", got.Status)
		}
		allocs, _ = b.svc.OrderAllocations(ctx, admin, o.ID)
		var units int64
		for _, a := range allocs {
			if a.Location != to {
				t.Errorf("allocation at %s after re-routing away from %s", a.Location, from)
			}
			units += a.Quantity
		}
		if units != 3 {
			t.Errorf("%d units reserved after the re-route, want 3", units)
		}
		fos, _, err := b.svc.OrderFulfilment(ctx, admin, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		var open, cancelled int
		for _, f := range fos {
			switch {
			case f.Location == from && f.Status == fulfilment.StatusCancelled:
				cancelled++
			case f.Location == to && f.Status == fulfilment.StatusRequested:
				open++
			default:
				t.Errorf("fulfilment order at %s is %s", f.Location, f.Status)
			}
		}
		if open != 1 || cancelled != 1 {
			t.Errorf("fulfilment orders: %d requested at %s, %d cancelled at %s", open, to, cancelled, from)
		}
		events, _ := b.svc.Timeline(ctx, admin, o.ID)
		var types []string
		for _, e := range events {
			types = append(types, e.Type)
		}
		want := []string{"order.reroute_requested", "order.rerouted"}
		if !containsInOrder(types, want) {
			t.Errorf("timeline %v lacks %v", types, want)
		}
		if m, err := b.svc.CheckLedger(ctx); err != nil || len(m) != 0 {
			t.Errorf("ledger check: %v %v", m, err)
		}

		// Nothing elsewhere: the units are backordered and the order held.
		b.clock.Advance(time.Minute)
		got, err = b.svc.RerouteOrder(ctx, agent, "1001", to, "")
		if err != nil {
			t.Fatalf("second reroute: %v", err)
		}
		if got.Status != order.StatusOnHold || got.Hold == nil || got.Hold.Reason != service.HoldUnfillable {
			// The first location still has stock, so it may take them back.
			if got.Status != order.StatusOpen {
				t.Fatalf("after re-routing away from %s: %s %+v", to, got.Status, got.Hold)
			}
		}
		if m, err := b.svc.CheckLedger(ctx); err != nil || len(m) != 0 {
			t.Errorf("ledger check: %v %v", m, err)
		}
	})
}

// containsInOrder reports whether want appears in got as a subsequence.
func containsInOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}
