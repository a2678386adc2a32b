package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/store"
)

// This file holds the contract of StockCount, which applies a count's
// corrections in one batch, and of EventInsert with the many events such
// a batch writes.

// countTests are the contract tests of this file, run by Exercise.
var countTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"StockCount", testStockCount},
	{"StockCountRefused", testStockCountRefused},
	{"StockCountMany", testStockCountMany},
	{"EventInsertManyTaken", testEventInsertManyTaken},
}

// newCount returns a count movement at minute n.
func newCount(location, sku string, onHand int64, n int) *inventory.Movement {
	return newMove(location, sku, onHand, 0, inventory.ReasonCount, n)
}

// mustCount applies ms and returns the new balances.
func mustCount(t testing.TB, q store.Querier, ms ...*inventory.Movement) []*inventory.Balance {
	t.Helper()
	bs, err := q.StockCount(ctx, ms)
	if err != nil {
		t.Fatalf("StockCount of %d movements: %v", len(ms), err)
	}
	if len(bs) != len(ms) {
		t.Fatalf("StockCount of %d movements returned %d balances", len(ms), len(bs))
	}
	return bs
}

// books returns every balance and the length of every ledger of the keys,
// to compare before and after a refusal.
func books(t testing.TB, q store.Querier, locations, skus []string) string {
	t.Helper()
	bs, err := q.BalancesBySKU(ctx, skus)
	ok(t, "BalancesBySKU", err)
	out := show(bs)
	for _, l := range locations {
		for _, k := range skus {
			out += fmt.Sprintf(" %s/%s:%d", l, k, len(ledger(t, q, l, k)))
		}
	}
	return out
}

func testStockCount(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds", "york"}, []string{"A", "B", "C"})
	mustMove(t, s, newMove("leeds", "A", 10, 0, inventory.ReasonReceive, 1))
	mustMove(t, s, newMove("leeds", "B", 5, 0, inventory.ReasonReceive, 1))
	mustMove(t, s, newMove("leeds", "B", 0, 3, inventory.ReasonReserve, 1))
	_, err := s.BalanceSetSafetyStock(ctx, "leeds", "B", 1, at(1))
	ok(t, "safety stock", err)
	bs, err := s.StockCount(ctx, nil)
	ok(t, "no movements", err)
	equal(t, "balances of no movements", len(bs), 0)

	// Out of key order: the balances come back in the order given. A is
	// counted up, B down below what is reserved (a shortage, allowed), C
	// and york/A are new; york/B is counted at zero, which creates it.
	ms := []*inventory.Movement{
		newCount("york", "A", 4, 2),
		newCount("leeds", "B", -4, 2),
		newCount("leeds", "A", 3, 2),
		newCount("leeds", "C", 7, 2),
		newCount("york", "B", 0, 2),
	}
	given := orderly.NewID() // the others are assigned
	ms[2].ID = given
	ok(t, "in tx", s.InTx(ctx, func(tx store.Querier) error {
		if _, err := tx.BalancesLock(ctx, []string{"A", "B", "C"}, []string{"leeds", "york"}); err != nil {
			return err
		}
		bs = mustCount(t, tx, ms...)
		return nil
	}))
	equal(t, "balances", bs, []*inventory.Balance{
		balance("york", "A", 4, 0, 0, 2),
		{SKU: "B", Location: "leeds", OnHand: 1, Reserved: 3, SafetyStock: 1, UpdatedAt: at(2)},
		balance("leeds", "A", 13, 0, 0, 2),
		balance("leeds", "C", 7, 0, 0, 2),
		balance("york", "B", 0, 0, 0, 2),
	})
	if bs[1].Shortage() != 2 {
		t.Errorf("leeds/B shortage %d, want 2", bs[1].Shortage())
	}
	if ms[2].ID != given {
		t.Errorf("a given id was replaced: %s, want %s", ms[2].ID, given)
	}
	seqs := map[int64]bool{}
	for i, m := range ms {
		if m.ID == "" || m.Seq <= 0 || seqs[m.Seq] {
			t.Errorf("movement %d: id %q, seq %d; want an id and a seq of its own", i, m.ID, m.Seq)
		}
		seqs[m.Seq] = true
		got, err := s.BalanceGet(ctx, m.Location, m.SKU)
		ok(t, "BalanceGet", err)
		equal(t, "stored balance of "+m.Location+"/"+m.SKU, got, bs[i])
		// The ledger's newest movement is the count, as given.
		l := ledger(t, s, m.Location, m.SKU)
		equal(t, "ledger of "+m.Location+"/"+m.SKU, l[0], m)
		sumsMatch(t, s, m.Location, m.SKU)
	}

	// Outside a transaction it is atomic on its own.
	bs = mustCount(t, s, newCount("leeds", "A", -13, 3), newCount("york", "C", 2, 3))
	equal(t, "balances outside a transaction", bs, []*inventory.Balance{balance("leeds", "A", 0, 0, 0, 3), balance("york", "C", 2, 0, 0, 3)})
	sumsMatch(t, s, "leeds", "A")
	sumsMatch(t, s, "york", "C")
}

