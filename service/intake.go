package service

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// Channel intake: orders that a sales channel pushes (webhooks) or that
// Orderly pulls from it. Orders from channels are facts: a sold order is
// never refused for stock or for an unknown SKU; what does not fit is
// recorded (backordered lines, a hold with its reason, a flag).

// HoldUnknownSKU is the hold reason of a channel order with a line whose
// SKU is not in the catalogue. That line is backordered, nothing of it is
// reserved; it takes precedence over insufficient_stock.
const HoldUnknownSKU = "unknown_sku"

// CodeDuplicateDelivery is the code of ErrDuplicateDelivery.
const CodeDuplicateDelivery = "duplicate_delivery"

// ErrDuplicateDelivery matches (errors.Is) the error of a webhook delivery
// whose id the channel has already had processed: nothing was written.
var ErrDuplicateDelivery = &orderly.Error{Kind: orderly.KindConflict, Code: CodeDuplicateDelivery}

// DeliveryRetention is how long a processed delivery id is remembered
// (PurgeWebhookDeliveries forgets older ones). Platforms stop retrying a
// delivery long before (Shopify after 48 hours).
const DeliveryRetention = 7 * 24 * time.Hour

// ChannelActor is the actor of the changes a channel causes.
func ChannelActor(code string) string { return "channel:" + code }

// errNoWebhook is the one answer for every webhook URL that does not lead
// to a channel with a verifier: it does not say which part was wrong.
func errNoWebhook() error {
	return orderly.Errorf(orderly.KindNotFound, "no webhook endpoint here")
}

// WebhookConnector returns the connector of the channel with the code for
// verifying and parsing its webhooks, configured with the channel's secret
// (which never leaves the connector). An unknown channel, a channel of
// another kind, a kind without a registered connector or one whose
// connector does not verify webhooks are all the same KindNotFound error.
// The caller is not authenticated yet: the signature that the verifier
// checks is its authentication.
func (s *Service) WebhookConnector(ctx context.Context, kind channel.Kind, code string) (connector.Connector, connector.WebhookVerifier, error) {
	if s.Connectors == nil {
		return nil, nil, errNoWebhook()
	}
	ch, err := s.store.ChannelGet(ctx, code)
	if err != nil {
		if orderly.KindOf(err) == orderly.KindNotFound {
			return nil, nil, errNoWebhook()
		}
		return nil, nil, err
	}
	if ch.Kind != kind {
		return nil, nil, errNoWebhook()
	}
	c, err := s.Connectors.Open(kind, connector.Config{Channel: ch.Code, Secret: ch.Secret})
	if err != nil {
		if orderly.KindOf(err) == orderly.KindNotFound {
			return nil, nil, errNoWebhook()
		}
		return nil, nil, err
	}
	v, ok := c.(connector.WebhookVerifier)
	if !ok {
		return nil, nil, errNoWebhook()
	}
	return c, v, nil
}

