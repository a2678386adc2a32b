// Package sqlite is the store backend on an embedded SQLite file
// (modernc.org/sqlite, pure Go). It owns the connection setup — WAL,
// synchronous=FULL, one writer whose transactions begin IMMEDIATE, a pool
// of read-only readers —, the translation of SQLite's errors and time
// values, and its migrations in migration/. The queries themselves are
// shared with the postgres backend in store/sqlstore.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"runtime"
	"slices"
	"strings"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/store"
	"github.com/orderly-oms/orderly/store/sqlstore"
)

//go:embed migration/*.sql
var migrationFiles embed.FS

// Store is a store.Store on one SQLite file.
type Store struct {
	*sqlstore.Store
	write   *sql.DB // one connection: SQLite has one writer at a time
	read    *sql.DB // read-only connections for reads outside transactions
	ckpt    *checkpointer
	dialect *sqlstore.Dialect
}

var _ store.Store = (*Store)(nil)

// BusyTimeoutMillis is how long a connection waits for a lock held by
// another connection (or process) before failing with SQLITE_BUSY.
const BusyTimeoutMillis = 5000

// GroupCommitMax is the most write transactions batched into one SQLite
// transaction. Batches form on their own from the transactions that arrive
// while the previous batch runs, so under light load a batch is one
// transaction; the bound keeps one batch's latency in check under heavy load.
const GroupCommitMax = 64

// Open opens (creating if needed) the SQLite database file at path. It
// does not migrate; call Migrate.
//
// Every connection runs in WAL mode with synchronous=FULL, so a committed
// transaction survives a power cut, and with foreign keys enforced. Writes
// go through a single connection whose transactions start with BEGIN
// IMMEDIATE, taking the write lock up front rather than failing with
// SQLITE_BUSY halfway; reads outside transactions use a pool of read-only
// connections that WAL lets run beside the writer; one more connection
// checkpoints the WAL in the background (checkpoint.go).
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: %q is not a plain file path", path)
	}
	params := url.Values{
		"_busy_timeout": {fmt.Sprint(BusyTimeoutMillis)},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_foreign_keys": {"1"},
		// Savepoint and statement journals in memory: group commit runs
		// every transaction of a batch in a savepoint, and a journal file
		// written for each would cost as much as the WAL itself. They
		// hold nothing durable: the WAL does.
		"_pragma": {"temp_store(memory)"},
	}

	// The checkpointer's connection: neither the writer's BEGIN IMMEDIATE
	// nor the readers' query_only.
	ckptDSN := path + "?" + params.Encode()
	params.Set("_txlock", "immediate")
	writerParams := maps.Clone(params)
	// The writer checkpoints by itself only as a backstop; see checkpoint.go.
	writerParams["_pragma"] = slices.Concat(params["_pragma"], []string{fmt.Sprintf("wal_autocheckpoint(%d)", WALBackstopPages)})
	write, err := openDB(path + "?" + writerParams.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	// The writer connects first so that it alone switches a new file to WAL.
	if err := write.PingContext(ctx); err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	params.Del("_txlock")
	params.Set("_query_only", "1")
	read, err := openDB(path + "?" + params.Encode())
	if err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	read.SetConnMaxLifetime(0)
	read.SetConnMaxIdleTime(0)
	if err := read.PingContext(ctx); err != nil {
		_ = write.Close()
		_ = read.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	ckpt, err := openDB(ckptDSN)
	if err != nil {
		_ = write.Close()
		_ = read.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ckpt.SetMaxOpenConns(1)
	ckpt.SetMaxIdleConns(1)
	ckpt.SetConnMaxLifetime(0)
	ckpt.SetConnMaxIdleTime(0)

	migrations, err := fs.Sub(migrationFiles, "migration")
	if err != nil {
		panic(err) // the embedded folder is there by construction
	}
	s := &Store{write: write, read: read, dialect: &sqlstore.Dialect{
		Name:           "sqlite",
		InterpretError: interpretError,
		// The counter row moves in the same transaction, after the
		// insert succeeded: numbers have no gaps, and the one writer
		// means no two transactions read the same value.
		NextOrderNumber:       `(SELECT last_number + 1 FROM order_counter WHERE id = 1)`,
		OrderNumberTaken:      `UPDATE order_counter SET last_number = ? WHERE id = 1`,
		NextTrackingNumber:    `UPDATE tracking_counter SET last_number = last_number + 1 WHERE id = 1 RETURNING last_number`,
		TxHorizon:             `9223372036854775807`,
		EventsAfter:           `e.txid = %[1]s AND e.seq > %[2]s`,
		PackedBalances:        `group_concat(location || char(31) || on_hand || char(31) || reserved || char(31) || safety_stock, char(30))`,
		MigrationsTable:       `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL) STRICT`,
		MigrationsTableExists: `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`,
	}}
	s.Store = sqlstore.New(sqlstore.Config{
		Dialect: s.dialect,
		Read:    conn{db: read, yield: func() { readerYield() }},
		Write:   conn{db: write},
		Begin: func(ctx context.Context) (sqlstore.Tx, error) {
			tx, err := write.BeginTx(ctx, nil) // BEGIN IMMEDIATE, from _txlock
			if err != nil {
				return nil, err
			}
			return txConn{conn{db: tx}, tx}, nil
		},
		Migrations: migrations,
		// One writer: concurrent transactions share one COMMIT (and one
		// fsync) instead of queueing for the connection one by one.
		GroupCommit: GroupCommitMax,
	})
	s.ckpt = startCheckpointer(ckpt, func() int64 { return s.GroupCommitStats().Batches }, CheckpointInterval)
	return s, nil
}

// readerYield is what a reader runs after each statement (conn.yield);
// a variable for tests.
var readerYield = runtime.Gosched

// openDB returns a database/sql handle on dsn whose connections keep their
// statements prepared (see cachingConn).
func openDB(dsn string) (*sql.DB, error) {
	base, err := sqlitedrv.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(cachingConnector{Connector: base, size: StmtCacheSize}), nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", s.dialect.Interpret(err))
	}
	return nil
}

// AnalyzeStock implements store.Store: nothing to do on SQLite.
func (s *Store) AnalyzeStock(context.Context) error { return nil }

// Backend returns "sqlite".
func (s *Store) Backend() string { return "sqlite" }

// PoolStats reports the writer and the readers together.
func (s *Store) PoolStats() store.PoolStats {
	var p store.PoolStats
	for _, db := range []*sql.DB{s.write, s.read} {
		st := db.Stats()
		p.MaxOpen += st.MaxOpenConnections
		p.Open += st.OpenConnections
		p.InUse += st.InUse
		p.Idle += st.Idle
		p.WaitCount += st.WaitCount
		p.WaitDuration += st.WaitDuration
	}
	return p
}

// Close closes every connection.
func (s *Store) Close() error {
	return errors.Join(s.ckpt.close(), s.read.Close(), s.write.Close())
}

// interpretError maps SQLite's result codes to orderly error kinds; see
// sqlstore.Dialect.InterpretError.
func interpretError(err error) *orderly.Error {
	if errors.Is(err, sql.ErrNoRows) {
		return sqlstore.NotFoundError()
	}
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) {
		return sqlstore.UnavailableError()
	}
	var e *sqlitedrv.Error
	if !errors.As(err, &e) {
		return nil
	}
	// Extended result codes are on: Code is primary | extended<<8.
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return sqlstore.DuplicateError()
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqlstore.ForeignKeyError()
	case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		return sqlstore.InvalidError()
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return sqlstore.BusyError()
	case sqlite3.SQLITE_FULL:
		return sqlstore.UnavailableError()
	}
	return nil
}
