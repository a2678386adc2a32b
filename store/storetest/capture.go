package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// captureParams returns what a capture of o stores: its picks, an
// order.created event without a number and, if there are picks, an
// order.allocated event.
func captureParams(o *order.Order, picks ...inventory.Pick) store.CaptureParams {
	p := store.CaptureParams{Order: o, Picks: picks, Actor: "key:test", At: at(1),
		Created: &orderly.Event{ID: orderly.NewID(), Type: "order.created", Subject: "order", SubjectID: o.ID,
			OrderID: o.ID, Actor: "key:test", At: at(1), Data: []byte(`{"channel": "` + o.Channel + `"}`)}}
	if len(picks) > 0 {
		p.Events = append(p.Events, newEvent("order.allocated", o.ID, 1))
		// What the service stores with a routed capture: the decision and
		// one requested fulfilment order per location.
		p.Decision = &store.RoutingDecision{RuleSetVersion: 0, Explanation: []byte(`{"summary": "test"}`),
			Input: []byte(`{"request": {}}`), CreatedAt: at(1)}
		p.Fulfilment = fulfilment.FromPicks(o.ID, picks, at(1))
		for _, f := range p.Fulfilment {
			if err := f.Request(at(1)); err != nil {
				panic(err)
			}
		}
	}
	return p
}

// wantCaptureExtras checks that the order has the decision and fulfilment
// orders of its capture, or (want false) none at all.
func wantCaptureExtras(t *testing.T, q store.Querier, p store.CaptureParams, want bool) {
	t.Helper()
	ds, err := q.RoutingDecisionListByOrder(ctx, p.Order.ID)
	ok(t, "decisions", err)
	fos, err := q.FulfilmentOrderListByOrder(ctx, p.Order.ID)
	ok(t, "fulfilment orders", err)
	if !want {
		if len(ds)+len(fos) > 0 {
			t.Errorf("%d decisions and %d fulfilment orders stored, want none", len(ds), len(fos))
		}
		return
	}
	if len(ds) != 1 || !jsonEqual(ds[0].Explanation, p.Decision.Explanation) || !jsonEqual(ds[0].Input, p.Decision.Input) ||
		ds[0].OrderID != p.Order.ID || !ds[0].CreatedAt.Equal(p.Decision.CreatedAt) {
		t.Errorf("decisions %s, want one like %s", show(ds), show(p.Decision))
	}
	equal(t, "fulfilment orders", fos, p.Fulfilment)
}

// orderEvents returns the timeline of an order.
func orderEvents(t *testing.T, q store.Querier, orderID string) []*orderly.Event {
	t.Helper()
	es, err := q.EventList(ctx, store.EventListParams{OrderID: orderID, Limit: store.MaxLimit})
	ok(t, "events", err)
	return es
}

