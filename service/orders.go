package service

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/routing"
	"github.com/orderly-oms/orderly/store"
)

// CreateOrder captures an order and reserves its stock, in one
// transaction. It is idempotent on channel + external id: if the channel's
// order is already stored it returns that order and created=false, and
// stores nothing. Validation failures, an unknown channel or an unknown SKU
// are KindInvalid errors naming the field.
//
// Stock is reserved where routing (the active rule set) places it among
// the channel's feeding locations; the explanation is stored as the order's
// routing decision, with an order.routed event. A rule set that holds for
// review reserves nothing and holds the order with reason routing_review.
// Units that cannot be reserved are backordered and the order goes on hold
// with reason insufficient_stock: a channel order is a sale that already
// happened. With strict (API intake only), an
// order that cannot be reserved in full is refused instead — KindConflict
// with code insufficient_stock — and nothing is written.
//
// The caller fills the order's input fields (channel, external id, placed
// at, currency, customer, addresses, lines, shipping lines, note, tags);
// CreateOrder assigns ids, number, totals, counters and status.
func (s *Service) CreateOrder(ctx context.Context, p auth.Principal, o *order.Order, strict bool) (_ *order.Order, created bool, err error) {
	view, err := s.beginIntake(ctx, p, o)
	if err != nil || view.Existing != nil {
		return orderOf(view), false, err
	}
	if err := checkSKUs(o, view.MissingSKUs); err != nil {
		return nil, false, err
	}
	return s.capture(ctx, view, o, captureOptions{actor: p.Actor(), strict: strict, status: order.StatusOpen})
}

// beginIntake is what every API intake does before its transaction: the
// caller's permission and channel scope, the placed-at default, validation,
// and the reads that decide whether there is anything to capture and how
// (store.IntakeRead: one round trip). The view's Existing is the already
// stored order if the channel's order is there (a retried delivery: the
// cheap answer); otherwise its Channel is the order's channel, never nil.
func (s *Service) beginIntake(ctx context.Context, p auth.Principal, o *order.Order) (*store.IntakeView, error) {
	if err := require(p, auth.PermOrdersCreate); err != nil {
		return nil, err
	}
	if p.Role == auth.RoleChannel && o.Channel != p.Channel {
		return nil, orderly.Errorf(orderly.KindForbidden, "this key may only create orders for channel %q", p.Channel)
	}
	if o.PlacedAt.IsZero() {
		o.PlacedAt = s.clock.Now()
	}
	o.PlacedAt = o.PlacedAt.UTC().Truncate(time.Microsecond)
	if err := o.Validate(); err != nil {
		return nil, err
	}
	view, err := s.store.IntakeRead(ctx, store.IntakeQuery{Channel: o.Channel, ExternalID: o.ExternalID, SKUs: lineSKUs(o)})
	if err != nil {
		return nil, err
	}
	if view.Existing == nil && view.Channel == nil {
		return nil, orderly.Invalid("channel", "unknown channel %q", o.Channel)
	}
	return view, nil
}

// orderOf is the view's existing order; nil without a view.
func orderOf(v *store.IntakeView) *order.Order {
	if v == nil {
		return nil
	}
	return v.Existing
}

// lineSKUs returns the SKU of every line of o, in line order.
func lineSKUs(o *order.Order) []string {
	codes := make([]string, len(o.Lines))
	for i, l := range o.Lines {
		codes[i] = l.SKU
	}
	return codes
}

// captureOptions says how capture stores a new order. The zero value of
// each field is CreateOrder's behaviour.
type captureOptions struct {
	actor  string
	strict bool
	// status is the order's status before any hold: open, or pending.
	status order.Status
	// holdReason is the reason of the hold when units are short;
	// "" means insufficient_stock.
	holdReason string
	// before runs first in the transaction (channel intake records the
	// webhook delivery there); its error ends the capture.
	before func(tx store.Querier) error
	// events returns events to store after the capture's own.
	events func(o *order.Order) []*orderly.Event
	// after runs in the transaction once the order is stored (channel
	// intake cancels an order that arrives cancelled).
	after func(tx store.Querier, o *order.Order) error
}

