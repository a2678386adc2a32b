// Package dbtest owns the databases tests run against: a fresh, migrated
// store per call, on SQLite (always) and on PostgreSQL (when
// ORDERLY_TEST_POSTGRES_URL is set), closed and removed when the test ends.
// Every package's tests may import it; no production code does.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/orderly-oms/orderly/postgres"
	"github.com/orderly-oms/orderly/sqlite"
	"github.com/orderly-oms/orderly/store"
)

// PostgresURLEnv names the environment variable holding the URL of a
// PostgreSQL database tests may create schemas in.
const PostgresURLEnv = "ORDERLY_TEST_POSTGRES_URL"

// SQLite returns a migrated store on a new file in t.TempDir(), closed
// when the test ends.
func SQLite(t testing.TB) store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "orderly.db"))
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("dbtest: close: %v", err)
		}
	})
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("dbtest: migrate: %v", err)
	}
	return s
}

// Postgres returns a migrated store in a new schema (see PostgresURL),
// closed when the test ends. Without $ORDERLY_TEST_POSTGRES_URL the test is
// skipped.
func Postgres(t testing.TB) store.Store {
	t.Helper()
	dbURL := PostgresURL(t)
	ctx := context.Background()
	s, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() }) // runs before PostgresURL drops the schema
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("dbtest: migrate: %v", err)
	}
	return s
}

// PostgresURL creates a new, empty schema in the database at
// $ORDERLY_TEST_POSTGRES_URL and returns a URL whose connections use it as
// their search_path, for tests that open the database themselves (e.g.
// through the orderly command). The schema is dropped when the test ends,
// after the test's other cleanups, which should close every connection.
// Without the variable the test is skipped.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		t.Skip("PostgreSQL tests skipped: set " + PostgresURLEnv + "=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	if err := admin(base, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("dbtest: create schema in %s: %v", PostgresURLEnv, err)
	}
	t.Cleanup(func() {
		if err := admin(base, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dbtest: drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, base, schema)
}

// PostgresKeptURL is PostgresURL for a named schema that is kept: it is
// created if it does not exist and never dropped. It is for benchmark data
// too slow to load on every run; the caller must check that what it finds
// there is current (see SchemaVersion). Without $ORDERLY_TEST_POSTGRES_URL
// the test is skipped.
func PostgresKeptURL(tb testing.TB, schema string) string {
	tb.Helper()
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		tb.Skip("PostgreSQL benchmarks skipped: set " + PostgresURLEnv + " to run them")
	}
	if err := admin(base, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
		tb.Fatalf("dbtest: create schema in %s: %v", PostgresURLEnv, err)
	}
	return withSearchPath(tb, base, schema)
}

// admin runs one statement on its own connection to the database at url.
func admin(url, stmt string) error {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close(ctx) }()
	_, err = c.Exec(ctx, stmt)
	return err
}

// SchemaVersion returns a short hash of the migration files in dir (a
// backend's migration folder, relative to its package) and of extra, for
// naming cached benchmark databases: a new or changed migration, or a
// changed extra (the loader's own version), yields a new name.
func SchemaVersion(tb testing.TB, dir, extra string) string {
	tb.Helper()
	fsys := os.DirFS(dir)
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	h := sha256.New()
	for _, e := range entries {
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			tb.Fatalf("dbtest: %v", err)
		}
		fmt.Fprintf(h, "%s %d\n", e.Name(), len(b))
		h.Write(b)
	}
	h.Write([]byte(extra))
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// withSearchPath returns the connection URL with search_path set, which
// pgx sends as a run-time parameter on every new connection. Unless the URL
// says otherwise it also caps each test's pool at four connections, so that
// many parallel tests stay within the server's max_connections.
func withSearchPath(t testing.TB, base, schema string) string {
	if !strings.Contains(base, "://") {
		return base + " search_path=" + schema // key=value form
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("dbtest: %s is not a URL", PostgresURLEnv)
	}
	q := u.Query()
	q.Set("search_path", schema)
	if !q.Has("pool_max_conns") {
		q.Set("pool_max_conns", "4")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Backend is one storage backend tests can run against.
type Backend struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Open returns a fresh migrated store, or skips the test.
	Open func(t testing.TB) store.Store
}

// Backends lists every backend: SQLite, then PostgreSQL.
func Backends() []Backend {
	return []Backend{{"sqlite", SQLite}, {"postgres", Postgres}}
}

// Each runs fn as one subtest per backend, named "sqlite" and "postgres",
// each with a fresh store. The subtests run in parallel.
func Each(t *testing.T, fn func(t *testing.T, s store.Store)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.Open(t))
		})
	}
}
