package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/sqlite"
	"github.com/orderly-oms/orderly/store/storetest"
)

// availabilityLoader versions the loading SQL below: change it when that
// SQL changes, so that no benchmark reads a database an older loader built.
const availabilityLoader = "sqlite-1"

// BenchmarkAvailability runs storetest.BenchmarkAvailability on a database
// file kept in os.TempDir() between runs, named by the schema version: the
// first run loads it (tens of seconds), later runs only open it.
func BenchmarkAvailability(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, availabilityDB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	storetest.BenchmarkAvailability(b, s)
}

// availabilityDB returns the path of the availability data set, loading it
// first if it is not there. It is loaded into another file, renamed once
// complete, so an interrupted load is never mistaken for a finished one.
func availabilityDB(b *testing.B) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), "orderly-bench-availability-"+dbtest.SchemaVersion(b, "migration", availabilityLoader)+".db")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + ".loading"
	for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		_ = os.Remove(f)
	}
	ctx := context.Background()
	s, err := sqlite.Open(ctx, tmp)
	if err != nil {
		b.Fatal(err)
	}
	err = s.Migrate(ctx)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		b.Fatal(err)
	}

	// The data are generated consistent, so the load skips the foreign
	// key checks (off by default on a plain connection).
	raw, err := sql.Open("sqlite", tmp)
	if err != nil {
		b.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	const ts = `'2025-03-14T09:26:53.589793Z'`
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
			INSERT INTO skus (sku, name, barcode, weight_grams, created_at, updated_at)
			SELECT printf('SKU-%%06d', i), 'Item ' || i, '', 250, %s, %s FROM n`, storetest.AvailabilitySKUs-1, ts, ts),
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
			INSERT INTO locations (code, name, kind, address, lat, lon, active, created_at, updated_at)
			SELECT printf('LOC-%%02d', i), 'Location ' || i, 'warehouse', '{}', NULL, NULL, 1, %s, %s FROM n`, storetest.AvailabilityLocations-1, ts, ts),
		// In key order, so the WITHOUT ROWID table is appended to.
		fmt.Sprintf(`INSERT INTO stock_balances (sku, location, on_hand, reserved, safety_stock, updated_at)
			SELECT s.sku, l.code, (s.rowid * 7 + l.rowid * 13) %% 500, (s.rowid + l.rowid) %% 5, 0, %s
			FROM skus s CROSS JOIN locations l ORDER BY s.sku, l.code`, ts),
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			_ = tx.Rollback()
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	for _, f := range []string{tmp + "-wal", tmp + "-shm"} {
		_ = os.Remove(f)
	}
	return path
}