func testStockCountRefused(t *testing.T, s store.Store) {
	locations, skus := []string{"leeds"}, []string{"A", "B", "C"}
	mustStock(t, s, locations, skus)
	mustMove(t, s, newMove("leeds", "A", 10, 0, inventory.ReasonReceive, 1))
	mustMove(t, s, newMove("leeds", "B", 5, 0, inventory.ReasonReceive, 1))
	mustMove(t, s, newMove("leeds", "B", 0, 2, inventory.ReasonReserve, 1))
	before := books(t, s, locations, skus)
	taken := ledger(t, s, "leeds", "A")[0].ID
	boom := errors.New("boom")

	for _, c := range []struct {
		name string
		ms   []*inventory.Movement
		want error
		kind orderly.Kind
	}{
		{"below zero", []*inventory.Movement{newCount("leeds", "A", 5, 2), newCount("leeds", "B", -6, 2), newCount("leeds", "C", 1, 2)},
			store.ErrNegativeStock, orderly.KindInvalid},
		{"below zero on a new balance", []*inventory.Movement{newCount("leeds", "A", 5, 2), newCount("leeds", "C", -1, 2)},
			store.ErrNegativeStock, orderly.KindInvalid},
		{"a key twice", []*inventory.Movement{newCount("leeds", "A", 5, 2), newCount("leeds", "C", 1, 2), newCount("leeds", "A", 1, 2)},
			nil, orderly.KindInvalid},
		{"reserved", []*inventory.Movement{newCount("leeds", "A", 5, 2), newMove("leeds", "B", 0, -2, inventory.ReasonRelease, 2)},
			nil, orderly.KindInvalid},
		{"unknown SKU", []*inventory.Movement{newCount("leeds", "A", 5, 2), newCount("leeds", "NOPE", 1, 2)}, nil, orderly.KindInvalid},
		{"unknown location", []*inventory.Movement{newCount("leeds", "A", 5, 2), newCount("nowhere", "A", 1, 2)}, nil, orderly.KindInvalid},
		{"taken id", []*inventory.Movement{newCount("leeds", "A", 5, 2), func() *inventory.Movement {
			m := newCount("leeds", "B", 1, 2)
			m.ID = taken
			return m
		}(), newCount("leeds", "C", 3, 2)}, store.ErrDuplicate, orderly.KindConflict},
	} {
		t.Run(c.name, func(t *testing.T) {
			check := func(what string, err error) {
				t.Helper()
				if c.want != nil {
					wantIs(t, what, err, c.want)
				}
				wantKind(t, what, err, c.kind)
			}
			// Outside a transaction, nothing is written.
			bs, err := s.StockCount(ctx, c.ms)
			check("outside a transaction", err)
			if bs != nil {
				t.Errorf("refused, but returned %s", show(bs))
			}
			if after := books(t, s, locations, skus); after != before {
				t.Errorf("the books changed:\n got  %s\n want %s", after, before)
			}
			// Inside one, the caller ends it, and nothing is written.
			err = s.InTx(ctx, func(tx store.Querier) error {
				if _, err := tx.BalancesLock(ctx, skus, locations); err != nil {
					return err
				}
				_, err := tx.StockCount(ctx, c.ms)
				check("in a transaction", err)
				return errors.Join(boom, err)
			})
			wantIs(t, "the transaction", err, boom)
			if after := books(t, s, locations, skus); after != before {
				t.Errorf("the books changed in a rolled-back transaction:\n got  %s\n want %s", after, before)
			}
		})
	}
}

