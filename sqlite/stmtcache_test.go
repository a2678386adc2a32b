package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	sqlitedrv "modernc.org/sqlite"
)

// TestStmtCache checks the statement cache where it must step aside: a
// query run again while its first result is still open, and a statement
// evicted while its rows are open.
func TestStmtCache(t *testing.T) {
	ctx := context.Background()
	base, err := sqlitedrv.NewConnector(filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(cachingConnector{Connector: base, size: 2})
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (n INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	for n := range 5 {
		if _, err := db.ExecContext(ctx, `INSERT INTO t (n) VALUES (?)`, n); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	const q = `SELECT n FROM t WHERE n >= ? ORDER BY n`
	outer, err := tx.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = outer.Close() }()
	var got []int
	for outer.Next() {
		var n int
		if err := outer.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
		// The same query, nested: it must not reset the outer one.
		var m int
		if err := tx.QueryRowContext(ctx, q, n).Scan(&m); err != nil || m != n {
			t.Fatalf("nested query from %d = %d, %v", n, m, err)
		}
		// Other statements push q out of the two-entry cache.
		for _, other := range []string{`SELECT count(*) FROM t`, `SELECT max(n) FROM t`, `SELECT min(n) FROM t`} {
			var k int
			if err := tx.QueryRowContext(ctx, other).Scan(&k); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Errorf("outer query read %v, want 0…4", got)
	}
	var n int
	if err := tx.QueryRowContext(ctx, q, 3).Scan(&n); err != nil || n != 3 {
		t.Errorf("query after eviction = %d, %v", n, err)
	}
}
