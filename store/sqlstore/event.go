package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/store"
)

// This file holds the event log, API keys and idempotency records.

// EventInsert implements store.Querier. Data must be JSON (empty means
// {}); PostgreSQL keeps it as jsonb, so what is read back is equal as JSON
// but not necessarily byte for byte. Several events are one multi-row
// INSERT per eventChunk, in a transaction of its own outside InTx; where
// the transaction can send a pipeline (PostgreSQL), the INSERTs go in one
// round trip per eventTrip events. If any id is taken, the rows the INSERTs
// did insert are deleted again, so the call writes nothing and the
// transaction stays usable.
func (q *Querier) EventInsert(ctx context.Context, es ...*orderly.Event) error {
	args := make([]any, 0, 8*len(es))
	for _, e := range es {
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
		args = append(args, e.ID, e.Type, e.Subject, e.SubjectID, orderID, e.Actor, e.At, data)
	}
	switch len(es) {
	case 0:
		return nil
	case 1:
		err := q.write.queryRow(ctx, insertEvents+eventRow+` ON CONFLICT DO NOTHING RETURNING seq`, args...).Scan(&es[0].Seq)
		return returned(err, "event %s already exists", es[0].ID)
	}
	return q.inTx(ctx, func(c conn) error { return insertEventChunks(ctx, c, es, args) })
}

const (
	insertEvents = `INSERT INTO events (id, type, subject, subject_id, order_id, actor, at, data) VALUES `
	eventRow     = `(?, ?, ?, ?, ?, ?, ?, ?)`
	// eventChunk bounds the events of one INSERT.
	eventChunk = 50
)

// eventTrip bounds the events whose INSERTs one pipeline sends.
const eventTrip = 20 * eventChunk

// insertEventChunks inserts es, whose arguments are args, with one
// statement per eventChunk events — sent eventTrip events to a pipeline
// where the connection can (PostgreSQL), one after the other elsewhere —
// and assigns their seqs, which follow the order of es. If an id is taken,
// it deletes the rows it inserted, so that nothing is.
func insertEventChunks(ctx context.Context, c conn, es []*orderly.Event, args []any) error {
	stmts := make([]Stmt, 0, (len(es)+eventChunk-1)/eventChunk)
	for start := 0; start < len(es); start += eventChunk {
		n := min(eventChunk, len(es)-start)
		stmts = append(stmts, Stmt{Query: insertEvents + strings.Repeat(`, `+eventRow, n)[2:] + ` ON CONFLICT DO NOTHING RETURNING id, seq`,
			Args: args[8*start : 8*(start+n)]})
	}
	type idSeq struct {
		id  string
		seq int64
	}
	var got []idSeq
	read := func(rs *rows) error {
		rows, err := collect(rs, func(s scanner) (idSeq, error) {
			var r idSeq
			return r, s.Scan(&r.id, &r.seq)
		})
		got = append(got, rows...)
		return err
	}
	if err := c.each(ctx, stmts, eventTrip/eventChunk, read); err != nil {
		return err
	}
	seqs := make(map[string]int64, len(got))
	for _, r := range got {
		seqs[r.id] = r.seq
	}
	if len(got) < len(es) {
		// An id was taken: take back what was inserted, so nothing is.
		ids := make([]any, len(got))
		for i, r := range got {
			ids[i] = r.id
		}
		for chunk := range slices.Chunk(ids, inChunk) {
			if _, err := c.exec(ctx, `DELETE FROM events WHERE id IN (`+placeholders(len(chunk))+`)`, chunk...); err != nil {
				return err
			}
		}
		for i, e := range es {
			if _, ok := seqs[e.ID]; !ok || slices.ContainsFunc(es[:i], func(p *orderly.Event) bool { return p.ID == e.ID }) {
				return duplicate("event %s already exists", e.ID)
			}
		}
		return duplicate("an event id is already taken")
	}
	for i, e := range es {
		e.Seq = seqs[e.ID]
		if i > 0 && e.Seq <= es[i-1].Seq {
			return fmt.Errorf("insert events: seq %d of event %s does not follow %d", e.Seq, e.ID, es[i-1].Seq)
		}
	}
	return nil
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
	args = append(args, store.RowLimit(p.Limit))
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
	var n int64
	err := q.inTx(ctx, func(c conn) (err error) {
		// Every write to api_keys touches keysKey: the stock cache keeps
		// the keys it found (stockcache.go).
		c.touch(keysKey)
		n, err = c.exec(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			k.ID, k.Name, string(k.Role), k.Channel, k.Location, k.Hash, k.Prefix, k.CreatedAt, k.RevokedAt)
		return err
	})
	return inserted(n, err, "an API key named %q already exists", k.Name)
}

