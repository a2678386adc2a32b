package fulfilment

import (
	"fmt"
	"time"

	"github.com/orderly-oms/orderly/order"
)

// LineProgress is what fulfilment says about one order line.
type LineProgress struct {
	LineID string `json:"line_id"`
	// Shipped is the sum over the order's fulfilment orders.
	Shipped int64 `json:"shipped"`
	// Delivered is the sum over the order's delivered shipments.
	Delivered int64 `json:"delivered"`
}

// Progress is an order's fulfilment, derived from its fulfilment orders and
// shipments: per line counters, in the order's line order, and the order
// status they imply.
type Progress struct {
	Lines []LineProgress `json:"lines"`
	// Status is partially_shipped, shipped or delivered, or "" while
	// nothing has shipped (the counters imply no status then).
	Status order.Status `json:"status,omitempty"`
}

// Derive computes an order's progress. Shipped counts come from the
// fulfilment orders (what each location said left it), delivered counts
// from the shipments that are delivered. Against what is wanted of each
// line (ordered − cancelled): everything delivered is delivered, everything
// shipped is shipped, anything shipped is partially_shipped. A fulfilment
// order or shipment of another order, or naming a line the order does not
// have, or counts above what a line wants, are inconsistencies of ours and
// an internal error.
func Derive(o *order.Order, fos []*FulfilmentOrder, shipments []*Shipment) (Progress, error) {
	idx := make(map[string]int, len(o.Lines))
	p := Progress{Lines: make([]LineProgress, len(o.Lines))}
	for i, l := range o.Lines {
		idx[l.ID] = i
		p.Lines[i].LineID = l.ID
	}
	for _, f := range fos {
		if f.OrderID != o.ID {
			return Progress{}, fmt.Errorf("fulfilment order %s belongs to order %s, not %s", f.ID, f.OrderID, o.ID)
		}
		for _, l := range f.Lines {
			i, ok := idx[l.LineID]
			if !ok {
				return Progress{}, fmt.Errorf("fulfilment order %s names line %s, which order %s does not have", f.ID, l.LineID, o.ID)
			}
			p.Lines[i].Shipped += l.Shipped
		}
	}
	for _, s := range shipments {
		if s.OrderID != o.ID {
			return Progress{}, fmt.Errorf("shipment %s belongs to order %s, not %s", s.ID, s.OrderID, o.ID)
		}
		for _, l := range s.Lines {
			i, ok := idx[l.LineID]
			if !ok {
				return Progress{}, fmt.Errorf("shipment %s names line %s, which order %s does not have", s.ID, l.LineID, o.ID)
			}
			if s.Status == TrackingDelivered {
				p.Lines[i].Delivered += l.Quantity
			}
		}
	}
	var want, shipped, delivered int64
	for i, l := range o.Lines {
		lp := p.Lines[i]
		w := l.Quantity - l.Cancelled
		if lp.Shipped > w || lp.Delivered > lp.Shipped {
			return Progress{}, fmt.Errorf("order %s line %s: shipped %d, delivered %d of %d wanted", o.ID, l.ID, lp.Shipped, lp.Delivered, w)
		}
		want += w
		shipped += lp.Shipped
		delivered += lp.Delivered
	}
	switch {
	case want > 0 && delivered >= want:
		p.Status = order.StatusDelivered
	case want > 0 && shipped >= want:
		p.Status = order.StatusShipped
	case shipped > 0:
		p.Status = order.StatusPartiallyShipped
	}
	return p, nil
}

// Apply writes the progress onto the order and reports whether anything
// changed. The line counters are always set. The status is moved only where
// fulfilment owns it: an open, partially shipped, shipped or delivered order
// takes p.Status; an order on hold keeps its hold and returns to p.Status
// when released; pending, cancelled and completed orders keep theirs. The
// status never moves back (delivered stays delivered), because shipments
// and deliveries only grow.
func (p Progress) Apply(o *order.Order, now time.Time) bool {
	changed := false
	for _, lp := range p.Lines {
		l := o.LineByID(lp.LineID)
		if l == nil {
			continue
		}
		if l.Shipped != lp.Shipped || l.Delivered != lp.Delivered {
			l.Shipped, l.Delivered = lp.Shipped, lp.Delivered
			changed = true
		}
	}
	if p.Status != "" {
		cur := &o.Status
		if o.Status == order.StatusOnHold && o.Hold != nil {
			cur = &o.Hold.Previous
		}
		if rank(*cur) > 0 && rank(p.Status) > rank(*cur) {
			*cur = p.Status
			changed = true
		}
	}
	if changed {
		o.UpdatedAt = now
	}
	return changed
}

// rank orders the statuses fulfilment moves an order through; 0 for the
// statuses it never moves.
func rank(s order.Status) int {
	switch s {
	case order.StatusOpen:
		return 1
	case order.StatusPartiallyShipped:
		return 2
	case order.StatusShipped:
		return 3
	case order.StatusDelivered:
		return 4
	}
	return 0
}
