package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/store"
)

// booksStraight fails the test unless LedgerCheck finds nothing.
func booksStraight(t *testing.T, s store.Store) {
	t.Helper()
	got, err := s.LedgerCheck(ctx)
	ok(t, "LedgerCheck", err)
	if len(got) != 0 {
		t.Errorf("books not straight: %+v", got)
	}
}

// wantBalance fails the test unless (location, sku) has the figures.
func wantBalance(t *testing.T, s store.Store, location, sku string, onHand, reserved int64) {
	t.Helper()
	b, err := s.BalanceGet(ctx, location, sku)
	ok(t, "get "+sku+"@"+location, err)
	if b.OnHand != onHand || b.Reserved != reserved {
		t.Errorf("%s at %s: %d on hand, %d reserved; want %d and %d", sku, location, b.OnHand, b.Reserved, onHand, reserved)
	}
}

// testStockReserve reserves an order's picks at two locations, two of
// them at one key, and checks the balances, ledger and allocations.
func testStockReserve(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds", "york"}, []string{"A", "B"})
	mustInsertChannels(t, s, "web")
	mustMove(t, s, newMove("leeds", "A", 10, 0, inventory.ReasonReceive, 0))
	mustMove(t, s, newMove("york", "A", 5, 0, inventory.ReasonReceive, 0))
	mustMove(t, s, newMove("leeds", "B", 3, 0, inventory.ReasonReceive, 0))
	o := NewOrder("web", "SR1")
	l1, l2 := o.Lines[0].ID, o.Lines[1].ID
	picks := []inventory.Pick{
		{LineID: l1, SKU: "A", Location: "leeds", Quantity: 4},
		{LineID: l1, SKU: "A", Location: "york", Quantity: 5},
		{LineID: l2, SKU: "A", Location: "leeds", Quantity: 6}, // with the first: all of leeds
		{LineID: l2, SKU: "B", Location: "leeds", Quantity: 1},
	}
	var got []*inventory.Allocation
	ok(t, "reserve, then insert the order", s.InTx(ctx, func(tx store.Querier) error {
		var err error
		if got, err = tx.StockReserve(ctx, o.ID, picks, "key:test", at(1)); err != nil {
			return err
		}
		return tx.OrderInsert(ctx, o)
	}))
	if len(got) != len(picks) {
		t.Fatalf("%d allocations returned, want %d", len(got), len(picks))
	}
	for i, a := range got {
		p := picks[i]
		want := &inventory.Allocation{ID: a.ID, OrderID: o.ID, LineID: p.LineID, SKU: p.SKU, Location: p.Location, Quantity: p.Quantity, CreatedAt: at(1)}
		if a.ID == "" {
			t.Errorf("allocation %d has no id", i)
		}
		equal(t, fmt.Sprint("allocation ", i), a, want)
	}
	stored, err := s.AllocationListByOrder(ctx, o.ID)
	ok(t, "list", err)
	if len(stored) != len(picks) {
		t.Errorf("%d allocations stored, want %d", len(stored), len(picks))
	}
	wantBalance(t, s, "leeds", "A", 10, 10)
	wantBalance(t, s, "york", "A", 5, 5)
	wantBalance(t, s, "leeds", "B", 3, 1)
	moves := ledger(t, s, "leeds", "A")
	reserves := 0
	for _, m := range moves {
		if m.Reason != inventory.ReasonReserve {
			continue
		}
		reserves++
		if m.Reference != "order:"+o.ID || m.Actor != "key:test" || !m.At.Equal(at(1)) || m.DeltaOnHand != 0 || m.Seq == 0 || m.ID == "" {
			t.Errorf("reserve movement %+v", m)
		}
	}
	if reserves != 2 {
		t.Errorf("%d reserve movements at leeds/A, want one per pick: 2", reserves)
	}
	booksStraight(t, s)

	none, err := s.StockReserve(ctx, o.ID, nil, "key:test", at(2))
	if err != nil || len(none) != 0 {
		t.Errorf("no picks: %v, %v", none, err)
	}
	for _, q := range []int64{0, -1} {
		_, err := s.StockReserve(ctx, o.ID, []inventory.Pick{{LineID: l1, SKU: "B", Location: "leeds", Quantity: q}}, "key:test", at(2))
		wantKind(t, fmt.Sprint("quantity ", q), err, orderly.KindInvalid)
	}
}

