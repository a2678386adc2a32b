package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/postgres"
)

// TestStockCacheAcrossNodes: two stores on one schema (two nodes). Each
// answers availability from its stock cache, and a change made through
// one reaches the other's cache through the notice sent with its COMMIT;
// while a node's listener is down its cache is off, so it never answers
// from a cache that may have missed a notice.
func TestStockCacheAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.PostgresURL(t)
	open := func() *postgres.Store {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := open(), open()
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(raw.Close)
	exec := func(q string) {
		t.Helper()
		if _, err := raw.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO locations (code, name, kind, address, active, created_at, updated_at) VALUES ('leeds', 'Leeds', 'warehouse', '{}', true, now(), now())`)
	exec(`INSERT INTO skus (sku, name, barcode, weight_grams, created_at, updated_at) VALUES ('A', 'A', '', 100, now(), now())`)
	receive := func(s *postgres.Store, n int64) {
		t.Helper()
		if _, err := s.StockMove(ctx, &inventory.Movement{SKU: "A", Location: "leeds", DeltaOnHand: n,
			Reason: inventory.ReasonReceive, Actor: "test", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	onHand := func(s *postgres.Store) int64 {
		t.Helper()
		v, err := s.AvailabilityRead(ctx, "", []string{"A"})
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, b := range v.Balances {
			n += b.OnHand
		}
		return n
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("waited 10 s for %s", what)
			}
		}
	}
	waitFor("both nodes to listen", func() bool { return a.StockCaching() && b.StockCaching() })

	receive(b, 5)
	waitFor("node a to see node b's receipt", func() bool { return onHand(a) == 5 })
	// Node a answers from its cache now: a change behind the store's back
	// (SQL of one's own) does not reach it. (Node b's notice may still be
	// on its way and empty the cache once more: then fill it again.)
	for attempt := 0; ; attempt++ {
		onHand(a) // fills the cache
		exec(`UPDATE stock_balances SET on_hand = 99`)
		if onHand(a) == 5 {
			break
		}
		if attempt == 50 {
			t.Fatal("node a after an UPDATE behind its back: 99 on hand, want the cached 5")
		}
		exec(`UPDATE stock_balances SET on_hand = 5`)
		time.Sleep(20 * time.Millisecond)
	}
	// What an operator runs after such SQL (docs/operations.md) empties
	// every node's cache.
	flush := `SELECT pg_notify('` + a.StockChannel() + `', 'sql' || chr(10) || '*')`
	exec(flush)
	waitFor("node a to see the UPDATE after the flush notice", func() bool { return onHand(a) == 99 })
	exec(`UPDATE stock_balances SET on_hand = 5`)
	exec(flush)
	waitFor("node a to see the second UPDATE", func() bool { return onHand(a) == 5 })

	receive(b, 3)
	waitFor("node a to see node b's second receipt", func() bool { return onHand(a) == 8 })
	receive(a, 1)
	if got := onHand(a); got != 9 {
		t.Fatalf("node a after its own receipt: %d on hand, want 9 at once", got)
	}
	waitFor("node b to see node a's receipt", func() bool { return onHand(b) == 9 })

	// Node a's listener goes away: its cache goes off and answers come
	// from the database, then it listens again and caches again.
	exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '` + postgres.ListenerApplicationName + " " + a.StockChannel() + `'`)
	waitFor("the caches to go off", func() bool { return !a.StockCaching() })
	receive(b, 2)
	if got := onHand(a); got != 11 {
		t.Fatalf("node a without its listener: %d on hand, want 11 from the database", got)
	}
	waitFor("node a to listen again", a.StockCaching)
	if got := onHand(a); got != 11 {
		t.Fatalf("node a listening again: %d on hand, want 11", got)
	}
	receive(b, 1)
	waitFor("node a to see node b's receipt after listening again", func() bool { return onHand(a) == 12 })
}
