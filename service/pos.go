package service

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// Point-of-sale intake: a sale at a till has already happened. The customer
// paid and walked out with the goods, so the order is captured already
// fulfilled: its stock leaves that store directly (a ship movement, never a
// reservation or routing elsewhere), and it is recorded as a fulfilment
// order of that store, shipped, with one shipment handed over — delivered —
// at the counter. See docs/decisions/0011-import-and-pos.md.

// FinancialPaid is the financial status of a sale paid at the till.
const FinancialPaid = "paid"

// Counter sales are recorded as a shipment with this carrier and service;
// the tracking number is CounterTrackingPrefix + the order id.
const (
	CounterCarrier        = "in_store"
	CounterService        = "counter"
	CounterTrackingPrefix = "pos-"
)

// CreateFulfilledOrder captures a sale made and handed over at location
// (the fulfilled_at_location of the API) on a channel of kind pos, in one
// transaction with all of its consequences:
//
//   - the order, with the channel's policy copied, financial status paid;
//   - for every line a ship movement of its units out of location (on hand
//     down, nothing reserved, no allocation);
//   - one fulfilment order of location, shipped, and one shipment
//     (carrier in_store) delivered at the order's placed_at, so the order
//     ends delivered with every line shipped and delivered — the return
//     window runs from that delivery;
//   - events order.created, fulfilment.shipped, shipment.delivered and
//     order.delivered, and inventory events where stock was short.
//
// Like CreateOrder it is idempotent on channel + external id (an order
// already stored is returned with created=false, nothing written). An
// unknown or inactive location, one the channel does not sell from, or a
// channel that is not of kind pos is KindInvalid naming
// fulfilled_at_location; unknown SKUs are KindInvalid naming the line.
//
// A sale is a fact: when the store's ledger shows fewer units on hand
// than were sold, the sale is recorded all the same. The missing units are
// first added back by an adjust movement (the sale proves they were
// there), with inventory.shortage and inventory.adjusted events and an
// order.flagged event on the order, so the ledger never goes negative and
// the difference is visible for a stock count. Other orders' reservations
// the sale leaves without stock raise inventory.shortage and go on hold
// (stock_shortage), as after any count.
func (s *Service) CreateFulfilledOrder(ctx context.Context, p auth.Principal, o *order.Order, location string) (_ *order.Order, created bool, err error) {
	o.FinancialStatus = FinancialPaid
	view, err := s.beginIntake(ctx, p, o)
	if err != nil || view.Existing != nil {
		return orderOf(view), false, err
	}
	if err := checkCounterLocation(view, location); err != nil {
		return nil, false, err
	}
	if err := checkSKUs(o, view.MissingSKUs); err != nil {
		return nil, false, err
	}
	return s.captureFulfilled(ctx, view.Channel, o, location, p.Actor())
}

// checkCounterLocation refuses a fulfilled_at_location that cannot be: not
// a pos channel, an unknown or inactive location, or one the channel does
// not sell from.
func checkCounterLocation(view *store.IntakeView, location string) error {
	const field = "fulfilled_at_location"
	ch := view.Channel
	if ch.Kind != channel.KindPOS {
		return orderly.Invalid(field, "is only for channels of kind pos; channel %q is %s", ch.Code, ch.Kind)
	}
	if location == "" {
		return orderly.Invalid(field, "is required")
	}
	i := slices.IndexFunc(view.Locations, func(l *inventory.Location) bool { return l.Code == location })
	switch {
	case i < 0:
		return orderly.Invalid(field, "unknown location %q", location)
	case !view.Locations[i].Active:
		return orderly.Invalid(field, "location %q is not active", location)
	case len(ch.Locations) > 0 && !slices.Contains(ch.Locations, location):
		return orderly.Invalid(field, "channel %q does not sell from location %q", ch.Code, location)
	}
	return nil
}

