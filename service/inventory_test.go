package service_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"pgregory.net/rapid"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// stockSetup returns a service with channel "web", three active locations,
// SKU "HOT" and no stock.
func stockSetup(t *testing.T, st store.Store) bundle {
	t.Helper()
	ctx := context.Background()
	b := setup(t, st)
	for _, l := range []string{"wh2", "wh3"} {
		if _, err := b.svc.CreateLocation(ctx, admin, &inventory.Location{Code: l, Name: l, Kind: inventory.LocationWarehouse, Active: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.svc.CreateSKU(ctx, admin, &inventory.SKU{SKU: "HOT", Name: "Hot item"}); err != nil {
		t.Fatal(err)
	}
	return b
}

func receive(t *testing.T, svc *service.Service, loc, sku string, q int64) {
	t.Helper()
	if _, _, err := svc.AdjustStock(context.Background(), admin, service.Adjustment{Location: loc, SKU: sku, Delta: q, Reason: inventory.ReasonReceive}); err != nil {
		t.Fatal(err)
	}
}

func oneLine(ext, sku string, q int64) *order.Order {
	return &order.Order{Channel: "web", ExternalID: ext, Currency: "EUR",
		Lines: []order.Line{{SKU: sku, Name: sku, Quantity: q, UnitPrice: 100}}}
}

func balance(t *testing.T, st store.Store, loc, sku string) inventory.Balance {
	t.Helper()
	b, err := st.BalanceGet(context.Background(), loc, sku)
	if orderly.KindOf(err) == orderly.KindNotFound {
		return inventory.Balance{SKU: sku, Location: loc}
	}
	if err != nil {
		t.Fatal(err)
	}
	return *b
}

func assertBooksBalance(t *testing.T, svc *service.Service) {
	t.Helper()
	mismatches, err := svc.CheckLedger(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(mismatches) > 0 {
		t.Fatalf("ledger check: %+v", mismatches)
	}
}

// TestRaceForTheLastUnits: 200 concurrent orders of one unit against 50
// units spread over three locations: exactly 50 allocated, 150 backordered.
func TestRaceForTheLastUnits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := stockSetup(t, st)
		ctx := context.Background()
		receive(t, b.svc, "wh1", "HOT", 20)
		receive(t, b.svc, "wh2", "HOT", 17)
		receive(t, b.svc, "wh3", "HOT", 13)
		var allocated, backordered atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 200 {
			wg.Go(func() {
				<-start
				o, _, err := b.svc.CreateOrder(ctx, admin, oneLine(fmt.Sprint("R-", i), "HOT", 1), false)
				if err != nil {
					t.Errorf("order %d: %v", i, err)
					return
				}
				allocated.Add(o.Lines[0].Allocated)
				backordered.Add(o.Lines[0].Backordered)
				if (o.Lines[0].Backordered > 0) != (o.Status == order.StatusOnHold) {
					t.Errorf("order %d: backordered %d but status %s", i, o.Lines[0].Backordered, o.Status)
				}
			})
		}
		close(start)
		wg.Wait()
		if allocated.Load() != 50 || backordered.Load() != 150 {
			t.Fatalf("allocated %d, backordered %d; want 50 and 150", allocated.Load(), backordered.Load())
		}
		for _, loc := range []string{"wh1", "wh2", "wh3"} {
			bal := balance(t, st, loc, "HOT")
			if bal.Reserved != bal.OnHand || bal.Available() != 0 {
				t.Errorf("%s: %+v, want everything reserved", loc, bal)
			}
		}
		assertBooksBalance(t, b.svc)
	})
}

// TestBundleOfOneSKU: two lines of the same SKU against stock of one
// reserve one unit, not two.
func TestBundleOfOneSKU(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := stockSetup(t, st)
		ctx := context.Background()
		receive(t, b.svc, "wh2", "HOT", 1)
		o := oneLine("BUNDLE-1", "HOT", 1)
		o.Lines = append(o.Lines, order.Line{SKU: "HOT", Name: "HOT again", Quantity: 1, UnitPrice: 100})
		got, _, err := b.svc.CreateOrder(ctx, admin, o, false)
		if err != nil {
			t.Fatal(err)
		}
		if got.Lines[0].Allocated+got.Lines[1].Allocated != 1 || got.Lines[0].Backordered+got.Lines[1].Backordered != 1 {
			t.Fatalf("lines %+v", got.Lines)
		}
		if got.Status != order.StatusOnHold || got.Hold.Reason != service.HoldInsufficientStock {
			t.Fatalf("status %s hold %+v", got.Status, got.Hold)
		}
		if bal := balance(t, st, "wh2", "HOT"); bal.Reserved != 1 {
			t.Fatalf("reserved %d, want 1", bal.Reserved)
		}
		// Strict intake refuses the same bundle and writes nothing.
		o2 := oneLine("BUNDLE-2", "HOT", 1)
		o2.Lines = append(o2.Lines, o2.Lines[0])
		receive(t, b.svc, "wh3", "HOT", 1)
		_, _, err = b.svc.CreateOrder(ctx, admin, o2, true)
		if !errors.Is(err, store.ErrInsufficientStock) {
			t.Fatalf("strict short order: %v, want insufficient stock", err)
		}
		if _, err := st.OrderGetByExternalID(ctx, "web", "BUNDLE-2"); !errors.Is(err, orderly.ErrNotFound) {
			t.Fatalf("refused strict order was stored: %v", err)
		}
		if bal := balance(t, st, "wh3", "HOT"); bal.Reserved != 0 {
			t.Fatalf("refused strict order reserved %d", bal.Reserved)
		}
		assertBooksBalance(t, b.svc)
	})
}

