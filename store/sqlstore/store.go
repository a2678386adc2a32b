package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/secret"
	"github.com/orderly-oms/orderly/store"
)

// Config is what a backend hands New.
type Config struct {
	Dialect *Dialect
	// Read runs reads outside transactions (SQLite: a pool of read-only
	// connections; PostgreSQL: the pool).
	Read Conn
	// Write runs single-statement writes outside transactions (SQLite: the
	// one writer connection; PostgreSQL: the pool).
	Write Conn
	// Begin starts a write transaction (SQLite: BEGIN IMMEDIATE on the
	// writer).
	Begin func(ctx context.Context) (Tx, error)
	// Migrations holds the backend's numbered NNNN_name.sql files at its
	// root.
	Migrations fs.FS
	// GroupCommit, if above zero, runs concurrent write transactions
	// together, up to that many in one database transaction (group.go).
	// For a backend with one writer (SQLite); the transactions must not
	// depend on running in separate database transactions.
	GroupCommit int
	// StockCacheBalances bounds the stock cache (stockcache.go); 0 means
	// DefaultStockCacheBalances, below 0 no cache.
	StockCacheBalances int
	// StockChannel, if set, is the PostgreSQL notification channel on
	// which other processes writing the database listen for the SKUs a
	// transaction touched; the backend's listener calls StockCacheOn once
	// it listens there. Without it the cache starts on: no other process
	// writes the database (SQLite).
	StockChannel string
}

// MaxTxAttempts bounds how many times InTx runs a transaction that the
// database keeps aborting with a retryable conflict.
const MaxTxAttempts = 4

// Store implements every method of store.Store that is not about the
// backend's connections: the queries (through the embedded Querier), InTx,
// Migrate and MigrationStatus. A backend embeds it and adds Ping, Backend,
// PoolStats and Close.
type Store struct {
	*Querier
	cfg   Config
	group *committer // nil without GroupCommit
	stock *stockCache
	node  string // this store's id in stock notices
}

// New returns the shared part of a store.
func New(cfg Config) *Store {
	s := &Store{cfg: cfg, node: orderly.NewID()}
	max := cfg.StockCacheBalances
	if max == 0 {
		max = DefaultStockCacheBalances
	}
	s.stock = newStockCache(max, max > 0 && cfg.StockChannel == "")
	if cfg.GroupCommit > 0 {
		s.group = newCommitter(s, cfg.GroupCommit)
	}
	write := cfg.Write
	if s.group != nil {
		write = batchedExec{Conn: cfg.Write, group: s.group}
	}
	s.Querier = &Querier{
		d:      cfg.Dialect,
		read:   conn{raw: cfg.Read, d: cfg.Dialect},
		write:  conn{raw: write, d: cfg.Dialect},
		atomic: s.retryTx,
		stock:  s.stock,
	}
	return s
}

// batchedExec runs the single-statement writes made outside a transaction
// (recording an idempotent response, finishing a job, …) in the next
// group-commit batch rather than on the writer connection between
// batches: there each was a transaction of its own with its own fsync,
// and on the HTTP intake path they came to two per order — more commits
// than the batches themselves. A statement that fails is rolled back to its
// savepoint and fails alone, as it did alone. Queries (a SELECT, an
// UPDATE … RETURNING) still go to the writer directly: their rows are read
// after the call returns, when the batch has moved on.
type batchedExec struct {
	Conn
	group *committer
}

func (b batchedExec) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := b.group.run(ctx, func(c conn) error {
		var err error
		n, err = c.raw.Exec(ctx, query, args...)
		return err
	})
	return n, err
}

// InTx runs fn in one write transaction; see store.Store. A transaction the
// database aborts with a serialisation failure or deadlock is run again, up
// to MaxTxAttempts times in all, after a short random pause.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Querier) error) error {
	return s.retryTx(ctx, func(c conn) error {
		return fn(&Querier{d: s.cfg.Dialect, read: c, write: c, seal: s.seal})
	})
}

// retryTx is runTx, run again while the database reports a retryable
// conflict.
func (s *Store) retryTx(ctx context.Context, fn func(c conn) error) error {
	for attempt := 1; ; attempt++ {
		err := s.runTx(ctx, fn)
		if err == nil || attempt == MaxTxAttempts || !errors.Is(err, errRetry) {
			return err
		}
		pause := time.Duration(attempt) * time.Duration(1+rand.IntN(10)) * time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

// runTx runs fn in one transaction, committing if it returns nil and
// rolling back otherwise, including when fn panics (the panic goes on).
func (s *Store) runTx(ctx context.Context, fn func(c conn) error) error {
	if s.group != nil {
		return s.group.run(ctx, fn)
	}
	return s.soloTx(ctx, fn)
}

// soloTx runs fn in a database transaction of its own, never batched:
// for migrations, whose DDL must not share a transaction with anything.
func (s *Store) soloTx(ctx context.Context, fn func(c conn) error) error {
	tx, err := s.cfg.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", s.cfg.Dialect.Interpret(err))
	}
	committed := false
	defer func() {
		if !committed {
			// The caller's context may be what failed; the rollback must
			// still reach the database.
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	touched := &touchSet{}
	defer s.afterTx(touched)
	c := conn{raw: tx, d: s.cfg.Dialect, touched: touched}
	if err := fn(c); err != nil {
		return err
	}
	if err := s.beforeCommit(ctx, c); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", s.cfg.Dialect.Interpret(err))
	}
	committed = true
	return nil
}

// Querier implements store.Querier in SQL. Outside a transaction it reads
// through the backend's read connections and runs each write that takes
// more than one statement in a transaction of its own; inside InTx every
// statement goes through the transaction.
type Querier struct {
	d     *Dialect
	read  conn
	write conn
	// atomic runs a multi-statement write; nil inside a transaction,
	// which is atomic already.
	atomic func(ctx context.Context, fn func(c conn) error) error
	// stock is the store's stock cache; nil inside a transaction, whose
	// reads must see its own writes.
	stock *stockCache
	// seal seals and opens the secrets the store keeps (secrets.go); nil
	// keeps them as they are.
	seal *secret.Keyring
}

// inTx runs fn atomically: in the current transaction, or in a new one.
func (q *Querier) inTx(ctx context.Context, fn func(c conn) error) error {
	if q.atomic == nil {
		return fn(q.write)
	}
	return q.atomic(ctx, fn)
}

var _ store.Querier = (*Querier)(nil)
