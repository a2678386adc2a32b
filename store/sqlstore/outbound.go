package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/store"
)

// This file holds the job queue, webhook subscriptions, their delivery log
// and the outbox cursor (docs/decisions/0008-jobs.md).

const jobColumns = `id, kind, args, state, attempt, max_attempts, run_at, locked_until, last_error, created_at, finished_at`

func scanJob(s scanner) (*store.Job, error) {
	var j store.Job
	var state string
	var args []byte
	if err := s.Scan(&j.ID, &j.Kind, &args, &state, &j.Attempt, &j.MaxAttempts, &j.RunAt, &j.LockedUntil,
		&j.LastError, &j.CreatedAt, &j.FinishedAt); err != nil {
		return nil, err
	}
	j.Args, j.State = args, store.JobState(state)
	return &j, nil
}

// JobInsert implements store.Querier.
func (q *Querier) JobInsert(ctx context.Context, j *store.Job) error {
	if len(j.Args) == 0 {
		j.Args = []byte("{}")
	} else if !json.Valid(j.Args) {
		return orderly.Invalid("args", "is not valid JSON")
	}
	if j.MaxAttempts < 1 {
		return orderly.Invalid("max_attempts", "must be at least 1")
	}
	j.State, j.Attempt = store.JobAvailable, 0
	n, err := q.write.exec(ctx, `INSERT INTO jobs (id, kind, args, state, attempt, max_attempts, run_at, created_at)
		VALUES (?, ?, ?, 'available', 0, ?, ?, ?) ON CONFLICT DO NOTHING`,
		j.ID, j.Kind, string(j.Args), j.MaxAttempts, j.RunAt, j.CreatedAt)
	return inserted(n, err, "job %s already exists", j.ID)
}

// JobClaim implements store.Querier: one UPDATE over a sub-select that
// skips rows other claimers hold (PostgreSQL) — SQLite's one writer runs
// claims one at a time.
func (q *Querier) JobClaim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*store.Job, error) {
	rs, err := q.write.query(ctx, `UPDATE jobs SET state = 'running', attempt = attempt + 1, locked_until = ?
		WHERE id IN (SELECT id FROM jobs
			WHERE (state = 'available' AND run_at <= ?) OR (state = 'running' AND locked_until < ?)
			ORDER BY run_at LIMIT ?`+q.d.SkipLocked+`)
		RETURNING `+jobColumns, now.Add(lease), now, now, max(limit, 1))
	if err != nil {
		return nil, err
	}
	jobs, err := collect(rs, scanJob)
	// RETURNING follows no order: put them back in the claim's.
	slices.SortFunc(jobs, func(a, b *store.Job) int {
		return cmp.Or(a.RunAt.Compare(b.RunAt), strings.Compare(a.ID, b.ID))
	})
	return jobs, err
}

// JobSucceed implements store.Querier.
func (q *Querier) JobSucceed(ctx context.Context, id string, attempt int, at time.Time) error {
	n, err := q.write.exec(ctx, `UPDATE jobs SET state = 'succeeded', locked_until = NULL, finished_at = ?
		WHERE id = ? AND state = 'running' AND attempt = ?`, at, id, attempt)
	return updated(n, err, "job %s is not running attempt %d", id, attempt)
}

// JobFail implements store.Querier.
func (q *Querier) JobFail(ctx context.Context, id string, attempt int, lastError string, retryAt *time.Time, at time.Time) error {
	var n int64
	var err error
	if retryAt != nil {
		n, err = q.write.exec(ctx, `UPDATE jobs SET state = 'available', locked_until = NULL, run_at = ?, last_error = ?
			WHERE id = ? AND state = 'running' AND attempt = ?`, *retryAt, lastError, id, attempt)
	} else {
		n, err = q.write.exec(ctx, `UPDATE jobs SET state = 'dead', locked_until = NULL, last_error = ?, finished_at = ?
			WHERE id = ? AND state = 'running' AND attempt = ?`, lastError, at, id, attempt)
	}
	return updated(n, err, "job %s is not running attempt %d", id, attempt)
}

// JobGet implements store.Querier.
func (q *Querier) JobGet(ctx context.Context, id string) (*store.Job, error) {
	j, err := scanJob(q.read.queryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if err != nil {
		return nil, renotFound(err, "job %s not found", id)
	}
	return j, nil
}

// JobList implements store.Querier.
func (q *Querier) JobList(ctx context.Context, p store.JobListParams) ([]*store.Job, error) {
	query := `SELECT ` + jobColumns + ` FROM jobs WHERE id > ?`
	args := []any{p.After}
	if p.State != "" {
		query += ` AND state = ?`
		args = append(args, string(p.State))
	}
	query += ` ORDER BY id LIMIT ?`
	args = append(args, store.RowLimit(p.Limit))
	rs, err := q.read.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rs, scanJob)
}