// TestCancelReleasesAndReleaseRetries: cancelling gives stock back;
// releasing an insufficient-stock hold reserves again.
func TestCancelReleasesAndReleaseRetries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := stockSetup(t, st)
		ctx := context.Background()
		receive(t, b.svc, "wh1", "HOT", 3)
		first, _, err := b.svc.CreateOrder(ctx, admin, oneLine("C-1", "HOT", 3), false)
		if err != nil || first.Status != order.StatusOpen || first.Lines[0].Allocated != 3 {
			t.Fatalf("first: %+v %v", first, err)
		}
		second, _, err := b.svc.CreateOrder(ctx, admin, oneLine("C-2", "HOT", 2), false)
		if err != nil || second.Status != order.StatusOnHold || second.Lines[0].Backordered != 2 {
			t.Fatalf("second: %+v %v", second, err)
		}
		// Still short: release puts it straight back on hold.
		again, err := b.svc.ReleaseOrder(ctx, agent, second.ID)
		if err != nil || again.Status != order.StatusOnHold || again.Hold.Reason != service.HoldInsufficientStock {
			t.Fatalf("release while short: %+v %v", again, err)
		}
		if _, err := b.svc.CancelOrder(ctx, agent, first.ID, "fraud"); err != nil {
			t.Fatal(err)
		}
		if bal := balance(t, st, "wh1", "HOT"); bal.Reserved != 0 || bal.Available() != 3 {
			t.Fatalf("after cancel: %+v", bal)
		}
		released, err := b.svc.ReleaseOrder(ctx, agent, second.ID)
		if err != nil || released.Status != order.StatusOpen || released.Lines[0].Allocated != 2 || released.Lines[0].Backordered != 0 {
			t.Fatalf("release with stock: %+v %v", released, err)
		}
		allocs, err := b.svc.OrderAllocations(ctx, agent, second.ID)
		if err != nil || len(allocs) != 1 || allocs[0].Quantity != 2 || allocs[0].Location != "wh1" {
			t.Fatalf("allocations %+v %v", allocs, err)
		}
		assertBooksBalance(t, b.svc)
	})
}

