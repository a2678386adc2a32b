package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

func TestDashboard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		for _, ext := range []string{"D-1", "D-2"} {
			if _, _, err := b.svc.CreateOrder(ctx, admin, newOrder("web", ext), false); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := b.svc.CreateOrder(ctx, admin, newOrder("shop", "D-3"), false); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.HoldOrder(ctx, agent, "1002", "address check"); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.SetLocationSLA(ctx, viewer, "wh1", time.Hour); err == nil {
			t.Fatal("a viewer set an SLA")
		}
		if err := b.svc.SetLocationSLA(ctx, admin, "wh1", time.Hour); err != nil {
			t.Fatal(err)
		}
		b.clock.Advance(2 * time.Hour)
		d, err := b.svc.Dashboard(ctx, viewer, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		want := []service.ChartBar{{Label: "shop", N: 1}, {Label: "web", N: 2}}
		if len(d.OrdersByChannel) != 2 || d.OrdersByChannel[0] != want[0] || d.OrdersByChannel[1] != want[1] {
			t.Errorf("orders by channel %+v, want %+v", d.OrdersByChannel, want)
		}
		if len(d.HoldsByReason) != 1 || d.HoldsByReason[0] != (service.ChartBar{Label: "address check", N: 1}) {
			t.Errorf("holds %+v", d.HoldsByReason)
		}
		// Orders 1001 and 1003 have requested fulfilment orders, 2h old
		// against a 1h SLA; 1002's stays too (held after it was requested).
		if len(d.Late) < 2 {
			t.Errorf("late fulfilment orders %d, want at least 2", len(d.Late))
		}
		other := auth.Principal{Name: "user:w", Role: auth.RoleWarehouse, Location: "elsewhere"}
		d, err = b.svc.Dashboard(ctx, other, time.UTC)
		if err != nil || len(d.Late) != 0 {
			t.Errorf("a warehouse user sees other locations' late orders: %v %v", d.Late, err)
		}
		// "Today" is the viewer's day: in Tokyo it is already tomorrow.
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		b.clock.Set(time.Date(2026, 11, 28, 16, 0, 0, 0, time.UTC)) // 01:00 on the 29th in Tokyo
		d, err = b.svc.Dashboard(ctx, viewer, tokyo)
		if err != nil || len(d.OrdersByChannel) != 0 {
			t.Errorf("Tokyo's today has no orders yet: %+v %v", d.OrdersByChannel, err)
		}
	})
}
