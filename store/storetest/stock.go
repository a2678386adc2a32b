package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/store"
)

// This file holds the contract of the stock ledger, balances, allocations
// and reconciliation reports, and of the channels' feeding locations.

// mustStock stores the locations and SKUs.
func mustStock(t testing.TB, q store.Querier, locations, skus []string) {
	t.Helper()
	for _, l := range locations {
		ok(t, "LocationInsert "+l, q.LocationInsert(ctx, newLocation(l, nil, nil)))
	}
	for _, k := range skus {
		ok(t, "SKUInsert "+k, q.SKUInsert(ctx, newSKU(k)))
	}
}

// newMove returns a movement at minute n.
func newMove(location, sku string, onHand, reserved int64, reason inventory.Reason, n int) *inventory.Movement {
	return &inventory.Movement{SKU: sku, Location: location, DeltaOnHand: onHand, DeltaReserved: reserved,
		Reason: reason, Reference: fmt.Sprint("ref-", n), Actor: "key:test", At: at(n)}
}

// mustMove applies m and returns the new balance.
func mustMove(t testing.TB, q store.Querier, m *inventory.Movement) *inventory.Balance {
	t.Helper()
	b, err := q.StockMove(ctx, m)
	if err != nil {
		t.Fatalf("StockMove(%s at %s, %+d/%+d): %v", m.SKU, m.Location, m.DeltaOnHand, m.DeltaReserved, err)
	}
	return b
}

// balance returns the balance a test expects, last changed at minute n.
func balance(location, sku string, onHand, reserved, safety int64, n int) *inventory.Balance {
	return &inventory.Balance{SKU: sku, Location: location, OnHand: onHand, Reserved: reserved, SafetyStock: safety, UpdatedAt: at(n)}
}

// ledger returns every movement of one balance, newest first.
func ledger(t testing.TB, q store.Querier, location, sku string) []*inventory.Movement {
	t.Helper()
	var all []*inventory.Movement
	p := store.MovementListParams{Location: location, SKU: sku, Limit: store.MaxLimit}
	for {
		page, err := q.MovementList(ctx, p)
		ok(t, "MovementList", err)
		all = append(all, page...)
		if len(page) < p.Limit {
			return all
		}
		p.BeforeSeq = page[len(page)-1].Seq
	}
}

// refused applies m, which must fail with want (and kind), and checks that
// it wrote nothing: the balance (or its absence) and the ledger are as
// they were.
func refused(t *testing.T, s store.Store, m *inventory.Movement, want error, kind orderly.Kind) {
	t.Helper()
	what := fmt.Sprintf("%+d on hand, %+d reserved of %s at %s", m.DeltaOnHand, m.DeltaReserved, m.SKU, m.Location)
	before, beforeErr := s.BalanceGet(ctx, m.Location, m.SKU)
	moves := len(ledger(t, s, m.Location, m.SKU))
	b, err := s.StockMove(ctx, m)
	wantIs(t, what, err, want)
	wantKind(t, what, err, kind)
	if b != nil {
		t.Errorf("%s: refused, but returned balance %+v", what, b)
	}
	after, afterErr := s.BalanceGet(ctx, m.Location, m.SKU)
	equal(t, what+": balance after refusal", after, before)
	if orderly.KindOf(afterErr) != orderly.KindOf(beforeErr) {
		t.Errorf("%s: balance read %v before and %v after the refusal", what, beforeErr, afterErr)
	}
	if n := len(ledger(t, s, m.Location, m.SKU)); n != moves {
		t.Errorf("%s: %d movements after the refusal, want %d", what, n, moves)
	}
}

// sumsMatch checks that a balance is the sum of its ledger.
func sumsMatch(t *testing.T, q store.Querier, location, sku string) {
	t.Helper()
	b, err := q.BalanceGet(ctx, location, sku)
	ok(t, "BalanceGet", err)
	var onHand, reserved int64
	for _, m := range ledger(t, q, location, sku) {
		onHand += m.DeltaOnHand
		reserved += m.DeltaReserved
	}
	if b.OnHand != onHand || b.Reserved != reserved {
		t.Errorf("%s at %s: balance %d on hand, %d reserved; ledger sums to %d and %d", sku, location, b.OnHand, b.Reserved, onHand, reserved)
	}
}

func testChannelLocations(t *testing.T, s store.Store) {
	c := NewChannel("web")
	c.Locations = []string{"york", "leeds"} // the channel's order is kept
	ok(t, "insert", s.ChannelInsert(ctx, c))
	got, err := s.ChannelGet(ctx, "web")
	ok(t, "get", err)
	equal(t, "channel with locations", got, c)
	all, err := s.ChannelList(ctx, store.ListParams{})
	ok(t, "list", err)
	equal(t, "listed channel", all, []*channel.Channel{c})

	c.Locations, c.UpdatedAt = []string{"leeds"}, at(1)
	ok(t, "update", s.ChannelUpdate(ctx, c))
	got, err = s.ChannelGet(ctx, "web")
	ok(t, "get after update", err)
	equal(t, "updated locations", got.Locations, []string{"leeds"})

	// No locations (nil or empty) reads back as an empty list, not nil.
	c.Locations = nil
	ok(t, "update to none", s.ChannelUpdate(ctx, c))
	bare := NewChannel("bare")
	bare.Locations = nil
	ok(t, "insert without locations", s.ChannelInsert(ctx, bare))
	for _, code := range []string{"web", "bare"} {
		got, err = s.ChannelGet(ctx, code)
		ok(t, "get "+code, err)
		if got.Locations == nil || len(got.Locations) != 0 {
			t.Errorf("%s: locations %#v, want an empty, non-nil list", code, got.Locations)
		}
		b, err := json.Marshal(got)
		ok(t, "marshal", err)
		if !strings.Contains(string(b), `"locations":[]`) {
			t.Errorf("%s renders as %s, want \"locations\":[]", code, b)
		}
	}
}

