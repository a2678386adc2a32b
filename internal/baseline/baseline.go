// Package baseline measures the rate the intake targets are stated
// against: "a bare transaction that inserts one order with three lines and
// reserves stock", on eight connections, on the database Orderly itself
// would use. Machines of the same kind differ by a factor of two from one
// day to the next (docs/benchmarks.md), so `orderly bench --baseline`
// measures this reference beside Orderly's own intake, and the ratio of the
// two is what compares across machines.
//
// The transaction is the least an order capture can write: the order row
// (with ~1 KB of JSON, an order's addresses and lines), three line rows, and
// three guarded reservations (`UPDATE … SET reserved = reserved + 1 WHERE
// on_hand - reserved >= 1`) on random SKUs, taken in SKU order — no ledger, no events, no
// indexes beyond the keys, one COMMIT (and fsync) per order, no HTTP.
package baseline

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orderly-oms/orderly/store/sqlstore"
)

// SKUs is how many SKUs the reservations spread over by default.
const SKUs = 1000

// Result is one measured run.
type Result struct {
	// Transactions committed, by Conns goroutines, over Elapsed.
	Transactions int64
	Conns        int
	Elapsed      time.Duration
	// Retries counts transactions that failed to start or commit because
	// another connection held the database (SQLite's SQLITE_BUSY after its
	// busy timeout) and were run again.
	Retries int64
}

// Rate is committed transactions per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Transactions) / r.Elapsed.Seconds()
}

// Dialect is what differs between the two databases.
type Dialect struct {
	// Numbered says placeholders are $1, $2, … (PostgreSQL), not ?.
	Numbered bool
	// Retryable says an error means "run the transaction again" (SQLite:
	// the database is busy).
	Retryable func(error) bool
}

// Config is what a run does.
type Config struct {
	// Conns goroutines run transactions, each on a connection of its own.
	Conns int
	// Duration is how long they do.
	Duration time.Duration
	// SKUs is how many SKUs the reservations spread over (0: SKUs).
	SKUs int
}

