package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
)

// TestDeferredStatements checks sqlstore.Deferrer on PostgreSQL: a
// deferred statement runs at COMMIT, in one batch with it, also when
// nothing else ran; one that fails fails the commit, takes the whole
// transaction with it, and leaves the connection fit for the pool.
func TestDeferredStatements(t *testing.T) {
	url := os.Getenv("ORDERLY_TEST_POSTGRES_URL")
	if url == "" {
		t.Skip("PostgreSQL tests skipped: set ORDERLY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them")
	}
	ctx := context.Background()
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	var b [6]byte
	_, _ = rand.Read(b[:])
	table := "deferred_" + hex.EncodeToString(b[:])
	if _, err := s.pool.Exec(ctx, "CREATE TABLE "+table+" (x int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	defer s.pool.Exec(context.Background(), "DROP TABLE "+table) //nolint:errcheck // best effort
	count := func() int {
		var n int
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	begin := func() *lazyTx {
		c, err := s.pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return &lazyTx{c: c}
	}

	tx := begin()
	if _, err := tx.Exec(ctx, "INSERT INTO "+table+" VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	tx.DeferExec("INSERT INTO "+table+" VALUES ($1)", 2)
	if count() != 0 {
		t.Fatal("deferred work visible before the commit")
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d rows after the commit, want 2", n)
	}

	tx = begin() // nothing but the deferred statement: BEGIN goes with it
	tx.DeferExec("INSERT INTO "+table+" VALUES ($1)", 3)
	if err := tx.Commit(ctx); err != nil || count() != 3 {
		t.Fatalf("deferred-only commit: %v, %d rows", err, count())
	}

	tx = begin()
	if _, err := tx.Exec(ctx, "INSERT INTO "+table+" VALUES (4)"); err != nil {
		t.Fatal(err)
	}
	tx.DeferExec("INSERT INTO "+table+" VALUES ($1)", 1) // a duplicate key
	if err := tx.Commit(ctx); err == nil {
		t.Fatal("commit with a failing deferred statement succeeded")
	}
	if n := count(); n != 3 {
		t.Fatalf("%d rows after the failed commit, want the 3 before it", n)
	}
	for range 2 * DefaultMaxConns { // every pooled connection is usable
		tx = begin()
		if _, err := tx.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatalf("connection after a failed commit: %v", err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
