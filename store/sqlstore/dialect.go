package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/store"
)

// Dialect holds what differs between the backends' SQL. A backend builds
// one at Open and must not change it afterwards.
type Dialect struct {
	// Name is the backend's name, as store.Store.Backend reports it.
	Name string

	// Numbered says the driver wants $1, $2, … placeholders; the core writes
	// ? and Rebind rewrites each query once, caching the result.
	Numbered bool

	// InterpretError returns the orderly error a driver error stands for
	// (use the constructors in this package: NotFoundError, DuplicateError,
	// …), or nil for an error it does not recognise, which the core then
	// reports as an internal error without exposing the driver's type.
	// Context cancellation is handled before it is called.
	InterpretError func(err error) *orderly.Error

	// NextOrderNumber is an SQL expression, evaluated inside the INSERT of a
	// new order, that yields the order's number: a sequence's nextval on
	// PostgreSQL, the counter row plus one on SQLite.
	NextOrderNumber string
	// OrderNumberTaken, if set, is a statement run in the inserting
	// transaction after the order row is stored, with the new number as its
	// one argument (SQLite moves its counter row here, so a failed insert
	// consumes no number).
	OrderNumberTaken string

	// NextTrackingNumber is a statement returning one row, one column:
	// the next number of the table-rate tracking sequence (nextval of a
	// sequence on PostgreSQL; the counter row moved on SQLite).
	NextTrackingNumber string

	// ForUpdate is appended to a SELECT of rows (balances, an order) that must stay locked
	// until the transaction ends: " FOR UPDATE" on PostgreSQL. SQLite has
	// no row locks and needs none (its one writer already excludes every
	// other writer), so there it is empty.
	ForUpdate string

	// SkipLocked is appended to a SELECT of rows that one of several
	// workers claims (jobs, the outbox cursor): " FOR UPDATE SKIP LOCKED"
	// on PostgreSQL, so that concurrent claimers take different rows;
	// empty on SQLite, whose one writer already excludes the others.
	SkipLocked string
	// TxHorizon is an SQL expression for the oldest transaction id that
	// may still be running: every event with a smaller txid is committed
	// or gone for good. PostgreSQL: pg_snapshot_xmin of the current
	// snapshot; SQLite (one writer, commit order is seq order): the
	// largest integer.
	TxHorizon string
	// EventsAfter is the predicate "event e comes after the outbox cursor
	// (%[1]s, %[2]s)" — txid and seq operands, each used once. PostgreSQL
	// compares the row values, which its planner serves from the
	// (txid, seq) index. SQLite writes txid 0 on every event (its commit
	// order is seq order), so there it is a range of seq — the rowid, no
	// index needed (migration 0014) — and an equality on txid that
	// every event meets; the row-value form made its planner range over
	// txid alone, reading every event on each dispatcher poll.
	EventsAfter string

	// WritableCTE says the backend runs INSERT and UPDATE inside WITH
	// (PostgreSQL), so that several changes can be one statement, one round
	// trip. SQLite cannot.
	WritableCTE bool

	// PackedBalances, if set, is an aggregate SQL expression over the
	// stock_balances rows of one SKU that packs each balance's location,
	// on_hand, reserved and safety_stock into one string: fields separated
	// by U+001F, balances by U+001E (codes hold no control characters).
	// The availability read then takes one row per SKU instead of one per
	// balance. Set on SQLite, where a row costs more in the driver
	// (database/sql and modernc's cgo-free calls, column by column) than
	// in the engine: a lookup of 20 SKUs at 20 locations took half the
	// time packed (docs/benchmarks.md). Empty on PostgreSQL, where
	// packing saved nothing.
	PackedBalances string

	// MigrationsTable creates the schema_migrations table (name text primary
	// key, applied_at time) if it does not exist.
	MigrationsTable string
	// MigrationsTableExists is a query returning 1 if schema_migrations
	// exists and 0 otherwise.
	MigrationsTableExists string
	// LockMigrations, if set, runs first in every migration transaction so
	// that two processes migrating one database take turns.
	LockMigrations string

	rebound sync.Map // query → rebound query
}

// Rebind rewrites the ? placeholders of q into the dialect's style. A ?
// inside a quoted string or identifier is left alone.
func (d *Dialect) Rebind(q string) string {
	if !d.Numbered {
		return q
	}
	if r, ok := d.rebound.Load(q); ok {
		return r.(string)
	}
	r := numberPlaceholders(q)
	d.rebound.Store(q, r)
	return r
}

// numberPlaceholders replaces each ? outside quotes with $1, $2, ….
func numberPlaceholders(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte // the open quote character, or 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote closes and reopens: same result
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Interpret turns any error a Conn returned into what the store seam
// promises: an *orderly.Error, a context error, or an internal error that
// carries the driver's message but not its type.
func (d *Dialect) Interpret(err error) error {
	if err == nil {
		return nil
	}
	var oe *orderly.Error
	if errors.As(err, &oe) {
		return err
	}
	for _, ctxErr := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, ctxErr) {
			return fmt.Errorf("%s: %w", d.Name, ctxErr)
		}
	}
	if e := d.InterpretError(err); e != nil {
		return e
	}
	return fmt.Errorf("%s: %s", d.Name, err.Error())
}

// CodeRetry marks the KindUnavailable error of a transaction the database
// aborted to resolve a conflict (a serialisation failure or deadlock):
// running it again will probably succeed, and InTx does so.
const CodeRetry = "retry"

var errRetry = &orderly.Error{Kind: orderly.KindUnavailable, Code: CodeRetry}

// NotFoundError is what a driver's "no rows" means.
func NotFoundError() *orderly.Error {
	return &orderly.Error{Kind: orderly.KindNotFound, Message: "not found"}
}

// DuplicateError is what a unique or primary-key violation means; it
// matches store.ErrDuplicate.
func DuplicateError() *orderly.Error {
	return &orderly.Error{Kind: orderly.KindConflict, Code: store.CodeDuplicate, Message: "already exists"}
}

// ForeignKeyError is what a foreign-key violation means: the input refers
// to a row that does not exist.
func ForeignKeyError() *orderly.Error {
	return &orderly.Error{Kind: orderly.KindInvalid, Message: "refers to something that does not exist"}
}

// InvalidError is what a CHECK or NOT NULL violation means.
func InvalidError() *orderly.Error {
	return &orderly.Error{Kind: orderly.KindInvalid, Message: "breaks a rule of the stored data"}
}

// BusyError is what a locked or busy database means.
func BusyError() *orderly.Error {
	return &orderly.Error{Kind: orderly.KindUnavailable, Message: "the database is busy; try again"}
}

// UnavailableError is what a lost or refused connection means.
func UnavailableError() *orderly.Error {
	return &orderly.Error{Kind: orderly.KindUnavailable, Message: "the database is unavailable; try again"}
}

// RetryError is what a serialisation failure or deadlock means; InTx runs
// the transaction again when it sees one.
func RetryError() *orderly.Error {
	return &orderly.Error{Kind: orderly.KindUnavailable, Code: CodeRetry, Message: "the database is busy; try again"}
}

// renotFound replaces the generic message of a KindNotFound error with a
// specific one; other errors pass unchanged.
func renotFound(err error, format string, args ...any) error {
	if orderly.KindOf(err) == orderly.KindNotFound {
		return orderly.Errorf(orderly.KindNotFound, format, args...)
	}
	return err
}

// duplicate returns a duplicate error with a specific message.
func duplicate(format string, args ...any) error {
	return &orderly.Error{Kind: orderly.KindConflict, Code: store.CodeDuplicate, Message: fmt.Sprintf(format, args...)}
}
