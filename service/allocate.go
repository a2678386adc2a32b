package service

import (
	"context"
	"encoding/json"
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
	"github.com/orderly-oms/orderly/routing"
	"github.com/orderly-oms/orderly/store"
)

// HoldInsufficientStock is the hold reason of an order some of whose units
// could not be reserved; HoldStockShortage of an order whose reserved stock
// a count found missing.
const (
	HoldInsufficientStock = "insufficient_stock"
	HoldStockShortage     = "stock_shortage"
)

// feedingLocationList returns the locations that feed ch (feedingFrom),
// read whole: routing needs them.
func (s *Service) feedingLocationList(ctx context.Context, q store.Querier, ch *channel.Channel) ([]*inventory.Location, error) {
	var all []*inventory.Location
	lp := store.ListParams{Limit: store.MaxLimit}
	for {
		page, err := q.LocationList(ctx, lp)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < store.MaxLimit {
			break
		}
		lp.After = page[len(page)-1].Code
	}
	return feedingFrom(all, ch), nil
}

// feedingFrom picks the locations that feed ch out of all (in code
// order): the active ones among the channel's list, in the list's order,
// or every active one when the list is empty.
func feedingFrom(all []*inventory.Location, ch *channel.Channel) []*inventory.Location {
	active := make(map[string]*inventory.Location, len(all))
	var out []*inventory.Location
	for _, l := range all {
		if l.Active {
			active[l.Code] = l
			out = append(out, l)
		}
	}
	if len(ch.Locations) == 0 {
		return out
	}
	out = out[:0:0]
	for _, code := range ch.Locations {
		if l := active[code]; l != nil {
			out = append(out, l)
		}
	}
	return out
}

// feedingSet is feedingFrom as a set of codes, for readers that need
// no more: active are the codes of the active locations.
func feedingSet(active []string, ch *channel.Channel) map[string]bool {
	set := make(map[string]bool, len(active))
	for _, code := range active {
		set[code] = true
	}
	if len(ch.Locations) == 0 {
		return set
	}
	feeds := make(map[string]bool, len(ch.Locations))
	for _, code := range ch.Locations {
		if set[code] {
			feeds[code] = true
		}
	}
	return feeds
}

// channelAll stands for "no channel": every active location feeds it.
var channelAll channel.Channel

// reservation is what allocate did to an order.
type reservation struct {
	picks       []inventory.Pick
	backordered map[string]int64
}

// allocate routes and reserves stock for every line's
// backordered-or-unallocated quantity (the demand), in tx, at the given
// (feeding) locations: it plans (planAllocation), stores the routing
// decision with an order.routed event, and takes the picks with the
// guarded StockReserve. It updates the lines' Allocated and Backordered
// counters and stores the allocations; the order row itself is the
// caller's to write. A rule set that holds for review acts here as
// backorder-and-hold: allocate runs when a person releases the order.
func (s *Service) allocate(ctx context.Context, tx store.Querier, o *order.Order, locations []*inventory.Location, actor string) (reservation, error) {
	rt, err := s.planAllocation(ctx, tx, o, locations, false, false)
	if err != nil || rt == nil {
		return reservation{}, err
	}
	if err := s.storeDecision(ctx, tx, o, rt); err != nil {
		return reservation{}, err
	}
	if err := tx.EventInsert(ctx, s.routedEvent(o, rt, actor)); err != nil {
		return reservation{}, err
	}
	// One call takes every pick with the guarded statement: the balances
	// are locked (or the writer is single), so the plan cannot be stale; a
	// refusal here is a bug or a race we do not understand: fail the
	// whole change.
	if _, err := tx.StockReserve(ctx, o.ID, rt.plan.Picks, actor, s.clock.Now()); err != nil {
		return reservation{}, err
	}
	return applyPlan(o, &rt.plan), nil
}

// HoldRoutingReview is the hold reason of an order the rule set sent to a
// person (when_unfillable: hold_for_review): nothing is reserved, and the
// proposed plan is in the routing explanation.
const HoldRoutingReview = "routing_review"

