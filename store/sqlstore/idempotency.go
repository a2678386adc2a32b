package sqlstore

import (
	"context"
	"fmt"

	"github.com/orderly-oms/orderly/store"
)

// IdempotencyMarkApplied implements store.Querier: run as the last
// statement of a request's write transaction (store.MarkIdempotency).
func (q *Querier) IdempotencyMarkApplied(ctx context.Context, rec *store.IdempotencyRecord) error {
	// Its result is not needed: sent with COMMIT where the backend can.
	err := q.write.deferExec(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at, locked_at)
		VALUES (?, ?, ?, ?, NULL, ?, ?)
		ON CONFLICT (scope, key) DO UPDATE SET status = excluded.status, request_hash = excluded.request_hash
		WHERE idempotency_keys.status = 0`,
		rec.Scope, rec.Key, rec.RequestHash, store.IdempotencyApplied, rec.CreatedAt, rec.LockedAt)
	if err != nil {
		return fmt.Errorf("mark idempotent request applied: %w", err)
	}
	return nil
}

// IdempotencyGet implements store.Querier.
func (q *Querier) IdempotencyGet(ctx context.Context, scope, key string) (*store.IdempotencyRecord, error) {
	var r store.IdempotencyRecord
	err := q.read.queryRow(ctx, `SELECT scope, key, request_hash, status, body, created_at, locked_at
		FROM idempotency_keys WHERE scope = ? AND key = ?`, scope, key).
		Scan(&r.Scope, &r.Key, &r.RequestHash, &r.Status, &r.Body, &r.CreatedAt, &r.LockedAt)
	if err != nil {
		return nil, renotFound(err, "no record of Idempotency-Key %q", key)
	}
	return &r, nil
}

// IdempotencyComplete implements store.Querier.
func (q *Querier) IdempotencyComplete(ctx context.Context, rec *store.IdempotencyRecord) error {
	body := rec.Body
	if body == nil {
		body = []byte{}
	}
	n, err := q.write.exec(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at, locked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (scope, key) DO UPDATE SET status = excluded.status, body = excluded.body, request_hash = excluded.request_hash
		WHERE idempotency_keys.status IN (0, ?)`,
		rec.Scope, rec.Key, rec.RequestHash, rec.Status, body, rec.CreatedAt, rec.LockedAt, store.IdempotencyApplied)
	return updated(n, err, "no idempotent request %q is in progress", rec.Key)
}
