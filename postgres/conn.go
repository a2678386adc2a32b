package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/orderly-oms/orderly/store/sqlstore"
)

// pgxConn is what *pgxpool.Pool and pgx.Tx have in common.
type pgxConn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// conn adapts pgx to sqlstore.Conn. pgx binds and scans every type the
// core uses natively (timestamptz is read in UTC, see Open).
type conn struct{ c pgxConn }

func (c conn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := c.c.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

func (c conn) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	rs, err := c.c.Query(ctx, q, args...) //nolint:sqlclosecheck // the caller closes the returned Rows
	if err != nil {
		return nil, err
	}
	return rs, nil
}

func (c conn) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return c.c.QueryRow(ctx, q, args...)
}

// SendBatch sends stmts in one pipeline when the connection is the pool
// (a pgx batch on one of its connections, one round trip); see
// sqlstore.Batcher. Reads outside transactions use it (IntakeRead).
func (c conn) SendBatch(ctx context.Context, stmts []sqlstore.Stmt) sqlstore.BatchResults {
	p, ok := c.c.(interface {
		SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	})
	if !ok {
		return errBatch{errors.New("postgres: this connection cannot send a batch")}
	}
	b := &pgx.Batch{}
	for _, s := range stmts {
		b.Queue(s.Query, s.Args...)
	}
	return pgxBatch{p.SendBatch(ctx, b)}
}
