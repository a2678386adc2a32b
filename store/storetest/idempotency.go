package storetest

import (
	"errors"
	"testing"
	"time"

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
	claimed := store.WithIdempotencyClaim(ctx, rec)

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
	ok(t, "mark again", s.IdempotencyMarkApplied(ctx, rec))
	existing, err = s.IdempotencyBegin(ctx, rec)
	ok(t, "begin after delete", err)
	equal(t, "applied record after delete", existing, &want)

	// A key claimed in memory (store.SingleProcess) has no record: marking
	// it stores one, applied.
	inMemory := &store.IdempotencyRecord{Scope: rec.Scope, Key: "in-memory", RequestHash: "h3", CreatedAt: at(3), LockedAt: at(3)}
	ok(t, "mark unclaimed", marked.InTx(store.WithIdempotencyClaim(ctx, inMemory), func(store.Querier) error { return nil }))
	wantApplied := *inMemory
	wantApplied.Status = store.IdempotencyApplied
	equal(t, "record marked without a claim", mustIdempotencyGet(t, s, rec.Scope, "in-memory"), &wantApplied)

	// The response is recorded as for a claim; marking it afterwards
	// changes nothing.
	ok(t, "complete applied", s.IdempotencyComplete(ctx, completed(rec, 201, `{}`)))
	ok(t, "mark complete", s.IdempotencyMarkApplied(ctx, rec))
	existing, err = s.IdempotencyBegin(ctx, rec)
	ok(t, "begin after complete", err)
	want.Status, want.Body = 201, []byte(`{}`)
	equal(t, "completed record", existing, &want)
}

// testReleaseInFlight: ReleaseInFlight makes every in-progress claim —
// claimed, or applied without its response — stale (locked at the Unix
// epoch) and ends every running job's lease at now, leaving complete
// records, available jobs and later leases of nobody alone.
func testReleaseInFlight(t *testing.T, s store.Store) {
	claim := func(key string) *store.IdempotencyRecord {
		rec := &store.IdempotencyRecord{Scope: "key:a POST /api/v1/orders", Key: key, RequestHash: "h", CreatedAt: at(10), LockedAt: at(10)}
		existing, err := s.IdempotencyBegin(ctx, rec)
		ok(t, "claim "+key, err)
		if existing != nil {
			t.Fatalf("claim %s: already there: %+v", key, existing)
		}
		return rec
	}
	claim("claimed")
	applied := claim("applied")
	ok(t, "mark applied", s.IdempotencyMarkApplied(ctx, applied))
	done := claim("done")
	ok(t, "complete", s.IdempotencyComplete(ctx, completed(done, 201, `{}`)))
	ok(t, "running job", s.JobInsert(ctx, newJob("running", at(0), 3)))
	claimed, err := s.JobClaim(ctx, at(1), 5*time.Minute, 1)
	ok(t, "claim job", err)
	if len(claimed) != 1 || claimed[0].ID != "running" {
		t.Fatalf("claimed %+v, want the job", claimed)
	}
	ok(t, "available job", s.JobInsert(ctx, newJob("later", at(60), 3)))

	claims, jobs, err := s.ReleaseInFlight(ctx, at(2))
	ok(t, "ReleaseInFlight", err)
	if claims != 2 || jobs != 1 {
		t.Errorf("released %d claims and %d jobs, want 2 and 1", claims, jobs)
	}
	epoch := time.Unix(0, 0).UTC()
	for key, want := range map[string]time.Time{"claimed": epoch, "applied": epoch, "done": at(10)} {
		got, err := s.IdempotencyBegin(ctx, &store.IdempotencyRecord{Scope: applied.Scope, Key: key, RequestHash: "h", CreatedAt: at(11), LockedAt: at(11)})
		ok(t, "read "+key, err)
		if got == nil || !got.LockedAt.Equal(want) {
			t.Errorf("%s after ReleaseInFlight: %+v, want locked at %v", key, got, want)
		}
	}
	// The released lease is claimable at once, not five minutes later.
	again, err := s.JobClaim(ctx, at(3), 5*time.Minute, 10)
	ok(t, "claim again", err)
	if len(again) != 1 || again[0].ID != "running" || again[0].Attempt != 2 {
		t.Errorf("claimed after the release: %+v, want the running job, attempt 2", again)
	}
	claims, jobs, err = s.ReleaseInFlight(ctx, at(2))
	ok(t, "ReleaseInFlight again", err)
	if claims != 0 || jobs != 1 {
		// The job claimed again at minute 3 holds a lease to minute 8.
		t.Errorf("second release: %d claims and %d jobs, want 0 and 1", claims, jobs)
	}
}