// capture stores a new, validated order of the view's channel with its
// stock reservation and events, in one transaction: CreateOrder's and
// channel intake's shared path. The view (store.IntakeRead, read before)
// gives the channel, the locations, the active rule set and the balances
// to route on. If the channel's order is already stored (a concurrent
// capture won) it returns that order and created=false.
func (s *Service) capture(ctx context.Context, view *store.IntakeView, o *order.Order, opt captureOptions) (_ *order.Order, created bool, err error) {
	ch := view.Channel
	locations := feedingFrom(view.Locations, ch)

	// The policy in force now governs the order for good: a copy, taken
	// from the channel row capture has read anyway.
	policy := ch.Policy
	policy.Refunds = policy.Refunder() // the copy always names who refunds
	o.Policy = &policy
	now := s.clock.Now()
	o.Init(opt.status, now)
	input := *o
	input.Lines = slices.Clone(o.Lines)
	// Route on the stock as it is, before the transaction: the writer
	// (SQLite's one, PostgreSQL's row locks) is then held only to take the
	// picks, and their guarded reservation re-checks every unit. A plan
	// that is not "reserve everything", or whose reservation is refused
	// because the stock moved meanwhile, is made again inside the
	// transaction on locked balances, as always (decision 0013).
	pre, err := s.prePlan(ctx, o, locations, view)
	if err != nil {
		return nil, false, err
	}
	// With a plan, everything the transaction stores is built now, out of
	// the writer: the counters, the events and their JSON, the routing
	// decision, the fulfilment orders, and the store's encoding of them.
	var prepared *store.CaptureParams
	var preparedOrder order.Order
	if pre != nil {
		preparedOrder = input
		preparedOrder.Lines = slices.Clone(input.Lines)
		p, err := s.captureParams(&preparedOrder, pre, opt, now)
		if err != nil {
			return nil, false, err
		}
		if err := s.store.PrepareCapture(&p); err != nil {
			return nil, false, err
		}
		prepared = &p
	}
	capture := func(tx store.Querier) error {
		// InTx may run this more than once: start from the input each time.
		*o = input
		o.Lines = slices.Clone(input.Lines)
		if opt.before != nil {
			if err := opt.before(tx); err != nil {
				return err
			}
		}
		if prepared != nil {
			*o = preparedOrder
			o.Lines = slices.Clone(preparedOrder.Lines)
			p := *prepared
			p.Order = o
			err := tx.OrderCapture(ctx, p)
			if errors.Is(err, store.ErrInsufficientStock) {
				// The stock moved since it was read. Not planned again
				// in this transaction: it may hold some of the
				// balances' locks already, and taking the others now
				// would break the (sku, location) order that keeps
				// transactions from deadlocking.
				return errReplan
			}
			if err != nil {
				return err
			}
		} else {
			// Plan first (locking the balances): a strict refusal must
			// leave nothing behind, and the counters and hold belong in
			// the inserted row.
			rt, err := s.planAllocation(ctx, tx, o, locations, opt.strict, true)
			if err != nil {
				return err
			}
			p, err := s.captureParams(o, rt, opt, now)
			if err != nil {
				return err
			}
			if err := tx.OrderCapture(ctx, p); err != nil {
				return err
			}
		}
		if opt.after != nil {
			return opt.after(tx, o)
		}
		return nil
	}
	ctx = withConnectors(ctx, view.Connectors)
	err = s.store.InTx(ctx, capture)
	if errors.Is(err, errReplan) {
		prepared = nil
		err = s.store.InTx(ctx, capture)
	}
	return s.captured(ctx, o, err)
}

