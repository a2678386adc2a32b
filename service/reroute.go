package service

import (
	"context"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// RerouteOrder moves what an order has reserved at one location elsewhere,
// in one transaction: the location's open fulfilment orders for it are
// withdrawn (fulfilment.cancelled), its reservations there are released,
// and the released units are routed again over the channel's other
// feeding locations (order.rerouted, with the routing receipt). What no
// other location can take is backordered and the order is held with
// reason unfillable. A fulfilment order already being picked or packed
// is not taken from the location: reject it from the queue instead.
// Event: order.reroute_requested, then routing's own.
func (s *Service) RerouteOrder(ctx context.Context, p auth.Principal, ref, from, reason string) (*order.Order, error) {
	var pr orderly.Problems
	if from == "" {
		pr.Add("location", "is required")
	}
	orderly.CheckText(&pr, "reason", reason, 500)
	if err := pr.Err(); err != nil {
		return nil, err
	}
	return s.changeOrder(ctx, p, ref, "order.reroute_requested", func(tx store.Querier, o *order.Order, now time.Time) (map[string]any, func() error, error) {
		switch o.Status {
		case order.StatusOpen, order.StatusPartiallyShipped, order.StatusOnHold:
		default:
			return nil, nil, &orderly.Error{Kind: orderly.KindConflict, Code: "invalid_transition",
				Message: "cannot re-route an order that is " + string(o.Status)}
		}
		fos, err := tx.FulfilmentOrderListByOrder(ctx, o.ID)
		if err != nil {
			return nil, nil, err
		}
		var withdraw []*fulfilment.FulfilmentOrder
		for _, f := range fos {
			if f.Location != from || f.Status.Terminal() {
				continue
			}
			if f.Status == fulfilment.StatusPicking || f.Status == fulfilment.StatusPacked {
				return nil, nil, orderly.Errorf(orderly.KindConflict,
					"%s is already %s order %d; reject the fulfilment order from its queue instead", from, f.Status, o.Number)
			}
			withdraw = append(withdraw, f)
		}
		allocs, err := tx.AllocationListByOrder(ctx, o.ID)
		if err != nil {
			return nil, nil, err
		}
		var released []inventory.Pick
		for _, a := range allocs {
			if a.Location != from || a.Quantity == 0 {
				continue
			}
			if err := s.consume(ctx, tx, o, from, a.LineID, a.SKU, a.Quantity, 0, inventory.ReasonRelease, "order:"+o.ID, p.Actor()); err != nil {
				return nil, nil, err
			}
			released = append(released, inventory.Pick{LineID: a.LineID, SKU: a.SKU, Location: from, Quantity: a.Quantity})
		}
		if len(released) == 0 {
			return nil, nil, orderly.Errorf(orderly.KindConflict, "order %d has nothing reserved at %q to re-route", o.Number, from)
		}
		for _, f := range withdraw {
			lines, err := f.Cancel(now)
			if err != nil {
				return nil, nil, err
			}
			if err := tx.FulfilmentOrderUpdate(ctx, f); err != nil {
				return nil, nil, err
			}
			if err := tx.EventInsert(ctx, s.event("fulfilment.cancelled", "fulfilment_order", f.ID, o.ID, p.Actor(),
				map[string]any{"fulfilment_order_id": f.ID, "location": f.Location, "lines": lines, "status": f.Status,
					"reason": "re-routed"})); err != nil {
				return nil, nil, err
			}
		}
		// The released units are now unreserved: routing places them (or
		// backorders them) as it would a new order's, without from.
		after := func() error { return s.reroute(ctx, tx, o, from, p.Actor()) }
		return map[string]any{"location": from, "reason": reason, "released": picksData(released)}, after, nil
	})
}