// JobRetry implements store.Querier.
func (q *Querier) JobRetry(ctx context.Context, id string, at time.Time) (*store.Job, error) {
	var out *store.Job
	err := q.inTx(ctx, func(c conn) error {
		j, err := scanJob(c.queryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`+q.d.ForUpdate, id))
		if err != nil {
			return renotFound(err, "job %s not found", id)
		}
		if j.State != store.JobDead {
			return &orderly.Error{Kind: orderly.KindConflict, Code: "job_not_dead",
				Message: "job " + id + " is " + string(j.State) + "; only a dead job can be retried"}
		}
		if _, err := c.exec(ctx, `UPDATE jobs SET state = 'available', attempt = 0, run_at = ?, finished_at = NULL
			WHERE id = ?`, at, id); err != nil {
			return err
		}
		j.State, j.Attempt, j.RunAt, j.FinishedAt = store.JobAvailable, 0, at, nil
		out = j
		return nil
	})
	return out, err
}

const subscriptionColumns = `id, url, events, secret, active, disabled_reason, created_at, updated_at`

func (q *Querier) scanSubscription(s scanner) (*store.WebhookSubscription, error) {
	var w store.WebhookSubscription
	var events []byte
	if err := s.Scan(&w.ID, &w.URL, &events, &w.Secret, &w.Active, &w.DisabledReason, &w.CreatedAt, &w.UpdatedAt); err != nil {
		return nil, err
	}
	var err error
	if w.Secret, err = q.seal.Open(subscriptionSecretPlace(w.ID), w.Secret); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(events, &w.Events); err != nil {
		return nil, err
	}
	return &w, nil
}

// WebhookSubscriptionInsert implements store.Querier.
func (q *Querier) WebhookSubscriptionInsert(ctx context.Context, w *store.WebhookSubscription) error {
	events, err := jsonText(w.Events)
	if err != nil {
		return err
	}
	sealed, err := q.seal.Seal(subscriptionSecretPlace(w.ID), w.Secret)
	if err != nil {
		return err
	}
	n, err := q.write.exec(ctx, `INSERT INTO webhook_subscriptions (`+subscriptionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		w.ID, w.URL, events, sealed, w.Active, w.DisabledReason, w.CreatedAt, w.UpdatedAt)
	return inserted(n, err, "webhook subscription %s already exists", w.ID)
}

// WebhookSubscriptionGet implements store.Querier.
func (q *Querier) WebhookSubscriptionGet(ctx context.Context, id string) (*store.WebhookSubscription, error) {
	w, err := q.scanSubscription(q.read.queryRow(ctx, `SELECT `+subscriptionColumns+` FROM webhook_subscriptions WHERE id = ?`, id))
	if err != nil {
		return nil, renotFound(err, "webhook subscription %s not found", id)
	}
	return w, nil
}

// WebhookSubscriptionList implements store.Querier.
func (q *Querier) WebhookSubscriptionList(ctx context.Context, activeOnly bool, p store.ListParams) ([]*store.WebhookSubscription, error) {
	query := `SELECT ` + subscriptionColumns + ` FROM webhook_subscriptions WHERE id > ?`
	if activeOnly {
		query += ` AND active`
	}
	rs, err := q.read.query(ctx, query+` ORDER BY id LIMIT ?`, p.After, store.RowLimit(p.Limit))
	if err != nil {
		return nil, err
	}
	return collect(rs, q.scanSubscription)
}

// WebhookSubscriptionDisable implements store.Querier.
func (q *Querier) WebhookSubscriptionDisable(ctx context.Context, id, reason string, at time.Time) error {
	n, err := q.write.exec(ctx, `UPDATE webhook_subscriptions SET active = ?, disabled_reason = ?, updated_at = ? WHERE id = ?`,
		false, reason, at, id)
	return updated(n, err, "webhook subscription %s not found", id)
}

const deliveryColumns = `id, subscription_id, event_id, event_type, payload, status, attempts, last_status_code, last_error,
	created_at, updated_at, delivered_at`

func scanDelivery(s scanner) (*store.OutboundDelivery, error) {
	var d store.OutboundDelivery
	err := s.Scan(&d.ID, &d.SubscriptionID, &d.EventID, &d.EventType, &d.Payload, &d.Status, &d.Attempts,
		&d.LastStatusCode, &d.LastError, &d.CreatedAt, &d.UpdatedAt, &d.DeliveredAt)
	return &d, err
}

// OutboundDeliveryInsert implements store.Querier.
func (q *Querier) OutboundDeliveryInsert(ctx context.Context, d *store.OutboundDelivery) error {
	n, err := q.write.exec(ctx, `INSERT INTO outbound_deliveries (`+deliveryColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		d.ID, d.SubscriptionID, d.EventID, d.EventType, d.Payload, d.Status, d.Attempts, d.LastStatusCode, d.LastError,
		d.CreatedAt, d.UpdatedAt, d.DeliveredAt)
	return inserted(n, err, "event %s already has a delivery to subscription %s", d.EventID, d.SubscriptionID)
}

// OutboundDeliveryGet implements store.Querier.
func (q *Querier) OutboundDeliveryGet(ctx context.Context, id string) (*store.OutboundDelivery, error) {
	d, err := scanDelivery(q.read.queryRow(ctx, `SELECT `+deliveryColumns+` FROM outbound_deliveries WHERE id = ?`, id))
	if err != nil {
		return nil, renotFound(err, "delivery %s not found", id)
	}
	return d, nil
}

// OutboundDeliveryList implements store.Querier.
func (q *Querier) OutboundDeliveryList(ctx context.Context, subscriptionID string, p store.ListParams) ([]*store.OutboundDelivery, error) {
	query := `SELECT ` + deliveryColumns + ` FROM outbound_deliveries WHERE subscription_id = ?`
	args := []any{subscriptionID}
	if p.After != "" {
		query += ` AND id < ?`
		args = append(args, p.After)
	}
	rs, err := q.read.query(ctx, query+` ORDER BY id DESC LIMIT ?`, append(args, store.RowLimit(p.Limit))...)
	if err != nil {
		return nil, err
	}
	return collect(rs, scanDelivery)
}

// OutboundDeliveryUpdate implements store.Querier.
func (q *Querier) OutboundDeliveryUpdate(ctx context.Context, d *store.OutboundDelivery) error {
	n, err := q.write.exec(ctx, `UPDATE outbound_deliveries SET status = ?, attempts = ?, last_status_code = ?, last_error = ?,
		updated_at = ?, delivered_at = ? WHERE id = ?`,
		d.Status, d.Attempts, d.LastStatusCode, d.LastError, d.UpdatedAt, d.DeliveredAt, d.ID)
	return updated(n, err, "delivery %s not found", d.ID)
}

// OutboxCursorLock implements store.Querier. Outside a transaction it
// only reads.
func (q *Querier) OutboxCursorLock(ctx context.Context, name string) (store.OutboxCursor, bool, error) {
	var c store.OutboxCursor
	lock := ""
	if q.atomic == nil {
		lock = q.d.SkipLocked
	}
	rs, err := q.write.query(ctx, `SELECT txid, seq FROM outbox_cursors WHERE name = ?`+lock, name)
	if err != nil {
		return c, false, err
	}
	got, err := collect(rs, func(s scanner) (store.OutboxCursor, error) {
		var c store.OutboxCursor
		return c, s.Scan(&c.TxID, &c.Seq)
	})
	if err != nil || len(got) == 1 {
		if len(got) == 1 {
			c = got[0]
		}
		return c, err == nil, err
	}
	if lock == "" {
		return c, false, orderly.Errorf(orderly.KindNotFound, "outbox cursor %q not found", name)
	}
	// No row: another transaction holds it (SKIP LOCKED), or it does not
	// exist.
	var n int64
	if err := q.write.queryRow(ctx, `SELECT count(*) FROM outbox_cursors WHERE name = ?`, name).Scan(&n); err != nil {
		return c, false, err
	}
	if n == 0 {
		return c, false, orderly.Errorf(orderly.KindNotFound, "outbox cursor %q not found", name)
	}
	return c, false, nil
}

// OutboxCursorSet implements store.Querier.
func (q *Querier) OutboxCursorSet(ctx context.Context, name string, c store.OutboxCursor) error {
	n, err := q.write.exec(ctx, `UPDATE outbox_cursors SET txid = ?, seq = ? WHERE name = ?`, c.TxID, c.Seq, name)
	return updated(n, err, "outbox cursor %q not found", name)
}

// OutboxEventsQuery is the dispatcher's read of the events after a cursor
// (txid, seq; then the row limit), in the backend's dialect: exported for
// the backends' query-plan tests.
func (d *Dialect) OutboxEventsQuery() string {
	return `SELECT txid, seq, id, type, subject, subject_id, COALESCE(order_id, ''), actor, at, data
		FROM events e WHERE ` + fmt.Sprintf(d.EventsAfter, "?", "?") + ` AND txid < ` + d.TxHorizon + ` ORDER BY txid, seq LIMIT ?`
}

// OutboxEvents implements store.Querier.
func (q *Querier) OutboxEvents(ctx context.Context, after store.OutboxCursor, limit int) ([]store.OutboxEvent, error) {
	rs, err := q.write.query(ctx, q.d.OutboxEventsQuery(), after.TxID, after.Seq, store.RowLimit(limit))
	if err != nil {
		return nil, err
	}
	return collect(rs, func(s scanner) (store.OutboxEvent, error) {
		e := store.OutboxEvent{Event: &orderly.Event{}}
		var data []byte
		err := s.Scan(&e.TxID, &e.Seq, &e.ID, &e.Type, &e.Subject, &e.SubjectID, &e.OrderID, &e.Actor, &e.At, &data)
		e.Data = data
		return e, err
	})
}
