// Package outbound is Orderly's background work and what it sends out:
// the job runner over the store's job queue (docs/decisions/0008-jobs.md),
// the dispatcher that turns committed events into outbound deliveries, the
// signed webhook sender with its SSRF guard, and the NATS JetStream
// publisher. Several nodes may run all of it against one PostgreSQL: every
// piece of work is claimed in the database.
package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/store"
)

// Handler does one job. It must be idempotent: a job runs at least once,
// and again after a crash or an expired lease. An error means "try again
// later" unless it is Permanent.
type Handler func(ctx context.Context, j *store.Job) error

// permanent marks an error that retrying cannot fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so that the job goes to the dead-letter list at once.
func Permanent(err error) error { return permanent{err} }

// Schedule is the wait before each retry of an outbound job: about a day
// in all (23 h 42 min over 11 attempts), as Standard Webhooks senders do.
var Schedule = []time.Duration{
	5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 8 * time.Hour,
}

// MaxAttempts is how many times an outbound job is tried.
var MaxAttempts = len(Schedule) + 1

// ScheduleBackoff is the wait after failed attempt n (from 1): the
// Schedule, ±10% jitter so that retries of one outage spread out.
func ScheduleBackoff(attempt int) time.Duration {
	d := Schedule[min(max(attempt, 1), len(Schedule))-1]
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// Runner claims due jobs from the store and runs them. Run one per node;
// several may share a database.
type Runner struct {
	Store    store.Store
	Clock    orderly.Clock
	Log      *slog.Logger
	Handlers map[string]Handler
	// Backoff is the wait after failed attempt n; nil means ScheduleBackoff.
	Backoff func(attempt int) time.Duration
	// Poll is how often Run looks for due jobs (default 1s).
	Poll time.Duration
	// Lease is how long a claimed job is its worker's before another may
	// take it (default 5 minutes); a handler must finish well within it.
	Lease time.Duration
	// Concurrency bounds the jobs run at once (default 8).
	Concurrency int
}

// Run runs due jobs until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	t := time.NewTicker(cmpOr(r.Poll, time.Second))
	defer t.Stop()
	for {
		n, err := r.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			r.log().Warn("jobs: claim failed", "err", err)
		}
		if n > 0 {
			continue // there may be more due
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce claims the jobs due now, runs them and waits for them; it
// returns how many it ran.
func (r *Runner) RunOnce(ctx context.Context) (int, error) {
	conc := r.Concurrency
	if conc <= 0 {
		conc = 8
	}
	jobs, err := r.Store.JobClaim(ctx, r.Clock.Now(), cmpOr(r.Lease, 5*time.Minute), conc)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { r.run(ctx, j) })
	}
	wg.Wait()
	return len(jobs), nil
}

// run runs one claimed job and records its outcome.
func (r *Runner) run(ctx context.Context, j *store.Job) {
	err := r.call(ctx, j)
	// Record the outcome even if ctx ended meanwhile.
	ctx = context.WithoutCancel(ctx)
	now := r.Clock.Now()
	if err == nil {
		if err := r.Store.JobSucceed(ctx, j.ID, j.Attempt, now); err != nil {
			r.log().Warn("jobs: record success", "job", j.ID, "kind", j.Kind, "err", err)
		}
		return
	}
	var retryAt *time.Time
	var perm permanent
	if j.Attempt < j.MaxAttempts && !errors.As(err, &perm) {
		backoff := r.Backoff
		if backoff == nil {
			backoff = ScheduleBackoff
		}
		at := now.Add(backoff(j.Attempt))
		retryAt = &at
	}
	r.log().Info("jobs: attempt failed", "job", j.ID, "kind", j.Kind, "attempt", j.Attempt, "dead", retryAt == nil, "err", err)
	if err := r.Store.JobFail(ctx, j.ID, j.Attempt, truncate(err.Error(), 2000), retryAt, now); err != nil {
		r.log().Warn("jobs: record failure", "job", j.ID, "kind", j.Kind, "err", err)
	}
}

// call runs the job's handler, turning a panic into an error.
func (r *Runner) call(ctx context.Context, j *store.Job) (err error) {
	h := r.Handlers[j.Kind]
	if h == nil {
		return fmt.Errorf("no handler for job kind %q on this node", j.Kind)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return h(ctx, j)
}

func (r *Runner) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

// NewJob returns a job of kind with args marshalled to JSON, due at now,
// with MaxAttempts attempts.
func NewJob(kind string, args any, now time.Time) *store.Job {
	raw, err := json.Marshal(args)
	if err != nil {
		panic(fmt.Sprintf("outbound: marshal %s job args: %v", kind, err)) // args are plain structs built here
	}
	return &store.Job{ID: orderly.NewID(), Kind: kind, Args: raw, MaxAttempts: MaxAttempts, RunAt: now, CreatedAt: now}
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