// CaptureChannelOrder applies one order the channel with the code reported
// (in, parsed from a verified delivery d): it creates the order, or
// updates the one already stored under the channel's external id. It
// returns the order and whether it was created.
//
//   - New order: captured like CreateOrder (same transaction, reservation
//     and events) but never refused for stock or SKUs. A line whose SKU is
//     unknown is backordered without a reservation and the order goes on
//     hold with reason unknown_sku (insufficient_stock if only stock is
//     short). Inbound pending gives status pending. Inbound cancelled
//     captures the order and cancels it in the same transaction.
//   - Connector problems (totals that do not add up, rounded amounts, SKU
//     fallbacks, …) are kept as they are, in an order.flagged event with the
//     problems and the channel's reported totals; the order is not held for
//     them.
//   - Already stored: a cancellation cancels the order (releasing its
//     stock) if it can still be cancelled; anything else — and a
//     cancellation that can no longer be applied — records an
//     order.channel_updated event and keeps the channel's status, payment
//     status and change time on the order (a pending one the channel now
//     says is open is confirmed). Lines and addresses do not change.
//   - Older than an update already applied (the channel's change time,
//     Inbound.UpdatedAt, before the order's ChannelUpdatedAt): only the
//     order.channel_updated event, marked stale; nothing changes, not
//     even by a cancellation. Platforms deliver out of order.
//
// The delivery id (if the platform sent one) is recorded in the same
// transaction as what it causes: a delivery already processed is
// ErrDuplicateDelivery and nothing is written. Concurrent deliveries of
// one order make one order. Changes are by the actor channel:<code>.
func (s *Service) CaptureChannelOrder(ctx context.Context, channelCode string, d connector.Delivery, in *connector.Inbound) (_ *order.Order, created bool, err error) {
	view, err := s.store.IntakeRead(ctx, store.IntakeQuery{Channel: channelCode, ExternalID: in.Order.ExternalID, SKUs: lineSKUs(&in.Order)})
	if err != nil {
		return nil, false, err
	}
	ch := view.Channel
	if ch == nil {
		return nil, false, orderly.Errorf(orderly.KindNotFound, "channel %q not found", channelCode)
	}
	actor := ChannelActor(ch.Code)
	o := in.Order
	o.Lines = slices.Clone(in.Order.Lines)
	o.Channel = ch.Code
	// What the channel says about the order is kept on it, as said.
	o.ChannelStatus, o.FinancialStatus, o.ReportedTotals = in.ChannelStatus, in.FinancialStatus, in.Reported
	o.ChannelUpdatedAt = channelTime(in)
	if o.PlacedAt.IsZero() {
		o.PlacedAt = s.clock.Now()
	}
	o.PlacedAt = o.PlacedAt.UTC().Truncate(time.Microsecond)
	if err := o.Validate(); err != nil {
		return nil, false, err
	}
	record := func(tx store.Querier) error { return s.recordChannelIntake(ctx, tx, ch.Code, d, in) } // polling.go

	if view.Existing != nil {
		out, err := s.applyChannelUpdate(ctx, view.Existing.ID, actor, d, in, record)
		return out, false, err
	}

	problems := slices.Clone(in.Problems)
	holdReason := HoldInsufficientStock
	unknown := unknownSKUs(&o, view.MissingSKUs)
	if len(unknown) > 0 {
		holdReason = HoldUnknownSKU
		problems = append(problems, unknown...)
	}
	status := order.StatusOpen
	if in.Status == order.StatusPending {
		status = order.StatusPending
	}
	opt := captureOptions{actor: actor, status: status, holdReason: holdReason, before: record}
	if len(problems) > 0 {
		opt.events = func(o *order.Order) []*orderly.Event {
			data := map[string]any{"problems": problems}
			if in.Reported != nil {
				data["reported"] = in.Reported
			}
			return []*orderly.Event{s.event("order.flagged", "order", o.ID, o.ID, actor, data)}
		}
	}
	if in.Status == order.StatusCancelled {
		opt.after = func(tx store.Querier, o *order.Order) error {
			return s.channelCancel(ctx, tx, o, cancelReason(in), actor)
		}
	}
	out, created, err := s.capture(ctx, view, &o, opt)
	if err != nil || created {
		return out, created, err
	}
	// A concurrent delivery of the same order stored it first; this
	// delivery is an update of that order.
	out, err = s.applyChannelUpdate(ctx, out.ID, actor, d, in, record)
	return out, false, err
}

// unknownSKUs returns a problem for every line of o whose SKU is among
// the missing (not in the catalogue).
func unknownSKUs(o *order.Order, missing []string) []string {
	var out []string
	for i, l := range o.Lines {
		if slices.Contains(missing, l.SKU) {
			out = append(out, "lines["+strconv.Itoa(i)+"].sku: unknown SKU "+strconv.Quote(l.SKU)+"; backordered")
		}
	}
	return out
}

// recordDelivery records d as processed for the channel, in tx; a replay
// is ErrDuplicateDelivery. A delivery without an id cannot be deduplicated
// on (the order still is, on its external id).
func (s *Service) recordDelivery(ctx context.Context, tx store.Querier, code string, d connector.Delivery) error {
	if d.ID == "" {
		return nil
	}
	err := tx.WebhookDeliveryInsert(ctx, &store.WebhookDelivery{Channel: code, DeliveryID: d.ID, Topic: d.Topic, ReceivedAt: s.clock.Now()})
	if errors.Is(err, store.ErrDuplicate) {
		return &orderly.Error{Kind: orderly.KindConflict, Code: CodeDuplicateDelivery,
			Message: "webhook delivery " + strconv.Quote(d.ID) + " was already processed"}
	}
	return err
}