// TestConcurrentAdjustments: 1,000 concurrent ±1 adjustments leave the
// balance at the initial figure plus the sum of the deltas.
func TestConcurrentAdjustments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := stockSetup(t, st)
		ctx := context.Background()
		receive(t, b.svc, "wh1", "HOT", 1000)
		var sum atomic.Int64
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		for i := range 1000 {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				delta, reason := int64(1), inventory.ReasonReceive
				if i%3 == 0 {
					delta, reason = -1, inventory.ReasonDamage
				}
				if _, _, err := b.svc.AdjustStock(ctx, admin, service.Adjustment{Location: "wh1", SKU: "HOT", Delta: delta, Reason: reason}); err != nil {
					t.Errorf("adjust %d: %v", i, err)
					return
				}
				sum.Add(delta)
			})
		}
		wg.Wait()
		if bal := balance(t, st, "wh1", "HOT"); bal.OnHand != 1000+sum.Load() {
			t.Fatalf("on hand %d, want %d", bal.OnHand, 1000+sum.Load())
		}
		assertBooksBalance(t, b.svc)
	})
}

// TestCountBelowReserved: a count below what is reserved is the truth; it
// raises a shortage and holds the newest order that is no longer covered.
func TestCountBelowReserved(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := stockSetup(t, st)
		ctx := context.Background()
		receive(t, b.svc, "wh1", "HOT", 4)
		older, _, _ := b.svc.CreateOrder(ctx, admin, oneLine("S-1", "HOT", 2), false)
		newer, _, _ := b.svc.CreateOrder(ctx, admin, oneLine("S-2", "HOT", 2), false)
		bal, err := b.svc.CountStock(ctx, admin, service.Count{Location: "wh1", SKU: "HOT", OnHand: 3})
		if err != nil || bal.OnHand != 3 || bal.Reserved != 4 || bal.Available() != 0 {
			t.Fatalf("count: %+v %v", bal, err)
		}
		if o, _ := b.svc.GetOrder(ctx, admin, newer.ID); o.Status != order.StatusOnHold || o.Hold.Reason != service.HoldStockShortage {
			t.Fatalf("newer order: %s %+v", o.Status, o.Hold)
		}
		if o, _ := b.svc.GetOrder(ctx, admin, older.ID); o.Status != order.StatusOpen {
			t.Fatalf("older order: %s", o.Status)
		}
		events, err := st.EventList(ctx, store.EventListParams{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range events {
			found = found || e.Type == "inventory.shortage"
		}
		if !found {
			t.Fatal("no inventory.shortage event")
		}
		assertBooksBalance(t, b.svc)
	})
}

// TestWarehouseScope: a warehouse key manages stock at its location only.
func TestWarehouseScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := stockSetup(t, st)
		ctx := context.Background()
		wh := auth.Principal{Name: "key:wh1", Role: auth.RoleWarehouse, Location: "wh1"}
		if _, _, err := b.svc.AdjustStock(ctx, wh, service.Adjustment{Location: "wh1", SKU: "HOT", Delta: 1, Reason: inventory.ReasonReceive}); err != nil {
			t.Fatalf("own location: %v", err)
		}
		if _, _, err := b.svc.AdjustStock(ctx, wh, service.Adjustment{Location: "wh2", SKU: "HOT", Delta: 1, Reason: inventory.ReasonReceive}); !errors.Is(err, orderly.ErrForbidden) {
			t.Fatalf("other location: %v, want forbidden", err)
		}
		if _, _, err := b.svc.AdjustStock(ctx, viewer, service.Adjustment{Location: "wh1", SKU: "HOT", Delta: 1, Reason: inventory.ReasonReceive}); !errors.Is(err, orderly.ErrForbidden) {
			t.Fatalf("viewer: %v, want forbidden", err)
		}
	})
}

