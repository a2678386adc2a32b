package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orderly-oms/orderly/store"
)

// committer is group commit: write transactions that arrive while another
// is running wait, and then run together, each inside its own SAVEPOINT,
// in one database transaction with one COMMIT — one WAL append and one
// fsync for the whole batch instead of one per transaction.
//
// Why: SQLite has one writer, and with synchronous=FULL each commit costs
// a WAL write of every page the transaction dirtied plus an fsync. Orders
// captured at the same moment dirty the same index and counter pages, so
// writing them once per batch is most of the win; see docs/benchmarks.md.
//
// The guarantees callers rely on stay those of a transaction of their own:
//   - a transaction is acknowledged (run returns nil) only after the
//     batch's COMMIT returned, so it is as durable as before;
//   - a transaction that fails (or panics) is rolled back to its savepoint
//     and fails alone: the others in the batch commit without it;
//   - transactions in a batch run one after the other on one connection,
//     each seeing the ones before it, exactly as if they had been
//     serialised by the single writer — which they were before too.
//
// No goroutine of its own: the first caller to find no batch running
// becomes the leader and runs batches until its own transaction is done,
// then hands leadership to the oldest waiter, so a leader under sustained
// load is not kept running everybody else's work forever.
type committer struct {
	s   *Store
	max int // most transactions in one batch

	mu      sync.Mutex
	queue   []*txRequest
	leading bool

	batches, transactions atomic.Int64 // run so far, for GroupCommitStats
	busy                  atomic.Int64 // nanoseconds spent running batches
}

// GroupCommitStats counts what group commit has run: database transactions
// (batches), the callers' transactions in them, and the time spent running
// batches — from BEGIN to the end of COMMIT, the one writer's busy time.
type GroupCommitStats struct {
	Batches, Transactions int64
	Busy                  time.Duration
}

// GroupCommitStats returns the counts so far; zero without group commit.
func (s *Store) GroupCommitStats() GroupCommitStats {
	if s.group == nil {
		return GroupCommitStats{}
	}
	return GroupCommitStats{Batches: s.group.batches.Load(), Transactions: s.group.transactions.Load(),
		Busy: time.Duration(s.group.busy.Load())}
}

// txRequest is one caller's transaction waiting in, or run by, a batch.
type txRequest struct {
	ctx   context.Context
	fn    func(c conn) error
	alone bool // store.Alone: a batch of its own

	// wake receives once the request is finished or its caller has
	// become the leader.
	wake     chan struct{}
	finished bool
	err      error
	panicked any // a panic in fn, re-raised in the caller's goroutine
}

func newCommitter(s *Store, max int) *committer {
	return &committer{s: s, max: max}
}

// run runs fn in a batch and returns its result once the batch committed
// (or fn failed).
func (g *committer) run(ctx context.Context, fn func(c conn) error) error {
	r := &txRequest{ctx: ctx, fn: fn, wake: make(chan struct{}, 1), alone: store.IsAlone(ctx)}
	g.mu.Lock()
	g.queue = append(g.queue, r)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()

	if !lead {
		// The request stays queued even if ctx ends: the leader may be
		// running it right now. The leader skips it if ctx has ended
		// before its turn.
		<-r.wake
	}
	if !r.finished {
		g.lead(r)
	}
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.err
}

// lead runs batches until self is finished, then passes leadership on.
func (g *committer) lead(self *txRequest) {
	for !self.finished {
		g.mu.Lock()
		n := g.batchSize()
		batch := make([]*txRequest, n)
		copy(batch, g.queue)
		g.queue = g.queue[n:]
		g.mu.Unlock()

		retry := g.runBatch(batch)
		if len(retry) > 0 {
			// Put them back at the front, in their order.
			g.mu.Lock()
			g.queue = append(retry, g.queue...)
			g.mu.Unlock()
		}
		for _, r := range batch {
			if r.finished && r != self {
				r.wake <- struct{}{}
			}
		}
	}
	g.mu.Lock()
	if len(g.queue) == 0 {
		g.leading = false
	} else {
		g.queue[0].wake <- struct{}{} // the oldest waiter leads next
	}
	g.mu.Unlock()
}

// batchSize is how many queued requests the next batch takes: up to max,
// ending before a request that must run alone (store.Alone), which is a
// batch of its own when it heads the queue. g.mu is held.
func (g *committer) batchSize() int {
	n := 0
	for n < len(g.queue) && n < g.max {
		if g.queue[n].alone {
			if n == 0 {
				n = 1
			}
			break
		}
		n++
	}
	return n
}

// GroupCommitQueued returns how many transactions wait for a batch; for
// tests.
func (s *Store) GroupCommitQueued() int {
	if s.group == nil {
		return 0
	}
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.queue)
}

