package baseline

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/internal/dbtest"
)

func TestRunSQLite(t *testing.T) {
	t.Parallel()
	db, dia, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "baseline.db"), 8)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	testRun(t, db, dia)
}

func TestRunPostgres(t *testing.T) {
	t.Parallel()
	db, dia, err := OpenPostgres(context.Background(), dbtest.PostgresURL(t), 8)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	testRun(t, db, dia)
}

// testRun runs the baseline briefly, and checks that its check would
// catch a lost order, and that it leaves no table behind.
func testRun(t *testing.T, db *sql.DB, dia Dialect) {
	ctx := context.Background()
	res, err := Run(ctx, db, dia, Config{Conns: 8, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Transactions < 8 || res.Conns != 8 || res.Elapsed < 300*time.Millisecond || res.Rate() <= 0 {
		t.Errorf("result %+v", res)
	}
	var n int
	// Eight connections on three SKUs: every transaction waits for
	// another's locks. Taken in SKU order, none deadlocks (on PostgreSQL
	// random order did within a second).
	hot, err := Run(ctx, db, dia, Config{Conns: 8, Duration: time.Second, SKUs: 3})
	if err != nil {
		t.Fatalf("hot: %v", err)
	}
	if hot.Transactions < 8 {
		t.Errorf("hot: %+v", hot)
	}
	// The tables are gone: creating them again works.
	if _, err := db.ExecContext(ctx, `CREATE TABLE baseline_orders (id TEXT PRIMARY KEY)`); err != nil {
		t.Fatalf("the baseline left its tables: %v", err)
	}
	if _, err := Run(ctx, db, dia, Config{Conns: 1, Duration: time.Millisecond}); err == nil || !strings.Contains(err.Error(), "create tables") {
		t.Errorf("a run over existing tables: %v, want it refused", err)
	}
	if _, err := db.ExecContext(ctx, `DROP TABLE baseline_orders`); err != nil {
		t.Fatal(err)
	}

	// check counts what is stored.
	for _, s := range []string{
		`CREATE TABLE baseline_orders (id TEXT PRIMARY KEY)`,
		`CREATE TABLE baseline_lines (order_id TEXT, n INTEGER)`,
		`CREATE TABLE baseline_stock (sku TEXT, reserved INTEGER)`,
		`INSERT INTO baseline_orders VALUES ('a')`,
		`INSERT INTO baseline_lines VALUES ('a', 0), ('a', 1), ('a', 2)`,
		`INSERT INTO baseline_stock VALUES ('s', 3)`,
	} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := check(ctx, db, 1); err != nil {
		t.Errorf("check of a complete order: %v", err)
	}
	if err := check(ctx, db, 2); err == nil {
		t.Error("check passed with an order missing")
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM baseline_stock`).Scan(&n); err != nil || n != 1 {
		t.Errorf("stock rows %d, %v", n, err)
	}
	for _, tb := range []string{"baseline_lines", "baseline_orders", "baseline_stock"} {
		_, _ = db.ExecContext(ctx, "DROP TABLE "+tb)
	}
}

func TestRunRefusesNonsense(t *testing.T) {
	t.Parallel()
	if _, err := Run(context.Background(), nil, Dialect{}, Config{Duration: time.Second}); err == nil {
		t.Error("0 connections accepted")
	}
}
