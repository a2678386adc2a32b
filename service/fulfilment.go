package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// This file wires fulfilment (docs/decisions/0006): the fulfilment orders
// routing creates per (order, location), their steps, shipping (which
// consumes the reservation and the stock in one ship movement per line),
// rejection (which applies the reason's stock effect and routes the
// rejected units again without the location), tracking events, and the
// cancellation of some units of an order.
//
// Every change of a fulfilment order or shipment is made under its order's
// lock (lockOrder / OrderLock), so the allocations, the fulfilment orders
// and the order's counters change together.

// HoldUnfillable is the hold reason of an order some of whose rejected
// units no other location could take.
const HoldUnfillable = "unfillable"

// CodeOrderOnHold marks a fulfilment step refused because the order is on
// hold; CodeCancellationPolicy a cancellation the channel's policy refuses.
const (
	CodeOrderOnHold        = "order_on_hold"
	CodeCancellationPolicy = "cancellation_policy"
)

// requireFulfilment checks that p may act on fulfilment at location.
func requireFulfilment(p auth.Principal, location string) error {
	if err := require(p, auth.PermFulfilmentManage); err != nil {
		return err
	}
	if !p.WorksAt(location) {
		return orderly.Errorf(orderly.KindForbidden, "this key may only act on fulfilment at location %q", p.Location)
	}
	return nil
}

// releasable reports whether an order in status s is released to
// fulfilment: open or partly shipped, not pending, held or closed.
func releasable(s order.Status) bool {
	return s == order.StatusOpen || s == order.StatusPartiallyShipped
}

// newFulfilmentOrders creates, in tx, one requested fulfilment order per
// location of picks, with a fulfilment.requested event each.
func (s *Service) newFulfilmentOrders(ctx context.Context, tx store.Querier, o *order.Order, picks []inventory.Pick, actor string) ([]*fulfilment.FulfilmentOrder, error) {
	fos, events, err := s.fulfilmentOf(o, picks, actor)
	if err != nil || len(fos) == 0 {
		return nil, err
	}
	if err := tx.FulfilmentOrderInsert(ctx, fos...); err != nil {
		return nil, err
	}
	return fos, tx.EventInsert(ctx, events...)
}

// fulfilmentOf returns the requested fulfilment orders of picks for o (one
// per location) and their fulfilment.requested events, to store.
func (s *Service) fulfilmentOf(o *order.Order, picks []inventory.Pick, actor string) ([]*fulfilment.FulfilmentOrder, []*orderly.Event, error) {
	now := s.clock.Now()
	fos := fulfilment.FromPicks(o.ID, picks, now)
	events := make([]*orderly.Event, len(fos))
	for i, f := range fos {
		if err := f.Request(now); err != nil {
			return nil, nil, err
		}
		events[i] = s.event("fulfilment.requested", "fulfilment_order", f.ID, o.ID, actor,
			map[string]any{"fulfilment_order_id": f.ID, "location": f.Location, "lines": f.Lines})
	}
	return fos, events, nil
}

// requestFulfilment releases to fulfilment, in tx, whatever o has reserved
// that no open fulfilment order covers yet (after a release or a
// re-route), if o is released to fulfilment at all.
func (s *Service) requestFulfilment(ctx context.Context, tx store.Querier, o *order.Order, actor string) error {
	if !releasable(o.Status) {
		return nil
	}
	allocs, err := tx.AllocationListByOrder(ctx, o.ID)
	if err != nil || len(allocs) == 0 {
		return err
	}
	fos, err := tx.FulfilmentOrderListByOrder(ctx, o.ID)
	if err != nil {
		return err
	}
	type key struct{ location, line string }
	covered := map[key]int64{}
	for _, f := range fos {
		if f.Status.Terminal() {
			continue
		}
		for _, l := range f.Lines {
			covered[key{f.Location, l.LineID}] += l.Open()
		}
	}
	var picks []inventory.Pick
	for _, a := range allocs {
		k := key{a.Location, a.LineID}
		c := min(covered[k], a.Quantity)
		covered[k] -= c
		if rest := a.Quantity - c; rest > 0 {
			picks = append(picks, inventory.Pick{LineID: a.LineID, SKU: a.SKU, Location: a.Location, Quantity: rest})
		}
	}
	_, err = s.newFulfilmentOrders(ctx, tx, o, picks, actor)
	return err
}

