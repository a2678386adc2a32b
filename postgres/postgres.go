// Package postgres is the store backend on PostgreSQL, through pgx/v5 and
// its pool (natively, not database/sql, so that later work can use pgx
// batches and COPY). It owns the pool setup, the translation of
// PostgreSQL's errors, and its migrations in migration/. The queries
// themselves are shared with the sqlite backend in store/sqlstore.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/store"
	"github.com/orderly-oms/orderly/store/sqlstore"
)

//go:embed migration/*.sql
var migrationFiles embed.FS

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	*sqlstore.Store
	pool    *pgxpool.Pool
	dialect *sqlstore.Dialect
	channel string // of the stock notices
	logger  atomic.Pointer[slog.Logger]
	stop    context.CancelFunc // ends the stock listener
	stopped chan struct{}      // closed when it has ended
}

var _ store.Store = (*Store)(nil)

// DefaultMaxConns is the pool's size when the URL does not set
// pool_max_conns. pgx's own default (the larger of 4 and the CPU count)
// left intake waiting for a connection while four transactions waited for
// their commits: on two cores, 8 connections took about a third more
// orders per second than 4 (docs/benchmarks.md). Connections open only
// when needed.
const DefaultMaxConns = 8

// Open connects to the database at url (a postgres:// URL or key=value
// connection string; pgxpool's pool_* parameters are honoured) and checks
// that it answers. It does not migrate; call Migrate.
//
// Transactions run at READ COMMITTED. InTx runs a transaction again when
// PostgreSQL aborts it with a serialisation failure or deadlock.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The error may quote the URL, password included: do not wrap it.
		return nil, errors.New("postgres: cannot parse the connection URL")
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		// Read timestamptz in UTC, whatever the session's time zone.
		c.TypeMap().RegisterType(&pgtype.Type{
			Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: read the schema: %w", err)
	}
	channel := stockChannel(schema)
	migrations, err := fs.Sub(migrationFiles, "migration")
	if err != nil {
		panic(err) // the embedded folder is there by construction
	}
	s := &Store{pool: pool, dialect: &sqlstore.Dialect{
		Name:           "postgres",
		Numbered:       true,
		InterpretError: interpretError,
		// A sequence does not serialise inserts on one counter row; the
		// price is a gap when an inserting transaction rolls back.
		NextOrderNumber:    `nextval('order_number')`,
		NextTrackingNumber: `SELECT nextval('tracking_number')`,
		// Row locks taken in (sku, location) order keep concurrent
		// captures from deadlocking and from planning on stale balances.
		ForUpdate:             ` FOR UPDATE`,
		WritableCTE:           true,
		SkipLocked:            ` FOR UPDATE SKIP LOCKED`,
		TxHorizon:             `pg_snapshot_xmin(pg_current_snapshot())::text::bigint`,
		EventsAfter:           `(e.txid, e.seq) > (%[1]s, %[2]s)`,
		MigrationsTable:       `CREATE TABLE IF NOT EXISTS schema_migrations (name text COLLATE "C" PRIMARY KEY, applied_at timestamptz NOT NULL)`,
		MigrationsTableExists: `SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'`,
		// One lock per schema: migrators of different schemas in one
		// database do not wait for each other.
		LockMigrations: `SELECT pg_advisory_xact_lock(7406, hashtext(current_schema()))`,
	}}
	s.Store = sqlstore.New(sqlstore.Config{
		Dialect: s.dialect,
		Read:    conn{pool},
		Write:   conn{pool},
		// BEGIN goes to the server with the transaction's first statement.
		Begin: func(ctx context.Context) (sqlstore.Tx, error) {
			c, err := pool.Acquire(ctx)
			if err != nil {
				return nil, err
			}
			return &lazyTx{c: c}, nil
		},
		Migrations:   migrations,
		StockChannel: channel,
	})
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop, s.stopped, s.channel = stop, make(chan struct{}), channel
	go func() {
		defer close(s.stopped)
		s.listen(lctx, cfg.ConnConfig.Copy(), channel)
	}()
	return s, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping: %w", s.dialect.Interpret(err))
	}
	return nil
}

// Backend returns "postgres".
func (s *Store) Backend() string { return "postgres" }

// PoolStats reports the pgx pool.
func (s *Store) PoolStats() store.PoolStats {
	st := s.pool.Stat()
	return store.PoolStats{
		MaxOpen:      int(st.MaxConns()),
		Open:         int(st.TotalConns()),
		InUse:        int(st.AcquiredConns()),
		Idle:         int(st.IdleConns()),
		WaitCount:    st.EmptyAcquireCount(),
		WaitDuration: st.EmptyAcquireWaitTime(),
	}
}

// AnalyzeStock implements store.Store.
func (s *Store) AnalyzeStock(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `ANALYZE stock_balances`); err != nil {
		return fmt.Errorf("analyze stock balances: %w", s.dialect.Interpret(err))
	}
	return nil
}

// Autovacuum reports whether the server runs autovacuum. Orderly relies
// on it: every reservation updates a balance row, leaving a dead version
// behind, and statistics after bulk loads are only refreshed by it
// (beyond AnalyzeStock).
func (s *Store) Autovacuum(ctx context.Context) (bool, error) {
	var v string
	if err := s.pool.QueryRow(ctx, `SHOW autovacuum`).Scan(&v); err != nil {
		return false, fmt.Errorf("show autovacuum: %w", s.dialect.Interpret(err))
	}
	return v == "on", nil
}

// Close closes every connection, waiting for those in use to be released.
func (s *Store) Close() error {
	s.stop()
	<-s.stopped
	s.pool.Close()
	return nil
}

// interpretError maps PostgreSQL's SQLSTATE codes and pgx's connection
// errors to orderly error kinds; see sqlstore.Dialect.InterpretError.
func interpretError(err error) *orderly.Error {
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.NotFoundError()
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return sqlstore.DuplicateError()
		case "23503": // foreign_key_violation
			return sqlstore.ForeignKeyError()
		case "23502", "23514": // not_null_violation, check_violation
			return sqlstore.InvalidError()
		case "40001", "40P01": // serialisation failure, deadlock detected
			return sqlstore.RetryError()
		case "55P03", "57014": // lock_not_available, query_canceled (statement timeout)
			return sqlstore.BusyError()
		case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return sqlstore.UnavailableError()
		}
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection_exception
			strings.HasPrefix(pe.Code, "53"): // insufficient_resources (too many connections, disk full)
			return sqlstore.UnavailableError()
		}
		return nil
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return sqlstore.UnavailableError()
	}
	return nil
}
