package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// HoldInsufficientStock is the hold reason of an order some of whose units
// could not be reserved; HoldStockShortage of an order whose reserved stock
// a count found missing.
const (
	HoldInsufficientStock = "insufficient_stock"
	HoldStockShortage     = "stock_shortage"
)

// feedingLocations returns the codes of the active locations whose stock a
// channel sells: the channel's own list, or every active location when the
// list is empty. The order of the list is kept; without one, code order.
func (s *Service) feedingLocations(ctx context.Context, q store.Querier, ch *channel.Channel) ([]string, error) {
	active := map[string]bool{}
	var all []string
	lp := store.ListParams{Limit: store.MaxLimit}
	for {
		page, err := q.LocationList(ctx, lp)
		if err != nil {
			return nil, err
		}
		for _, l := range page {
			if l.Active {
				active[l.Code] = true
				all = append(all, l.Code)
			}
		}
		if len(page) < store.MaxLimit {
			break
		}
		lp.After = page[len(page)-1].Code
	}
	if len(ch.Locations) == 0 {
		return all, nil
	}
	var out []string
	for _, code := range ch.Locations {
		if active[code] {
			out = append(out, code)
		}
	}
	return out, nil
}

// channelAll stands for "no channel": every active location feeds it.
var channelAll channel.Channel

// reservation is what allocate did to an order.
type reservation struct {
	picks       []inventory.Pick
	backordered map[string]int64
}

// allocate reserves stock for every line's backordered-or-unallocated
// quantity (the demand), in tx, at the given locations: it plans
// (planAllocation) and takes the picks with the guarded StockReserve. It
// updates the lines' Allocated and Backordered counters and stores the
// allocations; the order row itself is the caller's to write. With
// strict, a plan that cannot reserve everything is refused before
// anything is written.
func (s *Service) allocate(ctx context.Context, tx store.Querier, o *order.Order, locations []string, strict bool, actor string) (reservation, error) {
	plan, err := s.planAllocation(ctx, tx, o, locations, strict)
	if err != nil || plan == nil {
		return reservation{}, err
	}
	// One call takes every pick with the guarded statement: the balances
	// are locked (or the writer is single), so the plan cannot be stale; a
	// refusal here is a bug or a race we do not understand: fail the
	// whole change.
	if _, err := tx.StockReserve(ctx, o.ID, plan.Picks, actor, s.clock.Now()); err != nil {
		return reservation{}, err
	}
	return applyPlan(o, plan), nil
}

// planAllocation plans the reservation of every line's
// backordered-or-unallocated quantity (the demand) at the given
// locations: it locks the balances in (sku, location) order, in tx, and
// plans with inventory.PlanSimple; the picks come sorted for the guarded
// reservation. It returns nil if there is no demand. With strict, a plan
// that cannot reserve everything is KindConflict with code
// insufficient_stock, naming the short lines. It writes nothing.
func (s *Service) planAllocation(ctx context.Context, tx store.Querier, o *order.Order, locations []string, strict bool) (*inventory.Plan, error) {
	var demands []inventory.Demand
	skuSet := map[string]bool{}
	for _, l := range o.Lines {
		if need := l.Open() - l.Allocated; need > 0 {
			demands = append(demands, inventory.Demand{LineID: l.ID, SKU: l.SKU, Quantity: need})
			skuSet[l.SKU] = true
		}
	}
	if len(demands) == 0 {
		return nil, nil
	}
	plan := inventory.Plan{Backordered: map[string]int64{}}
	if len(locations) > 0 {
		skus := make([]string, 0, len(skuSet))
		for k := range skuSet {
			skus = append(skus, k)
		}
		slices.Sort(skus)
		balances, err := tx.BalancesLock(ctx, skus, locations)
		if err != nil {
			return nil, err
		}
		available := make(map[inventory.Key]int64, len(balances))
		for _, b := range balances {
			available[inventory.Key{SKU: b.SKU, Location: b.Location}] = b.Available()
		}
		plan = inventory.PlanSimple(demands, available, locations)
	} else {
		for _, d := range demands {
			plan.Backordered[d.LineID] += d.Quantity
		}
	}
	if strict && plan.Short() {
		e := &orderly.Error{Kind: orderly.KindConflict, Code: store.CodeInsufficientStock, Message: "not enough stock for the order"}
		for i, l := range o.Lines {
			if q := plan.Backordered[l.ID]; q > 0 {
				e.Fields = append(e.Fields, orderly.FieldError{Field: "lines[" + strconv.Itoa(i) + "].quantity",
					Detail: fmt.Sprintf("only %d of %d units of %q are available", l.Quantity-q, l.Quantity, l.SKU)})
			}
		}
		return nil, e
	}
	inventory.SortPicks(plan.Picks)
	return &plan, nil
}