// cancelFulfilment withdraws every open fulfilment order of o, in tx (the
// order is being cancelled; its reservations are released by the caller).
func (s *Service) cancelFulfilment(ctx context.Context, tx store.Querier, o *order.Order, actor string) error {
	fos, err := tx.FulfilmentOrderListByOrder(ctx, o.ID)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	for _, f := range fos {
		if f.Status.Terminal() {
			continue
		}
		lines, err := f.Cancel(now)
		if err != nil {
			return err
		}
		if err := tx.FulfilmentOrderUpdate(ctx, f); err != nil {
			return err
		}
		if err := tx.EventInsert(ctx, s.event("fulfilment.cancelled", "fulfilment_order", f.ID, o.ID, actor,
			map[string]any{"fulfilment_order_id": f.ID, "location": f.Location, "lines": lines, "status": f.Status})); err != nil {
			return err
		}
	}
	return nil
}

// consume takes q units of an order line off its allocations at location
// (oldest first) and writes one ledger movement: reserved −q and on hand
// onHandDelta. It lowers the line's Allocated counter. Units that are not
// reserved there are an internal error; a movement the balance cannot take
// (less on hand than shipped) is KindConflict.
func (s *Service) consume(ctx context.Context, tx store.Querier, o *order.Order, location, lineID, sku string, q, onHandDelta int64,
	reason inventory.Reason, reference, actor string) error {
	allocs, err := tx.AllocationListByOrder(ctx, o.ID)
	if err != nil {
		return err
	}
	left := q
	for _, a := range allocs {
		if left == 0 {
			break
		}
		if a.LineID != lineID || a.Location != location {
			continue
		}
		take := min(left, a.Quantity)
		if err := tx.AllocationSetQuantity(ctx, a.ID, a.Quantity-take); err != nil {
			return err
		}
		left -= take
	}
	if left > 0 {
		return fmt.Errorf("order %s line %s: %d of %d units are not reserved at %s", o.ID, lineID, left, q, location)
	}
	m := &inventory.Movement{SKU: sku, Location: location, DeltaOnHand: onHandDelta, DeltaReserved: -q,
		Reason: reason, Reference: reference, Actor: actor, At: s.clock.Now()}
	if _, err := tx.StockMove(ctx, m); err != nil {
		if errors.Is(err, store.ErrNegativeStock) {
			return orderly.Errorf(orderly.KindConflict, "%s at %s: %d units are not on hand to %s; count the stock first", sku, location, q, reason)
		}
		return err
	}
	if l := o.LineByID(lineID); l != nil {
		l.Allocated = max(0, l.Allocated-q)
	}
	return nil
}

// progress derives o's shipped and delivered counters and status from its
// fulfilment orders and shipments (fulfilment.Derive) and applies them.
func (s *Service) progress(ctx context.Context, tx store.Querier, o *order.Order) error {
	fos, err := tx.FulfilmentOrderListByOrder(ctx, o.ID)
	if err != nil {
		return err
	}
	shs, err := tx.ShipmentListByOrder(ctx, o.ID)
	if err != nil {
		return err
	}
	p, err := fulfilment.Derive(o, fos, shs)
	if err != nil {
		return err
	}
	p.Apply(o, s.clock.Now())
	return nil
}