// applyChannelUpdate applies a delivery about an order already stored: a
// cancellation if it can be applied, else an order.channel_updated event.
func (s *Service) applyChannelUpdate(ctx context.Context, orderID, actor string, d connector.Delivery, in *connector.Inbound,
	record func(tx store.Querier) error) (*order.Order, error) {
	var out *order.Order
	err := retryOnVersionConflict(ctx, func() error {
		return s.store.InTx(ctx, func(tx store.Querier) error {
			if err := record(tx); err != nil {
				return err
			}
			if err := tx.OrderLock(ctx, orderID); err != nil {
				return err
			}
			o, err := tx.OrderGet(ctx, orderID)
			if err != nil {
				return err
			}
			out = o
			data := map[string]any{"topic": d.Topic, "channel_status": in.ChannelStatus,
				"financial_status": in.FinancialStatus, "status": o.Status}
			if d.ID != "" {
				data["delivery_id"] = d.ID
			}
			at := channelTime(in)
			if at != nil {
				data["channel_updated_at"] = *at
			}
			if at != nil && o.ChannelUpdatedAt != nil && at.Before(*o.ChannelUpdatedAt) {
				// Older than an update already applied: the channel has
				// said something newer since. Recorded, not applied.
				data["stale"] = "not applied: the channel changed the order at " +
					o.ChannelUpdatedAt.UTC().Format(time.RFC3339Nano) + ", after this update"
				return tx.EventInsert(ctx, s.event("order.channel_updated", "order", o.ID, o.ID, actor, data))
			}
			if err := s.confirmPending(ctx, tx, o, in, actor); err != nil { // polling.go
				return err
			}
			// Keep the channel's latest word on its status and payment on
			// the order, with when it said it.
			cs, fs := cmp.Or(in.ChannelStatus, o.ChannelStatus), cmp.Or(in.FinancialStatus, o.FinancialStatus)
			said := cs != o.ChannelStatus || fs != o.FinancialStatus ||
				at != nil && (o.ChannelUpdatedAt == nil || !at.Equal(*o.ChannelUpdatedAt))
			o.ChannelStatus, o.FinancialStatus = cs, fs
			if at != nil {
				o.ChannelUpdatedAt = at
			}
			if in.Status == order.StatusCancelled {
				probe := *o
				probe.Lines = slices.Clone(o.Lines)
				if err := probe.Cancel(cancelReason(in), s.clock.Now()); err == nil {
					return s.channelCancel(ctx, tx, o, cancelReason(in), actor)
				} else if !errors.Is(err, order.ErrInvalidTransition) {
					return err
				}
				data["cancellation"] = "not applied: the order is " + string(o.Status)
			}
			if err := tx.EventInsert(ctx, s.event("order.channel_updated", "order", o.ID, o.ID, actor, data)); err != nil {
				return err
			}
			if !said { // an update that says nothing new writes nothing
				return nil
			}
			o.UpdatedAt = s.clock.Now()
			return tx.OrderUpdate(ctx, o)
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// channelCancel cancels o, in tx, releasing its reservations, with an
// order.cancelled event, as CancelOrder does.
func (s *Service) channelCancel(ctx context.Context, tx store.Querier, o *order.Order, reason, actor string) error {
	from := o.Status
	released, err := s.releaseAll(ctx, tx, o, actor)
	if err != nil {
		return err
	}
	if err := o.Cancel(reason, s.clock.Now()); err != nil {
		return err
	}
	if err := tx.EventInsert(ctx, s.event("order.cancelled", "order", o.ID, o.ID, actor,
		map[string]any{"reason": reason, "released": picksData(released), "from": from, "to": o.Status})); err != nil {
		return err
	}
	return tx.OrderUpdate(ctx, o)
}

// channelTime is when the channel said it last changed the order, in the
// precision the store keeps; nil if it did not say.
func channelTime(in *connector.Inbound) *time.Time {
	if in.UpdatedAt.IsZero() {
		return nil
	}
	t := in.UpdatedAt.UTC().Truncate(time.Microsecond)
	return &t
}

// cancelReason is the channel's cancellation reason, or "channel".
func cancelReason(in *connector.Inbound) string {
	if in.Cancellation != nil && in.Cancellation.Reason != "" {
		return in.Cancellation.Reason
	}
	return "channel"
}

// PurgeWebhookDeliveries forgets the delivery ids received more than
// DeliveryRetention ago and returns how many.
func (s *Service) PurgeWebhookDeliveries(ctx context.Context) (int64, error) {
	return s.store.WebhookDeliveryPurge(ctx, s.clock.Now().Add(-DeliveryRetention))
}