func testStockMove(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds", "york"}, []string{"A", "B"})
	_, err := s.BalanceGet(ctx, "leeds", "A")
	wantKind(t, "balance before any move", err, orderly.KindNotFound)

	// The first move creates the balance.
	m := newMove("leeds", "A", 10, 0, inventory.ReasonReceive, 1)
	b := mustMove(t, s, m)
	equal(t, "balance after receive", b, balance("leeds", "A", 10, 0, 0, 1))
	if m.ID == "" || m.Seq <= 0 {
		t.Errorf("movement id %q, seq %d: want both assigned", m.ID, m.Seq)
	}
	got, err := s.BalanceGet(ctx, "leeds", "A")
	ok(t, "BalanceGet", err)
	equal(t, "stored balance", got, b)

	// Reservations up to what is available, and not one unit more.
	equal(t, "reserve 4", mustMove(t, s, newMove("leeds", "A", 0, 4, inventory.ReasonReserve, 2)), balance("leeds", "A", 10, 4, 0, 2))
	refused(t, s, newMove("leeds", "A", 0, 7, inventory.ReasonReserve, 3), store.ErrInsufficientStock, orderly.KindConflict)
	equal(t, "reserve 6", mustMove(t, s, newMove("leeds", "A", 0, 6, inventory.ReasonReserve, 3)), balance("leeds", "A", 10, 10, 0, 3))
	refused(t, s, newMove("leeds", "A", 0, 1, inventory.ReasonReserve, 4), store.ErrInsufficientStock, orderly.KindConflict)

	// Shipping consumes stock and reservation together; a release frees.
	equal(t, "ship 3", mustMove(t, s, newMove("leeds", "A", -3, -3, inventory.ReasonShip, 4)), balance("leeds", "A", 7, 7, 0, 4))
	equal(t, "release 2", mustMove(t, s, newMove("leeds", "A", 0, -2, inventory.ReasonRelease, 5)), balance("leeds", "A", 7, 5, 0, 5))

	// Nothing goes below zero.
	refused(t, s, newMove("leeds", "A", -8, 0, inventory.ReasonDamage, 6), store.ErrNegativeStock, orderly.KindInvalid)
	refused(t, s, newMove("leeds", "A", 0, -6, inventory.ReasonRelease, 6), store.ErrNegativeStock, orderly.KindInvalid)
	refused(t, s, newMove("leeds", "A", -8, -5, inventory.ReasonShip, 6), store.ErrNegativeStock, orderly.KindInvalid)

	// A count below what is reserved is allowed: on hand may fall under
	// reserved (a shortage), as long as it stays at or above zero.
	b = mustMove(t, s, newMove("leeds", "A", -4, 0, inventory.ReasonCount, 6))
	equal(t, "count below reserved", b, balance("leeds", "A", 3, 5, 0, 6))
	if b.Shortage() != 2 || b.Available() != 0 {
		t.Errorf("shortage %d, available %d; want 2 and 0", b.Shortage(), b.Available())
	}
	refused(t, s, newMove("leeds", "A", 0, 1, inventory.ReasonReserve, 7), store.ErrInsufficientStock, orderly.KindConflict)
	equal(t, "count to zero", mustMove(t, s, newMove("leeds", "A", -3, 0, inventory.ReasonCount, 7)), balance("leeds", "A", 0, 5, 0, 7))
	equal(t, "release all", mustMove(t, s, newMove("leeds", "A", 0, -5, inventory.ReasonRelease, 8)), balance("leeds", "A", 0, 0, 0, 8))

	// Refused moves on a key with no balance create none.
	refused(t, s, newMove("york", "B", 0, 1, inventory.ReasonReserve, 9), store.ErrInsufficientStock, orderly.KindConflict)
	refused(t, s, newMove("york", "B", -1, 0, inventory.ReasonAdjust, 9), store.ErrNegativeStock, orderly.KindInvalid)

	// A receive and reservation in one move is judged on the stock before it.
	refused(t, s, newMove("york", "B", 5, 1, inventory.ReasonReceive, 9), store.ErrInsufficientStock, orderly.KindConflict)

	// Unknown SKUs and locations are invalid.
	_, err = s.StockMove(ctx, newMove("leeds", "NOPE", 1, 0, inventory.ReasonReceive, 9))
	wantKind(t, "unknown SKU", err, orderly.KindInvalid)
	_, err = s.StockMove(ctx, newMove("nowhere", "A", 1, 0, inventory.ReasonReceive, 9))
	wantKind(t, "unknown location", err, orderly.KindInvalid)

	// The ledger holds the accepted moves, and sums to the balance.
	if n := len(ledger(t, s, "leeds", "A")); n != 8 {
		t.Errorf("%d movements, want 8", n)
	}
	sumsMatch(t, s, "leeds", "A")
	_, err = s.BalanceGet(ctx, "york", "B")
	wantKind(t, "balance of refused moves only", err, orderly.KindNotFound)
}

func testStockMoveInTx(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds"}, []string{"A", "B"})

	// A refusal leaves the transaction usable: the caller may go on.
	err := s.InTx(ctx, func(tx store.Querier) error {
		mustMove(t, tx, newMove("leeds", "A", 5, 0, inventory.ReasonReceive, 1))
		mustMove(t, tx, newMove("leeds", "A", 0, 3, inventory.ReasonReserve, 2))
		if _, err := tx.StockMove(ctx, newMove("leeds", "A", 0, 3, inventory.ReasonReserve, 3)); !errors.Is(err, store.ErrInsufficientStock) {
			return fmt.Errorf("reserve beyond available: %w, want insufficient stock", err)
		}
		if _, err := tx.StockMove(ctx, newMove("leeds", "A", -6, 0, inventory.ReasonAdjust, 3)); !errors.Is(err, store.ErrNegativeStock) {
			return fmt.Errorf("adjust below zero: %w, want negative stock", err)
		}
		b, err := tx.StockMove(ctx, newMove("leeds", "A", 0, 2, inventory.ReasonReserve, 4))
		if err != nil {
			return err
		}
		equal(t, "balance in tx", b, balance("leeds", "A", 5, 5, 0, 4))
		got, err := tx.BalanceGet(ctx, "leeds", "A")
		equal(t, "balance read in tx", got, b)
		return err
	})
	ok(t, "InTx", err)
	got, err := s.BalanceGet(ctx, "leeds", "A")
	ok(t, "get", err)
	equal(t, "committed balance", got, balance("leeds", "A", 5, 5, 0, 4))
	if n := len(ledger(t, s, "leeds", "A")); n != 3 {
		t.Errorf("%d movements, want 3", n)
	}

	// A rolled-back transaction leaves neither balance nor movement.
	boom := errors.New("boom")
	err = s.InTx(ctx, func(tx store.Querier) error {
		mustMove(t, tx, newMove("leeds", "A", 7, 0, inventory.ReasonReceive, 5))
		mustMove(t, tx, newMove("leeds", "B", 7, 0, inventory.ReasonReceive, 5))
		return boom
	})
	wantIs(t, "rolled back", err, boom)
	got, err = s.BalanceGet(ctx, "leeds", "A")
	ok(t, "get", err)
	equal(t, "balance after rollback", got, balance("leeds", "A", 5, 5, 0, 4))
	_, err = s.BalanceGet(ctx, "leeds", "B")
	wantKind(t, "balance created in a rolled-back transaction", err, orderly.KindNotFound)
	if n := len(ledger(t, s, "leeds", "A")); n != 3 {
		t.Errorf("%d movements after rollback, want 3", n)
	}
}