// testStockReserveRefused checks that a refusal writes nothing and leaves
// the transaction usable: demand summed over picks of one key, a missing
// balance, safety stock.
func testStockReserveRefused(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds", "york"}, []string{"A", "B", "C"})
	mustInsertChannels(t, s, "web")
	mustMove(t, s, newMove("leeds", "A", 10, 0, inventory.ReasonReceive, 0))
	mustMove(t, s, newMove("leeds", "B", 5, 0, inventory.ReasonReceive, 0))
	_, err := s.BalanceSetSafetyStock(ctx, "leeds", "B", 2, at(0))
	ok(t, "safety", err)
	o := NewOrder("web", "SR2")
	l1, l2 := o.Lines[0].ID, o.Lines[1].ID
	for _, tt := range []struct {
		name  string
		picks []inventory.Pick
	}{
		{"summed demand", []inventory.Pick{pk(l1, "A", "leeds", 6), pk(l2, "A", "leeds", 5)}},
		{"safety stock", []inventory.Pick{pk(l1, "A", "leeds", 1), pk(l2, "B", "leeds", 4)}},
		{"no balance", []inventory.Pick{pk(l1, "A", "leeds", 1), pk(l2, "C", "leeds", 1)}},
		{"no balance at the location", []inventory.Pick{pk(l1, "A", "york", 1), pk(l2, "B", "leeds", 1)}},
	} {
		err := s.InTx(ctx, func(tx store.Querier) error {
			_, err := tx.StockReserve(ctx, o.ID, tt.picks, "key:test", at(1))
			wantIs(t, tt.name, err, store.ErrInsufficientStock)
			// The transaction is still usable, and nothing was written.
			bs, err := tx.BalancesLock(ctx, []string{"A", "B", "C"}, nil)
			if err != nil {
				return err
			}
			for _, b := range bs {
				if b.Reserved != 0 {
					t.Errorf("%s: inside the transaction %s at %s has %d reserved", tt.name, b.SKU, b.Location, b.Reserved)
				}
			}
			as, err := tx.AllocationListByOrder(ctx, o.ID)
			if err != nil {
				return err
			}
			if len(as) != 0 {
				t.Errorf("%s: %d allocations written", tt.name, len(as))
			}
			return tx.ChannelInsert(ctx, NewChannel("after-"+tt.picks[1].SKU+tt.picks[0].Location))
		})
		ok(t, tt.name+": the transaction goes on and commits", err)
		_, err = s.BalanceGet(ctx, "leeds", "C")
		wantKind(t, tt.name+": no balance is created", err, orderly.KindNotFound)
		_, err = s.BalanceGet(ctx, "york", "A")
		wantKind(t, tt.name+": no balance is created at york", err, orderly.KindNotFound)
	}
	wantBalance(t, s, "leeds", "A", 10, 0)
	wantBalance(t, s, "leeds", "B", 5, 0)
	for _, key := range [][2]string{{"leeds", "A"}, {"leeds", "B"}} {
		for _, m := range ledger(t, s, key[0], key[1]) {
			if m.Reason == inventory.ReasonReserve {
				t.Errorf("a refused reservation left a movement: %+v", m)
			}
		}
	}
	booksStraight(t, s)

	// Outside a transaction, a refusal writes nothing either.
	_, err = s.StockReserve(ctx, o.ID, []inventory.Pick{pk(l1, "A", "leeds", 3), pk(l2, "B", "leeds", 9)}, "key:test", at(2))
	wantIs(t, "outside a transaction", err, store.ErrInsufficientStock)
	wantBalance(t, s, "leeds", "A", 10, 0)
	booksStraight(t, s)
}