// testOrderCapture captures an order with picks at two keys, and one
// without picks, and checks every row it writes.
func testOrderCapture(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds", "york"}, []string{"A", "B"})
	mustInsertChannels(t, s, "web")
	mustMove(t, s, newMove("leeds", "A", 10, 0, inventory.ReasonReceive, 0))
	mustMove(t, s, newMove("york", "A", 5, 0, inventory.ReasonReceive, 0))
	mustMove(t, s, newMove("leeds", "B", 3, 0, inventory.ReasonReceive, 0))
	o := NewOrder("web", "CAP1")
	l1, l2 := o.Lines[0].ID, o.Lines[1].ID
	o.Lines[0].Allocated, o.Lines[1].Allocated = 2, 1
	p := captureParams(o, pk(l1, "A", "leeds", 1), pk(l1, "A", "york", 1), pk(l2, "B", "leeds", 1))
	ok(t, "capture", s.InTx(ctx, func(tx store.Querier) error { return tx.OrderCapture(ctx, p) }))
	if o.Number < 1001 {
		t.Errorf("number %d, want one from 1001", o.Number)
	}
	got := getOrderEveryWay(t, s, o)
	equal(t, "stored order", got, o)
	wantCaptureExtras(t, s, p, true)
	wantBalance(t, s, "leeds", "A", 10, 1)
	wantBalance(t, s, "york", "A", 5, 1)
	wantBalance(t, s, "leeds", "B", 3, 1)
	as, err := s.AllocationListByOrder(ctx, o.ID)
	ok(t, "allocations", err)
	if len(as) != 3 {
		t.Errorf("%d allocations, want 3", len(as))
	}
	for _, m := range ledger(t, s, "york", "A") {
		if m.Reason == inventory.ReasonReserve && (m.Reference != "order:"+o.ID || m.Actor != "key:test" || !m.At.Equal(at(1))) {
			t.Errorf("reserve movement %+v", m)
		}
	}
	es := orderEvents(t, s, o.ID)
	if len(es) != 2 || es[0].Type != "order.created" || es[1].Type != "order.allocated" {
		t.Fatalf("events %s, want order.created then order.allocated", show(es))
	}
	var data map[string]any
	ok(t, "created data", json.Unmarshal(es[0].Data, &data))
	if data["number"] != float64(o.Number) || data["channel"] != "web" {
		t.Errorf("order.created data %s, want the channel and number %d", es[0].Data, o.Number)
	}
	if !jsonEqual(es[0].Data, p.Created.Data) {
		t.Errorf("the creation event's data is %s in Go and %s stored", p.Created.Data, es[0].Data)
	}
	if es[0].Seq != p.Created.Seq || es[1].Seq != p.Events[0].Seq || es[0].Seq >= es[1].Seq {
		t.Errorf("seqs %d, %d stored; %d, %d assigned", es[0].Seq, es[1].Seq, p.Created.Seq, p.Events[0].Seq)
	}
	booksStraight(t, s)

	// No picks, outside InTx, with no event but the creation.
	o2 := NewOrder("web", "CAP2")
	p2 := captureParams(o2)
	ok(t, "capture without picks", s.OrderCapture(ctx, p2))
	if o2.Number <= o.Number {
		t.Errorf("number %d after %d", o2.Number, o.Number)
	}
	equal(t, "stored order without picks", getOrderEveryWay(t, s, o2), o2)
	if es := orderEvents(t, s, o2.ID); len(es) != 1 {
		t.Errorf("%d events, want 1", len(es))
	}

	// Invalid input is refused before anything is written.
	o3 := NewOrder("web", "CAP3")
	p3 := captureParams(o3, pk(o3.Lines[0].ID, "A", "leeds", 0))
	wantKind(t, "a pick of 0", s.OrderCapture(ctx, p3), orderly.KindInvalid)
	p3 = captureParams(o3)
	p3.Created.Data = []byte(`[1]`)
	wantKind(t, "creation data not an object", s.OrderCapture(ctx, p3), orderly.KindInvalid)
	_, err = s.OrderGet(ctx, o3.ID)
	wantKind(t, "nothing stored", err, orderly.KindNotFound)

	// Prepared before the transaction, as the service does: the same rows.
	o4 := NewOrder("web", "CAP4")
	o4.Lines[0].Allocated = 1
	p4 := captureParams(o4, pk(o4.Lines[0].ID, "A", "leeds", 1))
	ok(t, "prepare", s.PrepareCapture(&p4))
	ok(t, "capture prepared", s.InTx(ctx, func(tx store.Querier) error { return tx.OrderCapture(ctx, p4) }))
	equal(t, "stored prepared order", getOrderEveryWay(t, s, o4), o4)
	wantCaptureExtras(t, s, p4, true)
	es = orderEvents(t, s, o4.ID)
	if len(es) != 2 || !jsonEqual(es[0].Data, p4.Created.Data) {
		t.Fatalf("events %s, want order.created with %s and order.allocated", show(es), p4.Created.Data)
	}
	data = nil
	ok(t, "prepared created data", json.Unmarshal(es[0].Data, &data))
	if data["number"] != float64(o4.Number) || data["channel"] != "web" || o4.Number <= o2.Number {
		t.Errorf("order.created data %s, want the channel and number %d", es[0].Data, o4.Number)
	}
	wantBalance(t, s, "leeds", "A", 10, 2)

	// Preparing refuses what capturing would.
	p5 := captureParams(NewOrder("web", "CAP5"), pk(o4.Lines[0].ID, "A", "leeds", 1))
	p5.Decision.Explanation = []byte(`{"summary":`)
	wantKind(t, "decision not JSON", s.PrepareCapture(&p5), orderly.KindInvalid)
	p5 = captureParams(NewOrder("web", "CAP5"))
	p5.Created.Data = []byte(`"x"`)
	wantKind(t, "prepared creation data not an object", s.PrepareCapture(&p5), orderly.KindInvalid)
	if p5.Prepared != nil {
		t.Errorf("a refused preparation left %v", p5.Prepared)
	}
}

