package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/postgres"
	"github.com/orderly-oms/orderly/store/storetest"
)

// availabilityLoader versions the loading SQL below: change it when that
// SQL changes, so that no benchmark reads data an older loader built.
const availabilityLoader = "postgres-1"

// availabilitySchema keeps the availability data set between runs.
const availabilitySchema = "bench_availability"

// BenchmarkAvailability runs storetest.BenchmarkAvailability on the schema
// bench_availability, kept between runs: the first run (or the first
// after a migration changes) loads it, later runs only open it.
func BenchmarkAvailability(b *testing.B) {
	url := dbtest.PostgresKeptURL(b, availabilitySchema)
	ctx := context.Background()
	loadAvailability(b, url)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	storetest.BenchmarkAvailability(b, s)
}

// loadAvailability makes the schema hold the availability data set of the
// current schema version: it leaves a current one alone, and otherwise
// drops the schema's contents and loads them again, in one transaction,
// with generate_series.
func loadAvailability(b *testing.B, url string) {
	b.Helper()
	ctx := context.Background()
	version := dbtest.SchemaVersion(b, "migration", availabilityLoader)
	raw, err := pgxpool.New(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	var have string
	err = raw.QueryRow(ctx, `SELECT version FROM bench_meta`).Scan(&have)
	if err == nil && have == version {
		return
	}
	b.Logf("loading the availability data set into schema %s (once per schema version)", availabilitySchema)
	if _, err := raw.Exec(ctx, `DROP SCHEMA `+availabilitySchema+` CASCADE; CREATE SCHEMA `+availabilitySchema); err != nil {
		b.Fatal(err)
	}
	s, err := postgres.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	err = s.Migrate(ctx)
	_ = s.Close()
	if err != nil {
		b.Fatal(err)
	}
	const ts = `'2025-03-14T09:26:53.589793Z'`
	skus, locs := storetest.AvailabilitySKUs, storetest.AvailabilityLocations
	err = pgx.BeginFunc(ctx, raw, func(tx pgx.Tx) error {
		for _, st := range []struct {
			q    string
			args []any
		}{
			{`INSERT INTO skus (sku, name, barcode, weight_grams, created_at, updated_at)
				SELECT 'SKU-' || lpad(i::text, 6, '0'), 'Item ' || i, '', 250, ` + ts + `, ` + ts + `
				FROM generate_series(0, $1::int - 1) i`, []any{skus}},
			{`INSERT INTO locations (code, name, kind, address, lat, lon, active, created_at, updated_at)
				SELECT 'LOC-' || lpad(i::text, 2, '0'), 'Location ' || i, 'warehouse', '{}', NULL, NULL, true, ` + ts + `, ` + ts + `
				FROM generate_series(0, $1::int - 1) i`, []any{locs}},
			// The data are generated consistent: skip the two million
			// checks of each foreign key (the test role is a superuser).
			{`SET LOCAL session_replication_role = replica`, nil},
			{`INSERT INTO stock_balances (sku, location, on_hand, reserved, safety_stock, updated_at)
				SELECT 'SKU-' || lpad(s::text, 6, '0'), 'LOC-' || lpad(l::text, 2, '0'), (s * 7 + l * 13) % 500, (s + l) % 5, 0, ` + ts + `
				FROM generate_series(0, $1::int - 1) s, generate_series(0, $2::int - 1) l ORDER BY s, l`, []any{skus, locs}},
			{`SET LOCAL session_replication_role = origin`, nil},
			{`CREATE TABLE bench_meta (version text NOT NULL)`, nil},
			{`INSERT INTO bench_meta (version) VALUES ($1)`, []any{version}},
		} {
			if _, err := tx.Exec(ctx, st.q, st.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := raw.Exec(ctx, `VACUUM ANALYZE stock_balances`); err != nil {
		b.Fatal(err)
	}
}
