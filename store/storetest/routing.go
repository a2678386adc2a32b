package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/routing"
	"github.com/orderly-oms/orderly/store"
)

// testLocationRouting round-trips a location's routing attributes.
func testLocationRouting(t *testing.T, s store.Store) {
	l := newLocation("york", nil, nil)
	l.Kind = inventory.LocationStore
	l.Priority, l.ShipsTo, l.Modes, l.DailyCapacity, l.CostPerShipment = 3, []string{"GB", "IE"},
		[]string{inventory.ModeShip, inventory.ModePickup}, 80, 450
	ok(t, "insert", s.LocationInsert(ctx, l))
	got, err := s.LocationGet(ctx, "york")
	ok(t, "get", err)
	equal(t, "location", got, l)

	l.Priority, l.ShipsTo, l.Modes, l.DailyCapacity, l.CostPerShipment = 1, nil, []string{inventory.ModeShipFromStore}, 0, 0
	ok(t, "update", s.LocationUpdate(ctx, l))
	got, err = s.LocationGet(ctx, "york")
	ok(t, "get after update", err)
	equal(t, "updated location", got, l)
}

// testLocationOrdersOn counts, per location with a daily capacity, the
// distinct orders with an allocation made on a UTC day — kept by the
// database as allocations are made and taken back, and counted afresh
// when a location's capacity is switched on.
func testLocationOrdersOn(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds", "york", "hull"}, nil)
	mustInsertChannels(t, s, "web")
	capacity := func(code string, n int) {
		t.Helper()
		l, err := s.LocationGet(ctx, code)
		ok(t, "get "+code, err)
		l.DailyCapacity = n
		ok(t, "set capacity of "+code, s.LocationUpdate(ctx, l))
	}
	capacity("leeds", 10)
	capacity("york", 5)
	var os []*order.Order
	for i := range 5 {
		os = append(os, mustInsertOrder(t, s, NewOrder("web", fmt.Sprint("C", i))))
	}
	day := 24 * 60 // minutes: at(day) is the next UTC day (T0 is 09:26)
	for _, a := range []*inventory.Allocation{
		newAllocation(os[0].ID, os[0].Lines[0].ID, "TEE-RED-M", "leeds", 1, 1),
		newAllocation(os[1].ID, os[1].Lines[0].ID, "TEE-RED-M", "leeds", 1, 10),
		newAllocation(os[1].ID, os[1].Lines[1].ID, "MUG-01", "leeds", 1, 10),    // same order, same day: once
		newAllocation(os[2].ID, os[2].Lines[0].ID, "TEE-RED-M", "leeds", 0, 11), // released: still counts
		newAllocation(os[2].ID, os[2].Lines[1].ID, "MUG-01", "york", 1, 12),
		newAllocation(os[3].ID, os[3].Lines[0].ID, "TEE-RED-M", "hull", 1, 12), // no capacity: not kept
		newAllocation(os[4].ID, os[4].Lines[0].ID, "TEE-RED-M", "leeds", 1, day),
		newAllocation(os[0].ID, os[0].Lines[1].ID, "MUG-01", "leeds", 1, day+1), // the same order the next day
	} {
		ok(t, "insert allocation", s.AllocationInsert(ctx, a))
	}
	check := func(what string, n int, want map[string]int) {
		t.Helper()
		got, err := s.LocationOrdersOn(ctx, at(n))
		ok(t, what, err)
		equal(t, what, got, want)
	}
	check("today", 0, map[string]int{"leeds": 3, "york": 1})
	check("late today", 600, map[string]int{"leeds": 3, "york": 1}) // any time of the day
	check("tomorrow", day, map[string]int{"leeds": 2})
	check("a day with none", 3*day, map[string]int{})

	capacity("hull", 3) // counted from its allocations, every day
	capacity("york", 0) // no longer kept
	check("capacities changed", 0, map[string]int{"leeds": 3, "hull": 1})
	capacity("york", 5) // on again: counted afresh
	check("york on again", 0, map[string]int{"leeds": 3, "york": 1, "hull": 1})
}

