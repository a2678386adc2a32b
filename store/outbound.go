package store

import (
	"context"
	"time"

	"github.com/orderly-oms/orderly"
)

// This file is the part of the seam that background work and outbound
// delivery use: the job queue, webhook subscriptions, their delivery log
// and the dispatcher's cursor over the event log (docs/decisions/0008-jobs.md).

// OutboundQuerier is embedded in Querier.
type OutboundQuerier interface {
	// JobInsert enqueues j (ID, Kind, Args, MaxAttempts, RunAt and
	// CreatedAt set by the caller; State becomes available, Attempt 0).
	// Call it in the transaction that causes the work. A taken id is
	// ErrDuplicate. Args must be JSON.
	JobInsert(ctx context.Context, j *Job) error
	// JobClaim takes up to limit jobs that are due — available with RunAt
	// at or before now, or running with a lease that ended before now (its
	// worker died) — oldest RunAt first, marks them running until
	// now+lease and adds one to their Attempt, in one statement. Concurrent
	// claimers (several nodes) never get the same job.
	JobClaim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*Job, error)
	// JobSucceed ends a running job claimed at attempt. A job that is no
	// longer running at that attempt (its lease ended and another worker
	// took it) is KindNotFound and nothing changes.
	JobSucceed(ctx context.Context, id string, attempt int, at time.Time) error
	// JobFail records lastError on a running job claimed at attempt and
	// makes it available again at retryAt, or, when retryAt is nil, dead
	// (the dead-letter list). Not running at that attempt: as JobSucceed.
	JobFail(ctx context.Context, id string, attempt int, lastError string, retryAt *time.Time, at time.Time) error
	// JobGet returns a job, or KindNotFound.
	JobGet(ctx context.Context, id string) (*Job, error)
	// JobList pages jobs by id, filtered by state when set.
	JobList(ctx context.Context, p JobListParams) ([]*Job, error)
	// JobRetry makes a dead job available again at at with its attempts
	// reset, and returns it. A job that is not dead is KindConflict; an
	// unknown id KindNotFound.
	JobRetry(ctx context.Context, id string, at time.Time) (*Job, error)

	// WebhookSubscriptionInsert stores a new subscription.
	WebhookSubscriptionInsert(ctx context.Context, s *WebhookSubscription) error
	// WebhookSubscriptionGet returns a subscription, secret included.
	WebhookSubscriptionGet(ctx context.Context, id string) (*WebhookSubscription, error)
	// WebhookSubscriptionList pages subscriptions by id; activeOnly leaves
	// out disabled ones.
	WebhookSubscriptionList(ctx context.Context, activeOnly bool, p ListParams) ([]*WebhookSubscription, error)
	// WebhookSubscriptionDisable disables a subscription with a reason.
	WebhookSubscriptionDisable(ctx context.Context, id, reason string, at time.Time) error

	// OutboundDeliveryInsert stores a new delivery. A second delivery of
	// one event to one subscription is ErrDuplicate, and the transaction
	// stays usable.
	OutboundDeliveryInsert(ctx context.Context, d *OutboundDelivery) error
	// OutboundDeliveryGet returns a delivery, payload included.
	OutboundDeliveryGet(ctx context.Context, id string) (*OutboundDelivery, error)
	// OutboundDeliveryList pages a subscription's deliveries newest first;
	// p.After is the id of the last delivery of the previous page.
	OutboundDeliveryList(ctx context.Context, subscriptionID string, p ListParams) ([]*OutboundDelivery, error)
	// OutboundDeliveryUpdate overwrites a delivery's Status, Attempts,
	// LastStatusCode, LastError, UpdatedAt and DeliveredAt.
	OutboundDeliveryUpdate(ctx context.Context, d *OutboundDelivery) error

	// OutboxCursorLock returns the named cursor and, inside a transaction,
	// locks it until the transaction ends. ok is false when another
	// transaction holds it (PostgreSQL: SKIP LOCKED; the caller skips this
	// round). An unknown name is KindNotFound.
	OutboxCursorLock(ctx context.Context, name string) (c OutboxCursor, ok bool, err error)
	// OutboxCursorSet moves the named cursor.
	OutboxCursorSet(ctx context.Context, name string, c OutboxCursor) error
	// OutboxEvents returns up to limit events after c in (TxID, Seq) order,
	// only those below the backend's transaction horizon: no event can
	// later be committed before the last one returned, so a cursor moved
	// to it never passes over one (PostgreSQL commits out of seq order).
	OutboxEvents(ctx context.Context, after OutboxCursor, limit int) ([]OutboxEvent, error)
}

// JobState is where a job is in its life.
type JobState string

// The states of a job.
const (
	JobAvailable JobState = "available" // waiting for RunAt
	JobRunning   JobState = "running"   // claimed by a worker until LockedUntil
	JobSucceeded JobState = "succeeded"
	JobDead      JobState = "dead" // out of attempts: the dead-letter list
)

// Job is one unit of background work.
type Job struct {
	ID          string
	Kind        string
	Args        []byte // JSON
	State       JobState
	Attempt     int
	MaxAttempts int
	RunAt       time.Time
	LockedUntil *time.Time
	LastError   string
	CreatedAt   time.Time
	FinishedAt  *time.Time
}

// JobListParams filters and pages jobs.
type JobListParams struct {
	State JobState // "" for every state
	// After is the id of the last job of the previous page.
	After string
	Limit int
}

// WebhookSubscription is an outbound webhook endpoint.
type WebhookSubscription struct {
	ID  string
	URL string
	// Events are event types ("order.created"), prefixes ending in ".*"
	// ("order.*") or "*" for every event.
	Events []string
	// Secret signs deliveries: "whsec_" and base64. Stored as given.
	Secret         string
	Active         bool
	DisabledReason string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// The statuses of an outbound delivery.
const (
	DeliveryPending   = "pending"   // not attempted yet
	DeliveryRetrying  = "retrying"  // failed, will be tried again
	DeliverySucceeded = "succeeded" // a 2xx answer
	DeliveryFailed    = "failed"    // refused for good (410: the subscription is disabled)
	DeliveryDead      = "dead"      // out of attempts
	DeliveryCancelled = "cancelled" // the subscription was disabled first
)

// OutboundDelivery is one event sent (or to be sent) to one subscription.
type OutboundDelivery struct {
	// ID is the webhook-id header: the same across retries and replays.
	ID             string
	SubscriptionID string
	EventID        string
	EventType      string
	// Payload is the exact body posted.
	Payload        []byte
	Status         string
	Attempts       int
	LastStatusCode int
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeliveredAt    *time.Time
}

// OutboxCursor is a position in the event log, in dispatch order.
type OutboxCursor struct {
	TxID int64
	Seq  int64
}

// OutboxEvent is an event with its position in dispatch order.
type OutboxEvent struct {
	*orderly.Event
	TxID int64
}

// Cursor returns the position of e.
func (e OutboxEvent) Cursor() OutboxCursor { return OutboxCursor{TxID: e.TxID, Seq: e.Seq} }