// testOrderCaptureDuplicate captures an order a channel already has: the
// reservation is taken back, nothing is written and the transaction goes on.
func testOrderCaptureDuplicate(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds"}, []string{"A", "B"})
	mustInsertChannels(t, s, "web")
	mustMove(t, s, newMove("leeds", "A", 10, 0, inventory.ReasonReceive, 0))
	mustMove(t, s, newMove("leeds", "B", 10, 0, inventory.ReasonReceive, 0))
	// With a daily capacity, leeds counts the orders it takes (migration
	// 0015): a duplicate taken back must not leave a count behind.
	leeds, err := s.LocationGet(ctx, "leeds")
	ok(t, "get leeds", err)
	leeds.DailyCapacity = 5
	ok(t, "capacity", s.LocationUpdate(ctx, leeds))
	wantDayCount := func(what string) {
		t.Helper()
		got, err := s.LocationOrdersOn(ctx, at(1))
		ok(t, what, err)
		equal(t, what+": orders leeds took today", got, map[string]int{"leeds": 1})
	}
	first := NewOrder("web", "DUP")
	ok(t, "first", s.OrderCapture(ctx, captureParams(first, pk(first.Lines[0].ID, "A", "leeds", 2))))
	wantDayCount("after the first capture")
	eventsBefore, err := s.EventList(ctx, store.EventListParams{Limit: store.MaxLimit})
	ok(t, "events", err)

	o := NewOrder("web", "DUP")
	p := captureParams(o, pk(o.Lines[0].ID, "A", "leeds", 3), pk(o.Lines[1].ID, "B", "leeds", 1))
	err = s.InTx(ctx, func(tx store.Querier) error {
		wantIs(t, "duplicate", tx.OrderCapture(ctx, p), store.ErrDuplicate)
		bs, err := tx.BalancesLock(ctx, []string{"A", "B"}, nil)
		if err != nil {
			return err
		}
		if len(bs) != 2 || bs[0].Reserved != 2 || bs[1].Reserved != 0 {
			t.Errorf("inside the transaction: %s, want 2 and 0 reserved", show(bs))
		}
		if as, err := tx.AllocationListByOrder(ctx, o.ID); err != nil || len(as) != 0 {
			t.Errorf("allocations written: %v, %v", as, err)
		}
		if es := orderEvents(t, tx, o.ID); len(es) != 0 {
			t.Errorf("%d events written", len(es))
		}
		wantCaptureExtras(t, tx, p, false)
		return tx.ChannelInsert(ctx, NewChannel("after-dup"))
	})
	ok(t, "the transaction goes on and commits", err)
	wantBalance(t, s, "leeds", "A", 10, 2)
	wantBalance(t, s, "leeds", "B", 10, 0)
	for _, m := range ledger(t, s, "leeds", "B") {
		if m.Reason == inventory.ReasonReserve {
			t.Errorf("a duplicate capture left a movement: %+v", m)
		}
	}
	eventsAfter, err := s.EventList(ctx, store.EventListParams{Limit: store.MaxLimit})
	ok(t, "events", err)
	if len(eventsAfter) != len(eventsBefore) {
		t.Errorf("%d events after, %d before", len(eventsAfter), len(eventsBefore))
	}
	_, err = s.OrderGet(ctx, o.ID)
	wantKind(t, "the duplicate is not stored", err, orderly.KindNotFound)
	booksStraight(t, s)
	wantDayCount("after the duplicate in a transaction")

	// Outside a transaction too.
	o2 := NewOrder("web", "DUP")
	wantIs(t, "duplicate outside a transaction", s.OrderCapture(ctx, captureParams(o2, pk(o2.Lines[0].ID, "A", "leeds", 1))), store.ErrDuplicate)
	wantBalance(t, s, "leeds", "A", 10, 2)
	booksStraight(t, s)
	wantDayCount("after the duplicate outside a transaction")
}

