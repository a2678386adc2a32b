// Package sqlstore owns the SQL that both storage backends share: every
// query and row mapping of store.Querier, written once with ? placeholders,
// the transaction runner behind store.Store.InTx, and the migration runner.
//
// A backend (package sqlite or postgres) supplies only what differs: a
// Dialect (placeholder style, error interpretation, order-number
// allocation, a few DDL and locking statements) and adapters from its driver
// to the small Conn, Rows, Row and Tx interfaces below. The core never sees
// a driver type; it imports only the store seam and the domain packages.
//
// Inside a transaction, the expected failures — a duplicate, a missing
// row, a stale version — leave the transaction usable on both backends
// (inserts skip conflicts instead of raising them), so a caller of InTx
// may handle them and go on. Any other error must end the transaction: on
// PostgreSQL the database has aborted it.
package sqlstore

import (
	"context"
	"slices"
)

// Conn is a database handle that runs statements: a pool, a single
// connection or a transaction. Queries arrive with the dialect's
// placeholders already in place; args are Go values the backend's adapter
// binds (string, int64, int, float64, *float64, bool, []byte, time.Time,
// *time.Time), converting them to its storage format where it must.
type Conn interface {
	// Exec runs a statement and returns the number of rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a statement that returns rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a statement expected to return at most one row; its
	// error, including "no rows", is reported by Row.Scan.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows is the result of Conn.Query. Scan accepts pointers to the types
// Conn accepts as arguments, plus **float64 and **time.Time for nullable
// columns and *[]byte for JSON and binary columns.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is the result of Conn.QueryRow.
type Row interface {
	// Scan copies the row's columns into dest, or reports the driver's
	// "no rows" error, which the dialect interprets as KindNotFound.
	Scan(dest ...any) error
}

// Tx is a write transaction a backend has begun.
type Tx interface {
	Conn
	Commit(ctx context.Context) error
	// Rollback undoes the transaction; after Commit it does nothing.
	Rollback(ctx context.Context) error
}

// conn is the core's view of a backend Conn: it rewrites placeholders for
// the dialect and interprets every error once, so no query code has to.
type conn struct {
	raw Conn
	d   *Dialect
	// touched collects the SKUs whose balances the transaction writes
	// (touch); nil outside a transaction, where no statement writes one.
	touched *touchSet
	// detached: statements run without their callers' cancellation. Set
	// for a group-commit batch of several transactions, which belongs to
	// no single caller: a caller hanging up mid-statement would have
	// SQLite interrupt it, and an interrupted statement rolls back the
	// whole database transaction — every other caller's work in the
	// batch ran again. (It also spares the driver a goroutine per
	// statement to watch the context.)
	detached bool
}

// ctx is the context a statement runs with: ctx, or without its
// cancellation if c is detached.
func (c conn) ctx(ctx context.Context) context.Context {
	if c.detached {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (c conn) exec(ctx context.Context, q string, args ...any) (int64, error) {
	n, err := c.raw.Exec(c.ctx(ctx), c.d.Rebind(q), args...)
	return n, c.d.Interpret(err)
}

func (c conn) query(ctx context.Context, q string, args ...any) (*rows, error) {
	r, err := c.raw.Query(c.ctx(ctx), c.d.Rebind(q), args...)
	if err != nil {
		return nil, c.d.Interpret(err)
	}
	return &rows{r: r, d: c.d}, nil
}

func (c conn) queryRow(ctx context.Context, q string, args ...any) row {
	return row{r: c.raw.QueryRow(c.ctx(ctx), c.d.Rebind(q), args...), d: c.d}
}

type rows struct {
	r Rows
	d *Dialect
}

func (r *rows) Next() bool             { return r.r.Next() }
func (r *rows) Scan(dest ...any) error { return r.d.Interpret(r.r.Scan(dest...)) }
func (r *rows) Err() error             { return r.d.Interpret(r.r.Err()) }
func (r *rows) Close()                 { r.r.Close() }

type row struct {
	r Row
	d *Dialect
}

func (r row) Scan(dest ...any) error { return r.d.Interpret(r.r.Scan(dest...)) }

// Batcher is a Conn that can send several statements to the server in one
// round trip: a pipeline (PostgreSQL: a pgx batch with one Sync). The
// statements run one after the other as if sent one by one — each sees
// what the earlier ones wrote — but the first to fail makes the server
// skip the rest, and inside a transaction aborts it. A backend's
// transaction may implement it; the core uses it where the round trips
// matter (OrderCapture).
type Batcher interface {
	SendBatch(ctx context.Context, stmts []Stmt) BatchResults
}

// Deferrer is a transaction that can hold a statement back and send it
// with COMMIT, in the same round trip (PostgreSQL). A deferred statement
// runs after everything else in the transaction; its failure fails the
// commit. The core defers only statements whose result it does not need.
type Deferrer interface {
	DeferExec(query string, args ...any)
}

// deferExec runs q at COMMIT if the connection can hold it back, and now
// otherwise.
func (c conn) deferExec(ctx context.Context, q string, args ...any) error {
	if d, ok := c.raw.(Deferrer); ok {
		d.DeferExec(c.d.Rebind(q), args...)
		return nil
	}
	_, err := c.exec(ctx, q, args...)
	return err
}

// Stmt is one statement of a batch, with the dialect's placeholders.
type Stmt struct {
	Query string
	Args  []any
}

// BatchResults reads a batch's results: one Query per statement, in the
// order sent, each read to its end before the next; then Close, which
// reports the batch's first error if no Query did.
type BatchResults interface {
	Query() (Rows, error)
	Close() error
}

// batch sends stmts in one round trip if the connection can, rebinding
// each; ok is false if it cannot.
func (c conn) batch(ctx context.Context, stmts []Stmt) (_ *batchResults, ok bool) {
	b, ok := c.raw.(Batcher)
	if !ok {
		return nil, false
	}
	for i := range stmts {
		stmts[i].Query = c.d.Rebind(stmts[i].Query)
	}
	return &batchResults{br: b.SendBatch(c.ctx(ctx), stmts), d: c.d}, true
}

// batchResults interprets the errors of a backend's BatchResults.
type batchResults struct {
	br BatchResults
	d  *Dialect
}

func (b *batchResults) query() (*rows, error) {
	r, err := b.br.Query()
	if err != nil {
		if r != nil {
			r.Close()
		}
		return nil, b.d.Interpret(err)
	}
	return &rows{r: r, d: b.d}, nil
}

func (b *batchResults) Close() error { return b.d.Interpret(b.br.Close()) }

// each runs stmts and hands each statement's rows to read, which must
// close them, in order: where the connection can send a pipeline
// (PostgreSQL), perTrip statements to a round trip; elsewhere one after
// the other. It stops at the first error, a statement's or read's (in a
// pipeline the rest of that round trip has run, or, after a failed
// statement, been skipped by the server).
func (c conn) each(ctx context.Context, stmts []Stmt, perTrip int, read func(rs *rows) error) error {
	if _, ok := c.raw.(Batcher); !ok {
		for _, s := range stmts {
			rs, err := c.query(ctx, s.Query, s.Args...)
			if err != nil {
				return err
			}
			if err := read(rs); err != nil {
				return err
			}
		}
		return nil
	}
	for trip := range slices.Chunk(stmts, perTrip) {
		br, _ := c.batch(ctx, trip)
		err := func() (err error) {
			defer func() {
				if cerr := br.Close(); err == nil {
					err = cerr
				}
			}()
			for range trip {
				rs, err := br.query()
				if err != nil {
					return err
				}
				if err := read(rs); err != nil {
					return err
				}
			}
			return nil
		}()
		if err != nil {
			return err
		}
	}
	return nil
}
