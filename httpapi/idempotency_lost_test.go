package httpapi

import (
	"context"
	"net/http"
	"testing"

	"github.com/orderly-oms/orderly/store"
)

// TestIdempotencyResponseLost is the crash between a request's commit and
// the recording of its response, which cmd/orderly's crash test found: a
// retry after the claim went stale ran the stock adjustment a second time.
// Now the request's transaction marks the key applied, and such a retry is
// told the response was lost; nothing runs twice.
func TestIdempotencyResponseLost(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		adjust := req{method: "POST", path: "/api/v1/inventory/adjustments", key: "admin",
			body: `{"location":"leeds","sku":"SKU-1","delta":5,"reason":"receive"}`}
		scope := "key:admin-key POST /api/v1/inventory/adjustments"

		onHand := func() float64 { return b.balance(t, "leeds", "SKU-1")["on_hand"].(float64) }
		before := onHand()

		// A normal request marks its claim applied in its transaction, then
		// records the response: a retry replays it.
		b.do(t, withKey(adjust, "ok")).want(t, http.StatusCreated)
		if r := b.do(t, withKey(adjust, "ok")).want(t, http.StatusCreated); r.header.Get("Idempotent-Replayed") != "true" {
			t.Error("the response was not replayed")
		}
		if got := onHand(); got != before+5 {
			t.Fatalf("on hand %v after one adjustment of 5 from %v", got, before)
		}

		// The crash: the adjustment committed (claim applied), the response
		// was never recorded, the claim went stale.
		old := b.clock.Now().Add(-2 * b.api.idem.staleAfter)
		hash := sha256Hex(adjust.body)
		if ex, err := b.store.IdempotencyBegin(ctx, &store.IdempotencyRecord{Scope: scope, Key: "lost", RequestHash: hash, CreatedAt: old, LockedAt: old}); err != nil || ex != nil {
			t.Fatal(ex, err)
		}
		if err := store.MarkIdempotency(b.store).InTx(store.WithIdempotencyClaim(ctx, &store.IdempotencyRecord{Scope: scope, Key: "lost", RequestHash: hash, CreatedAt: old, LockedAt: old}), func(tx store.Querier) error { return nil }); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			p := b.do(t, withKey(adjust, "lost")).wantProblem(t, http.StatusConflict, "")
			if p["code"] != "idempotency_response_lost" {
				t.Errorf("code %v, want idempotency_response_lost", p["code"])
			}
		}
		if got := onHand(); got != before+5 {
			t.Errorf("on hand %v: the lost request ran again", got)
		}

		// Applied but fresh: the first request may still be answering, so
		// a duplicate waits and then hears it is in progress.
		now := b.clock.Now()
		busy := &store.IdempotencyRecord{Scope: scope, Key: "busy", RequestHash: hash, CreatedAt: now, LockedAt: now}
		release := b.holdClaim(t, busy)
		if err := b.store.IdempotencyMarkApplied(ctx, busy); err != nil {
			t.Fatal(err)
		}
		if p := b.do(t, withKey(adjust, "busy")).wantProblem(t, http.StatusConflict, ""); p["code"] != "idempotency_in_progress" {
			t.Errorf("code %v, want idempotency_in_progress", p["code"])
		}
		release()
		if b.api.idem.local {
			// Claims in memory: once no request of this process holds it,
			// an applied record is one whose process died.
			if p := b.do(t, withKey(adjust, "busy")).wantProblem(t, http.StatusConflict, ""); p["code"] != "idempotency_response_lost" {
				t.Errorf("code %v, want idempotency_response_lost", p["code"])
			}
		}

		// Capture may run again (it is idempotent on channel + external id):
		// its requests do not mark their claim, and a stale one is taken
		// over and answered with the stored order.
		create := req{method: "POST", path: "/api/v1/orders", key: "admin", body: orderBody(chWeb, "L-1")}
		b.do(t, withKey(create, "first")).want(t, http.StatusCreated)
		oscope := "key:admin-key POST /api/v1/orders"
		if _, err := b.store.IdempotencyBegin(ctx, &store.IdempotencyRecord{Scope: oscope, Key: "order-lost", RequestHash: sha256Hex(create.body), CreatedAt: old, LockedAt: old}); err != nil {
			t.Fatal(err)
		}
		b.do(t, withKey(create, "order-lost")).want(t, http.StatusOK)
		if n := b.countOrders(t); n != 1 {
			t.Errorf("%d orders, want 1", n)
		}
	})
}
