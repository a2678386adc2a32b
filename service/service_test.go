package service_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/internal/clocktest"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

var (
	admin  = auth.Principal{Name: "key:admin", Role: auth.RoleAdmin}
	agent  = auth.Principal{Name: "key:agent", Role: auth.RoleAgent}
	viewer = auth.Principal{Name: "key:viewer", Role: auth.RoleViewer}
	webKey = auth.Principal{Name: "key:web", Role: auth.RoleChannel, Channel: "web"}
)

type bundle struct {
	svc   *service.Service
	st    store.Store
	clock *clocktest.Clock
}

// setup returns a service over st with two channels, a location and three
// SKUs.
func setup(t *testing.T, st store.Store) bundle {
	t.Helper()
	ctx := context.Background()
	clock := clocktest.New(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	svc := service.New(st, clock, nil)
	for _, c := range []string{"web", "shop"} {
		if _, err := svc.CreateChannel(ctx, admin, &channel.Channel{Code: c, Kind: channel.KindAPI, Name: c, Policy: channel.DefaultPolicy()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.CreateLocation(ctx, admin, &inventory.Location{Code: "wh1", Name: "Warehouse", Kind: inventory.LocationWarehouse, Active: true}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"A", "B", "C"} {
		if _, err := svc.CreateSKU(ctx, admin, &inventory.SKU{SKU: s, Name: "SKU " + s}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.AdjustStock(ctx, admin, service.Adjustment{Location: "wh1", SKU: s, Delta: 1000, Reason: inventory.ReasonReceive}); err != nil {
			t.Fatal(err)
		}
	}
	return bundle{svc: svc, st: st, clock: clock}
}

func newOrder(ch, ext string) *order.Order {
	return &order.Order{
		Channel: ch, ExternalID: ext, Currency: "EUR",
		Customer:        order.Customer{Name: "Ada Lovelace", Email: "ada@example.com"},
		ShippingAddress: orderly.Address{Line1: "1 Main St", City: "Leeds", Country: "GB"},
		Lines: []order.Line{
			{SKU: "A", Name: "A", Quantity: 2, UnitPrice: 1000, Tax: 400},
			{SKU: "B", Name: "B", Quantity: 1, UnitPrice: 550, Discount: 50},
		},
		ShippingLines: []order.ShippingLine{{Code: "std", Name: "Standard", Price: 495}},
	}
}

func TestCreateOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		o, created, err := b.svc.CreateOrder(ctx, admin, newOrder("web", "W-1"), false)
		if err != nil || !created {
			t.Fatalf("create: created=%v err=%v", created, err)
		}
		if o.Number != 1001 || o.Status != order.StatusOpen || o.Version != 1 {
			t.Fatalf("number %d status %s version %d", o.Number, o.Status, o.Version)
		}
		want := order.Totals{Subtotal: 2550, DiscountTotal: 50, ShippingTotal: 495, TaxTotal: 400, Total: 3395}
		if o.Totals != want {
			t.Fatalf("totals %+v, want %+v", o.Totals, want)
		}
		if !o.PlacedAt.Equal(b.clock.Now()) {
			t.Fatalf("placed_at defaulted to %v, want the clock's %v", o.PlacedAt, b.clock.Now())
		}

		again, created, err := b.svc.CreateOrder(ctx, admin, newOrder("web", "W-1"), false)
		if err != nil || created || again.ID != o.ID {
			t.Fatalf("repeat: created=%v err=%v id %s vs %s", created, err, again.ID, o.ID)
		}
		byNumber, err := b.svc.GetOrder(ctx, viewer, "1001")
		if err != nil || byNumber.ID != o.ID {
			t.Fatalf("get by number: %v", err)
		}
		timeline, err := b.svc.Timeline(ctx, viewer, o.ID)
		if err != nil || len(timeline) != 4 || timeline[0].Type != "order.created" || timeline[0].Actor != "key:admin" ||
			timeline[1].Type != "order.routed" || timeline[2].Type != "order.allocated" || timeline[3].Type != "fulfilment.requested" {
			t.Fatalf("timeline %+v, %v", timeline, err)
		}
	})
}

func TestCreateOrderRefusesBadReferences(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		o := newOrder("nope", "X-1")
		_, _, err := b.svc.CreateOrder(ctx, admin, o, false)
		assertField(t, err, "channel")

		o = newOrder("web", "X-2")
		o.Lines[1].SKU = "ZZZ"
		_, _, err = b.svc.CreateOrder(ctx, admin, o, false)
		assertField(t, err, "lines[1].sku")

		items, _, err := b.svc.ListOrders(ctx, admin, store.OrderListParams{})
		if err != nil || len(items) != 0 {
			t.Fatalf("refused orders were stored: %d, %v", len(items), err)
		}
	})
}