func testStockMoveDuplicate(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds"}, []string{"A"})
	first := newMove("leeds", "A", 5, 0, inventory.ReasonReceive, 1)
	mustMove(t, s, first)
	again := newMove("leeds", "A", 3, 0, inventory.ReasonReceive, 2)
	again.ID = first.ID
	refused(t, s, again, store.ErrDuplicate, orderly.KindConflict)

	// In a transaction the duplicate can be handled, and the books stay
	// straight.
	err := s.InTx(ctx, func(tx store.Querier) error {
		dup := newMove("leeds", "A", 0, 2, inventory.ReasonReserve, 3)
		dup.ID = first.ID
		if _, err := tx.StockMove(ctx, dup); !errors.Is(err, store.ErrDuplicate) {
			return fmt.Errorf("duplicate movement: %w, want duplicate", err)
		}
		_, err := tx.StockMove(ctx, newMove("leeds", "A", 1, 0, inventory.ReasonReceive, 4))
		return err
	})
	ok(t, "InTx", err)
	got, err := s.BalanceGet(ctx, "leeds", "A")
	ok(t, "get", err)
	if got.OnHand != 6 || got.Reserved != 0 {
		t.Errorf("balance %+v, want 6 on hand and none reserved", got)
	}
	sumsMatch(t, s, "leeds", "A")
}

func testSafetyStock(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds"}, []string{"A"})
	b, err := s.BalanceSetSafetyStock(ctx, "leeds", "A", 2, at(1))
	ok(t, "set on a new balance", err)
	equal(t, "new balance", b, balance("leeds", "A", 0, 0, 2, 1))
	got, err := s.BalanceGet(ctx, "leeds", "A")
	ok(t, "get", err)
	equal(t, "stored", got, b)

	// Moves keep the safety stock, and reservations respect it.
	equal(t, "receive", mustMove(t, s, newMove("leeds", "A", 5, 0, inventory.ReasonReceive, 2)), balance("leeds", "A", 5, 0, 2, 2))
	refused(t, s, newMove("leeds", "A", 0, 4, inventory.ReasonReserve, 3), store.ErrInsufficientStock, orderly.KindConflict)
	equal(t, "reserve 3", mustMove(t, s, newMove("leeds", "A", 0, 3, inventory.ReasonReserve, 3)), balance("leeds", "A", 5, 3, 2, 3))
	refused(t, s, newMove("leeds", "A", 0, 1, inventory.ReasonReserve, 4), store.ErrInsufficientStock, orderly.KindConflict)

	// Changing it keeps the stock; it may exceed what is on hand.
	b, err = s.BalanceSetSafetyStock(ctx, "leeds", "A", 0, at(4))
	ok(t, "set to zero", err)
	equal(t, "without safety stock", b, balance("leeds", "A", 5, 3, 0, 4))
	equal(t, "reserve 2", mustMove(t, s, newMove("leeds", "A", 0, 2, inventory.ReasonReserve, 5)), balance("leeds", "A", 5, 5, 0, 5))
	b, err = s.BalanceSetSafetyStock(ctx, "leeds", "A", 10, at(6))
	ok(t, "set above on hand", err)
	if b.Available() != 0 || b.SafetyStock != 10 {
		t.Errorf("balance %+v, want safety stock 10 and nothing available", b)
	}
	ok(t, "in tx", s.InTx(ctx, func(tx store.Querier) error {
		_, err := tx.BalanceSetSafetyStock(ctx, "leeds", "A", 1, at(7))
		return err
	}))
	got, err = s.BalanceGet(ctx, "leeds", "A")
	ok(t, "get", err)
	equal(t, "set in tx", got, balance("leeds", "A", 5, 5, 1, 7))

	_, err = s.BalanceSetSafetyStock(ctx, "leeds", "A", -1, at(8))
	wantKind(t, "negative", err, orderly.KindInvalid)
	_, err = s.BalanceSetSafetyStock(ctx, "leeds", "NOPE", 1, at(8))
	wantKind(t, "unknown SKU", err, orderly.KindInvalid)
	_, err = s.BalanceSetSafetyStock(ctx, "nowhere", "A", 1, at(8))
	wantKind(t, "unknown location", err, orderly.KindInvalid)

	// Safety stock is not a movement.
	if n := len(ledger(t, s, "leeds", "A")); n != 3 {
		t.Errorf("%d movements, want 3", n)
	}
}

func testMovementList(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds", "york"}, []string{"A", "B"})
	var want []*inventory.Movement // leeds/A, newest first
	for i, mv := range []struct {
		loc, sku         string
		onHand, reserved int64
		reason           inventory.Reason
	}{
		{"leeds", "A", 10, 0, inventory.ReasonReceive},
		{"york", "A", 4, 0, inventory.ReasonReceive},
		{"leeds", "A", 0, 3, inventory.ReasonReserve},
		{"leeds", "B", 1, 0, inventory.ReasonReturn},
		{"leeds", "A", -1, -1, inventory.ReasonShip},
		{"leeds", "A", 0, -2, inventory.ReasonRelease},
		{"leeds", "A", -2, 0, inventory.ReasonDamage},
	} {
		m := newMove(mv.loc, mv.sku, mv.onHand, mv.reserved, mv.reason, i)
		m.ID = orderly.NewID()
		mustMove(t, s, m)
		if mv.loc == "leeds" && mv.sku == "A" {
			want = append([]*inventory.Movement{m}, want...)
		}
	}
	got, err := s.MovementList(ctx, store.MovementListParams{Location: "leeds", SKU: "A"})
	ok(t, "list", err)
	equal(t, "ledger of leeds/A", got, want)

	// Paging newest first visits each movement once.
	var paged []*inventory.Movement
	p := store.MovementListParams{Location: "leeds", SKU: "A", Limit: 2}
	for range 10 {
		page, err := s.MovementList(ctx, p)
		ok(t, "page", err)
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		p.BeforeSeq = page[len(page)-1].Seq
	}
	equal(t, "paged ledger", paged, want)

	got, err = s.MovementList(ctx, store.MovementListParams{Location: "leeds", SKU: "A", BeforeSeq: want[1].Seq})
	ok(t, "list before", err)
	equal(t, "before the second newest", got, want[2:])
	got, err = s.MovementList(ctx, store.MovementListParams{Location: "york", SKU: "B"})
	ok(t, "list empty", err)
	if len(got) != 0 {
		t.Errorf("ledger of a key that never moved: %d movements", len(got))
	}
}

