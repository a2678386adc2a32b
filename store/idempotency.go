package store

import "context"

// An Idempotency-Key is claimed in one transaction (IdempotencyBegin; in
// memory on a SingleProcess backend) and its response recorded in another
// (IdempotencyComplete), with the request's own transactions in between.
// A process that dies after the request's change committed but before
// the response was recorded leaves a claim that looks like a request that never ran, and a retry that took
// it over would run the change a second time: a stock adjustment applied
// twice. So every write transaction run for a request that carries a key
// also marks the claim applied, in that same transaction (MarkIdempotency);
// an applied claim is never taken over or forgotten, and a retry is told
// that the request was carried out but its response was lost.

// IdempotencyApplied is IdempotencyRecord.Status of a claim whose request
// committed a change and has no recorded response yet: 0 is a claim
// nothing has been committed for, 100 and above a recorded response.
const IdempotencyApplied = 1

// IdempotencyMarker is the Querier method behind MarkIdempotency.
type IdempotencyMarker interface {
	// IdempotencyMarkApplied sets the in-progress record (rec.Scope,
	// rec.Key) to IdempotencyApplied with rec's RequestHash (a claim taken
	// over changes hands), or stores rec as applied where there
	// is no record (a claim held in memory, SingleProcess); a record that is
	// applied already or complete is left as it is, without error.
	IdempotencyMarkApplied(ctx context.Context, rec *IdempotencyRecord) error
}

type idempotencyClaimKey struct{}

// WithIdempotencyClaim returns ctx carrying the Idempotency-Key claim of
// the request it serves (its Scope, Key, RequestHash, CreatedAt and
// LockedAt): write transactions run with it mark the claim applied (see
// MarkIdempotency).
func WithIdempotencyClaim(ctx context.Context, rec *IdempotencyRecord) context.Context {
	return context.WithValue(ctx, idempotencyClaimKey{}, rec)
}

// MarkIdempotency wraps st so that every InTx whose context carries an
// Idempotency-Key claim (WithIdempotencyClaim) marks the claim applied as
// the transaction's last statement, committed with its change or not at
// all.
func MarkIdempotency(st Store) Store { return markingStore{st} }

type markingStore struct{ Store }

// InTx implements Store.
func (m markingStore) InTx(ctx context.Context, fn func(tx Querier) error) error {
	rec, ok := ctx.Value(idempotencyClaimKey{}).(*IdempotencyRecord)
	if !ok {
		return m.Store.InTx(ctx, fn)
	}
	return m.Store.InTx(ctx, func(tx Querier) error {
		if err := fn(tx); err != nil {
			return err
		}
		return tx.IdempotencyMarkApplied(ctx, rec)
	})
}

// SingleProcess reports whether st is a backend that only one process may
// use (SQLite: docs/operations.md). Such a process may keep its
// Idempotency-Key claims in memory: no other process can be running a
// request with the same key, so the claim need not be written before the
// request runs — one writer transaction fewer per request on the backend
// whose one writer is the bottleneck.
func SingleProcess(st Store) bool { return st.Backend() == "sqlite" }