func assertField(t *testing.T, err error, field string) {
	t.Helper()
	var e *orderly.Error
	if !errors.As(err, &e) || e.Kind != orderly.KindInvalid {
		t.Fatalf("got %v, want an invalid error", err)
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("error %v does not name %s", err, field)
}

// TestCreateOrderConcurrentDuplicates: 50 goroutines capturing the same
// channel order store exactly one.
func TestCreateOrderConcurrentDuplicates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		const n = 50
		ids := make([]string, n)
		createdCount := 0
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				o, created, err := b.svc.CreateOrder(ctx, admin, newOrder("web", "SAME-1"), false)
				if err != nil {
					t.Errorf("goroutine %d: %v", i, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				ids[i] = o.ID
				if created {
					createdCount++
				}
			})
		}
		close(start)
		wg.Wait()
		if createdCount != 1 {
			t.Fatalf("%d goroutines created an order, want exactly 1", createdCount)
		}
		for i := range ids {
			if ids[i] != ids[0] {
				t.Fatalf("goroutine %d got order %s, goroutine 0 got %s", i, ids[i], ids[0])
			}
		}
		items, _, err := b.svc.ListOrders(ctx, admin, store.OrderListParams{})
		if err != nil || len(items) != 1 {
			t.Fatalf("stored %d orders, want 1 (%v)", len(items), err)
		}
		events, err := st.EventList(ctx, store.EventListParams{OrderID: ids[0]})
		if err != nil || len(events) != 4 {
			t.Fatalf("%d order events, want 4: created, routed, allocated and fulfilment requested (%v)", len(events), err)
		}
	})
}

func TestHoldReleaseCancel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		o, _, err := b.svc.CreateOrder(ctx, admin, newOrder("web", "H-1"), false)
		if err != nil {
			t.Fatal(err)
		}
		ref := fmt.Sprint(o.Number)

		if _, err := b.svc.ReleaseOrder(ctx, agent, ref); !errors.Is(err, order.ErrInvalidTransition) {
			t.Fatalf("release of an open order: %v, want invalid transition", err)
		}
		if _, err := b.svc.HoldOrder(ctx, viewer, ref, "x"); !errors.Is(err, orderly.ErrForbidden) {
			t.Fatalf("viewer hold: %v, want forbidden", err)
		}
		b.clock.Advance(time.Minute)
		held, err := b.svc.HoldOrder(ctx, agent, ref, "fraud review")
		if err != nil || held.Status != order.StatusOnHold || held.Version != 2 || held.Hold.Reason != "fraud review" {
			t.Fatalf("hold: %+v, %v", held, err)
		}
		if _, err := b.svc.HoldOrder(ctx, agent, ref, "again"); !errors.Is(err, order.ErrInvalidTransition) {
			t.Fatalf("second hold: %v", err)
		}
		b.clock.Advance(time.Minute)
		released, err := b.svc.ReleaseOrder(ctx, agent, ref)
		if err != nil || released.Status != order.StatusOpen || released.Hold != nil {
			t.Fatalf("release: %+v, %v", released, err)
		}
		b.clock.Advance(time.Minute)
		cancelled, err := b.svc.CancelOrder(ctx, agent, o.ID, "customer asked")
		if err != nil || cancelled.Status != order.StatusCancelled || cancelled.Lines[0].Cancelled != 2 {
			t.Fatalf("cancel: %+v, %v", cancelled, err)
		}
		if _, err := b.svc.CancelOrder(ctx, agent, o.ID, "again"); !errors.Is(err, orderly.ErrConflict) {
			t.Fatalf("second cancel: %v, want conflict", err)
		}

		stored, err := b.svc.GetOrder(ctx, viewer, o.ID)
		if err != nil || stored.Status != order.StatusCancelled || stored.CancelReason != "customer asked" || stored.Lines[1].Cancelled != 1 {
			t.Fatalf("stored: %+v, %v", stored, err)
		}
		timeline, err := b.svc.Timeline(ctx, viewer, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range timeline {
			types = append(types, e.Type)
		}
		want := []string{"order.created", "order.routed", "order.allocated", "fulfilment.requested", "order.held", "order.released",
			"fulfilment.cancelled", "order.cancelled"}
		if fmt.Sprint(types) != fmt.Sprint(want) {
			t.Fatalf("timeline %v, want %v", types, want)
		}
		if !timeline[4].At.Equal(time.Date(2026, 11, 28, 9, 1, 0, 0, time.UTC)) || timeline[4].Actor != "key:agent" {
			t.Fatalf("held event at %v by %s", timeline[4].At, timeline[4].Actor)
		}
	})
}

