package service

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// CreateOrder captures an order. It is idempotent on channel + external id:
// if the channel's order is already stored it returns that order and
// created=false, and stores nothing. Validation failures, an unknown channel
// or an unknown SKU are KindInvalid errors naming the field.
//
// The caller fills the order's input fields (channel, external id, placed
// at, currency, customer, addresses, lines, shipping lines, note, tags);
// CreateOrder assigns ids, number, totals and status.
func (s *Service) CreateOrder(ctx context.Context, p auth.Principal, o *order.Order) (_ *order.Order, created bool, err error) {
	if err := require(p, auth.PermOrdersCreate); err != nil {
		return nil, false, err
	}
	if p.Role == auth.RoleChannel && o.Channel != p.Channel {
		return nil, false, orderly.Errorf(orderly.KindForbidden, "this key may only create orders for channel %q", p.Channel)
	}
	if o.PlacedAt.IsZero() {
		o.PlacedAt = s.clock.Now()
	}
	o.PlacedAt = o.PlacedAt.UTC().Truncate(time.Microsecond)
	if err := o.Validate(); err != nil {
		return nil, false, err
	}

	// Cheap answer for a retried delivery: the order is already here.
	if existing, err := s.store.OrderGetByExternalID(ctx, o.Channel, o.ExternalID); err == nil {
		return existing, false, nil
	} else if orderly.KindOf(err) != orderly.KindNotFound {
		return nil, false, err
	}

	if _, err := s.store.ChannelGet(ctx, o.Channel); err != nil {
		if orderly.KindOf(err) == orderly.KindNotFound {
			return nil, false, orderly.Invalid("channel", "unknown channel %q", o.Channel)
		}
		return nil, false, err
	}
	if err := s.checkSKUs(ctx, o); err != nil {
		return nil, false, err
	}

	now := s.clock.Now()
	o.Init(order.StatusOpen, now)
	err = s.store.InTx(ctx, func(tx store.Querier) error {
		if err := tx.OrderInsert(ctx, o); err != nil {
			return err
		}
		return tx.EventInsert(ctx, s.event("order.created", "order", o.ID, o.ID, p.Actor(), map[string]any{
			"number": o.Number, "channel": o.Channel, "external_id": o.ExternalID,
			"currency": o.Currency, "total": o.Totals.Total, "lines": len(o.Lines),
		}))
	})
	if errors.Is(err, store.ErrDuplicate) {
		// A concurrent request stored the same channel order first.
		existing, gerr := s.store.OrderGetByExternalID(ctx, o.Channel, o.ExternalID)
		if gerr != nil {
			return nil, false, gerr
		}
		return existing, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	s.log.InfoContext(ctx, "order created", "order_id", o.ID, "number", o.Number, "channel", o.Channel)
	if s.OnOrderCreated != nil {
		s.OnOrderCreated(o.Channel)
	}
	return o, true, nil
}

// checkSKUs refuses lines whose SKU is not in the catalogue, naming each line.
func (s *Service) checkSKUs(ctx context.Context, o *order.Order) error {
	codes := make([]string, len(o.Lines))
	for i, l := range o.Lines {
		codes[i] = l.SKU
	}
	missing, err := s.store.SKUMissing(ctx, codes)
	if err != nil || len(missing) == 0 {
		return err
	}
	unknown := make(map[string]bool, len(missing))
	for _, m := range missing {
		unknown[m] = true
	}
	var pr orderly.Problems
	for i, l := range o.Lines {
		if unknown[l.SKU] {
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

// HoldOrder puts an order on hold with a reason.
func (s *Service) HoldOrder(ctx context.Context, p auth.Principal, ref, reason string) (*order.Order, error) {
	return s.changeOrder(ctx, p, ref, "order.held", func(o *order.Order, now time.Time) (map[string]any, error) {
		return map[string]any{"reason": reason}, o.PutOnHold(reason, now)
	})
}

// ReleaseOrder lifts an order's hold.
func (s *Service) ReleaseOrder(ctx context.Context, p auth.Principal, ref string) (*order.Order, error) {
	return s.changeOrder(ctx, p, ref, "order.released", func(o *order.Order, now time.Time) (map[string]any, error) {
		var reason string
		if o.Hold != nil {
			reason = o.Hold.Reason
		}
		return map[string]any{"hold_reason": reason}, o.Release(now)
	})
}

// CancelOrder cancels a whole order with a reason.
func (s *Service) CancelOrder(ctx context.Context, p auth.Principal, ref, reason string) (*order.Order, error) {
	return s.changeOrder(ctx, p, ref, "order.cancelled", func(o *order.Order, now time.Time) (map[string]any, error) {
		return map[string]any{"reason": reason}, o.Cancel(reason, now)
	})
}

// changeOrder loads an order in a write transaction, applies change, and
// stores the order with an event of type typ carrying the change's data and
// the status before and after.
func (s *Service) changeOrder(ctx context.Context, p auth.Principal, ref, typ string,
	change func(o *order.Order, now time.Time) (map[string]any, error)) (*order.Order, error) {
	if err := require(p, auth.PermOrdersManage); err != nil {
		return nil, err
	}
	var out *order.Order
	err := retryOnVersionConflict(ctx, func() error {
		return s.store.InTx(ctx, func(tx store.Querier) error {
			o, err := s.findOrder(ctx, tx, p, ref)
			if err != nil {
				return err
			}
			from := o.Status
			data, err := change(o, s.clock.Now())
			if err != nil {
				return err
			}
			if err := tx.OrderUpdate(ctx, o); err != nil {
				return err
			}
			data["from"], data["to"] = from, o.Status
			out = o
			return tx.EventInsert(ctx, s.event(typ, "order", o.ID, o.ID, p.Actor(), data))
		})
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, typ, "order_id", out.ID, "number", out.Number, "status", out.Status)
	return out, nil
}
