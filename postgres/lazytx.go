package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderly-oms/orderly/store/sqlstore"
)

// lazyTx is a write transaction whose BEGIN is not a round trip of its
// own: it goes to the server in one pipeline (a pgx batch, one Sync) with
// the transaction's first statement. The batch runs BEGIN first, so the
// statement runs inside the transaction exactly as it would after a
// separate BEGIN; if the statement fails, the transaction is aborted and
// rolled back as any other. A transaction that runs no statement never
// reaches the server at all. Every later statement, COMMIT and ROLLBACK
// run on the connection as usual.
type lazyTx struct {
	c        *pgxpool.Conn
	begun    bool // BEGIN has been sent
	closed   bool // committed or rolled back; the connection is released
	deferred []sqlstore.Stmt
}

// DeferExec queues a statement to run at COMMIT, in COMMIT's round trip;
// see sqlstore.Deferrer.
func (t *lazyTx) DeferExec(q string, args ...any) {
	t.deferred = append(t.deferred, sqlstore.Stmt{Query: q, Args: args})
}

// errTxClosed is what a statement on a finished transaction gets.
var errTxClosed = errors.New("postgres: the transaction has ended")

// beginWith sends BEGIN and q in one batch and returns the batch, whose
// second result is q's; the caller reads it and closes the batch.
func (t *lazyTx) beginWith(ctx context.Context, q string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue(q, args...)
	br := t.c.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return nil, err
	}
	t.begun = true
	return br, nil
}

func (t *lazyTx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	if t.closed {
		return 0, errTxClosed
	}
	if t.begun {
		tag, err := t.c.Exec(ctx, q, args...)
		return tag.RowsAffected(), err
	}
	br, err := t.beginWith(ctx, q, args)
	if err != nil {
		return 0, err
	}
	tag, err := br.Exec()
	return tag.RowsAffected(), errors.Join(err, br.Close())
}

func (t *lazyTx) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	if t.closed {
		return nil, errTxClosed
	}
	if t.begun {
		rs, err := t.c.Query(ctx, q, args...) //nolint:sqlclosecheck // the caller closes the returned Rows
		if err != nil {
			return nil, err
		}
		return rs, nil
	}
	br, err := t.beginWith(ctx, q, args)
	if err != nil {
		return nil, err
	}
	rs, err := br.Query() //nolint:sqlclosecheck // batchRows closes them
	if err != nil {
		rs.Close()
		return nil, errors.Join(err, br.Close())
	}
	return &batchRows{Rows: rs, br: br}, nil
}

func (t *lazyTx) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	if t.closed {
		return errRow{errTxClosed}
	}
	if t.begun {
		return t.c.QueryRow(ctx, q, args...)
	}
	br, err := t.beginWith(ctx, q, args)
	if err != nil {
		return errRow{err}
	}
	return batchRow{r: br.QueryRow(), br: br}
}

// Commit commits what the transaction did; one that did nothing has
// nothing to commit.
func (t *lazyTx) Commit(ctx context.Context) error {
	if t.closed {
		return errTxClosed
	}
	t.closed = true
	defer t.c.Release() // a connection left inside a transaction is destroyed, not pooled
	if len(t.deferred) > 0 {
		return t.commitDeferred(ctx)
	}
	if !t.begun {
		return nil
	}
	tag, err := t.c.Exec(ctx, "commit")
	if err != nil {
		return err
	}
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// commitDeferred sends the deferred statements and COMMIT (led by BEGIN if
// nothing else ran) in one batch. A deferred statement that fails aborts
// the transaction, and its error is the commit's.
func (t *lazyTx) commitDeferred(ctx context.Context) error {
	b := &pgx.Batch{}
	if !t.begun {
		b.Queue("begin")
	}
	for _, d := range t.deferred {
		b.Queue(d.Query, d.Args...)
	}
	b.Queue("commit")
	br := t.c.SendBatch(ctx, b)
	var err error
	if !t.begun {
		_, err = br.Exec()
	}
	for range t.deferred {
		if err != nil {
			break
		}
		_, err = br.Exec()
	}
	if err == nil {
		var tag pgconn.CommandTag
		if tag, err = br.Exec(); err == nil && tag.String() == "ROLLBACK" {
			err = pgx.ErrTxCommitRollback
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// The batch stopped at the failing statement: end the
		// transaction before the connection goes back to the pool.
		_, _ = t.c.Exec(context.WithoutCancel(ctx), "rollback")
	}
	return err
}

// Rollback undoes the transaction; after Commit it does nothing.
func (t *lazyTx) Rollback(ctx context.Context) error {
	if t.closed {
		return nil
	}
	t.closed = true
	defer t.c.Release()
	if !t.begun {
		return nil
	}
	_, err := t.c.Exec(ctx, "rollback")
	return err
}

// batchRows are the rows of a batch's last statement; closing them closes
// the batch, which frees the connection.
type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if r.br != nil {
		_ = r.br.Close() // an error of the statement is the rows' Err
		r.br = nil
	}
}

// batchRow is the row of a batch's last statement; scanning it closes the
// batch. sqlstore scans every row it asks for.
type batchRow struct {
	r  pgx.Row
	br pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// SendBatch sends stmts to the server in one pipeline (a pgx batch, one
// Sync), led by BEGIN if the transaction has not begun; see
// sqlstore.Batcher.
func (t *lazyTx) SendBatch(ctx context.Context, stmts []sqlstore.Stmt) sqlstore.BatchResults {
	if t.closed {
		return errBatch{errTxClosed}
	}
	b := &pgx.Batch{}
	begin := !t.begun
	if begin {
		b.Queue("begin")
	}
	for _, s := range stmts {
		b.Queue(s.Query, s.Args...)
	}
	br := t.c.SendBatch(ctx, b)
	if begin {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return errBatch{err}
		}
		t.begun = true
	}
	return pgxBatch{br}
}

// pgxBatch adapts pgx's batch results to sqlstore.BatchResults.
type pgxBatch struct{ br pgx.BatchResults }

func (b pgxBatch) Query() (sqlstore.Rows, error) {
	rs, err := b.br.Query() //nolint:sqlclosecheck // the caller closes the returned Rows
	if err != nil {
		rs.Close()
		return nil, err
	}
	return rs, nil
}

func (b pgxBatch) Close() error { return b.br.Close() }

// errBatch is a batch that failed before it was sent.
type errBatch struct{ err error }

func (b errBatch) Query() (sqlstore.Rows, error) { return nil, b.err }
func (b errBatch) Close() error                  { return b.err }