// testStockReserveMany reserves more picks than one statement takes.
func testStockReserveMany(t *testing.T, s store.Store) {
	const n = 450
	mustStock(t, s, []string{"leeds"}, nil)
	mustInsertChannels(t, s, "web")
	skus := make([]string, n)
	ok(t, "stock", s.InTx(ctx, func(tx store.Querier) error {
		for i := range skus {
			skus[i] = fmt.Sprintf("M%04d", i)
			mustStock(t, tx, nil, []string{skus[i]})
			mustMove(t, tx, newMove("leeds", skus[i], 2, 0, inventory.ReasonReceive, 0))
		}
		return nil
	}))
	o := NewOrder("web", "SR3")
	picks := make([]inventory.Pick, n)
	for i, sku := range skus {
		picks[i] = inventory.Pick{LineID: o.Lines[i%2].ID, SKU: sku, Location: "leeds", Quantity: 1}
	}
	// The last key refuses: nothing at all is reserved.
	picks[n-1].Quantity = 3
	err := s.InTx(ctx, func(tx store.Querier) error {
		_, err := tx.StockReserve(ctx, o.ID, picks, "key:test", at(1))
		return err
	})
	wantIs(t, "the last of many refuses", err, store.ErrInsufficientStock)
	wantBalance(t, s, "leeds", skus[0], 2, 0)
	booksStraight(t, s)

	picks[n-1].Quantity = 2
	ok(t, "reserve many", s.InTx(ctx, func(tx store.Querier) error {
		if _, err := tx.StockReserve(ctx, o.ID, picks, "key:test", at(1)); err != nil {
			return err
		}
		return tx.OrderInsert(ctx, o)
	}))
	wantBalance(t, s, "leeds", skus[0], 2, 1)
	wantBalance(t, s, "leeds", skus[n-1], 2, 2)
	as, err := s.AllocationListByOrder(ctx, o.ID)
	ok(t, "list", err)
	if len(as) != n {
		t.Errorf("%d allocations, want %d", len(as), n)
	}
	booksStraight(t, s)
}

// testConcurrentStockReserve races reservers reservations of one unit of
// A and one of B (in either order) for stockOnHand units of each: exactly
// stockOnHand succeed, the others are refused, none deadlocks.
func testConcurrentStockReserve(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds"}, []string{"A", "B"})
	mustInsertChannels(t, s, "web")
	o := mustInsertOrder(t, s, NewOrder("web", "SR4"))
	mustMove(t, s, newMove("leeds", "A", stockOnHand, 0, inventory.ReasonReceive, 0))
	mustMove(t, s, newMove("leeds", "B", stockOnHand, 0, inventory.ReasonReceive, 0))
	errs := make([]error, reservers)
	var wg sync.WaitGroup
	for i := range reservers {
		wg.Go(func() {
			picks := []inventory.Pick{pk(o.Lines[0].ID, "A", "leeds", 1), pk(o.Lines[1].ID, "B", "leeds", 1)}
			if i%2 == 1 {
				picks[0], picks[1] = picks[1], picks[0]
			}
			attempts := 0
			errs[i] = s.InTx(ctx, func(tx store.Querier) error {
				attempts++
				if attempts > 1 {
					t.Errorf("reserver %d ran again (a deadlock?)", i)
				}
				_, err := tx.StockReserve(ctx, o.ID, picks, "key:test", at(1))
				return err
			})
		})
	}
	wg.Wait()
	succeeded, _ := outcomes(t, errs, store.ErrInsufficientStock)
	if succeeded != stockOnHand {
		t.Errorf("%d reservations succeeded, want %d", succeeded, stockOnHand)
	}
	wantBalance(t, s, "leeds", "A", stockOnHand, stockOnHand)
	wantBalance(t, s, "leeds", "B", stockOnHand, stockOnHand)
	booksStraight(t, s)
}

// pk is a pick.
func pk(lineID, sku, location string, quantity int64) inventory.Pick {
	return inventory.Pick{LineID: lineID, SKU: sku, Location: location, Quantity: quantity}
}