// TestConcurrentHolds: of 10 concurrent holds on one order exactly one wins;
// the others see the order already on hold.
func TestConcurrentHolds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		o, _, err := b.svc.CreateOrder(ctx, admin, newOrder("web", "CH-1"), false)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := range 10 {
			wg.Go(func() {
				_, err := b.svc.HoldOrder(ctx, agent, o.ID, fmt.Sprint("reason ", i))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, order.ErrInvalidTransition):
					t.Errorf("hold %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d holds succeeded, want 1", wins)
		}
		got, err := b.svc.GetOrder(ctx, admin, o.ID)
		if err != nil || got.Version != 2 {
			t.Fatalf("version %d after one hold (%v)", got.Version, err)
		}
	})
}

func TestChannelScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		shopOrder, _, err := b.svc.CreateOrder(ctx, admin, newOrder("shop", "S-1"), false)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.svc.CreateOrder(ctx, webKey, newOrder("shop", "S-2"), false); !errors.Is(err, orderly.ErrForbidden) {
			t.Fatalf("channel key creating for another channel: %v, want forbidden", err)
		}
		webOrder, created, err := b.svc.CreateOrder(ctx, webKey, newOrder("web", "W-9"), false)
		if err != nil || !created {
			t.Fatalf("channel key creating for its channel: %v", err)
		}
		if _, err := b.svc.GetOrder(ctx, webKey, shopOrder.ID); !errors.Is(err, orderly.ErrNotFound) {
			t.Fatalf("channel key reading another channel's order: %v, want not found", err)
		}
		items, _, err := b.svc.ListOrders(ctx, webKey, store.OrderListParams{})
		if err != nil || len(items) != 1 || items[0].ID != webOrder.ID {
			t.Fatalf("channel key list: %d items, %v", len(items), err)
		}
		items, _, err = b.svc.ListOrders(ctx, webKey, store.OrderListParams{Channel: "shop"})
		if err != nil || len(items) != 0 {
			t.Fatalf("channel key listing another channel: %d items, %v", len(items), err)
		}
	})
}

func TestListOrdersPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		for i := range 7 {
			if _, _, err := b.svc.CreateOrder(ctx, admin, newOrder("web", fmt.Sprint("P-", i)), false); err != nil {
				t.Fatal(err)
			}
		}
		var seen []int64
		params := store.OrderListParams{Limit: 3}
		for range 5 {
			items, next, err := b.svc.ListOrders(ctx, viewer, params)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range items {
				seen = append(seen, o.Number)
			}
			if next == 0 {
				break
			}
			params.BeforeNumber = next
		}
		if fmt.Sprint(seen) != "[1007 1006 1005 1004 1003 1002 1001]" {
			t.Fatalf("pages gave %v", seen)
		}
	})
}