// captured is the result of a capture whose transaction ended with err:
// the order, created; or, if a concurrent request stored the same
// channel order first (ErrDuplicate), that order, not created. Extra log
// attributes describe the capture.
func (s *Service) captured(ctx context.Context, o *order.Order, err error, attrs ...any) (*order.Order, bool, error) {
	if errors.Is(err, store.ErrDuplicate) {
		existing, gerr := s.store.OrderGetByExternalID(ctx, o.Channel, o.ExternalID)
		if gerr != nil {
			return nil, false, gerr
		}
		return existing, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	s.log.InfoContext(ctx, "order created", append([]any{"order_id", o.ID, "number", o.Number, "channel", o.Channel, "status", o.Status}, attrs...)...)
	if s.OnOrderCreated != nil {
		s.OnOrderCreated(o.Channel)
	}
	return o, true, nil
}

// errReplan ends a capture transaction whose plan, made before it, could
// not be reserved: capture runs it again, planning inside.
var errReplan = errors.New("the stock moved since the plan was made")

// prePlan routes o, not yet stored, on the view's stock — read before,
// locking nothing —, under the view's rule set; it returns the plan only if
// it reserves every unit (no backorder, no hold for review), and nil
// otherwise: capture then plans inside its transaction.
func (s *Service) prePlan(ctx context.Context, o *order.Order, locations []*inventory.Location, view *store.IntakeView) (*routed, error) {
	req := routing.RequestFromOrder(o, routing.ModeShip, "")
	if len(req.Lines) == 0 || len(locations) == 0 {
		return nil, nil
	}
	rs := ruleSetOrDefault(view.RuleSet)
	used, err := s.usedToday(ctx, s.store, locations)
	if err != nil {
		return nil, err
	}
	cands := buildCandidates(req, locations, view.Balances, used)
	rt, err := s.route(o, req, cands, rs, false, true)
	if err != nil || rt == nil || rt.review || rt.plan.Short() {
		return nil, err
	}
	return rt, nil
}

// captureParams is what OrderCapture stores for o with the picks of rt
// (nil: no demand): it sets the counters, the hold when units are short or
// a person must review, and returns every event of the capture, the
// routing decision and, for an order released to fulfilment, its
// fulfilment orders. It reads and writes nothing. OrderCapture then takes
// the picks, stores the order and the rest, all or nothing: a refused
// reservation (ErrInsufficientStock) leaves nothing written.
func (s *Service) captureParams(o *order.Order, rt *routed, opt captureOptions, now time.Time) (store.CaptureParams, error) {
	holdReason := opt.holdReason
	if holdReason == "" {
		holdReason = HoldInsufficientStock
	}
	var res reservation
	if rt != nil {
		res = applyPlan(o, &rt.plan)
	}
	short := len(backorderData(o)) > 0
	review := rt != nil && rt.review
	if review {
		holdReason = HoldRoutingReview
	}
	if short || review {
		if err := o.PutOnHold(holdReason, now); err != nil {
			return store.CaptureParams{}, err
		}
	}
	// Every event of the capture in one statement, in timeline order;
	// the store adds the number to order.created.
	created := s.event("order.created", "order", o.ID, o.ID, opt.actor, map[string]any{
		"channel": o.Channel, "external_id": o.ExternalID,
		"currency": o.Currency, "total": o.Totals.Total, "lines": len(o.Lines),
	})
	var events []*orderly.Event
	if rt != nil {
		events = append(events, s.routedEvent(o, rt, opt.actor))
	}
	if len(res.picks) > 0 {
		events = append(events, s.event("order.allocated", "order", o.ID, o.ID, opt.actor,
			map[string]any{"allocations": picksData(res.picks)}))
	}
	if short {
		events = append(events,
			s.event("order.backordered", "order", o.ID, o.ID, opt.actor, map[string]any{"lines": backorderData(o)}))
	}
	if short || review {
		events = append(events, s.event("order.held", "order", o.ID, o.ID, opt.actor,
			map[string]any{"reason": holdReason, "from": opt.status, "to": o.Status}))
	}
	if opt.events != nil {
		events = append(events, opt.events(o)...)
	}
	p := store.CaptureParams{Order: o, Picks: res.picks, Created: created, Events: events, Actor: opt.actor, At: s.clock.Now()}
	if rt != nil {
		d, err := s.decision(o, rt)
		if err != nil {
			return p, err
		}
		p.Decision = d
	}
	// An open order goes to fulfilment now: one requested fulfilment
	// order per location of its picks. A held or pending one waits.
	if releasable(o.Status) {
		fos, fevents, err := s.fulfilmentOf(o, res.picks, opt.actor)
		if err != nil {
			return p, err
		}
		p.Fulfilment, p.Events = fos, append(p.Events, fevents...)
	}
	return p, nil
}

// checkSKUs refuses lines whose SKU is among the missing (not in the
// catalogue), naming each line.
func checkSKUs(o *order.Order, missing []string) error {
	if len(missing) == 0 {
		return nil
	}
	var pr orderly.Problems
	for i, l := range o.Lines {
		if slices.Contains(missing, l.SKU) {
			pr.Add("lines["+strconv.Itoa(i)+"].sku", "unknown SKU %q", l.SKU)
		}
	}
	return pr.Err()
}

// GetOrder returns an order by internal id or by order number. An order the
// principal may not see is KindNotFound, as if it did not exist.
func (s *Service) GetOrder(ctx context.Context, p auth.Principal, ref string) (*order.Order, error) {
	if err := require(p, auth.PermOrdersRead); err != nil {
		return nil, err
	}
	return s.findOrder(ctx, s.store, p, ref)
}

func (s *Service) findOrder(ctx context.Context, q store.Querier, p auth.Principal, ref string) (*order.Order, error) {
	var (
		o   *order.Order
		err error
	)
	if n, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
		o, err = q.OrderGetByNumber(ctx, n)
	} else {
		o, err = q.OrderGet(ctx, ref)
	}
	if err != nil {
		if orderly.KindOf(err) == orderly.KindNotFound {
			return nil, orderly.Errorf(orderly.KindNotFound, "order %q not found", ref)
		}
		return nil, err
	}
	if !p.SeesChannel(o.Channel) {
		return nil, orderly.Errorf(orderly.KindNotFound, "order %q not found", ref)
	}
	return o, nil
}

