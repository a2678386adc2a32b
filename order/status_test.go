package order_test

import (
	"errors"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/order"
)

func newOrder(t interface{ Fatalf(string, ...any) }) *order.Order {
	o := &order.Order{
		Channel: "web", ExternalID: "E1", Currency: "EUR", PlacedAt: time.Unix(1700000000, 0).UTC(),
		Lines: []order.Line{{SKU: "A", Quantity: 2, UnitPrice: 1000}, {SKU: "B", Quantity: 1, UnitPrice: 500, Tax: 95}},
	}
	if err := o.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	o.Init(order.StatusOpen, o.PlacedAt)
	return o
}

// TestStatusMachine drives an order through random sequences of actions and
// checks, after each, that the action was allowed exactly when the model
// says so and that the order's invariants hold.
func TestStatusMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		start := rapid.SampledFrom([]order.Status{order.StatusPending, order.StatusOpen}).Draw(t, "start")
		o := newOrder(t)
		o.Status = start
		now := o.CreatedAt
		// The model: the status the order had before its current hold.
		var heldFrom order.Status
		steps := rapid.IntRange(1, 30).Draw(t, "steps")
		for range steps {
			now = now.Add(time.Minute)
			before := o.Status
			action := rapid.SampledFrom([]string{"confirm", "hold", "release", "cancel", "hold-empty"}).Draw(t, "action")
			var err error
			var allowed bool
			switch action {
			case "confirm":
				allowed = before == order.StatusPending
				err = o.Confirm(now)
			case "hold":
				allowed = before == order.StatusPending || before == order.StatusOpen || before == order.StatusPartiallyShipped
				err = o.PutOnHold("fraud check", now)
				if allowed {
					heldFrom = before
				}
			case "hold-empty":
				err = o.PutOnHold("", now)
				if !errors.Is(err, orderly.ErrInvalid) {
					t.Fatalf("hold without reason: got %v, want invalid", err)
				}
				if o.Status != before {
					t.Fatalf("invalid hold changed status %s → %s", before, o.Status)
				}
				continue
			case "release":
				allowed = before == order.StatusOnHold
				err = o.Release(now)
			case "cancel":
				allowed = before == order.StatusPending || before == order.StatusOpen || before == order.StatusOnHold
				err = o.Cancel("customer asked", now)
			}
			if allowed != (err == nil) {
				t.Fatalf("%s from %s: allowed=%v err=%v", action, before, allowed, err)
			}
			if err != nil {
				if !errors.Is(err, order.ErrInvalidTransition) || !errors.Is(err, orderly.ErrConflict) {
					t.Fatalf("%s from %s: error %v is not an invalid transition conflict", action, before, err)
				}
				if o.Status != before {
					t.Fatalf("refused %s changed status %s → %s", action, before, o.Status)
				}
				continue
			}
			switch action {
			case "confirm":
				want(t, o, order.StatusOpen)
			case "hold":
				want(t, o, order.StatusOnHold)
				if o.Hold == nil || o.Hold.Previous != heldFrom || o.Hold.Reason == "" {
					t.Fatalf("hold record %+v", o.Hold)
				}
			case "release":
				want(t, o, heldFrom)
				if o.Hold != nil {
					t.Fatalf("released order still has hold %+v", o.Hold)
				}
			case "cancel":
				want(t, o, order.StatusCancelled)
				if o.FulfilmentStatus() != order.FulfilmentNone {
					t.Fatalf("cancelled order fulfilment status %s", o.FulfilmentStatus())
				}
			}
			if (o.Status == order.StatusOnHold) != (o.Hold != nil) {
				t.Fatalf("status %s with hold %+v", o.Status, o.Hold)
			}
			if !o.Status.Valid() {
				t.Fatalf("invalid status %q", o.Status)
			}
			if o.UpdatedAt != now {
				t.Fatalf("UpdatedAt not moved by %s", action)
			}
			for _, l := range o.Lines {
				if l.Cancelled < 0 || l.Cancelled > l.Quantity {
					t.Fatalf("line counters %+v", l)
				}
			}
		}
	})
}

func want(t *rapid.T, o *order.Order, s order.Status) {
	if o.Status != s {
		t.Fatalf("status %s, want %s", o.Status, s)
	}
}

func TestTotals(t *testing.T) {
	o := newOrder(t)
	o.ShippingLines = []order.ShippingLine{{Code: "std", Price: 495}}
	o.Lines[0].Discount = 200
	got := o.ComputeTotals()
	want := order.Totals{Subtotal: 2500, DiscountTotal: 200, ShippingTotal: 495, TaxTotal: 95, Total: 2890}
	if got != want {
		t.Fatalf("totals %+v, want %+v", got, want)
	}
}

func TestValidateNamesFields(t *testing.T) {
	o := newOrder(t)
	o.Currency = "EURO"
	o.Lines[1].Quantity = 0
	o.Lines[0].UnitPrice = -1
	o.ShippingAddress.Country = "XX"
	err := o.Validate()
	var e *orderly.Error
	if !errors.As(err, &e) || e.Kind != orderly.KindInvalid {
		t.Fatalf("got %v, want invalid", err)
	}
	fields := map[string]bool{}
	for _, f := range e.Fields {
		fields[f.Field] = true
	}
	for _, f := range []string{"currency", "lines[1].quantity", "lines[0].unit_price", "shipping_address.country"} {
		if !fields[f] {
			t.Errorf("no problem reported for %s (got %v)", f, e.Fields)
		}
	}
}

func TestFulfilmentStatus(t *testing.T) {
	o := newOrder(t)
	if s := o.FulfilmentStatus(); s != order.FulfilmentUnfulfilled {
		t.Fatalf("new order: %s", s)
	}
	o.Lines[0].Shipped = 1
	if s := o.FulfilmentStatus(); s != order.FulfilmentPartial {
		t.Fatalf("one shipped: %s", s)
	}
	o.Lines[0].Shipped, o.Lines[1].Shipped = 2, 1
	if s := o.FulfilmentStatus(); s != order.FulfilmentFulfilled {
		t.Fatalf("all shipped: %s", s)
	}
	o.Lines[0].Delivered, o.Lines[1].Delivered = 2, 1
	if s := o.FulfilmentStatus(); s != order.FulfilmentDelivered {
		t.Fatalf("all delivered: %s", s)
	}
}
