package order

import (
	"time"

	"github.com/orderly-oms/orderly"
)

// Status is the order's own lifecycle state, a closed set. Fulfilment and
// payment progress are not statuses of their own: they are derived from the
// lines and payment records (FulfilmentStatus, PaymentStatus).
type Status string

// The order statuses. PartiallyShipped, Shipped, Delivered and Completed are
// entered by fulfilment; capture and customer service use the others.
const (
	StatusPending          Status = "pending"   // captured, not yet confirmed by its channel
	StatusOpen             Status = "open"      // confirmed: to be fulfilled
	StatusOnHold           Status = "on_hold"   // stopped until someone releases it
	StatusCancelled        Status = "cancelled" // nothing more will happen
	StatusPartiallyShipped Status = "partially_shipped"
	StatusShipped          Status = "shipped"
	StatusDelivered        Status = "delivered"
	StatusCompleted        Status = "completed"
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{StatusPending, StatusOpen, StatusOnHold, StatusCancelled,
	StatusPartiallyShipped, StatusShipped, StatusDelivered, StatusCompleted}

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// transition returns the KindConflict error for an invalid move.
func transition(o *Order, action string) error {
	return &orderly.Error{
		Kind:    orderly.KindConflict,
		Code:    "invalid_transition",
		Message: "cannot " + action + " an order that is " + string(o.Status),
	}
}

// ErrInvalidTransition matches (with errors.Is) every refused status change.
var ErrInvalidTransition = &orderly.Error{Kind: orderly.KindConflict, Code: "invalid_transition"}

// Confirm moves a pending order to open.
func (o *Order) Confirm(now time.Time) error {
	if o.Status != StatusPending {
		return transition(o, "confirm")
	}
	o.Status = StatusOpen
	o.touch(now)
	return nil
}

// canHold lists the statuses an order may be held from: anything that still
// has something to ship.
func canHold(s Status) bool {
	return s == StatusPending || s == StatusOpen || s == StatusPartiallyShipped
}

// PutOnHold stops the order with a reason; Release returns it to the status
// it had. Holding an order that is already on hold is a conflict: the first
// reason stays visible rather than being overwritten.
func (o *Order) PutOnHold(reason string, now time.Time) error {
	if reason == "" {
		return orderly.Invalid("reason", "is required")
	}
	if len(reason) > 500 {
		return orderly.Invalid("reason", "is longer than 500 bytes")
	}
	if !canHold(o.Status) {
		return transition(o, "hold")
	}
	o.Hold = &Hold{Reason: reason, Since: now, Previous: o.Status}
	o.Status = StatusOnHold
	o.touch(now)
	return nil
}

// Release lifts a hold, returning the order to the status it had before.
func (o *Order) Release(now time.Time) error {
	if o.Status != StatusOnHold || o.Hold == nil {
		return transition(o, "release")
	}
	o.Status = o.Hold.Previous
	o.Hold = nil
	o.touch(now)
	return nil
}

// Cancel cancels the whole order: every unshipped unit of every line is
// counted as cancelled. Only an order that has shipped nothing can be
// cancelled whole; cancelling some lines of a partly shipped order is the
// fulfilment module's line cancellation.
func (o *Order) Cancel(reason string, now time.Time) error {
	if reason == "" {
		return orderly.Invalid("reason", "is required")
	}
	if len(reason) > 500 {
		return orderly.Invalid("reason", "is longer than 500 bytes")
	}
	switch o.Status {
	case StatusPending, StatusOpen, StatusOnHold:
	default:
		return transition(o, "cancel")
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		l.Cancelled = l.Quantity - l.Shipped
		l.Allocated = 0
		l.Backordered = 0
	}
	o.Status = StatusCancelled
	o.Hold = nil
	o.CancelReason = reason
	o.touch(now)
	return nil
}

func (o *Order) touch(now time.Time) {
	o.UpdatedAt = now
}

// FulfilmentStatus is derived from the lines' counters.
type FulfilmentStatus string

// The fulfilment statuses.
const (
	FulfilmentUnfulfilled FulfilmentStatus = "unfulfilled" // nothing shipped yet
	FulfilmentPartial     FulfilmentStatus = "partially_fulfilled"
	FulfilmentFulfilled   FulfilmentStatus = "fulfilled" // every unit not cancelled has shipped
	FulfilmentDelivered   FulfilmentStatus = "delivered" // … and has been delivered
	FulfilmentNone        FulfilmentStatus = "none"      // every unit was cancelled
)

// FulfilmentStatus derives the order's fulfilment status from its lines.
func (o *Order) FulfilmentStatus() FulfilmentStatus {
	var want, shipped, delivered int64
	for _, l := range o.Lines {
		want += l.Quantity - l.Cancelled
		shipped += l.Shipped
		delivered += l.Delivered
	}
	switch {
	case want == 0:
		return FulfilmentNone
	case delivered >= want:
		return FulfilmentDelivered
	case shipped >= want:
		return FulfilmentFulfilled
	case shipped > 0:
		return FulfilmentPartial
	default:
		return FulfilmentUnfulfilled
	}
}

// PaymentStatus is derived from the order's payment records.
type PaymentStatus string

// The payment statuses. Until the payment module records payments every
// order is unpaid.
const (
	PaymentUnpaid            PaymentStatus = "unpaid"
	PaymentAuthorized        PaymentStatus = "authorized"
	PaymentPartiallyPaid     PaymentStatus = "partially_paid"
	PaymentPaid              PaymentStatus = "paid"
	PaymentPartiallyRefunded PaymentStatus = "partially_refunded"
	PaymentRefunded          PaymentStatus = "refunded"
)

// PaymentStatus derives the order's payment status. No payment records exist
// yet, so it is the channel's reported financial status where that names
// one of the payment statuses (a till reports paid; Shopify reports paid,
// authorized, refunded, …), and unpaid otherwise; the payment module
// replaces this derivation.
func (o *Order) PaymentStatus() PaymentStatus {
	switch s := PaymentStatus(o.FinancialStatus); s {
	case PaymentAuthorized, PaymentPartiallyPaid, PaymentPaid, PaymentPartiallyRefunded, PaymentRefunded:
		return s
	}
	return PaymentUnpaid
}