// Run creates the baseline's tables in db (which must have none of them),
// runs the bare transaction from cfg.Conns goroutines for cfg.Duration,
// checks that every committed order is there with its lines and
// reservations, and drops the tables. db must allow cfg.Conns open
// connections.
func Run(ctx context.Context, db *sql.DB, dia Dialect, cfg Config) (Result, error) {
	conns, d, nSKUs := cfg.Conns, cfg.Duration, cmp.Or(cfg.SKUs, SKUs)
	if conns < 1 || d <= 0 || nSKUs < 1 {
		return Result{}, errors.New("baseline: connections, duration and SKUs must be positive")
	}
	q := (&sqlstore.Dialect{Numbered: dia.Numbered}).Rebind
	for _, s := range []string{
		`CREATE TABLE baseline_orders (id TEXT PRIMARY KEY, channel TEXT NOT NULL, external_id TEXT NOT NULL,
			data TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (channel, external_id))`,
		`CREATE TABLE baseline_lines (order_id TEXT NOT NULL REFERENCES baseline_orders (id), n INTEGER NOT NULL,
			sku TEXT NOT NULL, quantity INTEGER NOT NULL, PRIMARY KEY (order_id, n))`,
		`CREATE TABLE baseline_stock (sku TEXT NOT NULL, location TEXT NOT NULL, on_hand INTEGER NOT NULL,
			reserved INTEGER NOT NULL, PRIMARY KEY (sku, location))`,
	} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return Result{}, fmt.Errorf("baseline: create tables: %w", err)
		}
	}
	defer func() {
		ctx := context.WithoutCancel(ctx)
		for _, t := range []string{"baseline_lines", "baseline_orders", "baseline_stock"} {
			_, _ = db.ExecContext(ctx, "DROP TABLE "+t)
		}
	}()
	if err := seed(ctx, db, q, nSKUs); err != nil {
		return Result{}, err
	}

	insertOrder := q(`INSERT INTO baseline_orders (id, channel, external_id, data, created_at) VALUES (?, 'bench', ?, ?, ?)`)
	insertLine := q(`INSERT INTO baseline_lines (order_id, n, sku, quantity) VALUES (?, ?, ?, 1)`)
	reserve := q(`UPDATE baseline_stock SET reserved = reserved + 1 WHERE sku = ? AND location = 'L1' AND on_hand - reserved >= 1`)
	data := document()
	var committed, retries atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, conns)
	start := time.Now()
	end := start.Add(d)
	for w := range conns {
		wg.Go(func() {
			rng := mrand.New(mrand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for time.Now().Before(end) {
				err := order(ctx, db, rng, nSKUs, insertOrder, insertLine, reserve, data)
				switch {
				case err == nil:
					committed.Add(1)
				case dia.Retryable != nil && dia.Retryable(err):
					retries.Add(1)
				default:
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	res := Result{Transactions: committed.Load(), Conns: conns, Elapsed: time.Since(start), Retries: retries.Load()}
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("baseline: %w", err)
	}
	return res, check(ctx, db, res.Transactions)
}

// seed stocks every SKU at one location, deep enough never to run out.
func seed(ctx context.Context, db *sql.DB, q func(string) string, nSKUs int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("baseline: seed: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for i := range nSKUs {
		if _, err := tx.ExecContext(ctx, q(`INSERT INTO baseline_stock (sku, location, on_hand, reserved) VALUES (?, 'L1', 1000000000, 0)`), sku(i)); err != nil {
			return fmt.Errorf("baseline: seed: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("baseline: seed: %w", err)
	}
	return nil
}

// order runs one bare transaction.
func order(ctx context.Context, db *sql.DB, rng *mrand.Rand, nSKUs int, insertOrder, insertLine, reserve, data string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	id := newID()
	if _, err := tx.ExecContext(ctx, insertOrder, id, id, data, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return err
	}
	// The lines' SKUs in order, as Orderly locks balances: random order
	// would deadlock concurrent transactions on PostgreSQL.
	skus := []string{sku(rng.IntN(nSKUs)), sku(rng.IntN(nSKUs)), sku(rng.IntN(nSKUs))}
	slices.Sort(skus)
	for n, s := range skus {
		if _, err := tx.ExecContext(ctx, insertLine, id, n, s); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, reserve, s)
		if err != nil {
			return err
		}
		k, err := r.RowsAffected()
		if err != nil {
			return err
		}
		if k != 1 {
			return fmt.Errorf("reservation of %s changed %d rows", s, k)
		}
	}
	return tx.Commit()
}

// check proves the run: every committed order is there with three lines,
// and the stock holds exactly their reservations.
func check(ctx context.Context, db *sql.DB, committed int64) error {
	var orders, lines, reserved int64
	err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM baseline_orders), (SELECT count(*) FROM baseline_lines),
		(SELECT coalesce(sum(reserved), 0) FROM baseline_stock)`).Scan(&orders, &lines, &reserved)
	if err != nil {
		return fmt.Errorf("baseline: check: %w", err)
	}
	if orders != committed || lines != 3*committed || reserved != 3*committed {
		return fmt.Errorf("baseline: %d transactions committed, but %d orders, %d lines and %d units reserved are stored", committed, orders, lines, reserved)
	}
	return nil
}

func sku(i int) string { return fmt.Sprintf("SKU-%04d", i) }

// newID is a random 128-bit id in hex: as wide as the UUIDs Orderly
// keys its rows by.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// document is an order's JSON of about 1 KB: what the order row carries
// besides its columns (addresses, lines, shipping).
func document() string {
	var b strings.Builder
	b.WriteString(`{"customer":{"name":"Ada Lovelace","email":"ada@example.com","phone":"+44 20 7946 0000"},`)
	b.WriteString(`"shipping_address":{"line1":"12 St James's Square","city":"London","postcode":"SW1Y 4LB","country":"GB"},`)
	b.WriteString(`"billing_address":{"line1":"12 St James's Square","city":"London","postcode":"SW1Y 4LB","country":"GB"},"lines":[`)
	for i := range 3 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%04d","name":"Analytical engine part %d, brass, boxed","quantity":1,"unit_price":4999,"tax":1000}`, i, i)
	}
	b.WriteString(`],"shipping_lines":[{"code":"standard","title":"Standard delivery","price":499}],"tags":["web","baseline"],`)
	b.WriteString(`"note":"Please leave the parcel with the concierge if nobody answers the door; the building has a lift."}`)
	return b.String()
}