// TestChannelFeedingLocations: a channel fed by one location reserves and
// sees availability there only.
func TestChannelFeedingLocations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := stockSetup(t, st)
		ctx := context.Background()
		receive(t, b.svc, "wh1", "HOT", 5)
		receive(t, b.svc, "wh2", "HOT", 7)
		if _, err := b.svc.CreateChannel(ctx, admin, &channel.Channel{Code: "market", Kind: channel.KindAmazon, Name: "Market",
			Locations: []string{"wh2"}, Policy: channel.DefaultPolicy()}); err != nil {
			t.Fatal(err)
		}
		av, err := b.svc.Availability(ctx, viewer, []string{"HOT", "NOPE"}, "market")
		if err != nil || av[0].Available != 7 || len(av[0].Locations) != 1 || av[1].Available != 0 {
			t.Fatalf("market availability %+v %v", av, err)
		}
		av, err = b.svc.Availability(ctx, viewer, []string{"HOT"}, "")
		if err != nil || av[0].Available != 12 {
			t.Fatalf("all availability %+v %v", av, err)
		}
		o := oneLine("M-1", "HOT", 6)
		o.Channel = "market"
		got, _, err := b.svc.CreateOrder(ctx, admin, o, false)
		if err != nil || got.Lines[0].Allocated != 6 {
			t.Fatalf("market order %+v %v", got, err)
		}
		if bal := balance(t, st, "wh2", "HOT"); bal.Reserved != 6 {
			t.Fatalf("wh2 reserved %d, want 6", bal.Reserved)
		}
		inactive := false
		if _, err := b.svc.UpdateLocation(ctx, admin, "wh1", service.LocationPatch{Active: &inactive}); err != nil {
			t.Fatal(err)
		}
		if av, _ := b.svc.Availability(ctx, viewer, []string{"HOT"}, ""); av[0].Available != 1 {
			t.Fatalf("availability without the inactive location: %+v", av)
		}
	})
}

