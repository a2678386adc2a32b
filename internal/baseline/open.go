package baseline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// OpenSQLite opens (creating) the SQLite file at path as Orderly's store
// does — WAL, synchronous=FULL, foreign keys, BEGIN IMMEDIATE — with conns
// connections, each of which may write.
func OpenSQLite(ctx context.Context, path string, conns int) (*sql.DB, Dialect, error) {
	q := url.Values{
		"_busy_timeout": {"5000"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_foreign_keys": {"1"},
		"_txlock":       {"immediate"},
	}
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, Dialect{}, fmt.Errorf("baseline: open %s: %w", path, err)
	}
	// One connection first, so that it alone switches a new file to WAL.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, Dialect{}, fmt.Errorf("baseline: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	return db, Dialect{Retryable: sqliteBusy}, nil
}

func sqliteBusy(err error) bool {
	var e *sqlitedrv.Error
	return errors.As(err, &e) && (e.Code()&0xff == sqlite3.SQLITE_BUSY || e.Code()&0xff == sqlite3.SQLITE_LOCKED)
}

// OpenPostgres opens the PostgreSQL database at dsn with conns
// connections (synchronous_commit as the server has it: on by default).
// The pgx pool's own parameters (pool_*) in dsn are dropped: database/sql
// keeps the pool here.
func OpenPostgres(ctx context.Context, dsn string, conns int) (*sql.DB, Dialect, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, Dialect{}, errors.New("baseline: the database URL does not parse")
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		return nil, Dialect{}, fmt.Errorf("baseline: open: %w", err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, Dialect{}, fmt.Errorf("baseline: open: %w", err)
	}
	return db, Dialect{Numbered: true}, nil
}