// lockOrder finds an order, locks it for the rest of tx and reads it again:
// after the lock no other transaction can change the order or release its
// allocations under us (two concurrent cancels would otherwise both release
// the same reservations).
func (s *Service) lockOrder(ctx context.Context, tx store.Querier, p auth.Principal, ref string) (*order.Order, error) {
	o, err := s.findOrder(ctx, tx, p, ref)
	if err != nil {
		return nil, err
	}
	if err := tx.OrderLock(ctx, o.ID); err != nil {
		return nil, err
	}
	return tx.OrderGet(ctx, o.ID)
}

// Timeline returns the events of an order, oldest first. The caller has
// already been allowed to see the order.
func (s *Service) Timeline(ctx context.Context, p auth.Principal, orderID string) ([]*orderly.Event, error) {
	if err := require(p, auth.PermOrdersRead); err != nil {
		return nil, err
	}
	return s.store.EventList(ctx, store.EventListParams{OrderID: orderID, Limit: store.MaxLimit})
}

// ListOrders returns a page of orders, newest first, and the BeforeNumber
// for the next page (0 when this is the last). A channel principal sees
// only its channel.
func (s *Service) ListOrders(ctx context.Context, p auth.Principal, params store.OrderListParams) ([]*order.Order, int64, error) {
	if err := require(p, auth.PermOrdersRead); err != nil {
		return nil, 0, err
	}
	if p.Role == auth.RoleChannel {
		if params.Channel != "" && params.Channel != p.Channel {
			return []*order.Order{}, 0, nil
		}
		params.Channel = p.Channel
	}
	if params.Status != "" && !params.Status.Valid() {
		return nil, 0, orderly.Invalid("status", "unknown status %q", params.Status)
	}
	limit := store.Limit(params.Limit)
	params.Limit = limit + 1
	items, err := s.store.OrderList(ctx, params)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(items) > limit {
		items = items[:limit]
		next = items[limit-1].Number
	}
	return items, next, nil
}

