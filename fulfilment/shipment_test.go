package fulfilment_test

import (
	"errors"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/order"
)

func shipAll(t *testing.T, f *fulfilment.FulfilmentOrder, lines []fulfilment.LineQuantity) *fulfilment.Shipment {
	t.Helper()
	sl, err := f.Ship(lines, t0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fulfilment.NewShipment(f, sl, "table-rate", "standard", "OR0000001", "label:1", t0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewShipmentValidates(t *testing.T) {
	t.Parallel()
	f := accepted(t)
	_, err := fulfilment.NewShipment(f, nil, "", "", "", "", t0)
	var oe *orderly.Error
	if !errors.As(err, &oe) || len(oe.Fields) != 3 {
		t.Fatalf("got %v, want carrier, tracking_number and lines", err)
	}
	s := shipAll(t, f, nil)
	if s.Status != fulfilment.TrackingPreTransit || s.OrderID != "ord1" || s.Location != "leeds" || len(s.Lines) != 2 {
		t.Fatalf("shipment %+v", s)
	}
}

func TestRecordOrderAndTerminal(t *testing.T) {
	t.Parallel()
	s := shipAll(t, accepted(t), nil)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	rec := func(st fulfilment.TrackingStatus, h int, wantChanged bool, want fulfilment.TrackingStatus) {
		t.Helper()
		changed, err := s.Record(fulfilment.TrackingEvent{Status: st, At: at(h)}, at(100))
		if err != nil {
			t.Fatal(err)
		}
		if changed != wantChanged || s.Status != want {
			t.Fatalf("record %s@%d: changed=%v status=%s, want %v %s", st, h, changed, s.Status, wantChanged, want)
		}
	}
	rec(fulfilment.TrackingInTransit, 2, true, fulfilment.TrackingInTransit)
	rec(fulfilment.TrackingInTransit, 2, false, fulfilment.TrackingInTransit) // duplicate: ignored
	rec(fulfilment.TrackingOutForDelivery, 5, true, fulfilment.TrackingOutForDelivery)
	rec(fulfilment.TrackingException, 3, false, fulfilment.TrackingOutForDelivery) // older: history only
	if len(s.Events) != 3 || s.Events[1].Status != fulfilment.TrackingException {
		t.Fatalf("events not in time order: %+v", s.Events)
	}
	rec(fulfilment.TrackingDelivered, 6, true, fulfilment.TrackingDelivered)
	rec(fulfilment.TrackingReturnedToSender, 9, false, fulfilment.TrackingDelivered) // terminal
	if s.DeliveredAt == nil || !s.DeliveredAt.Equal(at(6)) || len(s.Events) != 5 {
		t.Fatalf("delivered_at %v, %d events", s.DeliveredAt, len(s.Events))
	}
	if _, err := s.Record(fulfilment.TrackingEvent{Status: "lost", At: at(1)}, t0); !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("bad status: %v", err)
	}
	if _, err := s.Record(fulfilment.TrackingEvent{Status: fulfilment.TrackingInTransit}, t0); !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("no time: %v", err)
	}
}

// TestRecordAnyOrder checks that the status depends only on the set of
// events, not on the order they arrive in (times are distinct).
func TestRecordAnyOrder(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 12).Draw(rt, "n")
		evs := make([]fulfilment.TrackingEvent, n)
		for i := range evs {
			evs[i] = fulfilment.TrackingEvent{
				Status: rapid.SampledFrom(fulfilment.EventStatuses).Draw(rt, "status"),
				At:     t0.Add(time.Duration(i+1) * time.Minute),
			}
		}
		perm := rapid.Permutation(evs).Draw(rt, "arrival")
		a := &fulfilment.Shipment{Status: fulfilment.TrackingPreTransit}
		b := &fulfilment.Shipment{Status: fulfilment.TrackingPreTransit}
		for i := range evs {
			if _, err := a.Record(evs[i], t0); err != nil {
				rt.Fatal(err)
			}
			if _, err := b.Record(perm[i], t0); err != nil {
				rt.Fatal(err)
			}
		}
		if a.Status != b.Status || len(a.Events) != len(b.Events) {
			rt.Fatalf("in order %s, shuffled %s", a.Status, b.Status)
		}
		for i := range a.Events {
			if a.Events[i] != b.Events[i] {
				rt.Fatalf("event %d differs", i)
			}
		}
	})
}

func TestDeriveAndApply(t *testing.T) {
	t.Parallel()
	o := &order.Order{ID: "ord1", Status: order.StatusOpen, Lines: []order.Line{
		{ID: "L1", SKU: "A", Quantity: 3}, {ID: "L2", SKU: "B", Quantity: 4, Cancelled: 1},
	}}
	f := accepted(t)
	p, err := fulfilment.Derive(o, []*fulfilment.FulfilmentOrder{f}, nil)
	if err != nil || p.Status != "" {
		t.Fatalf("nothing shipped: %+v %v", p, err)
	}
	if p.Apply(o, t0) {
		t.Fatal("apply of nothing changed the order")
	}
	s1 := shipAll(t, f, []fulfilment.LineQuantity{{LineID: "L1", Quantity: 3}})
	p, _ = fulfilment.Derive(o, []*fulfilment.FulfilmentOrder{f}, []*fulfilment.Shipment{s1})
	if p.Status != order.StatusPartiallyShipped || !p.Apply(o, t0) || o.Status != order.StatusPartiallyShipped || o.Lines[0].Shipped != 3 {
		t.Fatalf("partial: %+v, order %+v", p, o)
	}
	// On hold: the hold stays, and releasing returns to the new status.
	if err := o.PutOnHold("check", t0); err != nil {
		t.Fatal(err)
	}
	s2 := shipAll(t, f, nil)
	p, _ = fulfilment.Derive(o, []*fulfilment.FulfilmentOrder{f}, []*fulfilment.Shipment{s1, s2})
	p.Apply(o, t0)
	if o.Status != order.StatusOnHold || o.Hold.Previous != order.StatusShipped {
		t.Fatalf("on hold: %s / %+v", o.Status, o.Hold)
	}
	_ = o.Release(t0)
	for _, s := range []*fulfilment.Shipment{s1, s2} {
		if _, err := s.Record(fulfilment.TrackingEvent{Status: fulfilment.TrackingDelivered, At: t0.Add(time.Hour)}, t0); err != nil {
			t.Fatal(err)
		}
		p, _ = fulfilment.Derive(o, []*fulfilment.FulfilmentOrder{f}, []*fulfilment.Shipment{s1, s2})
		p.Apply(o, t0)
	}
	if o.Status != order.StatusDelivered || o.Lines[1].Delivered != 3 || o.FulfilmentStatus() != order.FulfilmentDelivered {
		t.Fatalf("delivered: %s %+v", o.Status, o.Lines)
	}
	// Inconsistent input is an internal error.
	o.Lines[1].Cancelled = 2
	if _, err := fulfilment.Derive(o, []*fulfilment.FulfilmentOrder{f}, nil); err == nil || orderly.KindOf(err) != orderly.KindInternal {
		t.Fatalf("over-shipped line: %v", err)
	}
	other := *f
	other.OrderID = "ord2"
	if _, err := fulfilment.Derive(o, []*fulfilment.FulfilmentOrder{&other}, nil); err == nil {
		t.Fatal("another order's fulfilment order accepted")
	}
}