// testRuleSets inserts, reads, lists and activates rule sets.
func testRuleSets(t *testing.T, s store.Store) {
	_, err := s.RuleSetActive(ctx)
	wantKind(t, "active of none", err, orderly.KindNotFound)
	_, err = s.RuleSetGet(ctx, 1)
	wantKind(t, "get unknown", err, orderly.KindNotFound)

	var sets []*routing.RuleSet
	for i := range 3 {
		rs := routing.DefaultRuleSet()
		rs.Version, rs.Status, rs.MaxSplits, rs.CreatedAt = 0, routing.StatusDraft, i, at(i)
		ok(t, "insert", s.RuleSetInsert(ctx, &rs))
		equal(t, "version", rs.Version, i+1)
		sets = append(sets, &rs)
	}
	got, err := s.RuleSetGet(ctx, 2)
	ok(t, "get", err)
	equal(t, "rule set 2", got, sets[1])

	list, err := s.RuleSetList(ctx, store.RuleSetListParams{})
	ok(t, "list", err)
	equal(t, "list", list, []*routing.RuleSet{sets[2], sets[1], sets[0]})
	list, err = s.RuleSetList(ctx, store.RuleSetListParams{BeforeVersion: 3, Limit: 1})
	ok(t, "list page", err)
	equal(t, "list page", list, []*routing.RuleSet{sets[1]})

	act, err := s.RuleSetActivate(ctx, 2, at(5))
	ok(t, "activate 2", err)
	equal(t, "activated status", act.Status, routing.StatusActive)
	active, err := s.RuleSetActive(ctx)
	ok(t, "active", err)
	equal(t, "active version", active.Version, 2)
	if active.ActivatedAt == nil || !active.ActivatedAt.Equal(at(5)) {
		t.Errorf("activated_at = %v, want %v", active.ActivatedAt, at(5))
	}

	// Activating another retires the active one in the same change.
	err = s.InTx(ctx, func(tx store.Querier) error {
		_, err := tx.RuleSetActivate(ctx, 3, at(6))
		return err
	})
	ok(t, "activate 3 in a transaction", err)
	for v, want := range map[int]routing.Status{1: routing.StatusDraft, 2: routing.StatusRetired, 3: routing.StatusActive} {
		got, err := s.RuleSetGet(ctx, v)
		ok(t, "get", err)
		equal(t, "status", got.Status, want)
	}
	again, err := s.RuleSetActivate(ctx, 3, at(7))
	ok(t, "activate the active one", err)
	if !again.ActivatedAt.Equal(at(6)) {
		t.Errorf("activating the active version changed activated_at to %v", again.ActivatedAt)
	}
	_, err = s.RuleSetActivate(ctx, 9, at(7))
	wantKind(t, "activate unknown", err, orderly.KindNotFound)
	// A retired version may come back.
	_, err = s.RuleSetActivate(ctx, 2, at(8))
	ok(t, "re-activate 2", err)
	active, err = s.RuleSetActive(ctx)
	ok(t, "active", err)
	equal(t, "active version", active.Version, 2)
}

// testRoutingDecisions stores an order's decisions and reads them back,
// oldest first, with the explanation's bytes unchanged.
func testRoutingDecisions(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web")
	o := mustInsertOrder(t, s, NewOrder("web", "R1"))
	exp1 := []byte(`{"rule_set_version":1,"order_id":"x","summary":"first","b":1,"a":2}`)
	exp2 := []byte(`{"rule_set_version":2,"summary":"second"}`)
	d1 := &store.RoutingDecision{OrderID: o.ID, RuleSetVersion: 1, Explanation: exp1, CreatedAt: at(1)}
	d2 := &store.RoutingDecision{OrderID: o.ID, RuleSetVersion: 2, Explanation: exp2, CreatedAt: at(1)}
	ok(t, "insert 1", s.RoutingDecisionInsert(ctx, d1))
	ok(t, "insert 2", s.RoutingDecisionInsert(ctx, d2))
	got, err := s.RoutingDecisionListByOrder(ctx, o.ID)
	ok(t, "list", err)
	if len(got) != 2 {
		t.Fatalf("got %d decisions, want 2", len(got))
	}
	for i, want := range []*store.RoutingDecision{d1, d2} {
		if string(got[i].Explanation) != string(want.Explanation) || got[i].RuleSetVersion != want.RuleSetVersion ||
			!got[i].CreatedAt.Equal(want.CreatedAt) || got[i].OrderID != o.ID {
			t.Errorf("decision %d = %+v (%s), want %+v (%s)", i, got[i], got[i].Explanation, want, want.Explanation)
		}
	}
	wantKind(t, "not JSON", s.RoutingDecisionInsert(ctx, &store.RoutingDecision{OrderID: o.ID, RuleSetVersion: 1,
		Explanation: []byte(`{`), CreatedAt: at(2)}), orderly.KindInvalid)
	none, err := s.RoutingDecisionListByOrder(ctx, "nope")
	ok(t, "list of none", err)
	equal(t, "none", len(none), 0)

	// An order's decision may be stored before the order, in one transaction.
	o2 := NewOrder("web", "R2")
	err = s.InTx(ctx, func(tx store.Querier) error {
		if err := tx.RoutingDecisionInsert(ctx, &store.RoutingDecision{OrderID: o2.ID, RuleSetVersion: 1,
			Explanation: []byte(`{}`), CreatedAt: time.Now()}); err != nil {
			return err
		}
		return tx.OrderInsert(ctx, o2)
	})
	ok(t, "decision before order", err)
}
