package outbound

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/store"
)

// DispatcherCursor names the dispatcher's cursor in outbox_cursors.
const DispatcherCursor = "dispatcher"

// Dispatcher turns committed events into work: for each new event, a
// delivery (and its job) for every active subscription that takes it, and
// a NATS publish job when NATS is on. One pass is one transaction that
// locks the cursor, reads the events after it, stores the work and moves
// the cursor; so on several nodes each event is dispatched exactly once (a
// node that finds the cursor locked skips its turn), and a crash loses
// nothing.
type Dispatcher struct {
	Store store.Store
	Clock orderly.Clock
	Log   *slog.Logger
	// NATS says whether to enqueue a publish job per event.
	NATS bool
	// Batch bounds the events of one pass (default 200).
	Batch int
	// Poll is how often Run looks for new events (default 1s).
	Poll time.Duration
}

// Run dispatches until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(cmpOr(d.Poll, time.Second))
	defer t.Stop()
	for {
		n, err := d.DispatchOnce(ctx)
		if err != nil && ctx.Err() == nil && d.Log != nil {
			d.Log.Warn("dispatcher: pass failed", "err", err)
		}
		if n > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DispatchOnce runs one pass and returns how many events it dispatched.
func (d *Dispatcher) DispatchOnce(ctx context.Context) (int, error) {
	batch := d.Batch
	if batch <= 0 {
		batch = 200
	}
	n := 0
	err := d.Store.InTx(ctx, func(tx store.Querier) error {
		n = 0
		cur, ok, err := tx.OutboxCursorLock(ctx, DispatcherCursor)
		if err != nil || !ok {
			return err
		}
		events, err := tx.OutboxEvents(ctx, cur, batch)
		if err != nil || len(events) == 0 {
			return err
		}
		subs, err := activeSubscriptions(ctx, tx)
		if err != nil {
			return err
		}
		now := d.Clock.Now()
		for _, e := range events {
			var payload []byte
			for _, sub := range subs {
				if !Matches(sub.Events, e.Type) {
					continue
				}
				if payload == nil {
					payload = EncodePayload(e.Event)
				}
				del := &store.OutboundDelivery{ID: orderly.NewID(), SubscriptionID: sub.ID, EventID: e.ID, EventType: e.Type,
					Payload: payload, Status: store.DeliveryPending, CreatedAt: now, UpdatedAt: now}
				if err := tx.OutboundDeliveryInsert(ctx, del); errors.Is(err, store.ErrDuplicate) {
					continue // dispatched before (cannot happen while the cursor is locked; harmless)
				} else if err != nil {
					return err
				}
				if err := tx.JobInsert(ctx, DeliveryJob(del.ID, now)); err != nil {
					return err
				}
			}
			if d.NATS {
				if payload == nil {
					payload = EncodePayload(e.Event)
				}
				if err := tx.JobInsert(ctx, PublishJob(e.Event, payload, now)); err != nil {
					return err
				}
			}
		}
		n = len(events)
		return tx.OutboxCursorSet(ctx, DispatcherCursor, events[len(events)-1].Cursor())
	})
	return n, err
}

// activeSubscriptions returns every active subscription.
func activeSubscriptions(ctx context.Context, q store.Querier) ([]*store.WebhookSubscription, error) {
	var all []*store.WebhookSubscription
	p := store.ListParams{Limit: store.MaxLimit}
	for {
		page, err := q.WebhookSubscriptionList(ctx, true, p)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < p.Limit {
			return all, nil
		}
		p.After = page[len(page)-1].ID
	}
}