func testMovementSumSince(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds", "york"}, []string{"A", "B", "C"})
	for _, m := range []*inventory.Movement{
		newMove("leeds", "A", 5, 0, inventory.ReasonReceive, 0),
		newMove("leeds", "C", 3, 0, inventory.ReasonReceive, 10),
		newMove("leeds", "A", -2, 0, inventory.ReasonDamage, 10), // at since: counted
		newMove("leeds", "B", 4, 0, inventory.ReasonReceive, 5),
		newMove("leeds", "B", 0, 2, inventory.ReasonReserve, 15), // reserved only
		newMove("york", "A", 7, 0, inventory.ReasonReceive, 15),  // another location
		newMove("leeds", "A", 1, 0, inventory.ReasonReturn, 20),
		newMove("leeds", "C", -3, 0, inventory.ReasonAdjust, 20), // nets to zero
	} {
		mustMove(t, s, m)
	}
	got, err := s.MovementSumSince(ctx, "leeds", at(10))
	ok(t, "sum", err)
	for sku, want := range map[string]int64{"A": -1, "B": 0, "C": 0} {
		if got[sku] != want {
			t.Errorf("net change of %s since minute 10: %d, want %d", sku, got[sku], want)
		}
	}
	got, err = s.MovementSumSince(ctx, "york", at(0))
	ok(t, "sum at york", err)
	equal(t, "york", got, map[string]int64{"A": 7})
	got, err = s.MovementSumSince(ctx, "leeds", at(21))
	ok(t, "sum after every move", err)
	if len(got) != 0 {
		t.Errorf("sum after every move: %v, want none", got)
	}
}

// keys returns "sku@location" of each balance.
func keys(bs []*inventory.Balance) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.SKU + "@" + b.Location
	}
	return out
}

// mustBalances gives each "sku@location" a balance of one unit on hand.
func mustBalances(t testing.TB, s store.Store, keys ...string) {
	t.Helper()
	ok(t, "receive", s.InTx(ctx, func(tx store.Querier) error {
		for _, k := range keys {
			sku, loc, _ := strings.Cut(k, "@")
			if _, err := tx.StockMove(ctx, newMove(loc, sku, 1, 0, inventory.ReasonReceive, 1)); err != nil {
				return err
			}
		}
		return nil
	}))
}

func testBalancesLock(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"a", "b", "c"}, []string{"X", "Y", "Z"})
	mustBalances(t, s, "Z@b", "X@c", "Y@b", "Z@a", "X@a", "Z@c")
	check := func(q store.Querier, where string) {
		t.Helper()
		for _, tt := range []struct {
			skus, locations []string
			want            []string
		}{
			{[]string{"Z", "X"}, []string{"c", "a"}, []string{"X@a", "X@c", "Z@a", "Z@c"}},
			{[]string{"Z", "X", "X"}, nil, []string{"X@a", "X@c", "Z@a", "Z@b", "Z@c"}},
			{[]string{"Y", "Q"}, []string{"a", "b", "nowhere"}, []string{"Y@b"}},
			{[]string{"Q"}, nil, []string{}},
			{nil, nil, []string{}},
			{nil, []string{"a"}, []string{}},
		} {
			bs, err := q.BalancesLock(ctx, tt.skus, tt.locations)
			ok(t, "BalancesLock", err)
			equal(t, fmt.Sprintf("%s: BalancesLock(%q, %q)", where, tt.skus, tt.locations), keys(bs), tt.want)
		}
	}
	check(s, "outside a transaction")
	ok(t, "InTx", s.InTx(ctx, func(tx store.Querier) error {
		check(tx, "in a transaction")
		bs, err := tx.BalancesLock(ctx, []string{"X"}, []string{"a"})
		equal(t, "locked balance", bs, []*inventory.Balance{balance("a", "X", 1, 0, 0, 1)})
		return err
	}))

	// More SKUs than one statement takes come back in order all the same.
	var many []string
	for i := range 250 {
		many = append(many, fmt.Sprintf("M%03d", i))
	}
	ok(t, "many", s.InTx(ctx, func(tx store.Querier) error {
		for _, k := range many {
			mustStock(t, tx, nil, []string{k})
			if _, err := tx.StockMove(ctx, newMove("b", k, 1, 0, inventory.ReasonReceive, 1)); err != nil {
				return err
			}
		}
		return nil
	}))
	shuffled := slices.Clone(many)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	ok(t, "InTx", s.InTx(ctx, func(tx store.Querier) error {
		bs, err := tx.BalancesLock(ctx, append(shuffled, "Z"), []string{"b"})
		var want []string
		for _, k := range many {
			want = append(want, k+"@b")
		}
		equal(t, "250 SKUs locked in order", keys(bs), append(want, "Z@b"))
		return err
	}))
}

// testBalancesLockBlocks checks that balances locked in a transaction stay
// locked until it ends: a move of one of them waits.
func testBalancesLockBlocks(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds"}, []string{"A"})
	mustMove(t, s, newMove("leeds", "A", 10, 0, inventory.ReasonReceive, 1))
	var (
		moved atomic.Bool
		once  sync.Once
		wg    sync.WaitGroup
		err2  error
	)
	err := s.InTx(ctx, func(tx store.Querier) error {
		if _, err := tx.BalancesLock(ctx, []string{"A"}, []string{"leeds"}); err != nil {
			return err
		}
		once.Do(func() {
			wg.Go(func() {
				_, err2 = s.StockMove(ctx, newMove("leeds", "A", 0, 1, inventory.ReasonReserve, 2))
				moved.Store(true)
			})
		})
		time.Sleep(150 * time.Millisecond)
		if moved.Load() {
			t.Error("a move changed a balance locked by another transaction")
		}
		return nil
	})
	ok(t, "InTx", err)
	wg.Wait()
	ok(t, "move after the lock", err2)
	got, err := s.BalanceGet(ctx, "leeds", "A")
	ok(t, "get", err)
	equal(t, "balance", got, balance("leeds", "A", 10, 1, 0, 2))
}

