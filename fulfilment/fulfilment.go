// Package fulfilment owns what should ship from where and what did ship:
// fulfilment orders (one per order and location, with their status machine,
// shipping and rejection), shipments and their tracking status machine, the
// stock effects a rejection calls for, and the derivation of an order's line
// counters and status from its fulfilment orders and shipments.
//
// It is pure domain logic: no I/O, no clock, no randomness. It imports only
// the orderly, order and inventory packages; the service layer loads and
// stores what it returns, writes the ledger movements and emits the events.
package fulfilment

import (
	"strconv"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/inventory"
)

// Status is a fulfilment order's lifecycle state, a closed set.
type Status string

// The fulfilment order statuses. Shipped, Rejected and Cancelled are
// terminal: nothing is left open.
const (
	StatusPending   Status = "pending"   // created by routing, not yet sent to the location
	StatusRequested Status = "requested" // sent to the location, awaiting its answer
	StatusAccepted  Status = "accepted"  // the location will fulfil it
	StatusPicking   Status = "picking"   // being picked
	StatusPacked    Status = "packed"    // packed, awaiting the carrier
	StatusShipped   Status = "shipped"   // nothing left open, and something shipped
	StatusRejected  Status = "rejected"  // the location refused what was left; nothing shipped
	StatusCancelled Status = "cancelled" // withdrawn; nothing shipped
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{StatusPending, StatusRequested, StatusAccepted, StatusPicking, StatusPacked,
	StatusShipped, StatusRejected, StatusCancelled}

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Terminal reports whether s is a final status.
func (s Status) Terminal() bool {
	return s == StatusShipped || s == StatusRejected || s == StatusCancelled
}

// canShip lists the statuses a fulfilment order may ship from. Picking and
// packing are reported when a location cares to; accepting is the
// commitment, so a location may ship straight after accepting.
func canShip(s Status) bool {
	return s == StatusAccepted || s == StatusPicking || s == StatusPacked
}

// canReject lists the statuses a location may reject from: once asked, and
// until everything has shipped.
func canReject(s Status) bool {
	return s == StatusRequested || canShip(s)
}

// RejectReason says why a location refused (part of) a fulfilment order.
type RejectReason string

// The rejection reasons; each has its stock effect (see RejectEffect).
const (
	RejectNotFound   RejectReason = "not_found"   // the stock was not there
	RejectDamaged    RejectReason = "damaged"     // the stock was there but not sellable
	RejectNoCapacity RejectReason = "no_capacity" // the location cannot do it now
	RejectOther      RejectReason = "other"
)

// RejectReasons lists every rejection reason.
var RejectReasons = []RejectReason{RejectNotFound, RejectDamaged, RejectNoCapacity, RejectOther}

// Valid reports whether r is one of the reasons.
func (r RejectReason) Valid() bool {
	for _, v := range RejectReasons {
		if r == v {
			return true
		}
	}
	return false
}

// FulfilmentOrder is what one location is asked to ship for one order. It
// is created by routing, one per (order, location) of the plan, and counts
// per line what shipped and what was rejected or cancelled; the rest is
// open (still reserved at the location).
type FulfilmentOrder struct {
	ID       string `json:"id"`
	OrderID  string `json:"order_id"`
	Location string `json:"location"`
	Status   Status `json:"status"`
	Lines    []Line `json:"lines"`
	// RejectReason is the reason of the latest rejection, if any.
	RejectReason RejectReason `json:"reject_reason,omitempty"`
	CreatedAt    time.Time    `json:"created_at"`
	UpdatedAt    time.Time    `json:"updated_at"`
	// Version increases by one with every stored change (the store bumps
	// it); stores use it for optimistic concurrency.
	Version int64 `json:"version"`
}

// Line is the part of one order line a fulfilment order is to ship.
// Quantity = Shipped + Rejected + Cancelled + Open().
type Line struct {
	// LineID is the order line's id.
	LineID string `json:"line_id"`
	SKU    string `json:"sku"`
	// Quantity is what the location was asked to ship.
	Quantity  int64 `json:"quantity"`
	Shipped   int64 `json:"shipped"`
	Rejected  int64 `json:"rejected"`
	Cancelled int64 `json:"cancelled"`
}

// Open returns the quantity still to ship: asked for, less shipped,
// rejected and cancelled.
func (l Line) Open() int64 { return l.Quantity - l.Shipped - l.Rejected - l.Cancelled }

// ErrInvalidTransition matches (with errors.Is) every refused status change.
var ErrInvalidTransition = &orderly.Error{Kind: orderly.KindConflict, Code: "invalid_transition"}

func transition(f *FulfilmentOrder, action string) error {
	return &orderly.Error{
		Kind:    orderly.KindConflict,
		Code:    "invalid_transition",
		Message: "cannot " + action + " a fulfilment order that is " + string(f.Status),
	}
}

// FromPicks builds the pending fulfilment orders of one order from its
// allocation: one per location, in the order locations first appear among
// the picks, with one line per order line (picks of the same line at the
// same location are summed). Picks with a quantity below 1 are ignored.
func FromPicks(orderID string, picks []inventory.Pick, now time.Time) []*FulfilmentOrder {
	var out []*FulfilmentOrder
	byLoc := map[string]*FulfilmentOrder{}
	for _, p := range picks {
		if p.Quantity < 1 {
			continue
		}
		f := byLoc[p.Location]
		if f == nil {
			f = &FulfilmentOrder{ID: orderly.NewID(), OrderID: orderID, Location: p.Location,
				Status: StatusPending, Lines: []Line{}, CreatedAt: now, UpdatedAt: now, Version: 1}
			byLoc[p.Location] = f
			out = append(out, f)
		}
		if l := f.line(p.LineID); l != nil {
			l.Quantity += p.Quantity
			continue
		}
		f.Lines = append(f.Lines, Line{LineID: p.LineID, SKU: p.SKU, Quantity: p.Quantity})
	}
	return out
}

// Validate checks a fulfilment order's shape and counters.
func (f *FulfilmentOrder) Validate() error {
	var p orderly.Problems
	if f.OrderID == "" {
		p.Add("order_id", "is required")
	}
	if f.Location == "" {
		p.Add("location", "is required")
	}
	if !f.Status.Valid() {
		p.Add("status", "%q is not a fulfilment status", f.Status)
	}
	if f.RejectReason != "" && !f.RejectReason.Valid() {
		p.Add("reject_reason", "%q is not a rejection reason", f.RejectReason)
	}
	if len(f.Lines) == 0 {
		p.Add("lines", "must have at least one line")
	}
	seen := map[string]bool{}
	for i, l := range f.Lines {
		if l.LineID == "" {
			p.Add(field(i, "line_id"), "is required")
		} else if seen[l.LineID] {
			p.Add(field(i, "line_id"), "appears twice")
		}
		seen[l.LineID] = true
		if l.SKU == "" {
			p.Add(field(i, "sku"), "is required")
		}
		if l.Quantity < 1 || l.Quantity > inventory.MaxQuantity {
			p.Add(field(i, "quantity"), "must be between 1 and %d", inventory.MaxQuantity)
		}
		if l.Shipped < 0 || l.Rejected < 0 || l.Cancelled < 0 || l.Open() < 0 {
			p.Add(field(i, "quantity"), "is less than shipped + rejected + cancelled")
		}
	}
	return p.Err()
}

func field(i int, name string) string {
	return "lines[" + strconv.Itoa(i) + "]." + name
}

func (f *FulfilmentOrder) line(id string) *Line {
	for i := range f.Lines {
		if f.Lines[i].LineID == id {
			return &f.Lines[i]
		}
	}
	return nil
}

// Open returns the total quantity still to ship.
func (f *FulfilmentOrder) Open() int64 {
	var n int64
	for _, l := range f.Lines {
		n += l.Open()
	}
	return n
}

func (f *FulfilmentOrder) shipped() bool {
	for _, l := range f.Lines {
		if l.Shipped > 0 {
			return true
		}
	}
	return false
}

// close ends the fulfilment order once nothing is left open: shipped if
// anything shipped, otherwise the status of the action that closed it.
func (f *FulfilmentOrder) close(otherwise Status) {
	if f.Open() > 0 {
		return
	}
	if f.shipped() {
		f.Status = StatusShipped
	} else {
		f.Status = otherwise
	}
}

func (f *FulfilmentOrder) step(from, to Status, action string, now time.Time) error {
	if f.Status != from {
		return transition(f, action)
	}
	f.Status = to
	f.UpdatedAt = now
	return nil
}

// Request sends a pending fulfilment order to its location.
func (f *FulfilmentOrder) Request(now time.Time) error {
	return f.step(StatusPending, StatusRequested, "request", now)
}

// Accept records that the location will fulfil the order.
func (f *FulfilmentOrder) Accept(now time.Time) error {
	return f.step(StatusRequested, StatusAccepted, "accept", now)
}

// StartPicking records that picking has started.
func (f *FulfilmentOrder) StartPicking(now time.Time) error {
	return f.step(StatusAccepted, StatusPicking, "start picking", now)
}

// Pack records that the order is packed.
func (f *FulfilmentOrder) Pack(now time.Time) error {
	return f.step(StatusPicking, StatusPacked, "pack", now)
}

// LineQuantity names a quantity of one order line, as a client sends it to
// /ship or /reject.
type LineQuantity struct {
	LineID   string `json:"line_id"`
	Quantity int64  `json:"quantity"`
}

// ShipmentLine is a quantity of one order line in one parcel (or, from
// Reject, refused at one location).
type ShipmentLine struct {
	LineID   string `json:"line_id"`
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// take resolves a client's line list against the open quantities: no lines
// means everything left; otherwise each line must be known, appear once and
// ask for 1…open units. Nothing is changed.
func (f *FulfilmentOrder) take(lines []LineQuantity, verb string) ([]ShipmentLine, error) {
	if len(lines) == 0 {
		var out []ShipmentLine
		for _, l := range f.Lines {
			if o := l.Open(); o > 0 {
				out = append(out, ShipmentLine{LineID: l.LineID, SKU: l.SKU, Quantity: o})
			}
		}
		return out, nil
	}
	var p orderly.Problems
	out := make([]ShipmentLine, 0, len(lines))
	seen := map[string]bool{}
	for i, q := range lines {
		l := f.line(q.LineID)
		switch {
		case q.LineID == "":
			p.Add(field(i, "line_id"), "is required")
			continue
		case l == nil:
			p.Add(field(i, "line_id"), "%q is not a line of this fulfilment order", q.LineID)
			continue
		case seen[q.LineID]:
			p.Add(field(i, "line_id"), "appears twice")
			continue
		}
		seen[q.LineID] = true
		switch open := l.Open(); {
		case q.Quantity < 1:
			p.Add(field(i, "quantity"), "must be at least 1")
		case q.Quantity > open:
			p.Add(field(i, "quantity"), "is more than the %d left to %s", open, verb)
		default:
			out = append(out, ShipmentLine{LineID: l.LineID, SKU: l.SKU, Quantity: q.Quantity})
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Ship records that lines left the location and returns the shipment's
// lines. No lines means everything left; fewer is a partial shipment. A
// partial shipment leaves the fulfilment order in the status it was in
// (accepted, picking or packed: what was reported of the rest still holds)
// with the rest open; once nothing is open it is shipped. Unknown lines and
// over-shipping are KindInvalid errors naming the field (lines[i].line_id,
// lines[i].quantity); nothing changes on error.
func (f *FulfilmentOrder) Ship(lines []LineQuantity, now time.Time) ([]ShipmentLine, error) {
	if !canShip(f.Status) {
		return nil, transition(f, "ship")
	}
	out, err := f.take(lines, "ship")
	if err != nil {
		return nil, err
	}
	for _, s := range out {
		f.line(s.LineID).Shipped += s.Quantity
	}
	f.UpdatedAt = now
	f.close(StatusShipped)
	return out, nil
}

// Reject records that the location refuses lines (no lines means everything
// left) for a reason, and returns what was refused: the service applies
// RejectEffect for each, releases the reservations and routes the
// quantities again without this location. A partial rejection leaves the
// fulfilment order in its status with the rest open; once nothing is open it
// is rejected, or shipped if part of it shipped.
func (f *FulfilmentOrder) Reject(reason RejectReason, lines []LineQuantity, now time.Time) ([]ShipmentLine, error) {
	if !reason.Valid() {
		return nil, orderly.Invalid("reason", "must be one of not_found, damaged, no_capacity, other")
	}
	if !canReject(f.Status) {
		return nil, transition(f, "reject")
	}
	out, err := f.take(lines, "reject")
	if err != nil {
		return nil, err
	}
	for _, s := range out {
		f.line(s.LineID).Rejected += s.Quantity
	}
	f.RejectReason = reason
	f.UpdatedAt = now
	f.close(StatusRejected)
	return out, nil
}

// Cancel withdraws everything still open (the order, or the rest of it, was
// cancelled) and returns what was withdrawn, for the service to release. The
// fulfilment order becomes cancelled, or shipped if part of it shipped.
func (f *FulfilmentOrder) Cancel(now time.Time) ([]ShipmentLine, error) {
	if f.Status.Terminal() {
		return nil, transition(f, "cancel")
	}
	out, _ := f.take(nil, "cancel")
	for _, s := range out {
		f.line(s.LineID).Cancelled += s.Quantity
	}
	f.UpdatedAt = now
	f.close(StatusCancelled)
	return out, nil
}

// CancelLines withdraws part of what is open (some units of an order were
// cancelled) and returns what was withdrawn, for the service to release.
// Lines are checked as for Ship (each known, once, 1…open units); no lines
// withdraws nothing. Once nothing is open the fulfilment order closes:
// cancelled, or shipped if part of it shipped.
func (f *FulfilmentOrder) CancelLines(lines []LineQuantity, now time.Time) ([]ShipmentLine, error) {
	if f.Status.Terminal() {
		return nil, transition(f, "cancel")
	}
	if len(lines) == 0 {
		return nil, nil
	}
	out, err := f.take(lines, "cancel")
	if err != nil {
		return nil, err
	}
	for _, s := range out {
		f.line(s.LineID).Cancelled += s.Quantity
	}
	f.UpdatedAt = now
	f.close(StatusCancelled)
	return out, nil
}