// testStockCountMany counts more movements than one round trip sends
// (PostgreSQL sends 1,000 to a pipeline): new balances, then corrections
// up and down, then a batch refused in its last round trip.
func testStockCountMany(t *testing.T, s store.Store) {
	const n = 2500
	locations := []string{"leeds", "york"}
	skus := make([]string, n/2)
	ok(t, "stock", s.InTx(ctx, func(tx store.Querier) error {
		mustStock(t, tx, locations, nil)
		for i := range skus {
			skus[i] = fmt.Sprintf("SKU-%04d", i)
			if err := tx.SKUInsert(ctx, newSKU(skus[i])); err != nil {
				return err
			}
		}
		return nil
	}))
	// counts returns a count per key, in reverse key order, with a delta
	// of delta(i) for the i-th, at minute n.
	counts := func(n int, delta func(i int) int64) []*inventory.Movement {
		var ms []*inventory.Movement
		for i := len(skus) - 1; i >= 0; i-- {
			for _, l := range locations {
				ms = append(ms, newCount(l, skus[i], delta(len(ms)), n))
			}
		}
		return ms
	}
	// onHand is what each key of counts should have on hand.
	onHand := make([]int64, n)
	stored := func(what string) {
		t.Helper()
		all, err := s.BalancesBySKU(ctx, skus)
		ok(t, "BalancesBySKU", err)
		got := make(map[string]int64, len(all))
		for _, b := range all {
			got[b.Location+"/"+b.SKU] = b.OnHand
		}
		for i, m := range counts(0, func(int) int64 { return 0 }) {
			if k := m.Location + "/" + m.SKU; got[k] != onHand[i] {
				t.Fatalf("%s: %s has %d on hand, want %d", what, k, got[k], onHand[i])
			}
		}
		if len(all) != n {
			t.Fatalf("%s: %d balances, want %d", what, len(all), n)
		}
		mismatches, err := s.LedgerCheck(ctx)
		ok(t, "LedgerCheck", err)
		equal(t, what+": ledger mismatches", len(mismatches), 0)
	}
	returned := func(what string, ms []*inventory.Movement, bs []*inventory.Balance) {
		t.Helper()
		for i, m := range ms {
			if bs[i].SKU != m.SKU || bs[i].Location != m.Location || bs[i].OnHand != onHand[i] || m.Seq <= 0 {
				t.Fatalf("%s: movement %d (%s at %s, seq %d): balance %+v, want %d on hand", what, i, m.SKU, m.Location, m.Seq, bs[i], onHand[i])
			}
		}
		stored(what)
	}

	ms := counts(1, func(i int) int64 { return int64(i%5 + 1) })
	for i, m := range ms {
		onHand[i] = m.DeltaOnHand
	}
	var bs []*inventory.Balance
	ok(t, "new", s.InTx(ctx, func(tx store.Querier) error {
		bs = mustCount(t, tx, ms...)
		return nil
	}))
	returned("new balances", ms, bs)

	ms = counts(2, func(i int) int64 { return int64(i%3 - 1) })
	for i, m := range ms {
		onHand[i] += m.DeltaOnHand
	}
	ok(t, "corrections", s.InTx(ctx, func(tx store.Querier) error {
		if _, err := tx.BalancesLock(ctx, skus, locations); err != nil {
			return err
		}
		bs = mustCount(t, tx, ms...)
		return nil
	}))
	returned("corrections", ms, bs)

	// The last key in key order (the second given) would go below zero.
	ms = counts(3, func(i int) int64 {
		if i == 1 {
			return -onHand[1] - 1
		}
		return 1
	})
	err := s.InTx(ctx, func(tx store.Querier) error {
		_, err := tx.StockCount(ctx, ms)
		return err
	})
	wantIs(t, "refused in the last round trip", err, store.ErrNegativeStock)
	stored("after the refusal")
}

// testEventInsertManyTaken: a taken id in a later statement's worth of
// events, inside a transaction, stores none of the events (not even the
// earlier statements'), and the transaction goes on.
func testEventInsertManyTaken(t *testing.T, s store.Store) {
	a := orderly.NewID()
	first := newEvent("order.created", a, 0)
	ok(t, "one", s.EventInsert(ctx, first))
	var es []*orderly.Event
	for i := range 1200 { // more than one round trip's worth on PostgreSQL
		es = append(es, newEvent(fmt.Sprint("order.e", i), a, i))
	}
	es[1150] = &orderly.Event{ID: first.ID, Type: "x", At: T0}
	var after *orderly.Event
	ok(t, "in tx", s.InTx(ctx, func(tx store.Querier) error {
		wantIs(t, "taken id", tx.EventInsert(ctx, es...), store.ErrDuplicate)
		after = newEvent("order.after", a, 2)
		return tx.EventInsert(ctx, after)
	}))
	got, err := s.EventList(ctx, store.EventListParams{Limit: store.MaxLimit})
	ok(t, "list", err)
	if len(got) != 2 || got[0].ID != first.ID || got[1].ID != after.ID {
		t.Errorf("%d events stored, want the first and the one after the refusal", len(got))
	}

	// Without the taken id, all of them, seqs in the order given.
	es[1150] = newEvent("order.e1150", a, 1150)
	ok(t, "in tx", s.InTx(ctx, func(tx store.Querier) error { return tx.EventInsert(ctx, es...) }))
	if es[0].Seq <= after.Seq {
		t.Errorf("first event's seq %d, want after %d", es[0].Seq, after.Seq)
	}
	for i := 1; i < len(es); i++ {
		if es[i].Seq <= es[i-1].Seq {
			t.Fatalf("event %d: seq %d after %d, want increasing in the order given", i, es[i].Seq, es[i-1].Seq)
		}
	}
	stored, err := s.EventList(ctx, store.EventListParams{AfterSeq: after.Seq, Limit: store.MaxLimit})
	ok(t, "list", err)
	if len(stored) == 0 || stored[0].ID != es[0].ID {
		t.Errorf("the first event listed after the refusal is not the first given")
	}
}