func testBalancesBySKU(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"a", "b", "c"}, []string{"X", "Y", "Z"})
	mustBalances(t, s, "Z@b", "X@c", "Y@b", "Z@a", "X@a", "Z@c")
	_, err := s.BalanceSetSafetyStock(ctx, "b", "X", 3, at(2))
	ok(t, "safety stock", err)
	bs, err := s.BalancesBySKU(ctx, []string{"Z", "Q", "X", "X"})
	ok(t, "BalancesBySKU", err)
	equal(t, "balances", bs, []*inventory.Balance{
		balance("a", "X", 1, 0, 0, 1), balance("b", "X", 0, 0, 3, 2), balance("c", "X", 1, 0, 0, 1),
		balance("a", "Z", 1, 0, 0, 1), balance("b", "Z", 1, 0, 0, 1), balance("c", "Z", 1, 0, 0, 1),
	})
	bs, err = s.BalancesBySKU(ctx, nil)
	ok(t, "no SKUs", err)
	if len(bs) != 0 {
		t.Errorf("balances of no SKUs: %v", keys(bs))
	}
	ok(t, "in tx", s.InTx(ctx, func(tx store.Querier) error {
		bs, err := tx.BalancesBySKU(ctx, []string{"Y"})
		equal(t, "in tx", keys(bs), []string{"Y@b"})
		return err
	}))
}

func testBalanceList(t *testing.T, s store.Store) {
	// Byte order: "B" < "a" < "c".
	mustStock(t, s, []string{"south", "north"}, []string{"c", "a", "B"})
	mustBalances(t, s, "a@south", "c@north", "B@south", "a@north", "c@south", "B@north")
	list := func(p store.BalanceListParams) []string {
		t.Helper()
		bs, err := s.BalanceList(ctx, p)
		ok(t, "BalanceList", err)
		return keys(bs)
	}
	all := []string{"B@north", "a@north", "c@north", "B@south", "a@south", "c@south"}
	equal(t, "all", list(store.BalanceListParams{}), all)
	equal(t, "at south", list(store.BalanceListParams{Location: "south"}), all[3:])
	equal(t, "of a", list(store.BalanceListParams{SKU: "a"}), []string{"a@north", "a@south"})
	equal(t, "a at south", list(store.BalanceListParams{Location: "south", SKU: "a"}), []string{"a@south"})
	equal(t, "limit", list(store.BalanceListParams{Limit: 2}), all[:2])

	// Paging visits each once, with or without a filter.
	for _, tt := range []struct {
		p    store.BalanceListParams
		want []string
	}{
		{store.BalanceListParams{Limit: 2}, all},
		{store.BalanceListParams{Limit: 4}, all},
		{store.BalanceListParams{Location: "north", Limit: 2}, all[:3]},
		{store.BalanceListParams{SKU: "c", Limit: 1}, []string{"c@north", "c@south"}},
	} {
		var got []string
		p := tt.p
		for range 10 {
			bs, err := s.BalanceList(ctx, p)
			ok(t, "page", err)
			if len(bs) == 0 {
				break
			}
			got = append(got, keys(bs)...)
			p.AfterLocation, p.AfterSKU = bs[len(bs)-1].Location, bs[len(bs)-1].SKU
		}
		equal(t, fmt.Sprintf("paged %+v", tt.p), got, tt.want)
	}
	equal(t, "after a key", list(store.BalanceListParams{AfterLocation: "north", AfterSKU: "a"}), all[2:])

	// A key from outside the filter still means "after it" in (location,
	// sku) order.
	for _, tt := range []struct {
		p    store.BalanceListParams
		want []string
	}{
		{store.BalanceListParams{Location: "south", AfterLocation: "north", AfterSKU: "c"}, all[3:]},
		{store.BalanceListParams{Location: "north", AfterLocation: "south", AfterSKU: ""}, []string{}},
		{store.BalanceListParams{Location: "north", AfterLocation: "north", AfterSKU: "zzz"}, []string{}},
		{store.BalanceListParams{SKU: "B", AfterLocation: "north", AfterSKU: "a"}, []string{"B@south"}},
		{store.BalanceListParams{SKU: "c", AfterLocation: "north", AfterSKU: "B"}, []string{"c@north", "c@south"}},
		{store.BalanceListParams{SKU: "a", AfterLocation: "north", AfterSKU: "a"}, []string{"a@south"}},
		{store.BalanceListParams{SKU: "a", AfterLocation: "", AfterSKU: "c"}, []string{"a@north", "a@south"}},
	} {
		got := list(tt.p)
		if got == nil {
			got = []string{}
		}
		equal(t, fmt.Sprintf("list %+v", tt.p), got, tt.want)
	}
}

func newAllocation(orderID, lineID, sku, location string, quantity int64, n int) *inventory.Allocation {
	return &inventory.Allocation{OrderID: orderID, LineID: lineID, SKU: sku, Location: location, Quantity: quantity, CreatedAt: at(n)}
}