// changeFulfilment runs change on a fulfilment order in a write
// transaction, with its order locked and read, after checking that p may
// act at its location. change stores what it changes; the order is
// written afterwards if change reports it changed.
func (s *Service) changeFulfilment(ctx context.Context, p auth.Principal, id string,
	change func(tx store.Querier, f *fulfilment.FulfilmentOrder, o *order.Order, now time.Time) (orderChanged bool, err error)) (*fulfilment.FulfilmentOrder, error) {
	if err := require(p, auth.PermFulfilmentManage); err != nil {
		return nil, err
	}
	var out *fulfilment.FulfilmentOrder
	err := retryOnVersionConflict(ctx, func() error {
		return s.store.InTx(ctx, func(tx store.Querier) error {
			f, err := tx.FulfilmentOrderGet(ctx, id)
			if err != nil {
				return err
			}
			if err := requireFulfilment(p, f.Location); err != nil {
				return err
			}
			if err := tx.OrderLock(ctx, f.OrderID); err != nil {
				return err
			}
			if f, err = tx.FulfilmentOrderGet(ctx, id); err != nil {
				return err
			}
			o, err := tx.OrderGet(ctx, f.OrderID)
			if err != nil {
				return err
			}
			changed, err := change(tx, f, o, s.clock.Now())
			if err != nil {
				return err
			}
			out = f
			if changed {
				return tx.OrderUpdate(ctx, o)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// notOnHold refuses a fulfilment step while the order is on hold: a hold
// stops the order until someone releases it.
func notOnHold(o *order.Order) error {
	if o.Status != order.StatusOnHold {
		return nil
	}
	reason := ""
	if o.Hold != nil {
		reason = " (" + o.Hold.Reason + ")"
	}
	return &orderly.Error{Kind: orderly.KindConflict, Code: CodeOrderOnHold,
		Message: fmt.Sprintf("order %d is on hold%s; release it before fulfilling it", o.Number, reason)}
}

// step moves a fulfilment order one step with an event of type typ.
func (s *Service) step(ctx context.Context, p auth.Principal, id, typ string,
	move func(f *fulfilment.FulfilmentOrder, now time.Time) error) (*fulfilment.FulfilmentOrder, error) {
	return s.changeFulfilment(ctx, p, id, func(tx store.Querier, f *fulfilment.FulfilmentOrder, o *order.Order, now time.Time) (bool, error) {
		if err := notOnHold(o); err != nil {
			return false, err
		}
		from := f.Status
		if err := move(f, now); err != nil {
			return false, err
		}
		if err := tx.FulfilmentOrderUpdate(ctx, f); err != nil {
			return false, err
		}
		return false, tx.EventInsert(ctx, s.event(typ, "fulfilment_order", f.ID, o.ID, p.Actor(),
			map[string]any{"fulfilment_order_id": f.ID, "location": f.Location, "from": from, "to": f.Status}))
	})
}

// AcceptFulfilment records that the location will fulfil the order.
func (s *Service) AcceptFulfilment(ctx context.Context, p auth.Principal, id string) (*fulfilment.FulfilmentOrder, error) {
	return s.step(ctx, p, id, "fulfilment.accepted", (*fulfilment.FulfilmentOrder).Accept)
}

// StartPicking records that picking started.
func (s *Service) StartPicking(ctx context.Context, p auth.Principal, id string) (*fulfilment.FulfilmentOrder, error) {
	return s.step(ctx, p, id, "fulfilment.picking", (*fulfilment.FulfilmentOrder).StartPicking)
}

// PackFulfilment records that the order is packed.
func (s *Service) PackFulfilment(ctx context.Context, p auth.Principal, id string) (*fulfilment.FulfilmentOrder, error) {
	return s.step(ctx, p, id, "fulfilment.packed", (*fulfilment.FulfilmentOrder).Pack)
}

// Parcel is what a location says it shipped.
type Parcel struct {
	Carrier        string
	Service        string
	TrackingNumber string
	// Label is the label's URL or reference, if any.
	Label string
	// Lines are the units in the parcel; none means everything left.
	Lines []fulfilment.LineQuantity
}

// ShipFulfilment records a shipment from a fulfilment order: the
// shipment (pre_transit), one ship movement per line (on hand −q and
// reserved −q, referenced "shipment:<id>"), the allocations' open
// quantities, the order's shipped counters and status (partially_shipped,
// shipped), and a fulfilment.shipped event. Fewer lines than are open is
// a partial shipment that leaves the rest open.
func (s *Service) ShipFulfilment(ctx context.Context, p auth.Principal, id string, pc Parcel) (*fulfilment.Shipment, error) {
	var sh *fulfilment.Shipment
	_, err := s.changeFulfilment(ctx, p, id, func(tx store.Querier, f *fulfilment.FulfilmentOrder, o *order.Order, now time.Time) (bool, error) {
		if err := notOnHold(o); err != nil {
			return false, err
		}
		lines, err := f.Ship(pc.Lines, now)
		if err != nil {
			return false, err
		}
		if sh, err = fulfilment.NewShipment(f, lines, pc.Carrier, pc.Service, pc.TrackingNumber, pc.Label, now); err != nil {
			return false, err
		}
		for _, l := range lines {
			if err := s.consume(ctx, tx, o, f.Location, l.LineID, l.SKU, l.Quantity, -l.Quantity,
				inventory.ReasonShip, "shipment:"+sh.ID, p.Actor()); err != nil {
				return false, err
			}
		}
		if err := tx.FulfilmentOrderUpdate(ctx, f); err != nil {
			return false, err
		}
		if err := tx.ShipmentInsert(ctx, sh); err != nil {
			return false, err
		}
		if err := s.progress(ctx, tx, o); err != nil {
			return false, err
		}
		return true, tx.EventInsert(ctx, s.event("fulfilment.shipped", "fulfilment_order", f.ID, o.ID, p.Actor(),
			map[string]any{"fulfilment_order_id": f.ID, "shipment_id": sh.ID, "location": f.Location,
				"carrier": sh.Carrier, "service": sh.Service, "tracking_number": sh.TrackingNumber,
				"lines": lines, "status": f.Status, "order_status": o.Status}))
	})
	if err != nil {
		return nil, err
	}
	return sh, nil
}

// RejectFulfilment records that the location refuses lines (none means
// everything open) for a reason, in one transaction: the reservation of
// each rejected line is released, the reason's stock effect is applied
// through the ledger (not_found: a count of the SKU there to zero;
// damaged: a damage movement), and the rejected units are routed again
// over the channel's other feeding locations. Whatever no location can
// take is backordered and the order goes on hold with reason unfillable.
// The timeline gets fulfilment.rejected, the stock events, order.rerouted
// and, if so, order.held.
func (s *Service) RejectFulfilment(ctx context.Context, p auth.Principal, id string, reason fulfilment.RejectReason, lines []fulfilment.LineQuantity) (*fulfilment.FulfilmentOrder, error) {
	return s.changeFulfilment(ctx, p, id, func(tx store.Querier, f *fulfilment.FulfilmentOrder, o *order.Order, now time.Time) (bool, error) {
		rejected, err := f.Reject(reason, lines, now)
		if err != nil {
			return false, err
		}
		ref := "fulfilment:" + f.ID
		var effects []fulfilment.StockEffect
		for _, l := range rejected {
			eff, err := fulfilment.RejectEffect(reason, l.SKU, f.Location, l.Quantity)
			if err != nil {
				return false, err
			}
			// The release comes first: the count or damage must not see
			// this order's reservation.
			if err := s.consume(ctx, tx, o, f.Location, l.LineID, l.SKU, l.Quantity, 0, inventory.ReasonRelease, ref, p.Actor()); err != nil {
				return false, err
			}
			effects = append(effects, eff[1:]...)
		}
		if err := tx.FulfilmentOrderUpdate(ctx, f); err != nil {
			return false, err
		}
		if err := tx.EventInsert(ctx, s.event("fulfilment.rejected", "fulfilment_order", f.ID, o.ID, p.Actor(),
			map[string]any{"fulfilment_order_id": f.ID, "location": f.Location, "reason": reason,
				"lines": rejected, "status": f.Status})); err != nil {
			return false, err
		}
		// Store the order now: a count may put orders whose stock is gone
		// on hold, this one included.
		if err := tx.OrderUpdate(ctx, o); err != nil {
			return false, err
		}
		for _, e := range effects {
			if err := s.applyEffect(ctx, tx, e, ref, p.Actor()); err != nil {
				return false, err
			}
		}
		fresh, err := tx.OrderGet(ctx, o.ID)
		if err != nil {
			return false, err
		}
		*o = *fresh
		return true, s.reroute(ctx, tx, o, f.Location, p.Actor())
	})
}

// applyEffect writes one non-release stock effect of a rejection, with
// its inventory event, and raises a shortage if it uncovers other orders'
// reservations.
func (s *Service) applyEffect(ctx context.Context, tx store.Querier, e fulfilment.StockEffect, ref, actor string) error {
	now := s.clock.Now()
	locked, err := tx.BalancesLock(ctx, []string{e.SKU}, []string{e.Location})
	if err != nil {
		return err
	}
	before := inventory.Balance{SKU: e.SKU, Location: e.Location}
	if len(locked) == 1 {
		before = *locked[0]
	}
	m := e.Movement(before.OnHand, ref, actor, now)
	if e.Reason == inventory.ReasonDamage {
		m.DeltaOnHand = -min(-m.DeltaOnHand, before.OnHand) // never below zero
	}
	if m.DeltaOnHand == 0 {
		return nil
	}
	bal, err := tx.StockMove(ctx, &m)
	if err != nil {
		return err
	}
	typ, data := "inventory.adjusted", map[string]any{"location": e.Location, "sku": e.SKU, "delta": m.DeltaOnHand,
		"reason": m.Reason, "reference": ref, "on_hand": bal.OnHand, "reserved": bal.Reserved}
	if e.Reason == inventory.ReasonCount {
		typ, data = "inventory.counted", map[string]any{"location": e.Location, "sku": e.SKU, "from": before.OnHand,
			"to": bal.OnHand, "safety_stock": bal.SafetyStock, "reserved": bal.Reserved, "reference": ref}
	}
	if err := tx.EventInsert(ctx, s.event(typ, "inventory", e.Location+"/"+e.SKU, "", actor, data)); err != nil {
		return err
	}
	return s.checkShortage(ctx, tx, bal, actor, now)
}

// reroute routes o's unreserved units again over its channel's feeding
// locations other than exclude, in tx: it stores the routing decision,
// reserves what was placed, writes order.rerouted, holds the order with
// reason unfillable if units are left over, and releases what was placed
// to fulfilment. The caller writes the order.
func (s *Service) reroute(ctx context.Context, tx store.Querier, o *order.Order, exclude, actor string) error {
	ch, err := tx.ChannelGet(ctx, o.Channel)
	if err != nil {
		return err
	}
	locs, err := s.feedingLocationList(ctx, tx, ch)
	if err != nil {
		return err
	}
	locs = slices.DeleteFunc(locs, func(l *inventory.Location) bool { return l.Code == exclude })
	rt, err := s.planAllocation(ctx, tx, o, locs, false, false)
	if err != nil || rt == nil {
		return err
	}
	if err := s.storeDecision(ctx, tx, o, rt); err != nil {
		return err
	}
	if _, err := tx.StockReserve(ctx, o.ID, rt.plan.Picks, actor, s.clock.Now()); err != nil {
		return err
	}
	res := applyPlan(o, &rt.plan)
	short := backorderData(o)
	if err := tx.EventInsert(ctx, s.event("order.rerouted", "order", o.ID, o.ID, actor, map[string]any{
		"excluded": []string{exclude}, "rule_set_version": rt.why.RuleSetVersion, "locations": rt.result.Locations,
		"allocations": picksData(res.picks), "backordered": short, "summary": rt.why.Summary,
	})); err != nil {
		return err
	}
	if len(short) > 0 && o.Status != order.StatusOnHold {
		from := o.Status
		if err := o.PutOnHold(HoldUnfillable, s.clock.Now()); err != nil && !errors.Is(err, order.ErrInvalidTransition) {
			return err
		} else if err == nil {
			if err := tx.EventInsert(ctx, s.event("order.held", "order", o.ID, o.ID, actor,
				map[string]any{"reason": HoldUnfillable, "from": from, "to": o.Status})); err != nil {
				return err
			}
		}
	}
	return s.requestFulfilment(ctx, tx, o, actor)
}

// TrackingUpdate is a tracking event sent for a shipment.
type TrackingUpdate = fulfilment.TrackingEvent

// RecordShipmentEvent adds a tracking event to a shipment. A repeated
// event changes nothing. When the shipment becomes delivered the order's
// delivered counters follow, and once every line is delivered the order
// is delivered (order.delivered). Events: shipment.updated, and
// shipment.delivered when it is.
func (s *Service) RecordShipmentEvent(ctx context.Context, p auth.Principal, id string, ev TrackingUpdate) (*fulfilment.Shipment, error) {
	if err := require(p, auth.PermFulfilmentManage); err != nil {
		return nil, err
	}
	if !slices.Contains(fulfilment.EventStatuses, ev.Status) {
		return nil, orderly.Invalid("status", "must be one of in_transit, out_for_delivery, delivered, exception, returned_to_sender")
	}
	return s.recordShipmentEvent(ctx, p.Actor(), id, ev, func(sh *fulfilment.Shipment) error {
		return requireFulfilment(p, sh.Location)
	})
}

// recordShipmentEvent is RecordShipmentEvent once the event is checked;
// allowed is asked about the shipment before anything is written.
func (s *Service) recordShipmentEvent(ctx context.Context, actor, id string, ev TrackingUpdate,
	allowed func(*fulfilment.Shipment) error) (*fulfilment.Shipment, error) {
	var out *fulfilment.Shipment
	err := retryOnVersionConflict(ctx, func() error {
		return s.store.InTx(ctx, func(tx store.Querier) error {
			sh, err := tx.ShipmentGet(ctx, id)
			if err != nil {
				return err
			}
			if err := allowed(sh); err != nil {
				return err
			}
			if err := tx.OrderLock(ctx, sh.OrderID); err != nil {
				return err
			}
			if sh, err = tx.ShipmentGet(ctx, id); err != nil {
				return err
			}
			out = sh
			n := len(sh.Events)
			changed, err := sh.Record(ev, s.clock.Now())
			if err != nil || len(sh.Events) == n {
				return err // a repeated event: nothing to store
			}
			if err := tx.ShipmentUpdate(ctx, sh); err != nil {
				return err
			}
			events := []*orderly.Event{s.event("shipment.updated", "shipment", sh.ID, sh.OrderID, actor,
				map[string]any{"shipment_id": sh.ID, "status": sh.Status, "event": ev})}
			if !changed || sh.Status != fulfilment.TrackingDelivered {
				return tx.EventInsert(ctx, events...)
			}
			events = append(events, s.event("shipment.delivered", "shipment", sh.ID, sh.OrderID, actor,
				map[string]any{"shipment_id": sh.ID, "delivered_at": sh.DeliveredAt, "lines": sh.Lines}))
			o, err := tx.OrderGet(ctx, sh.OrderID)
			if err != nil {
				return err
			}
			was := o.Status
			if err := s.progress(ctx, tx, o); err != nil {
				return err
			}
			if o.Status == order.StatusDelivered && was != order.StatusDelivered {
				events = append(events, s.event("order.delivered", "order", o.ID, o.ID, actor,
					map[string]any{"from": was, "to": o.Status}))
			}
			if err := tx.EventInsert(ctx, events...); err != nil {
				return err
			}
			return tx.OrderUpdate(ctx, o)
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// seesFulfilment reports whether p may read a fulfilment order or
// shipment of order orderID at location: a warehouse key only at its
// location, a channel key only for its channel's orders.
func (s *Service) seesFulfilment(ctx context.Context, p auth.Principal, orderID, location string) (bool, error) {
	if !p.WorksAt(location) {
		return false, nil
	}
	if p.Role != auth.RoleChannel {
		return true, nil
	}
	o, err := s.store.OrderGet(ctx, orderID)
	if err != nil {
		return false, err
	}
	return p.SeesChannel(o.Channel), nil
}

// GetFulfilmentOrder returns a fulfilment order. One the principal may not
// see (a warehouse key's other locations, a channel key's other channels)
// is KindNotFound.
func (s *Service) GetFulfilmentOrder(ctx context.Context, p auth.Principal, id string) (*fulfilment.FulfilmentOrder, error) {
	if err := require(p, auth.PermOrdersRead); err != nil {
		return nil, err
	}
	f, err := s.store.FulfilmentOrderGet(ctx, id)
	if err != nil {
		return nil, err
	}
	if ok, err := s.seesFulfilment(ctx, p, f.OrderID, f.Location); err != nil {
		return nil, err
	} else if !ok {
		return nil, orderly.Errorf(orderly.KindNotFound, "fulfilment order %s not found", id)
	}
	return f, nil
}

// ListFulfilmentOrders returns a page of fulfilment orders, oldest first,
// and the After of the next page ("" on the last). A warehouse key sees
// its location's only; a channel key its channel's.
func (s *Service) ListFulfilmentOrders(ctx context.Context, p auth.Principal, params store.FulfilmentOrderListParams) ([]*fulfilment.FulfilmentOrder, string, error) {
	if err := require(p, auth.PermOrdersRead); err != nil {
		return nil, "", err
	}
	if params.Status != "" && !params.Status.Valid() {
		return nil, "", orderly.Invalid("status", "unknown status %q", params.Status)
	}
	if p.Role == auth.RoleWarehouse {
		if params.Location != "" && params.Location != p.Location {
			return []*fulfilment.FulfilmentOrder{}, "", nil
		}
		params.Location = p.Location
	}
	if p.Role == auth.RoleChannel {
		params.Channel = p.Channel
	}
	limit := store.Limit(params.Limit)
	params.Limit = limit + 1
	items, err := s.store.FulfilmentOrderList(ctx, params)
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(items) > limit {
		items = items[:limit]
		next = items[limit-1].ID
	}
	return items, next, nil
}

// OrderFulfilment returns an order's fulfilment orders and shipments,
// oldest first. The caller has already been allowed to see the order.
func (s *Service) OrderFulfilment(ctx context.Context, p auth.Principal, orderID string) ([]*fulfilment.FulfilmentOrder, []*fulfilment.Shipment, error) {
	if err := require(p, auth.PermOrdersRead); err != nil {
		return nil, nil, err
	}
	fos, err := s.store.FulfilmentOrderListByOrder(ctx, orderID)
	if err != nil {
		return nil, nil, err
	}
	shs, err := s.store.ShipmentListByOrder(ctx, orderID)
	return fos, shs, err
}

// cancelPolicy checks a partial cancellation against the channel's
// policy: partial cancellation allowed, within the window. The policy in
// force is the copy the order was captured with; an order captured before
// policies were copied falls back to the channel's current one.
func cancelPolicy(ch *channel.Channel, o *order.Order, now time.Time) error {
	pol := ch.Policy
	if o.Policy != nil {
		pol = *o.Policy
	}
	if !pol.PartialCancellation {
		return &orderly.Error{Kind: orderly.KindConflict, Code: CodeCancellationPolicy,
			Message: fmt.Sprintf("channel %q's policy does not allow cancelling part of an order (policy.partial_cancellation is false)", ch.Code)}
	}
	if w := pol.CancellationWindowMinutes; w > 0 && now.After(o.PlacedAt.Add(time.Duration(w)*time.Minute)) {
		return &orderly.Error{Kind: orderly.KindConflict, Code: CodeCancellationPolicy,
			Message: fmt.Sprintf("channel %q's policy allows cancelling only within %d minutes of placement (policy.cancellation_window_minutes); order %d was placed at %s",
				ch.Code, w, o.Number, o.PlacedAt.Format(time.RFC3339))}
	}
	return nil
}

// CancelLines cancels unshipped units of some lines of an order: first
// what is backordered, then reserved units, whose reservations are released
// and whose fulfilment orders give them up (an emptied one closes). The
// channel's policy must allow partial cancellation, within its window.
// An order left with nothing wanted is cancelled; one whose every wanted
// unit has shipped is shipped. Event: order.lines_cancelled.
func (s *Service) CancelLines(ctx context.Context, p auth.Principal, ref string, lines []fulfilment.LineQuantity, reason string) (*order.Order, error) {
	return s.changeOrder(ctx, p, ref, "order.lines_cancelled", func(tx store.Querier, o *order.Order, now time.Time) (map[string]any, func() error, error) {
		var pr orderly.Problems
		if reason == "" {
			pr.Add("reason", "is required")
		}
		orderly.CheckText(&pr, "reason", reason, 500)
		if len(lines) == 0 {
			pr.Add("lines", "must have at least one line")
		}
		seen := map[string]bool{}
		for i, lq := range lines {
			f := "lines[" + strconv.Itoa(i) + "]."
			l := o.LineByID(lq.LineID)
			switch {
			case lq.LineID == "":
				pr.Add(f+"line_id", "is required")
			case l == nil:
				pr.Add(f+"line_id", "%q is not a line of this order", lq.LineID)
			case seen[lq.LineID]:
				pr.Add(f+"line_id", "appears twice")
			case lq.Quantity < 1:
				pr.Add(f+"quantity", "must be at least 1")
			case lq.Quantity > l.Quantity-l.Cancelled-l.Shipped:
				pr.Add(f+"quantity", "is more than the %d units not yet shipped or cancelled", l.Quantity-l.Cancelled-l.Shipped)
			}
			seen[lq.LineID] = true
		}
		switch o.Status {
		case order.StatusPending, order.StatusOpen, order.StatusOnHold, order.StatusPartiallyShipped:
		default:
			return nil, nil, &orderly.Error{Kind: orderly.KindConflict, Code: "invalid_transition",
				Message: "cannot cancel lines of an order that is " + string(o.Status)}
		}
		ch, err := tx.ChannelGet(ctx, o.Channel)
		if err != nil {
			return nil, nil, err
		}
		if err := cancelPolicy(ch, o, now); err != nil {
			return nil, nil, err
		}
		if err := pr.Err(); err != nil {
			return nil, nil, err
		}
		released, err := s.cancelUnits(ctx, tx, o, lines, p.Actor())
		if err != nil {
			return nil, nil, err
		}
		if err := s.progress(ctx, tx, o); err != nil {
			return nil, nil, err
		}
		wanted := int64(0)
		for _, l := range o.Lines {
			wanted += l.Quantity - l.Cancelled
		}
		if wanted == 0 {
			if err := o.Cancel(reason, now); err != nil && !errors.Is(err, order.ErrInvalidTransition) {
				return nil, nil, err
			}
		}
		return map[string]any{"reason": reason, "lines": lines, "released": picksData(released)}, nil, nil
	})
}

// cancelUnits counts lines' units as cancelled, taking them from the
// backordered (or never reserved) units first, then from the newest
// reservations, which are released with their fulfilment orders' units.
func (s *Service) cancelUnits(ctx context.Context, tx store.Querier, o *order.Order, lines []fulfilment.LineQuantity, actor string) ([]inventory.Pick, error) {
	allocs, err := tx.AllocationListByOrder(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	fos, err := tx.FulfilmentOrderListByOrder(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	changed := map[string]bool{}
	var released []inventory.Pick
	for _, lq := range lines {
		l := o.LineByID(lq.LineID)
		left := lq.Quantity
		unreserved := max(0, l.Quantity-l.Cancelled-l.Shipped-l.Allocated)
		take := min(left, unreserved)
		l.Backordered = max(0, l.Backordered-take)
		left -= take
		for i := len(allocs) - 1; i >= 0 && left > 0; i-- {
			a := allocs[i]
			if a.LineID != l.ID || a.Quantity == 0 {
				continue
			}
			k := min(left, a.Quantity)
			if err := s.consume(ctx, tx, o, a.Location, l.ID, l.SKU, k, 0, inventory.ReasonRelease, "order:"+o.ID, actor); err != nil {
				return nil, err
			}
			a.Quantity -= k // consume took them oldest first; the sum is what matters here
			left -= k
			released = append(released, inventory.Pick{LineID: l.ID, SKU: l.SKU, Location: a.Location, Quantity: k})
			// The fulfilment orders at the location give up as many units.
			for j := len(fos) - 1; j >= 0 && k > 0; j-- {
				f := fos[j]
				if f.Location != a.Location || f.Status.Terminal() {
					continue
				}
				open := int64(0)
				for _, fl := range f.Lines {
					if fl.LineID == l.ID {
						open = fl.Open()
					}
				}
				if open == 0 {
					continue
				}
				n := min(k, open)
				if _, err := f.CancelLines([]fulfilment.LineQuantity{{LineID: l.ID, Quantity: n}}, now); err != nil {
					return nil, err
				}
				k -= n
				changed[f.ID] = true
			}
		}
		if left > 0 {
			return nil, fmt.Errorf("order %s line %s: %d units to cancel are neither backordered nor reserved", o.ID, l.ID, left)
		}
		l.Cancelled += lq.Quantity
	}
	for _, f := range fos {
		if !changed[f.ID] {
			continue
		}
		if err := tx.FulfilmentOrderUpdate(ctx, f); err != nil {
			return nil, err
		}
		if f.Status.Terminal() {
			if err := tx.EventInsert(ctx, s.event("fulfilment.cancelled", "fulfilment_order", f.ID, o.ID, actor,
				map[string]any{"fulfilment_order_id": f.ID, "location": f.Location, "status": f.Status})); err != nil {
				return nil, err
			}
		}
	}
	return released, nil
}

// GetShipment returns a shipment. One the principal may not see (a
// warehouse key's other locations, a channel key's other channels) is
// KindNotFound.
func (s *Service) GetShipment(ctx context.Context, p auth.Principal, id string) (*fulfilment.Shipment, error) {
	if err := require(p, auth.PermOrdersRead); err != nil {
		return nil, err
	}
	sh, err := s.store.ShipmentGet(ctx, id)
	if err != nil {
		return nil, err
	}
	if ok, err := s.seesFulfilment(ctx, p, sh.OrderID, sh.Location); err != nil {
		return nil, err
	} else if !ok {
		return nil, orderly.Errorf(orderly.KindNotFound, "shipment %s not found", id)
	}
	return sh, nil
}
