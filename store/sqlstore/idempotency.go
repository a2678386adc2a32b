package sqlstore

import (
	"context"
	"fmt"

	"github.com/orderly-oms/orderly/store"
)

// IdempotencyMarkApplied implements store.Querier: run as the last
// statement of a request's write transaction (store.MarkIdempotency).
func (q *Querier) IdempotencyMarkApplied(ctx context.Context, scope, key string) error {
	// Its result is not needed: sent with COMMIT where the backend can.
	err := q.write.deferExec(ctx, `UPDATE idempotency_keys SET status = ? WHERE scope = ? AND key = ? AND status = 0`,
		store.IdempotencyApplied, scope, key)
	if err != nil {
		return fmt.Errorf("mark idempotent request applied: %w", err)
	}
	return nil
}