func TestReferenceData(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		if _, err := b.svc.CreateChannel(ctx, admin, &channel.Channel{Code: "web", Kind: channel.KindAPI, Name: "dup"}); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("duplicate channel: %v", err)
		}
		if _, err := b.svc.CreateChannel(ctx, agent, &channel.Channel{Code: "x", Kind: channel.KindAPI, Name: "x"}); !errors.Is(err, orderly.ErrForbidden) {
			t.Fatalf("agent creating a channel: %v", err)
		}
		secret := "s3cret"
		days := 14
		c, err := b.svc.UpdateChannel(ctx, admin, "web", service.ChannelPatch{Secret: &secret, Policy: &service.PolicyPatch{ReturnWindowDays: &days}})
		if err != nil || !c.HasSecret || c.Policy.ReturnWindowDays != 14 || !c.Policy.PartialCancellation {
			t.Fatalf("update channel: %+v, %v", c, err)
		}
		active := false
		l, err := b.svc.UpdateLocation(ctx, admin, "wh1", service.LocationPatch{Active: &active})
		if err != nil || l.Active || l.Name != "Warehouse" {
			t.Fatalf("update location: %+v, %v", l, err)
		}
		if _, err := b.svc.UpdateSKU(ctx, admin, "nope", service.SKUPatch{}); !errors.Is(err, orderly.ErrNotFound) {
			t.Fatalf("update unknown sku: %v", err)
		}
		bad := int64(-1)
		if _, err := b.svc.UpdateSKU(ctx, admin, "A", service.SKUPatch{WeightGrams: &bad}); !errors.Is(err, orderly.ErrInvalid) {
			t.Fatalf("negative weight: %v", err)
		}
		skus, next, err := b.svc.ListSKUs(ctx, viewer, store.ListParams{Limit: 2})
		if err != nil || len(skus) != 2 || next != "B" {
			t.Fatalf("list skus: %d, next %q, %v", len(skus), next, err)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		_, secret, err := b.svc.CreateAPIKey(ctx, "web-intake", auth.RoleChannel, "web", "")
		if err != nil {
			t.Fatal(err)
		}
		p, err := b.svc.Authenticate(ctx, secret)
		if err != nil || p.Role != auth.RoleChannel || p.Channel != "web" || p.Name != "key:web-intake" {
			t.Fatalf("authenticate: %+v, %v", p, err)
		}
		if _, err := b.svc.Authenticate(ctx, secret+"x"); !errors.Is(err, orderly.ErrUnauthorized) {
			t.Fatalf("bad key: %v", err)
		}
		if _, _, err := b.svc.CreateAPIKey(ctx, "w", auth.RoleWarehouse, "", "nowhere"); !errors.Is(err, orderly.ErrInvalid) {
			t.Fatalf("warehouse key for unknown location: %v", err)
		}
		if _, _, err := b.svc.CreateAPIKey(ctx, "web-intake", auth.RoleViewer, "", ""); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("duplicate key name: %v", err)
		}
		k, err := b.svc.RevokeAPIKey(ctx, "web-intake")
		if err != nil || k.RevokedAt == nil {
			t.Fatalf("revoke: %+v %v", k, err)
		}
		if _, err := b.svc.Authenticate(ctx, secret); !errors.Is(err, orderly.ErrUnauthorized) {
			t.Fatalf("a revoked key authenticated: %v", err)
		}
		if _, err := b.svc.RevokeAPIKey(ctx, "web-intake"); err != nil {
			t.Fatalf("revoke again: %v", err)
		}
		if _, err := b.svc.RevokeAPIKey(ctx, "nope"); orderly.KindOf(err) != orderly.KindNotFound {
			t.Fatalf("revoke unknown: %v", err)
		}
		es, err := st.EventList(ctx, store.EventListParams{Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			if e.Type == "api_key.revoked" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d api_key.revoked events, want 1 (the second revoke changed nothing)", n)
		}
	})
}