// routed is what routing decided for an order.
type routed struct {
	// plan is what to reserve: the routing picks, sorted for the guarded
	// reservation, and the backorders; empty under review.
	plan   inventory.Plan
	result routing.Result
	why    routing.Explanation
	// input is what routing was given, kept with the decision so that a
	// simulation can replay the order against the stock it saw.
	input routing.Case
	// review says the rule set holds the order for a person: reserve
	// nothing, hold with HoldRoutingReview.
	review bool
}

// planAllocation routes every line's backordered-or-unallocated quantity
// (the demand) over the given feeding locations under the active rule set
// (routing.DefaultRuleSet, version 0, when none is): it locks the
// balances in (sku, location) order, in tx, builds a routing.Candidate per
// location and calls routing.Plan. It returns nil if there is no demand.
// With strict, a plan that cannot reserve everything is KindConflict with
// code insufficient_stock, naming the short lines. With review, a
// hold_for_review result reserves nothing and sets routed.review; without
// it, the proposed picks are reserved and the rest backordered. It writes
// nothing.
func (s *Service) planAllocation(ctx context.Context, tx store.Querier, o *order.Order, locations []*inventory.Location, strict, review bool) (*routed, error) {
	req := routing.RequestFromOrder(o, routing.ModeShip, "")
	if len(req.Lines) == 0 {
		return nil, nil
	}
	rs, err := s.activeRuleSet(ctx, tx)
	if err != nil {
		return nil, err
	}
	cands, err := s.candidates(ctx, tx, req, locations)
	if err != nil {
		return nil, err
	}
	return s.route(o, req, cands, rs, strict, review)
}

// route plans req (of o) over the candidates under the rule set; see
// planAllocation. It reads and writes nothing.
func (s *Service) route(o *order.Order, req routing.Request, cands []routing.Candidate, rs routing.RuleSet, strict, review bool) (*routed, error) {
	res, why := routing.Plan(req, cands, rs)
	plan := res.InventoryPlan()
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
	rt := &routed{result: res, why: why, input: routing.Case{Request: req, Candidates: cands}}
	if review && res.Action == routing.ActionHoldForReview {
		rt.review = true
		plan = inventory.Plan{Backordered: map[string]int64{}}
	}
	inventory.SortPicks(plan.Picks)
	rt.plan = plan
	return rt, nil
}

// candidates builds routing's view of the feeding locations
// (buildCandidates) from their balances of the request's SKUs, locked in
// (sku, location) order, and the orders each took today when it has a
// daily capacity.
func (s *Service) candidates(ctx context.Context, tx store.Querier, req routing.Request, locations []*inventory.Location) ([]routing.Candidate, error) {
	if len(locations) == 0 {
		return nil, nil
	}
	skuSet := map[string]bool{}
	for _, l := range req.Lines {
		skuSet[l.SKU] = true
	}
	skus := make([]string, 0, len(skuSet))
	for k := range skuSet {
		skus = append(skus, k)
	}
	slices.Sort(skus)
	codes := make([]string, len(locations))
	for i, l := range locations {
		codes[i] = l.Code
	}
	balances, err := tx.BalancesLock(ctx, skus, codes)
	if err != nil {
		return nil, err
	}
	used, err := s.usedToday(ctx, tx, locations)
	if err != nil {
		return nil, err
	}
	return buildCandidates(req, locations, balances, used), nil
}

// usedToday returns the orders each location took today (UTC), read only
// if one of the locations has a daily capacity (nil otherwise).
func (s *Service) usedToday(ctx context.Context, q store.Querier, locations []*inventory.Location) (map[string]int, error) {
	if !slices.ContainsFunc(locations, func(l *inventory.Location) bool { return l.DailyCapacity > 0 }) {
		return nil, nil
	}
	return q.LocationOrdersOn(ctx, s.clock.Now())
}