// APIKeyGetByHash implements store.Querier.
func (q *Querier) APIKeyGetByHash(ctx context.Context, hash string) (*auth.APIKey, error) {
	var gen uint64
	if q.stock != nil {
		// Every request authenticates: a key found before is answered
		// from memory (stockcache.go).
		var k *auth.APIKey
		if k, gen = q.stock.key(hash, time.Now()); k != nil {
			return k, nil
		}
	}
	k, err := scanAPIKey(q.read.queryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = ? AND revoked_at IS NULL`, hash))
	if q.stock != nil {
		found := k
		if err != nil {
			found = nil
		}
		q.stock.storeKey(gen, hash, found, time.Now())
	}
	if err != nil {
		return nil, renotFound(err, "API key not found")
	}
	return k, nil
}

// APIKeyRevoke implements store.Querier.
func (q *Querier) APIKeyRevoke(ctx context.Context, name string, at time.Time) (k *auth.APIKey, revoked bool, err error) {
	err = q.inTx(ctx, func(c conn) error {
		c.touch(keysKey) // a revoked key must not be answered from the cache
		n, err := c.exec(ctx, `UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL`, at, name)
		if err != nil {
			return err
		}
		revoked = n == 1
		k, err = scanAPIKey(c.queryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE name = ?`, name))
		return renotFound(err, "no API key named %q", name)
	})
	if err != nil {
		return nil, false, err
	}
	return k, revoked, nil
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
// stored rec, and the stored record when there was one. One statement in
// the common case, not a transaction: on PostgreSQL that is one round
// trip instead of two, on SQLite a place in the next group-commit batch.
func (q *Querier) IdempotencyBegin(ctx context.Context, rec *store.IdempotencyRecord) (*store.IdempotencyRecord, error) {
	for {
		n, err := q.write.exec(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at, locked_at)
			VALUES (?, ?, ?, 0, NULL, ?, ?) ON CONFLICT (scope, key) DO NOTHING`,
			rec.Scope, rec.Key, rec.RequestHash, rec.CreatedAt, rec.LockedAt)
		if err != nil {
			return nil, fmt.Errorf("begin idempotent request: %w", err)
		}
		if n == 1 {
			return nil, nil
		}
		r, err := q.IdempotencyGet(ctx, rec.Scope, rec.Key)
		switch {
		case err == nil:
			return r, nil
		case !isNotFound(err):
			return nil, fmt.Errorf("begin idempotent request: %w", err)
		}
		// Freed between the two statements (its request failed): claim
		// it again.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
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

// IdempotencyDelete implements store.Querier. Only an in-progress record is
// deleted; deleting one that is missing or complete does nothing.
func (q *Querier) IdempotencyDelete(ctx context.Context, scope, key string) error {
	_, err := q.write.exec(ctx, `DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND status = 0`, scope, key)
	return err
}

// ReleaseInFlight implements store.Store: in-progress claims get a
// locked_at at the Unix epoch, older than any staleness bound, so the next
// request with the key takes the claim over (or, if it was applied, is told
// its response was lost) instead of waiting a minute; running jobs' leases
// end at now.
func (s *Store) ReleaseInFlight(ctx context.Context, now time.Time) (claims, jobs int64, err error) {
	err = s.retryTx(ctx, func(c conn) error {
		var err error
		if claims, err = c.exec(ctx, `UPDATE idempotency_keys SET locked_at = ? WHERE status IN (0, ?) AND locked_at > ?`,
			time.Unix(0, 0).UTC(), store.IdempotencyApplied, time.Unix(0, 0).UTC()); err != nil {
			return err
		}
		jobs, err = c.exec(ctx, `UPDATE jobs SET locked_until = ? WHERE state = 'running' AND locked_until > ?`, now, now)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("release in-flight work: %w", err)
	}
	return claims, jobs, nil
}

// IdempotencyPurge implements store.Querier.
func (q *Querier) IdempotencyPurge(ctx context.Context, before time.Time) (int64, error) {
	return q.write.exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, before)
}

// WebhookDeliveryInsert implements store.Querier. ON CONFLICT DO NOTHING
// keeps a PostgreSQL transaction usable after a replay.
func (q *Querier) WebhookDeliveryInsert(ctx context.Context, d *store.WebhookDelivery) error {
	n, err := q.write.exec(ctx, `INSERT INTO webhook_deliveries (channel, delivery_id, topic, received_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (channel, delivery_id) DO NOTHING`,
		d.Channel, d.DeliveryID, d.Topic, d.ReceivedAt)
	if err != nil {
		return fmt.Errorf("record webhook delivery: %w", err)
	}
	if n == 0 {
		return duplicate("channel %q has already processed webhook delivery %q", d.Channel, d.DeliveryID)
	}
	return nil
}

// WebhookDeliveryPurge implements store.Querier.
func (q *Querier) WebhookDeliveryPurge(ctx context.Context, before time.Time) (int64, error) {
	return q.write.exec(ctx, `DELETE FROM webhook_deliveries WHERE received_at < ?`, before)
}
