package storetest

import (
	"errors"
	"testing"

	"github.com/orderly-oms/orderly/store"
)

// testIdempotencyApplied pins the applied state of an Idempotency-Key
// claim (store.IdempotencyApplied): set by the request's own transaction
// through store.MarkIdempotency, never taken over or forgotten, completed
// like a claim.
func testIdempotencyApplied(t *testing.T, s store.Store) {
	rec := &store.IdempotencyRecord{Scope: "key:ops POST /api/v1/inventory/adjustments", Key: "a1", RequestHash: "h1", CreatedAt: T0, LockedAt: T0}
	existing, err := s.IdempotencyBegin(ctx, rec)
	ok(t, "begin", err)
	if existing != nil {
		t.Fatalf("begin of a new key returned %+v", existing)
	}
	marked := store.MarkIdempotency(s)
	claimed := store.WithIdempotencyClaim(ctx, rec.Scope, rec.Key)

	// A transaction that fails marks nothing.
	boom := errors.New("boom")
	if err := marked.InTx(claimed, func(store.Querier) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failed transaction: %v", err)
	}
	existing, err = s.IdempotencyBegin(ctx, rec)
	ok(t, "begin after a failed transaction", err)
	if existing.Status != 0 {
		t.Errorf("a rolled-back transaction marked the claim: status %d", existing.Status)
	}
	// Without the claim in the context, nothing is marked either.
	ok(t, "unclaimed transaction", marked.InTx(ctx, func(store.Querier) error { return nil }))
	existing, err = s.IdempotencyBegin(ctx, rec)
	ok(t, "begin after an unclaimed transaction", err)
	if existing.Status != 0 {
		t.Errorf("a transaction without the claim marked it: status %d", existing.Status)
	}

	// A committed transaction marks it applied.
	ok(t, "claimed transaction", marked.InTx(claimed, func(store.Querier) error { return nil }))
	existing, err = s.IdempotencyBegin(ctx, rec)
	ok(t, "begin after the change", err)
	want := *rec
	want.Status = store.IdempotencyApplied
	equal(t, "applied record", existing, &want)

	// Applied: never taken over, never forgotten; marking again is a no-op.
	took, err := s.IdempotencyReclaim(ctx, rec.Scope, rec.Key, "h2", at(9), at(9))
	ok(t, "reclaim applied", err)
	if took {
		t.Error("reclaimed an applied record: its change would run twice")
	}
	ok(t, "delete applied", s.IdempotencyDelete(ctx, rec.Scope, rec.Key))
	ok(t, "mark again", s.IdempotencyMarkApplied(ctx, rec.Scope, rec.Key))
	ok(t, "mark unknown", s.IdempotencyMarkApplied(ctx, rec.Scope, "nope"))
	existing, err = s.IdempotencyBegin(ctx, rec)
	ok(t, "begin after delete", err)
	equal(t, "applied record after delete", existing, &want)

	// The response is recorded as for a claim; marking it afterwards
	// changes nothing.
	ok(t, "complete applied", s.IdempotencyComplete(ctx, rec.Scope, rec.Key, 201, []byte(`{}`)))
	ok(t, "mark complete", s.IdempotencyMarkApplied(ctx, rec.Scope, rec.Key))
	existing, err = s.IdempotencyBegin(ctx, rec)
	ok(t, "begin after complete", err)
	want.Status, want.Body = 201, []byte(`{}`)
	equal(t, "completed record", existing, &want)
}