// buildCandidates is routing's view of the locations: their routing
// attributes (defaults filled in), the orders each took today, and what is
// available of the request's SKUs there (balances of other locations are
// skipped).
func buildCandidates(req routing.Request, locations []*inventory.Location, balances []*inventory.Balance, used map[string]int) []routing.Candidate {
	if len(locations) == 0 {
		return nil
	}
	nSKUs := len(req.Lines)
	index := make(map[string]int, len(locations))
	cands := make([]routing.Candidate, len(locations))
	for i, loc := range locations {
		l := *loc
		l.ApplyDefaults()
		modes := make([]routing.Mode, len(l.Modes))
		for j, m := range l.Modes {
			modes[j] = routing.Mode(m)
		}
		lat, lon := l.Lat, l.Lon
		if lat == nil || lon == nil {
			lat, lon = l.Address.Lat, l.Address.Lon
		}
		cands[i] = routing.Candidate{Location: l.Code, Kind: l.Kind, Active: l.Active, Country: l.Address.Country,
			Lat: lat, Lon: lon, Priority: l.Priority, ShipsTo: l.ShipsTo, Modes: modes,
			DailyCapacity: l.DailyCapacity, UsedToday: used[l.Code], ChannelAllowed: true,
			CostPerShipment: l.CostPerShipment, Available: make(map[string]int64, nSKUs)}
		index[l.Code] = i
	}
	for _, b := range balances {
		if i, ok := index[b.Location]; ok {
			cands[i].Available[b.SKU] = b.Available()
		}
	}
	return cands
}

// activeRuleSet returns the active routing rule set, or
// routing.DefaultRuleSet as version 0 when none is active.
func (s *Service) activeRuleSet(ctx context.Context, q store.Querier) (routing.RuleSet, error) {
	rs, err := q.RuleSetActive(ctx)
	if orderly.KindOf(err) == orderly.KindNotFound {
		return ruleSetOrDefault(nil), nil
	}
	if err != nil {
		return routing.RuleSet{}, err
	}
	return *rs, nil
}

// ruleSetOrDefault is rs, or routing.DefaultRuleSet as version 0 when rs
// is nil (no rule set is active).
func ruleSetOrDefault(rs *routing.RuleSet) routing.RuleSet {
	if rs == nil {
		d := routing.DefaultRuleSet()
		d.Version = 0
		return d
	}
	return *rs
}

// storeDecision stores the explanation of rt as the order's newest
// routing decision.
func (s *Service) storeDecision(ctx context.Context, tx store.Querier, o *order.Order, rt *routed) error {
	d, err := s.decision(o, rt)
	if err != nil {
		return err
	}
	return tx.RoutingDecisionInsert(ctx, d)
}

// decision is the routing decision of rt for o, to store.
func (s *Service) decision(o *order.Order, rt *routed) (*store.RoutingDecision, error) {
	b, err := json.Marshal(rt.why)
	if err != nil {
		return nil, err
	}
	in, err := json.Marshal(rt.input)
	if err != nil {
		return nil, err
	}
	return &store.RoutingDecision{OrderID: o.ID, RuleSetVersion: rt.why.RuleSetVersion,
		Explanation: b, Input: in, CreatedAt: s.clock.Now()}, nil
}

// routedEvent is the order.routed event of rt: the rule-set version, the
// chosen locations, the action and the summary.
func (s *Service) routedEvent(o *order.Order, rt *routed, actor string) *orderly.Event {
	return s.event("order.routed", "order", o.ID, o.ID, actor, map[string]any{
		"rule_set_version": rt.why.RuleSetVersion, "locations": rt.result.Locations, "splits": rt.result.Splits,
		"action": rt.result.Action, "summary": rt.why.Summary,
	})
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

// releaseAll releases every open allocation of an order, in tx, and
// withdraws its open fulfilment orders (the order is being cancelled).
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
	return released, s.cancelFulfilment(ctx, tx, o, actor)
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