func testAllocations(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds", "york"}, nil)
	mustInsertChannels(t, s, "web")
	o1 := mustInsertOrder(t, s, NewOrder("web", "A1"))
	o2 := mustInsertOrder(t, s, NewOrder("web", "A2"))
	tee, mug := o1.Lines[0], o1.Lines[1]
	a1 := newAllocation(o1.ID, tee.ID, tee.SKU, "leeds", 2, 1)
	a2 := newAllocation(o1.ID, mug.ID, mug.SKU, "york", 1, 2)
	a3 := newAllocation(o2.ID, o2.Lines[0].ID, tee.SKU, "leeds", 3, 3)
	closed := newAllocation(o1.ID, tee.ID, tee.SKU, "york", 0, 4)
	for _, a := range []*inventory.Allocation{a1, a2, a3, closed} {
		ok(t, "insert", s.AllocationInsert(ctx, a))
		if a.ID == "" {
			t.Fatal("allocation id not assigned")
		}
	}
	byOrder := func(id string) []*inventory.Allocation {
		t.Helper()
		as, err := s.AllocationListByOrder(ctx, id)
		ok(t, "by order", err)
		return as
	}
	byStock := func(loc, sku string) []*inventory.Allocation {
		t.Helper()
		as, err := s.AllocationListByStock(ctx, loc, sku)
		ok(t, "by stock", err)
		return as
	}
	equal(t, "open allocations of o1, oldest first", byOrder(o1.ID), []*inventory.Allocation{a1, a2})
	equal(t, "open allocations at leeds, newest first", byStock("leeds", tee.SKU), []*inventory.Allocation{a3, a1})
	if len(byStock("york", tee.SKU)) != 0 {
		t.Error("a closed allocation is listed")
	}

	ok(t, "set 1", s.AllocationSetQuantity(ctx, a1.ID, 1))
	a1.Quantity = 1
	equal(t, "after setting 1", byOrder(o1.ID), []*inventory.Allocation{a1, a2})
	ok(t, "close in tx", s.InTx(ctx, func(tx store.Querier) error { return tx.AllocationSetQuantity(ctx, a1.ID, 0) }))
	equal(t, "after closing a1", byOrder(o1.ID), []*inventory.Allocation{a2})
	equal(t, "leeds after closing a1", byStock("leeds", tee.SKU), []*inventory.Allocation{a3})
	ok(t, "reopen", s.AllocationSetQuantity(ctx, closed.ID, 5))
	closed.Quantity = 5
	equal(t, "york after reopening", byStock("york", tee.SKU), []*inventory.Allocation{closed})

	wantKind(t, "set unknown", s.AllocationSetQuantity(ctx, orderly.NewID(), 1), orderly.KindNotFound)
	wantKind(t, "set negative", s.AllocationSetQuantity(ctx, a2.ID, -1), orderly.KindInvalid)
	dup := newAllocation(o2.ID, o2.Lines[0].ID, tee.SKU, "york", 1, 5)
	dup.ID = a2.ID
	wantIs(t, "duplicate", s.AllocationInsert(ctx, dup), store.ErrDuplicate)
	wantKind(t, "negative", s.AllocationInsert(ctx, newAllocation(o2.ID, "l", "X", "leeds", -1, 5)), orderly.KindInvalid)
	wantKind(t, "unknown order", s.AllocationInsert(ctx, newAllocation(orderly.NewID(), "l", "X", "leeds", 1, 5)), orderly.KindInvalid)
	wantKind(t, "unknown location", s.AllocationInsert(ctx, newAllocation(o2.ID, "l", "X", "nowhere", 1, 5)), orderly.KindInvalid)
	// The SKU is not checked: order lines may carry SKUs Orderly does not know.
	ok(t, "unknown SKU", s.AllocationInsert(ctx, newAllocation(o2.ID, "l", "NOT-A-SKU", "leeds", 1, 5)))
	if n := len(byOrder(orderly.NewID())); n != 0 {
		t.Errorf("allocations of an unknown order: %d", n)
	}
}

// testAllocationBeforeOrder checks that an allocation may be stored before
// its order in one transaction (a capture reserves first), and that an
// order still missing at commit fails the commit.
func testAllocationBeforeOrder(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds"}, nil)
	mustInsertChannels(t, s, "web")
	o := NewOrder("web", "B1")
	a := newAllocation(o.ID, o.Lines[0].ID, o.Lines[0].SKU, "leeds", 1, 1)
	ok(t, "allocate, then insert the order", s.InTx(ctx, func(tx store.Querier) error {
		if err := tx.AllocationInsert(ctx, a); err != nil {
			return err
		}
		return tx.OrderInsert(ctx, o)
	}))
	as, err := s.AllocationListByOrder(ctx, o.ID)
	ok(t, "list", err)
	equal(t, "allocations", as, []*inventory.Allocation{a})

	ghost := NewOrder("web", "never")
	err = s.InTx(ctx, func(tx store.Querier) error {
		return tx.AllocationInsert(ctx, newAllocation(ghost.ID, ghost.Lines[0].ID, "X", "leeds", 1, 2))
	})
	wantKind(t, "allocation of an order never inserted", err, orderly.KindInvalid)
	as, err = s.AllocationListByOrder(ctx, ghost.ID)
	ok(t, "list", err)
	if len(as) != 0 {
		t.Error("the allocation of a failed commit was stored")
	}
	ok(t, "the store works after a failed commit", s.InTx(ctx, func(tx store.Querier) error {
		return tx.ChannelInsert(ctx, NewChannel("after"))
	}))
}

func testLedgerCheck(t *testing.T, s store.Store) {
	check := func(what string, want ...store.LedgerMismatch) {
		t.Helper()
		got, err := s.LedgerCheck(ctx)
		ok(t, "LedgerCheck", err)
		if want == nil {
			want = []store.LedgerMismatch{}
		}
		if got == nil {
			got = []store.LedgerMismatch{}
		}
		equal(t, what, got, want)
	}
	check("empty store")

	mustStock(t, s, []string{"leeds", "york"}, []string{"A", "B", "C"})
	mustInsertChannels(t, s, "web")
	o := mustInsertOrder(t, s, NewOrder("web", "L1"))
	line := o.Lines[0].ID
	var aA, aB *inventory.Allocation
	ok(t, "moves", s.InTx(ctx, func(tx store.Querier) error {
		mustMove(t, tx, newMove("leeds", "A", 10, 0, inventory.ReasonReceive, 1))
		mustMove(t, tx, newMove("leeds", "B", 5, 0, inventory.ReasonReceive, 1))
		mustMove(t, tx, newMove("york", "A", 3, 0, inventory.ReasonReceive, 1))
		mustMove(t, tx, newMove("leeds", "A", 0, 4, inventory.ReasonReserve, 2))
		aA = newAllocation(o.ID, line, "A", "leeds", 4, 2)
		mustMove(t, tx, newMove("leeds", "B", 0, 2, inventory.ReasonReserve, 2))
		aB = newAllocation(o.ID, line, "B", "leeds", 2, 2)
		for _, a := range []*inventory.Allocation{aA, aB} {
			if err := tx.AllocationInsert(ctx, a); err != nil {
				return err
			}
		}
		return nil
	}))
	check("after receipts and reservations")
	ok(t, "ship, release, count", s.InTx(ctx, func(tx store.Querier) error {
		mustMove(t, tx, newMove("leeds", "A", -1, -1, inventory.ReasonShip, 3))
		mustMove(t, tx, newMove("leeds", "B", 0, -2, inventory.ReasonRelease, 3))
		mustMove(t, tx, newMove("york", "A", -3, 0, inventory.ReasonCount, 3))
		if _, err := tx.BalanceSetSafetyStock(ctx, "leeds", "C", 2, at(3)); err != nil {
			return err
		}
		if err := tx.AllocationSetQuantity(ctx, aA.ID, 3); err != nil {
			return err
		}
		return tx.AllocationSetQuantity(ctx, aB.ID, 0)
	}))
	check("after shipping, releasing and counting")

	// An allocation without its reservation breaks the books, on a key with
	// a balance and on one without.
	stray := newAllocation(o.ID, line, "A", "york", 2, 4)
	ok(t, "stray allocation", s.AllocationInsert(ctx, stray))
	ghost := newAllocation(o.ID, line, "GHOST", "leeds", 1, 4)
	ok(t, "allocation of an unknown SKU", s.AllocationInsert(ctx, ghost))
	extra := newAllocation(o.ID, line, "A", "leeds", 1, 4)
	ok(t, "extra allocation", s.AllocationInsert(ctx, extra))
	check("with allocations not reserved",
		store.LedgerMismatch{SKU: "A", Location: "leeds", OnHand: 9, Reserved: 3, LedgerOnHand: 9, LedgerReserved: 3, Allocated: 4},
		store.LedgerMismatch{SKU: "A", Location: "york", Allocated: 2},
		store.LedgerMismatch{SKU: "GHOST", Location: "leeds", Allocated: 1},
	)
	for _, a := range []*inventory.Allocation{stray, ghost, extra} {
		ok(t, "close", s.AllocationSetQuantity(ctx, a.ID, 0))
	}
	check("after closing them")
}