// applyPlan sets the lines' Allocated and Backordered counters as if
// plan's picks were taken.
func applyPlan(o *order.Order, plan *inventory.Plan) reservation {
	for _, pk := range plan.Picks {
		o.LineByID(pk.LineID).Allocated += pk.Quantity
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		l.Backordered = plan.Backordered[l.ID]
	}
	return reservation{picks: plan.Picks, backordered: plan.Backordered}
}

// releaseAll releases every open allocation of an order, in tx.
func (s *Service) releaseAll(ctx context.Context, tx store.Querier, o *order.Order, actor string) ([]inventory.Pick, error) {
	allocs, err := tx.AllocationListByOrder(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(allocs, func(a, b *inventory.Allocation) int {
		if a.SKU != b.SKU {
			return strings.Compare(a.SKU, b.SKU)
		}
		return strings.Compare(a.Location, b.Location)
	})
	now := s.clock.Now()
	var released []inventory.Pick
	for _, a := range allocs {
		m := &inventory.Movement{SKU: a.SKU, Location: a.Location, DeltaReserved: -a.Quantity,
			Reason: inventory.ReasonRelease, Reference: "order:" + o.ID, Actor: actor, At: now}
		if _, err := tx.StockMove(ctx, m); err != nil {
			return nil, err
		}
		if err := tx.AllocationSetQuantity(ctx, a.ID, 0); err != nil {
			return nil, err
		}
		if l := o.LineByID(a.LineID); l != nil {
			l.Allocated = max(0, l.Allocated-a.Quantity)
		}
		released = append(released, inventory.Pick{LineID: a.LineID, SKU: a.SKU, Location: a.Location, Quantity: a.Quantity})
	}
	return released, nil
}

// picksData renders picks for an event payload.
func picksData(picks []inventory.Pick) []map[string]any {
	out := make([]map[string]any, len(picks))
	for i, p := range picks {
		out[i] = map[string]any{"line_id": p.LineID, "sku": p.SKU, "location": p.Location, "quantity": p.Quantity}
	}
	return out
}

// backorderData renders backordered quantities per line for an event.
func backorderData(o *order.Order) []map[string]any {
	var out []map[string]any
	for _, l := range o.Lines {
		if l.Backordered > 0 {
			out = append(out, map[string]any{"line_id": l.ID, "sku": l.SKU, "quantity": l.Backordered})
		}
	}
	return out
}

// recordAllocation writes the events of an allocate call and, when units
// are short, puts the order on hold (if it may be held) with reason
// insufficient_stock.
func (s *Service) recordAllocation(ctx context.Context, tx store.Querier, o *order.Order, r reservation, actor string, now time.Time) error {
	if len(r.picks) > 0 {
		if err := tx.EventInsert(ctx, s.event("order.allocated", "order", o.ID, o.ID, actor,
			map[string]any{"allocations": picksData(r.picks)})); err != nil {
			return err
		}
	}
	short := backorderData(o)
	if len(short) == 0 {
		return nil
	}
	if err := tx.EventInsert(ctx, s.event("order.backordered", "order", o.ID, o.ID, actor,
		map[string]any{"lines": short})); err != nil {
		return err
	}
	if o.Status == order.StatusOnHold {
		return nil
	}
	from := o.Status
	if err := o.PutOnHold(HoldInsufficientStock, now); err != nil {
		if errors.Is(err, order.ErrInvalidTransition) {
			return nil
		}
		return err
	}
	return tx.EventInsert(ctx, s.event("order.held", "order", o.ID, o.ID, actor,
		map[string]any{"reason": HoldInsufficientStock, "from": from, "to": o.Status}))
}
