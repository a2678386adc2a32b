package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/postgres"
	"github.com/orderly-oms/orderly/store"
	"github.com/orderly-oms/orderly/store/sqlstore"
	"github.com/orderly-oms/orderly/store/storetest"
)

// The tests need a PostgreSQL database; see dbtest.Postgres.

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T) store.Store { return dbtest.Postgres(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, dbtest.Postgres)
}

// withRawPool returns a migrated store in a new schema and a pool of its
// own on the same schema, for SQL the store does not offer.
func withRawPool(t *testing.T) (*postgres.Store, *pgxpool.Pool) {
	t.Helper()
	url := dbtest.PostgresURL(t)
	ctx := context.Background()
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(raw.Close)
	return s, raw
}

// TestLedgerCheckTampered breaks the books with raw SQL through a pool of
// its own.
func TestLedgerCheckTampered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, raw := withRawPool(t)
	storetest.LedgerCheckTampered(t, s, func(q string) error {
		_, err := raw.Exec(ctx, q)
		return err
	})
}

// TestInTxRetriesDeadlock makes two transactions deadlock; PostgreSQL
// aborts one, and InTx must run it again so that both succeed. Each
// transaction moves stock at two locations in opposite orders: the
// movements add to the balance in SQL, so the retried victim cannot lose
// the other's change (a read-then-write of the same rows in Go could, at
// READ COMMITTED, which is what an earlier version of this test did and
// why it failed now and then under load).
func TestInTxRetriesDeadlock(t *testing.T) {
	t.Parallel()
	s := dbtest.Postgres(t)
	ctx := context.Background()
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, code := range []string{"A", "B"} {
		if err := s.LocationInsert(ctx, &inventory.Location{Code: code, Name: "Location " + code, Kind: inventory.LocationWarehouse,
			Address: orderly.Address{Line1: "Unit 4", City: "Leeds", Country: "GB"}, Active: true,
			Carrier: inventory.CarrierTableRate, CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SKUInsert(ctx, &inventory.SKU{SKU: "S", Name: "Item", CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	move := func(tx store.Querier, loc string, delta int64) error {
		_, err := tx.StockMove(ctx, &inventory.Movement{SKU: "S", Location: loc, DeltaOnHand: delta,
			Reason: inventory.ReasonReceive, Reference: "test", Actor: "test", At: at})
		return err
	}
	for _, loc := range []string{"A", "B"} {
		if err := move(s, loc, 100); err != nil {
			t.Fatal(err)
		}
	}
	var attempts atomic.Int32
	var locked sync.WaitGroup // both hold their first row
	locked.Add(2)
	update := func(first, second string, delta int64) error {
		firstAttempt := true
		return s.InTx(ctx, func(tx store.Querier) error {
			attempts.Add(1)
			for i, loc := range []string{first, second} {
				if err := move(tx, loc, delta); err != nil {
					return err
				}
				if i == 0 && firstAttempt {
					firstAttempt = false
					locked.Done()
					locked.Wait()
				}
			}
			return nil
		})
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = update("A", "B", 1) })
	wg.Go(func() { errs[1] = update("B", "A", 10) })
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("transaction %d: %v", i, err)
		}
	}
	// At least one victim ran again. Under load a retry can itself be
	// chosen as a victim once more, so more attempts are allowed, up to
	// the retry bound of both transactions.
	if n := attempts.Load(); n < 3 || n > 2*sqlstore.MaxTxAttempts {
		t.Errorf("%d attempts, want 3 to %d (a deadlock victim run again)", n, 2*sqlstore.MaxTxAttempts)
	}
	for _, loc := range []string{"A", "B"} {
		bals, err := s.BalanceList(ctx, store.BalanceListParams{Location: loc, SKU: "S"})
		if err != nil {
			t.Fatal(err)
		}
		if len(bals) != 1 || bals[0].OnHand != 111 {
			t.Errorf("balance at %s: %+v, want on hand 111 (100 + 1 + 10)", loc, bals)
		}
	}
}

// TestTimesInUTC reads times back in UTC even when the session's time
// zone is another. (Not parallel: it sets PGTZ, which pgx reads.)
func TestTimesInUTC(t *testing.T) {
	t.Setenv("PGTZ", "Asia/Kolkata")
	s := dbtest.Postgres(t)
	ctx := context.Background()
	if err := s.ChannelInsert(ctx, storetest.NewChannel("web")); err != nil {
		t.Fatal(err)
	}
	c, err := s.ChannelGet(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if c.CreatedAt != storetest.T0 || c.CreatedAt.Location() != time.UTC {
		t.Errorf("created_at = %v, want %v", c.CreatedAt, storetest.T0)
	}
}

// TestAnalyzeStock: AnalyzeStock updates the planner's statistics of the
// stock balances (pg_class.reltuples stays at -1, "never analyzed",
// until ANALYZE or autovacuum samples the table), and with them the plan
// of an availability read.
func TestAnalyzeStock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, raw := withRawPool(t)
	// 2,000 SKUs at 20 locations, loaded in bulk as a stock import would.
	for _, q := range []string{
		`INSERT INTO locations (code, name, kind, address, active, created_at, updated_at)
			SELECT 'L' || i, 'L' || i, 'warehouse', '{}', true, now(), now() FROM generate_series(1, 20) i`,
		`INSERT INTO skus (sku, name, barcode, weight_grams, created_at, updated_at) SELECT 'S' || i, 'S' || i, '', 100, now(), now() FROM generate_series(1, 2000) i`,
		`INSERT INTO stock_balances (sku, location, on_hand, updated_at)
			SELECT 'S' || i, 'L' || j, 5, now() FROM generate_series(1, 2000) i, generate_series(1, 20) j`,
	} {
		if _, err := raw.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	plan := func() string {
		var p string
		err := raw.QueryRow(ctx, `EXPLAIN (FORMAT TEXT) SELECT sku, location, on_hand FROM stock_balances
			WHERE sku IN ('S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'S9', 'S10', 'S11', 'S12', 'S13', 'S14', 'S15', 'S16', 'S17', 'S18', 'S19', 'S20')`).Scan(&p)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	before := plan()
	if err := s.AnalyzeStock(ctx); err != nil {
		t.Fatal(err)
	}
	var tuples float64
	if err := raw.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'stock_balances'::regclass`).Scan(&tuples); err != nil {
		t.Fatal(err)
	}
	if tuples != 40000 {
		t.Errorf("reltuples after AnalyzeStock = %v, want 40000", tuples)
	}
	// The read's 20 SKUs have 400 balances. Without statistics PostgreSQL
	// takes each SKU for 0.5% of the table (at two million balances, a
	// sequential scan); with them it knows.
	after := plan()
	var rows int
	if _, err := fmt.Sscanf(after[strings.Index(after, "rows="):], "rows=%d", &rows); err != nil || rows < 300 || rows > 550 {
		t.Errorf("availability read after AnalyzeStock plans %q (before: %q), want an estimate of about 400 rows", after, before)
	}
}