// runBatch runs batch in one transaction and finishes every request it
// can; it returns those that must run again in a later batch, because a
// failure outside their own code (the database abandoning the whole
// transaction) undid them.
func (g *committer) runBatch(batch []*txRequest) (retry []*txRequest) {
	s := g.s
	// The batch belongs to no single caller: one caller giving up must not
	// roll back the others.
	ctx := context.Background()
	g.batches.Add(1)
	g.transactions.Add(int64(len(batch)))
	start := time.Now()
	defer func() { g.busy.Add(int64(time.Since(start))) }()
	tx, err := s.cfg.Begin(ctx)
	if err != nil {
		err = fmt.Errorf("begin: %w", s.cfg.Dialect.Interpret(err))
		for _, r := range batch {
			r.finish(err, nil)
		}
		return nil
	}
	touched := &touchSet{}
	// The batch's stock changes are dropped from the cache before its
	// callers are woken (lead wakes them after runBatch returns).
	defer s.afterTx(touched)
	// Several callers' transactions: none of them may interrupt the
	// others' (conn.detached). Alone, a caller's cancellation still
	// interrupts its own.
	c := conn{raw: tx, d: s.cfg.Dialect, touched: touched, detached: len(batch) > 1}
	if len(batch) == 1 {
		// Alone (light load, or a serial caller): no savepoint needed —
		// a failure rolls back the whole transaction, which is only its
		// own. The two statements a savepoint costs were a quarter of a
		// serial insert's time.
		g.runAlone(ctx, tx, c, batch[0])
		return nil
	}
	var done []*txRequest // ran without error, waiting for COMMIT
	broken := false
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.finish(err, nil)
			continue
		}
		if _, err := c.exec(ctx, `SAVEPOINT group_tx`); err != nil {
			// The transaction is unusable: this one and the rest run
			// again in a new one.
			retry = append(retry, batch[i:]...)
			broken = true
			break
		}
		p, err := r.call(c)
		if err == nil && p == nil {
			if _, err := c.exec(ctx, `RELEASE group_tx`); err == nil {
				done = append(done, r)
				continue
			}
			// RELEASE failed: the database dropped the transaction under us.
			retry = append(retry, r)
			retry = append(retry, batch[i+1:]...)
			broken = true
			break
		}
		r.finish(err, p)
		_, rbErr := c.exec(ctx, `ROLLBACK TO group_tx`)
		if rbErr == nil {
			_, rbErr = c.exec(ctx, `RELEASE group_tx`)
		}
		if rbErr != nil {
			// The failure took the whole transaction with it (SQLite
			// rolls back everything on some errors, an interrupt for
			// one): what ran before it must run again.
			retry = append(retry, batch[i+1:]...)
			broken = true
			break
		}
	}
	if broken {
		_ = tx.Rollback(ctx)
		return append(done, retry...)
	}
	if len(done) == 0 {
		_ = tx.Rollback(ctx)
		return nil
	}
	if err := s.beforeCommit(ctx, c); err != nil {
		_ = tx.Rollback(ctx)
		for _, r := range done {
			r.finish(err, nil)
		}
		return nil
	}
	if err := tx.Commit(ctx); err != nil {
		_ = tx.Rollback(ctx)
		err = fmt.Errorf("commit: %w", s.cfg.Dialect.Interpret(err))
		for _, r := range done {
			r.finish(err, nil)
		}
		return nil
	}
	for _, r := range done {
		r.finish(nil, nil)
	}
	return nil
}

// runAlone runs a batch of one request as a plain transaction.
func (g *committer) runAlone(ctx context.Context, tx Tx, c conn, r *txRequest) {
	if err := r.ctx.Err(); err != nil {
		_ = tx.Rollback(ctx)
		r.finish(err, nil)
		return
	}
	p, err := r.call(c)
	if err == nil && p == nil {
		err = g.s.beforeCommit(ctx, c)
	}
	if err != nil || p != nil {
		_ = tx.Rollback(ctx)
		r.finish(err, p)
		return
	}
	if err := tx.Commit(ctx); err != nil {
		_ = tx.Rollback(ctx)
		r.finish(fmt.Errorf("commit: %w", g.s.cfg.Dialect.Interpret(err)), nil)
		return
	}
	r.finish(nil, nil)
}

// call runs the request's fn, catching a panic so that the batch goes on.
func (r *txRequest) call(c conn) (panicked any, err error) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
		}
	}()
	return nil, r.fn(c)
}

func (r *txRequest) finish(err error, panicked any) {
	r.finished, r.err, r.panicked = true, err, panicked
}