// TestStockProperties drives random sequences of receipts, adjustments,
// counts, orders, cancellations and releases from concurrent workers, and
// after every round checks the invariants: on hand and reserved never
// negative, reserved equal to the open allocations, every balance equal to
// the fold of its ledger.
func TestStockProperties(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := stockSetup(t, st)
		ctx := context.Background()
		locs := []string{"wh1", "wh2", "wh3"}
		skus := []string{"A", "B", "HOT"}
		var seq atomic.Int64
		rapid.Check(t, func(rt *rapid.T) {
			rounds := rapid.IntRange(1, 4).Draw(rt, "rounds")
			for range rounds {
				workers := rapid.IntRange(1, 4).Draw(rt, "workers")
				type op struct {
					kind     string
					loc, sku string
					q        int64
				}
				ops := make([]op, workers)
				for w := range ops {
					ops[w] = op{
						kind: rapid.SampledFrom([]string{"receive", "damage", "count", "order", "order", "cancel", "release", "lookup"}).Draw(rt, "op"),
						loc:  rapid.SampledFrom(locs).Draw(rt, "loc"),
						sku:  rapid.SampledFrom(skus).Draw(rt, "sku"),
						q:    rapid.Int64Range(1, 6).Draw(rt, "q"),
					}
				}
				var wg sync.WaitGroup
				var mu sync.Mutex
				var failures []string // rapid.T is not for concurrent use
				for _, o := range ops {
					wg.Go(func() {
						var err error
						switch o.kind {
						case "receive":
							_, _, err = b.svc.AdjustStock(ctx, admin, service.Adjustment{Location: o.loc, SKU: o.sku, Delta: o.q, Reason: inventory.ReasonReceive})
						case "damage":
							_, _, err = b.svc.AdjustStock(ctx, admin, service.Adjustment{Location: o.loc, SKU: o.sku, Delta: -o.q, Reason: inventory.ReasonDamage})
							if errors.Is(err, orderly.ErrInvalid) {
								err = nil // below zero: refused, as it must be
							}
						case "count":
							_, err = b.svc.CountStock(ctx, admin, service.Count{Location: o.loc, SKU: o.sku, OnHand: o.q})
						case "order":
							_, _, err = b.svc.CreateOrder(ctx, admin, oneLine(fmt.Sprint("P-", seq.Add(1)), o.sku, o.q), false)
						case "lookup":
							// Fills the stock cache while the others write.
							_, err = b.svc.Availability(ctx, admin, skus, "")
						case "cancel", "release":
							items, _, lerr := b.svc.ListOrders(ctx, admin, store.OrderListParams{Limit: 5})
							if lerr != nil || len(items) == 0 {
								err = lerr
								break
							}
							target := items[int(o.q)%len(items)]
							if o.kind == "cancel" {
								_, err = b.svc.CancelOrder(ctx, admin, target.ID, "property test")
							} else {
								_, err = b.svc.ReleaseOrder(ctx, admin, target.ID)
							}
							if errors.Is(err, order.ErrInvalidTransition) {
								err = nil
							}
						}
						if err != nil {
							mu.Lock()
							failures = append(failures, fmt.Sprintf("%s %+v: %v", o.kind, o, err))
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				if len(failures) > 0 {
					rt.Fatalf("operations failed: %v", failures)
				}
				mismatches, err := b.svc.CheckLedger(ctx)
				if err != nil || len(mismatches) > 0 {
					rt.Fatalf("ledger check: %+v %v", mismatches, err)
				}
				for _, l := range locs {
					for _, s := range skus {
						bal := balance(t, st, l, s)
						if bal.OnHand < 0 || bal.Reserved < 0 || bal.Available() < 0 {
							rt.Fatalf("%s/%s: %+v", l, s, bal)
						}
					}
				}
				// Availability (from the stock cache where it holds the
				// SKU) says what the balances say.
				av, err := b.svc.Availability(ctx, admin, skus, "")
				if err != nil {
					rt.Fatal(err)
				}
				for _, a := range av {
					for _, la := range a.Locations {
						bal := balance(t, st, la.Location, a.SKU)
						if la.OnHand != bal.OnHand || la.Reserved != bal.Reserved || la.SafetyStock != bal.SafetyStock {
							rt.Fatalf("availability of %s at %s: %+v, balance %+v", a.SKU, la.Location, la, bal)
						}
					}
				}
			}
		})
	})
}

// TestFullPageHasNextCursor: a list exactly one row longer than the
// largest page must say that another page follows. (The store once
// clamped the service's look-ahead row away, so a page of MaxLimit looked
// like the last one and the rest of the ledger was unreachable.)
func TestFullPageHasNextCursor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := stockSetup(t, st)
		ctx := context.Background()
		err := st.InTx(ctx, func(tx store.Querier) error {
			for range store.MaxLimit + 1 {
				if _, err := tx.StockMove(ctx, &inventory.Movement{SKU: "HOT", Location: "wh1", DeltaOnHand: 1,
					Reason: inventory.ReasonReceive, Reference: "PO-1", Actor: "test", At: b.clock.Now()}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		page, next, err := b.svc.Ledger(ctx, admin, store.MovementListParams{Location: "wh1", SKU: "HOT", Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != store.MaxLimit || next == 0 {
			t.Fatalf("first page: %d movements, next cursor %d; want %d and a cursor", len(page), next, store.MaxLimit)
		}
		rest, next, err := b.svc.Ledger(ctx, admin, store.MovementListParams{Location: "wh1", SKU: "HOT", Limit: store.MaxLimit, BeforeSeq: next})
		if err != nil {
			t.Fatal(err)
		}
		if len(rest) != 1 || next != 0 {
			t.Fatalf("second page: %d movements, next cursor %d; want the last one and no cursor", len(rest), next)
		}
	})
}