// LedgerCheckTampered checks what only raw SQL can do to the books: a
// balance changed or deleted behind the ledger's back is reported by
// LedgerCheck, and the CHECK constraints refuse negative figures even
// then. exec runs one statement on s's database, outside the store. Each
// backend's tests call it.
func LedgerCheckTampered(t *testing.T, s store.Store, exec func(query string) error) {
	mustStock(t, s, []string{"leeds"}, []string{"A", "B"})
	mustMove(t, s, newMove("leeds", "A", 10, 0, inventory.ReasonReceive, 1))
	mustMove(t, s, newMove("leeds", "B", 4, 0, inventory.ReasonReceive, 1))
	got, err := s.LedgerCheck(ctx)
	ok(t, "LedgerCheck", err)
	if len(got) != 0 {
		t.Fatalf("books not straight before tampering: %+v", got)
	}
	ok(t, "tamper", exec(`UPDATE stock_balances SET on_hand = on_hand + 1 WHERE sku = 'A' AND location = 'leeds'`))
	ok(t, "tamper", exec(`DELETE FROM stock_balances WHERE sku = 'B' AND location = 'leeds'`))
	got, err = s.LedgerCheck(ctx)
	ok(t, "LedgerCheck", err)
	equal(t, "mismatches", got, []store.LedgerMismatch{
		{SKU: "A", Location: "leeds", OnHand: 11, LedgerOnHand: 10},
		{SKU: "B", Location: "leeds", LedgerOnHand: 4},
	})
	for _, q := range []string{
		`UPDATE stock_balances SET on_hand = -1 WHERE sku = 'A'`,
		`UPDATE stock_balances SET reserved = -1 WHERE sku = 'A'`,
		`UPDATE stock_balances SET safety_stock = -1 WHERE sku = 'A'`,
	} {
		if exec(q) == nil {
			t.Errorf("%s: no error, want a CHECK violation", q)
		}
	}
}

// The concurrency tests start more goroutines than the others: enough that
// on PostgreSQL many transactions wait on one balance row at once.
const (
	reservers   = 200
	adjusters   = 1000
	stockOnHand = 50
)

// testConcurrentReservations races reservers transactions, each reserving
// one unit (and storing its allocation), for stockOnHand units: exactly
// stockOnHand succeed.
func testConcurrentReservations(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds"}, []string{"A"})
	mustInsertChannels(t, s, "web")
	o := mustInsertOrder(t, s, NewOrder("web", "R1"))
	mustMove(t, s, newMove("leeds", "A", stockOnHand, 0, inventory.ReasonReceive, 0))
	errs := make([]error, reservers)
	var wg sync.WaitGroup
	for i := range reservers {
		wg.Go(func() {
			errs[i] = s.InTx(ctx, func(tx store.Querier) error {
				if _, err := tx.StockMove(ctx, newMove("leeds", "A", 0, 1, inventory.ReasonReserve, 1)); err != nil {
					return err
				}
				return tx.AllocationInsert(ctx, newAllocation(o.ID, o.Lines[0].ID, "A", "leeds", 1, 1))
			})
		})
	}
	wg.Wait()
	succeeded, refusals := outcomes(t, errs, store.ErrInsufficientStock)
	if succeeded != stockOnHand || refusals != reservers-stockOnHand {
		t.Errorf("%d reservations succeeded and %d were refused, want %d and %d", succeeded, refusals, stockOnHand, reservers-stockOnHand)
	}
	b, err := s.BalanceGet(ctx, "leeds", "A")
	ok(t, "get", err)
	if b.OnHand != stockOnHand || b.Reserved != stockOnHand {
		t.Errorf("balance %+v, want %d on hand, all reserved", b, stockOnHand)
	}
	reserves := 0
	for _, m := range ledger(t, s, "leeds", "A") {
		if m.Reason == inventory.ReasonReserve {
			reserves++
		}
	}
	if reserves != stockOnHand {
		t.Errorf("%d reserve movements, want %d", reserves, stockOnHand)
	}
	mismatches, err := s.LedgerCheck(ctx)
	ok(t, "LedgerCheck", err)
	if len(mismatches) != 0 {
		t.Errorf("books not straight: %+v", mismatches)
	}
}

