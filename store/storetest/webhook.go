package storetest

import (
	"errors"
	"testing"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/store"
)

// testWebhookDeliveries pins the dedupe record of inbound webhooks: a
// delivery id is recorded once per channel, a replay is ErrDuplicate that
// leaves the transaction usable, and the purge forgets old deliveries.
func testWebhookDeliveries(t *testing.T, s store.Store) {
	ok(t, "channel", s.ChannelInsert(ctx, NewChannel("shop")))
	ok(t, "channel 2", s.ChannelInsert(ctx, NewChannel("woo")))
	d := func(ch, id string, n int) *store.WebhookDelivery {
		return &store.WebhookDelivery{Channel: ch, DeliveryID: id, Topic: "orders/create", ReceivedAt: at(n)}
	}
	ok(t, "insert", s.WebhookDeliveryInsert(ctx, d("shop", "d1", 0)))
	wantIs(t, "replay", s.WebhookDeliveryInsert(ctx, d("shop", "d1", 1)), store.ErrDuplicate)
	ok(t, "same id, other channel", s.WebhookDeliveryInsert(ctx, d("woo", "d1", 1)))
	wantKind(t, "unknown channel", s.WebhookDeliveryInsert(ctx, d("nope", "d1", 1)), orderly.KindInvalid)

	// A replay inside a transaction leaves it usable: what was written
	// before and after the refused insert commits.
	ok(t, "tx", s.InTx(ctx, func(tx store.Querier) error {
		if err := tx.WebhookDeliveryInsert(ctx, d("shop", "d2", 2)); err != nil {
			return err
		}
		if err := tx.WebhookDeliveryInsert(ctx, d("shop", "d1", 2)); !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("replay in tx: %v", err)
		}
		return tx.WebhookDeliveryInsert(ctx, d("shop", "d3", 3))
	}))
	wantIs(t, "d2 committed", s.WebhookDeliveryInsert(ctx, d("shop", "d2", 4)), store.ErrDuplicate)
	wantIs(t, "d3 committed", s.WebhookDeliveryInsert(ctx, d("shop", "d3", 4)), store.ErrDuplicate)

	// A rolled-back transaction records nothing.
	boom := errors.New("boom")
	wantIs(t, "rollback", s.InTx(ctx, func(tx store.Querier) error {
		ok(t, "insert in tx", tx.WebhookDeliveryInsert(ctx, d("shop", "d4", 4)))
		return boom
	}), boom)

	// Received at 0 (shop/d1), 1 (woo/d1), 2 (shop/d2), 3 (shop/d3).
	n, err := s.WebhookDeliveryPurge(ctx, at(2))
	ok(t, "purge", err)
	if n != 2 {
		t.Errorf("purged %d, want 2 (shop/d1 at 0, woo/d1 at 1)", n)
	}
	ok(t, "purged id is new again", s.WebhookDeliveryInsert(ctx, d("shop", "d1", 5)))
	ok(t, "rolled-back id was never recorded", s.WebhookDeliveryInsert(ctx, d("shop", "d4", 5)))
	wantIs(t, "kept", s.WebhookDeliveryInsert(ctx, d("shop", "d2", 5)), store.ErrDuplicate)
	n, err = s.WebhookDeliveryPurge(ctx, T0)
	ok(t, "purge nothing", err)
	if n != 0 {
		t.Errorf("purged %d, want 0", n)
	}
}
