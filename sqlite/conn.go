package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/orderly-oms/orderly/store/sqlstore"
)

// TimeLayout is how times are stored: UTC, fixed width, microseconds, so
// that they compare and sort correctly as text and read back equal to a
// time truncated to microseconds.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// formatTime returns the stored form of t.
func formatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// execer is what *sql.DB and *sql.Tx have in common.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn adapts database/sql to sqlstore.Conn, storing time.Time arguments
// as TimeLayout text and scanning such text back into *time.Time and
// **time.Time destinations.
type conn struct {
	db execer
	// yield, if set, runs after each read statement ends (its rows
	// closed, its row scanned): runtime.Gosched on the readers.
	//
	// Why: every connection of the process shares SQLite's page-cache
	// mutex and the C heap's lock (modernc builds SQLite with
	// SQLITE_ENABLE_MEMORY_MANAGEMENT), Go mutexes both. When the one
	// writer finds one held by a reader it parks, and the reader's
	// unlock readies it on the reader's P, where it waits until that
	// goroutine stops — ~0.8 ms, 20% of the writer's time under intake
	// (docs/benchmarks.md, ninth session; decision 0019). A reader that yields at the
	// end of its statement lets a writer it woke run at once.
	yield func()
}

func (c conn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := c.db.ExecContext(ctx, q, timeArgs(args)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c conn) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	rs, err := c.db.QueryContext(ctx, q, timeArgs(args)...) //nolint:rowserrcheck // the caller checks Err on the returned Rows
	if err != nil {
		return nil, err
	}
	return rows{rs, c.yield}, nil
}

func (c conn) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return row{c.db.QueryRowContext(ctx, q, timeArgs(args)...), c.yield}
}

// txConn is a write transaction.
type txConn struct {
	conn
	tx *sql.Tx
}

func (t txConn) Commit(context.Context) error { return t.tx.Commit() }

func (t txConn) Rollback(context.Context) error {
	if err := t.tx.Rollback(); !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

type rows struct {
	rs    *sql.Rows
	yield func()
}

func (r rows) Next() bool             { return r.rs.Next() }
func (r rows) Scan(dest ...any) error { return r.rs.Scan(timeDests(dest)...) }
func (r rows) Err() error             { return r.rs.Err() }

func (r rows) Close() {
	r.rs.Close()
	if r.yield != nil {
		r.yield()
	}
}

type row struct {
	r     *sql.Row
	yield func()
}

// Scan reads the row; database/sql closes its statement before returning.
func (r row) Scan(dest ...any) error {
	err := r.r.Scan(timeDests(dest)...)
	if r.yield != nil {
		r.yield()
	}
	return err
}

// timeArgs returns args with every time.Time and *time.Time in stored
// form; it copies args only if it has to change one.
func timeArgs(args []any) []any {
	out, copied := args, false
	for i, a := range args {
		var v any
		switch t := a.(type) {
		case time.Time:
			v = formatTime(t)
		case *time.Time:
			if t != nil {
				v = formatTime(*t)
			}
		default:
			continue
		}
		if !copied {
			out, copied = append([]any(nil), args...), true
		}
		out[i] = v
	}
	return out
}

// timeDests returns dest with every *time.Time and **time.Time replaced by
// a scanner that parses the stored form.
func timeDests(dest []any) []any {
	out, copied := dest, false
	for i, d := range dest {
		var s sql.Scanner
		switch t := d.(type) {
		case *time.Time:
			s = timeScanner{t}
		case **time.Time:
			s = nullTimeScanner{t}
		default:
			continue
		}
		if !copied {
			out, copied = append([]any(nil), dest...), true
		}
		out[i] = s
	}
	return out
}

type timeScanner struct{ t *time.Time }

func (s timeScanner) Scan(src any) error {
	if src == nil {
		return fmt.Errorf("sqlite: NULL where a time is required")
	}
	return parseTime(src, s.t)
}

type nullTimeScanner struct{ t **time.Time }

func (s nullTimeScanner) Scan(src any) error {
	if src == nil {
		*s.t = nil
		return nil
	}
	var t time.Time
	if err := parseTime(src, &t); err != nil {
		return err
	}
	*s.t = &t
	return nil
}

func parseTime(src any, dst *time.Time) error {
	var text string
	switch v := src.(type) {
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return fmt.Errorf("sqlite: stored time is %T, not text", src)
	}
	t, err := time.Parse(TimeLayout, text)
	if err != nil {
		return fmt.Errorf("sqlite: stored time %q: %w", text, err)
	}
	*dst = t
	return nil
}