// testOrderCaptureRefused captures an order whose picks do not fit:
// nothing is written and the transaction goes on.
func testOrderCaptureRefused(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds"}, []string{"A", "B"})
	mustInsertChannels(t, s, "web")
	mustMove(t, s, newMove("leeds", "A", 10, 0, inventory.ReasonReceive, 0))
	mustMove(t, s, newMove("leeds", "B", 1, 0, inventory.ReasonReceive, 0))
	o := NewOrder("web", "REF")
	p := captureParams(o, pk(o.Lines[0].ID, "A", "leeds", 3), pk(o.Lines[1].ID, "B", "leeds", 2))
	err := s.InTx(ctx, func(tx store.Querier) error {
		wantIs(t, "refused", tx.OrderCapture(ctx, p), store.ErrInsufficientStock)
		bs, err := tx.BalancesLock(ctx, []string{"A", "B"}, nil)
		if err != nil {
			return err
		}
		for _, b := range bs {
			if b.Reserved != 0 {
				t.Errorf("inside the transaction %s has %d reserved", b.SKU, b.Reserved)
			}
		}
		if _, err := tx.OrderGet(ctx, o.ID); orderly.KindOf(err) != orderly.KindNotFound {
			t.Errorf("the order was stored: %v", err)
		}
		if es := orderEvents(t, tx, o.ID); len(es) != 0 {
			t.Errorf("%d events written", len(es))
		}
		wantCaptureExtras(t, tx, p, false)
		return tx.ChannelInsert(ctx, NewChannel("after-refusal"))
	})
	ok(t, "the transaction goes on and commits", err)
	wantBalance(t, s, "leeds", "A", 10, 0)
	wantBalance(t, s, "leeds", "B", 1, 0)
	_, err = s.OrderGetByExternalID(ctx, "web", "REF")
	wantKind(t, "no order", err, orderly.KindNotFound)
	booksStraight(t, s)

	// The same order, when it fits, is stored.
	p.Picks[1].Quantity = 1
	ok(t, "capture when it fits", s.OrderCapture(ctx, p))
	wantBalance(t, s, "leeds", "B", 1, 1)
	booksStraight(t, s)
}

// testConcurrentOrderCaptureDuplicates races captures of one channel
// order, each reserving a unit: one order, one reservation, one timeline.
func testConcurrentOrderCaptureDuplicates(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds"}, []string{"A"})
	mustInsertChannels(t, s, "web")
	mustMove(t, s, newMove("leeds", "A", 100, 0, inventory.ReasonReceive, 0))
	errs := make([]error, concurrency)
	var wg sync.WaitGroup
	for i := range concurrency {
		wg.Go(func() {
			errs[i] = s.InTx(ctx, func(tx store.Querier) error {
				o := NewOrder("web", "SAME")
				o.Lines[0].Allocated = 1
				if _, err := tx.BalancesLock(ctx, []string{"A"}, []string{"leeds"}); err != nil {
					return err
				}
				return tx.OrderCapture(ctx, captureParams(o, pk(o.Lines[0].ID, "A", "leeds", 1)))
			})
		})
	}
	wg.Wait()
	succeeded, _ := outcomes(t, errs, store.ErrDuplicate)
	if succeeded != 1 {
		t.Errorf("%d captures succeeded, want 1", succeeded)
	}
	wantBalance(t, s, "leeds", "A", 100, 1)
	all, err := s.EventList(ctx, store.EventListParams{Limit: store.MaxLimit})
	ok(t, "events", err)
	if len(all) != 2 {
		t.Errorf("%d events, want 2: the duplicates' must not be stored", len(all))
	}
	booksStraight(t, s)
}

// testConcurrentOrderCaptureStock races reservers captures of one unit of
// A for stockOnHand units: exactly stockOnHand orders are stored, each
// with its reservation; the others are refused and write nothing.
func testConcurrentOrderCaptureStock(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds"}, []string{"A"})
	mustInsertChannels(t, s, "web")
	mustMove(t, s, newMove("leeds", "A", stockOnHand, 0, inventory.ReasonReceive, 0))
	errs := make([]error, reservers)
	var wg sync.WaitGroup
	for i := range reservers {
		wg.Go(func() {
			o := NewOrder("web", fmt.Sprint("R", i))
			o.Lines[0].Allocated = 1
			errs[i] = s.InTx(ctx, func(tx store.Querier) error {
				if i%2 == 0 { // half plan on locked balances, as capture does; half do not
					if _, err := tx.BalancesLock(ctx, []string{"A"}, []string{"leeds"}); err != nil {
						return err
					}
				}
				return tx.OrderCapture(ctx, captureParams(o, pk(o.Lines[0].ID, "A", "leeds", 1)))
			})
		})
	}
	wg.Wait()
	succeeded, _ := outcomes(t, errs, store.ErrInsufficientStock)
	if succeeded != stockOnHand {
		t.Errorf("%d captures succeeded, want %d", succeeded, stockOnHand)
	}
	wantBalance(t, s, "leeds", "A", stockOnHand, stockOnHand)
	orders, err := s.OrderList(ctx, store.OrderListParams{Limit: store.MaxLimit})
	ok(t, "orders", err)
	if len(orders) != stockOnHand {
		t.Errorf("%d orders stored, want %d", len(orders), stockOnHand)
	}
	all, err := s.EventList(ctx, store.EventListParams{Limit: store.MaxLimit})
	ok(t, "events", err)
	if len(all) != 2*stockOnHand {
		t.Errorf("%d events, want %d", len(all), 2*stockOnHand)
	}
	booksStraight(t, s)
}
