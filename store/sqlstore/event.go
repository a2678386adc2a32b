package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/store"
)

// This file holds the event log, API keys and idempotency records.

// EventInsert implements store.Querier. Data must be JSON (empty means
// {}); PostgreSQL keeps it as jsonb, so what is read back is equal as JSON
// but not necessarily byte for byte.
func (q *Querier) EventInsert(ctx context.Context, e *orderly.Event) error {
	data := string(e.Data)
	if len(e.Data) == 0 {
		data = "{}"
	} else if !json.Valid(e.Data) {
		return orderly.Invalid("data", "is not valid JSON")
	}
	var orderID any // NULL for events outside an order's timeline
	if e.OrderID != "" {
		orderID = e.OrderID
	}
	err := q.write.queryRow(ctx, `INSERT INTO events (id, type, subject, subject_id, order_id, actor, at, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING seq`,
		e.ID, e.Type, e.Subject, e.SubjectID, orderID, e.Actor, e.At, data).Scan(&e.Seq)
	return returned(err, "event %s already exists", e.ID)
}

// EventList implements store.Querier.
func (q *Querier) EventList(ctx context.Context, p store.EventListParams) ([]*orderly.Event, error) {
	query := `SELECT seq, id, type, subject, subject_id, COALESCE(order_id, ''), actor, at, data FROM events WHERE seq > ?`
	args := []any{p.AfterSeq}
	if p.OrderID != "" {
		query += ` AND order_id = ?`
		args = append(args, p.OrderID)
	}
	query += ` ORDER BY seq LIMIT ?`
	args = append(args, store.Limit(p.Limit))
	rs, err := q.read.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rs, func(s scanner) (*orderly.Event, error) {
		var e orderly.Event
		var data []byte
		err := s.Scan(&e.Seq, &e.ID, &e.Type, &e.Subject, &e.SubjectID, &e.OrderID, &e.Actor, &e.At, &data)
		e.Data = data
		return &e, err
	})
}

const apiKeyColumns = `id, name, role, channel, location, hash, prefix, created_at, revoked_at` //nolint:gosec // column names, not a credential

func scanAPIKey(s scanner) (*auth.APIKey, error) {
	var k auth.APIKey
	var role string
	if err := s.Scan(&k.ID, &k.Name, &role, &k.Channel, &k.Location, &k.Hash, &k.Prefix, &k.CreatedAt, &k.RevokedAt); err != nil {
		return nil, err
	}
	k.Role = auth.Role(role)
	return &k, nil
}

// APIKeyInsert implements store.Querier.
func (q *Querier) APIKeyInsert(ctx context.Context, k *auth.APIKey) error {
	n, err := q.write.exec(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		k.ID, k.Name, string(k.Role), k.Channel, k.Location, k.Hash, k.Prefix, k.CreatedAt, k.RevokedAt)
	return inserted(n, err, "an API key named %q already exists", k.Name)
}

// APIKeyGetByHash implements store.Querier.
func (q *Querier) APIKeyGetByHash(ctx context.Context, hash string) (*auth.APIKey, error) {
	k, err := scanAPIKey(q.read.queryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = ? AND revoked_at IS NULL`, hash))
	if err != nil {
		return nil, renotFound(err, "API key not found")
	}
	return k, nil
}

// APIKeyList implements store.Querier.
func (q *Querier) APIKeyList(ctx context.Context) ([]*auth.APIKey, error) {
	rs, err := q.read.query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY name`)
	if err != nil {
		return nil, err
	}
	return collect(rs, scanAPIKey)
}

// IdempotencyBegin implements store.Querier. It returns nil, nil when it
// stored rec, and the stored record when there was one.
func (q *Querier) IdempotencyBegin(ctx context.Context, rec *store.IdempotencyRecord) (*store.IdempotencyRecord, error) {
	var existing *store.IdempotencyRecord
	err := q.inTx(ctx, func(c conn) error {
		n, err := c.exec(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at, locked_at)
			VALUES (?, ?, ?, 0, NULL, ?, ?) ON CONFLICT (scope, key) DO NOTHING`,
			rec.Scope, rec.Key, rec.RequestHash, rec.CreatedAt, rec.LockedAt)
		if err != nil || n == 1 {
			return err
		}
		var r store.IdempotencyRecord
		err = c.queryRow(ctx, `SELECT scope, key, request_hash, status, body, created_at, locked_at
			FROM idempotency_keys WHERE scope = ? AND key = ?`, rec.Scope, rec.Key).
			Scan(&r.Scope, &r.Key, &r.RequestHash, &r.Status, &r.Body, &r.CreatedAt, &r.LockedAt)
		existing = &r
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("begin idempotent request: %w", err)
	}
	return existing, nil
}

// IdempotencyReclaim implements store.Querier.
func (q *Querier) IdempotencyReclaim(ctx context.Context, scope, key, hash string, staleBefore, now time.Time) (bool, error) {
	n, err := q.write.exec(ctx, `UPDATE idempotency_keys SET locked_at = ?, request_hash = ?
		WHERE scope = ? AND key = ? AND status = 0 AND locked_at < ?`, now, hash, scope, key, staleBefore)
	if err != nil {
		return false, fmt.Errorf("reclaim idempotent request: %w", err)
	}
	return n == 1, nil
}

// IdempotencyComplete implements store.Querier. A record that is not in
// progress (missing, or complete already) is KindNotFound.
func (q *Querier) IdempotencyComplete(ctx context.Context, scope, key string, status int, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	n, err := q.write.exec(ctx, `UPDATE idempotency_keys SET status = ?, body = ?
		WHERE scope = ? AND key = ? AND status = 0`, status, body, scope, key)
	return updated(n, err, "no idempotent request %q is in progress", key)
}

// IdempotencyDelete implements store.Querier. Only an in-progress record is
// deleted; deleting one that is missing or complete does nothing.
func (q *Querier) IdempotencyDelete(ctx context.Context, scope, key string) error {
	_, err := q.write.exec(ctx, `DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND status = 0`, scope, key)
	return err
}

// IdempotencyPurge implements store.Querier.
func (q *Querier) IdempotencyPurge(ctx context.Context, before time.Time) (int64, error) {
	return q.write.exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, before)
}