// HoldOrder puts an order on hold with a reason. Its reservations stay.
func (s *Service) HoldOrder(ctx context.Context, p auth.Principal, ref, reason string) (*order.Order, error) {
	return s.changeOrder(ctx, p, ref, "order.held", func(_ store.Querier, o *order.Order, now time.Time) (map[string]any, func() error, error) {
		return map[string]any{"reason": reason}, nil, o.PutOnHold(reason, now)
	})
}

// ReleaseOrder lifts an order's hold and tries again to reserve what is
// backordered. If units are still short the order goes straight back on
// hold with reason insufficient_stock, and the timeline says so.
func (s *Service) ReleaseOrder(ctx context.Context, p auth.Principal, ref string) (*order.Order, error) {
	return s.changeOrder(ctx, p, ref, "order.released", func(tx store.Querier, o *order.Order, now time.Time) (map[string]any, func() error, error) {
		var reason string
		if o.Hold != nil {
			reason = o.Hold.Reason
		}
		if err := o.Release(now); err != nil {
			return nil, nil, err
		}
		after := func() error {
			ch, err := tx.ChannelGet(ctx, o.Channel)
			if err != nil {
				return err
			}
			locations, err := s.feedingLocationList(ctx, tx, ch)
			if err != nil {
				return err
			}
			res, err := s.allocate(ctx, tx, o, locations, p.Actor())
			if err != nil {
				return err
			}
			if err := s.recordAllocation(ctx, tx, o, res, p.Actor(), now); err != nil {
				return err
			}
			// What is reserved and not yet with a location goes to
			// fulfilment, unless the order went straight back on hold.
			return s.requestFulfilment(ctx, tx, o, p.Actor())
		}
		return map[string]any{"hold_reason": reason}, after, nil
	})
}

// CancelOrder cancels a whole order with a reason, releases its
// reservations and withdraws its fulfilment orders.
func (s *Service) CancelOrder(ctx context.Context, p auth.Principal, ref, reason string) (*order.Order, error) {
	return s.changeOrder(ctx, p, ref, "order.cancelled", func(tx store.Querier, o *order.Order, now time.Time) (map[string]any, func() error, error) {
		// Validate the move before touching stock.
		probe := *o
		probe.Lines = slices.Clone(o.Lines)
		if err := probe.Cancel(reason, now); err != nil {
			return nil, nil, err
		}
		released, err := s.releaseAll(ctx, tx, o, p.Actor())
		if err != nil {
			return nil, nil, err
		}
		if err := o.Cancel(reason, now); err != nil {
			return nil, nil, err
		}
		return map[string]any{"reason": reason, "released": picksData(released)}, nil, nil
	})
}

// changeOrder loads an order in a write transaction, applies change, and
// stores the order with an event of type typ carrying the change's data and
// the status before and after. If change returns an after function, it runs
// after that event, in the same transaction, for consequences that record
// events of their own (a release that reserves stock again).
func (s *Service) changeOrder(ctx context.Context, p auth.Principal, ref, typ string,
	change func(tx store.Querier, o *order.Order, now time.Time) (map[string]any, func() error, error)) (*order.Order, error) {
	if err := require(p, auth.PermOrdersManage); err != nil {
		return nil, err
	}
	var out *order.Order
	err := retryOnVersionConflict(ctx, func() error {
		return s.store.InTx(ctx, func(tx store.Querier) error {
			o, err := s.lockOrder(ctx, tx, p, ref)
			if err != nil {
				return err
			}
			from := o.Status
			data, after, err := change(tx, o, s.clock.Now())
			if err != nil {
				return err
			}
			data["from"], data["to"] = from, o.Status
			if err := tx.EventInsert(ctx, s.event(typ, "order", o.ID, o.ID, p.Actor(), data)); err != nil {
				return err
			}
			if after != nil {
				if err := after(); err != nil {
					return err
				}
			}
			out = o
			return tx.OrderUpdate(ctx, o)
		})
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, typ, "order_id", out.ID, "number", out.Number, "status", out.Status)
	return out, nil
}