// testConcurrentAdjustments races adjusters ±1 adjustments of one balance,
// half in InTx, half on their own: every one applies.
func testConcurrentAdjustments(t *testing.T, s store.Store) {
	const start = 1000
	mustStock(t, s, []string{"leeds"}, []string{"A"})
	mustMove(t, s, newMove("leeds", "A", start, 0, inventory.ReasonReceive, 0))
	errs := make([]error, adjusters)
	var wg sync.WaitGroup
	var sum int64
	for i := range adjusters {
		delta := int64(-1)
		if i%3 == 0 {
			delta = 1
		}
		sum += delta
		wg.Go(func() {
			m := newMove("leeds", "A", delta, 0, inventory.ReasonAdjust, 1)
			if i%2 == 0 {
				errs[i] = s.InTx(ctx, func(tx store.Querier) error {
					_, err := tx.StockMove(ctx, m)
					return err
				})
			} else {
				_, errs[i] = s.StockMove(ctx, m)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("adjustment %d: %v", i, err)
		}
	}
	b, err := s.BalanceGet(ctx, "leeds", "A")
	ok(t, "get", err)
	if b.OnHand != start+sum || b.Reserved != 0 {
		t.Errorf("balance %+v, want %d on hand", b, start+sum)
	}
	if n := len(ledger(t, s, "leeds", "A")); n != adjusters+1 {
		t.Errorf("%d movements, want %d", n, adjusters+1)
	}
	mismatches, err := s.LedgerCheck(ctx)
	ok(t, "LedgerCheck", err)
	if len(mismatches) != 0 {
		t.Errorf("books not straight: %+v", mismatches)
	}
}

// testConcurrentLockOrder races transactions that lock the same balances,
// asked for in different orders, and then move them in yet another order:
// BalancesLock's fixed lock order means none deadlocks, so none is run
// again.
func testConcurrentLockOrder(t *testing.T, s store.Store) {
	skus := []string{"W", "X", "Y", "Z"}
	mustStock(t, s, []string{"leeds", "york"}, skus)
	for _, k := range skus {
		for _, l := range []string{"leeds", "york"} {
			mustMove(t, s, newMove(l, k, 1000, 0, inventory.ReasonReceive, 0))
		}
	}
	const n = 20
	var attempts atomic.Int32
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			errs[i] = s.InTx(ctx, func(tx store.Querier) error {
				attempts.Add(1)
				ask := slices.Clone(skus)
				rng.Shuffle(len(ask), func(a, b int) { ask[a], ask[b] = ask[b], ask[a] })
				bs, err := tx.BalancesLock(ctx, ask, []string{"york", "leeds"})
				if err != nil {
					return err
				}
				rng.Shuffle(len(bs), func(a, b int) { bs[a], bs[b] = bs[b], bs[a] })
				for _, b := range bs {
					if _, err := tx.StockMove(ctx, newMove(b.Location, b.SKU, 0, 1, inventory.ReasonReserve, 1)); err != nil {
						return err
					}
					time.Sleep(time.Millisecond) // widen the window for a deadlock
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		ok(t, fmt.Sprint("transaction ", i), err)
	}
	if a := attempts.Load(); a != n {
		t.Errorf("%d attempts for %d transactions: some deadlocked and ran again", a, n)
	}
	bs, err := s.BalancesBySKU(ctx, skus)
	ok(t, "balances", err)
	for _, b := range bs {
		if b.Reserved != n {
			t.Errorf("%s at %s: %d reserved, want %d", b.SKU, b.Location, b.Reserved, n)
		}
	}
}

func newReport(location string, applied bool, countedAt *time.Time, n int, lines ...inventory.DriftLine) *inventory.Report {
	r := &inventory.Report{ID: orderly.NewID(), Location: location, Mode: inventory.SnapshotFull, Applied: applied,
		CountedAt: countedAt, Actor: "key:wms", CreatedAt: at(n), Lines: lines}
	r.Summarise()
	return r
}

func testReports(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds", "york"}, nil)
	r1 := newReport("leeds", false, ptr(at(-30)), 1,
		inventory.DriftLine{SKU: "B", Expected: 5, Counted: 3, Drift: -2, Reserved: 2, Cause: inventory.CauseUnreleasedReservations},
		inventory.DriftLine{SKU: "A", Expected: 10, Counted: 10, Cause: inventory.CauseNone},
		inventory.DriftLine{SKU: "NEW", Counted: 4, Drift: 4, MovedSinceCount: -1, Cause: inventory.CauseUnknownToOrderly},
	)
	r2 := newReport("york", true, nil, 2)
	r2.Mode = inventory.SnapshotPartial
	many := make([]inventory.DriftLine, 2100) // many INSERTs, more than one pipeline's worth
	for i := range many {
		many[i] = inventory.DriftLine{SKU: fmt.Sprintf("S%04d", i), Expected: int64(i), Counted: int64(i) + 1, Drift: 1, Cause: inventory.CauseUnexplained}
	}
	r3 := newReport("leeds", true, ptr(at(2)), 3, many...)
	ok(t, "insert", s.ReportInsert(ctx, r1))
	ok(t, "insert in tx", s.InTx(ctx, func(tx store.Querier) error { return tx.ReportInsert(ctx, r2) }))
	ok(t, "insert", s.ReportInsert(ctx, r3))

	// Lines come back in SKU order.
	want1 := *r1
	want1.Lines = []inventory.DriftLine{r1.Lines[1], r1.Lines[0], r1.Lines[2]}
	for _, want := range []*inventory.Report{&want1, r2, r3} {
		got, err := s.ReportGet(ctx, want.ID)
		ok(t, "get", err)
		equal(t, "report "+want.ID, got, want)
	}
	_, err := s.ReportGet(ctx, orderly.NewID())
	wantKind(t, "get unknown", err, orderly.KindNotFound)

	// Lists are newest first, without lines.
	bare := func(rs ...*inventory.Report) []*inventory.Report {
		out := make([]*inventory.Report, len(rs))
		for i, r := range rs {
			c := *r
			c.Lines = nil
			out[i] = &c
		}
		return out
	}
	list := func(location string, p store.ListParams) []*inventory.Report {
		t.Helper()
		rs, err := s.ReportList(ctx, location, p)
		ok(t, "list", err)
		return rs
	}
	equal(t, "all", list("", store.ListParams{}), bare(r3, r2, r1))
	equal(t, "at leeds", list("leeds", store.ListParams{}), bare(r3, r1))
	equal(t, "first page", list("", store.ListParams{Limit: 2}), bare(r3, r2))
	equal(t, "second page", list("", store.ListParams{After: r2.ID, Limit: 2}), bare(r1))
	equal(t, "at leeds after r3", list("leeds", store.ListParams{After: r3.ID}), bare(r1))
	if rs := list("nowhere", store.ListParams{}); len(rs) != 0 {
		t.Errorf("reports of an unknown location: %d", len(rs))
	}

	dup := newReport("leeds", false, nil, 4)
	dup.ID = r1.ID
	wantIs(t, "duplicate", s.ReportInsert(ctx, dup), store.ErrDuplicate)
	wantKind(t, "unknown location", s.ReportInsert(ctx, newReport("nowhere", false, nil, 4)), orderly.KindInvalid)
	withID := newReport("york", false, nil, 5)
	withID.ID = ""
	ok(t, "insert without id", s.ReportInsert(ctx, withID))
	if withID.ID == "" {
		t.Error("report id not assigned")
	}
}