// captureFulfilled stores the counter sale o of ch at location; see
// CreateFulfilledOrder.
func (s *Service) captureFulfilled(ctx context.Context, ch *channel.Channel, o *order.Order, location, actor string) (*order.Order, bool, error) {
	policy := ch.Policy
	policy.Refunds = policy.Refunder() // the copy always names who refunds
	o.Policy = &policy
	now := s.clock.Now()
	o.Init(order.StatusOpen, now)
	input := *o
	input.Lines = slices.Clone(o.Lines)
	err := s.store.InTx(ctx, func(tx store.Querier) error {
		*o = input
		o.Lines = slices.Clone(input.Lines)

		// Lock the store's balances first: what is on hand decides
		// whether the ledger needs the units the sale proves.
		skus := make([]string, 0, len(o.Lines))
		demand := map[string]int64{}
		picks := make([]inventory.Pick, len(o.Lines))
		for i, l := range o.Lines {
			if demand[l.SKU] == 0 {
				skus = append(skus, l.SKU)
			}
			demand[l.SKU] += l.Quantity
			picks[i] = inventory.Pick{LineID: l.ID, SKU: l.SKU, Location: location, Quantity: l.Quantity}
		}
		locked, err := tx.BalancesLock(ctx, skus, []string{location})
		if err != nil {
			return err
		}
		onHand := make(map[string]int64, len(locked))
		reserved := make(map[string]int64, len(locked))
		for _, b := range locked {
			onHand[b.SKU], reserved[b.SKU] = b.OnHand, b.Reserved
		}

		// The fulfilment model's own steps: requested, accepted, shipped
		// whole, one parcel handed over at the counter.
		fos := fulfilment.FromPicks(o.ID, picks, now)
		if len(fos) != 1 {
			return errors.New("counter sale: expected one fulfilment order")
		}
		f := fos[0]
		if err := f.Request(now); err != nil {
			return err
		}
		if err := f.Accept(now); err != nil {
			return err
		}
		lines, err := f.Ship(nil, now)
		if err != nil {
			return err
		}
		sh, err := fulfilment.NewShipment(f, lines, CounterCarrier, CounterService, CounterTrackingPrefix+o.ID, "", now)
		if err != nil {
			return err
		}
		if _, err := sh.Record(fulfilment.TrackingEvent{Status: fulfilment.TrackingDelivered, At: o.PlacedAt,
			Detail: "handed over at " + location}, now); err != nil {
			return err
		}
		progress, err := fulfilment.Derive(o, fos, []*fulfilment.Shipment{sh})
		if err != nil {
			return err
		}
		progress.Apply(o, now)

		var short []string
		for _, sku := range skus {
			if missing := demand[sku] - onHand[sku]; missing > 0 {
				short = append(short, sku+" at "+location+": "+strconv.FormatInt(demand[sku], 10)+" sold, "+
					strconv.FormatInt(onHand[sku], 10)+" on hand; the ledger was corrected by +"+strconv.FormatInt(missing, 10))
			}
		}

		created := s.event("order.created", "order", o.ID, o.ID, actor, map[string]any{
			"channel": o.Channel, "external_id": o.ExternalID,
			"currency": o.Currency, "total": o.Totals.Total, "lines": len(o.Lines),
			"fulfilled_at_location": location, "financial_status": o.FinancialStatus,
		})
		events := []*orderly.Event{
			s.event("fulfilment.shipped", "fulfilment_order", f.ID, o.ID, actor,
				map[string]any{"fulfilment_order_id": f.ID, "shipment_id": sh.ID, "location": f.Location,
					"carrier": sh.Carrier, "service": sh.Service, "tracking_number": sh.TrackingNumber,
					"lines": lines, "status": f.Status, "order_status": order.StatusShipped}),
			s.event("shipment.delivered", "shipment", sh.ID, o.ID, actor,
				map[string]any{"shipment_id": sh.ID, "delivered_at": sh.DeliveredAt, "lines": sh.Lines}),
			s.event("order.delivered", "order", o.ID, o.ID, actor,
				map[string]any{"from": order.StatusOpen, "to": o.Status}),
		}
		if len(short) > 0 {
			events = append(events, s.event("order.flagged", "order", o.ID, o.ID, actor,
				map[string]any{"problems": short}))
		}
		if err := tx.OrderCapture(ctx, store.CaptureParams{Order: o, Created: created, Events: events,
			Actor: actor, At: now}); err != nil {
			return err
		}

		// Units sold beyond what the ledger had: the sale proves they were
		// there. Say so, then add them, so the ship below cannot go negative.
		ref := "order:" + o.ID
		for _, sku := range skus {
			missing := demand[sku] - onHand[sku]
			if missing <= 0 {
				continue
			}
			if err := tx.EventInsert(ctx, s.event("inventory.shortage", "inventory", location+"/"+sku, "", actor,
				map[string]any{"location": location, "sku": sku, "on_hand": onHand[sku], "reserved": reserved[sku],
					"short": missing, "orders": []string{o.ID}, "reason": "counter_sale"})); err != nil {
				return err
			}
			m := &inventory.Movement{SKU: sku, Location: location, DeltaOnHand: missing, Reason: inventory.ReasonAdjust,
				Reference: ref, Actor: actor, At: now}
			bal, err := tx.StockMove(ctx, m)
			if err != nil {
				return err
			}
			if err := tx.EventInsert(ctx, s.event("inventory.adjusted", "inventory", location+"/"+sku, "", actor,
				map[string]any{"location": location, "sku": sku, "delta": missing, "reason": inventory.ReasonAdjust,
					"reference": ref, "on_hand": bal.OnHand, "reserved": bal.Reserved})); err != nil {
				return err
			}
		}
		// The units leave the store: one ship movement per line, as a
		// shipment's are, referencing the shipment.
		after := map[string]*inventory.Balance{}
		for _, l := range lines {
			bal, err := tx.StockMove(ctx, &inventory.Movement{SKU: l.SKU, Location: location, DeltaOnHand: -l.Quantity,
				Reason: inventory.ReasonShip, Reference: "shipment:" + sh.ID, Actor: actor, At: now})
			if err != nil {
				return err
			}
			after[l.SKU] = bal
		}
		if err := tx.FulfilmentOrderInsert(ctx, f); err != nil {
			return err
		}
		if err := tx.ShipmentInsert(ctx, sh); err != nil {
			return err
		}
		// Other orders' reservations the sale uncovered.
		for _, sku := range skus {
			if err := s.checkShortage(ctx, tx, after[sku], actor, now); err != nil {
				return err
			}
		}
		return nil
	})
	return s.captured(ctx, o, err, "fulfilled_at_location", location)
}
