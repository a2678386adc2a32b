package postgres_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/postgres"
	"github.com/orderly-oms/orderly/routing"
	"github.com/orderly-oms/orderly/store"
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
		s.SetLogger(slog.New(slog.NewTextHandler(tlog{t}, nil)))
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
	onHandOf := func(s *postgres.Store, sku string) int64 {
		t.Helper()
		v, err := s.AvailabilityRead(ctx, "", []string{sku})
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, b := range v.Balances {
			n += b.OnHand
		}
		return n
	}
	onHand := func(s *postgres.Store) int64 { return onHandOf(s, "A") }
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
	// Node a answers from its cache: a change behind the store's back
	// (SQL of one's own) does not reach it. (SKU Z, which no store
	// writes: no notice about it can be on its way.)
	exec(`INSERT INTO skus (sku, name, barcode, weight_grams, created_at, updated_at) VALUES ('Z', 'Z', '', 100, now(), now())`)
	exec(`INSERT INTO stock_balances (sku, location, on_hand, updated_at) VALUES ('Z', 'leeds', 5, now())`)
	if got := onHandOf(a, "Z"); got != 5 {
		t.Fatalf("node a: %d of Z on hand, want 5", got)
	}
	exec(`UPDATE stock_balances SET on_hand = 99 WHERE sku = 'Z'`)
	if got := onHandOf(a, "Z"); got != 5 {
		t.Fatalf("node a after an UPDATE behind its back: %d of Z on hand, want the cached 5", got)
	}
	// What an operator runs after such SQL (docs/operations.md) empties
	// every node's cache.
	exec(`SELECT pg_notify('` + a.StockChannel() + `', 'sql' || chr(10) || '*')`)
	waitFor("node a to see the UPDATE after the flush notice", func() bool { return onHandOf(a, "Z") == 99 })

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

	// Intake's configuration: a rule set activated through node b reaches
	// node a, which had the configuration cached.
	activeVersion := func(s *postgres.Store) int {
		t.Helper()
		v, err := s.IntakeRead(ctx, store.IntakeQuery{Channel: "web", ExternalID: "X", SKUs: []string{"A"}})
		if err != nil {
			t.Fatal(err)
		}
		if v.RuleSet == nil {
			return 0
		}
		return v.RuleSet.Version
	}
	rs := routing.DefaultRuleSet()
	rs.Version, rs.Status, rs.CreatedAt = 0, routing.StatusDraft, time.Now()
	if err := a.RuleSetInsert(ctx, &rs); err != nil { // drops node a's cached configuration at once
		t.Fatal(err)
	}
	for range 2 { // fills node a's cache, then answers from it
		if got := activeVersion(a); got != 0 {
			t.Fatalf("node a: rule set %d active, want none", got)
		}
	}
	if _, err := b.RuleSetActivate(ctx, rs.Version, time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor("node a to see the rule set node b activated", func() bool { return activeVersion(a) == rs.Version })

	// A key revoked through node b stops authenticating on node a, which
	// had it cached.
	k, secret, err := auth.NewAPIKey("ops", auth.RoleAdmin, "", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.APIKeyInsert(ctx, k); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := a.APIKeyGetByHash(ctx, auth.HashKey(secret)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := b.APIKeyRevoke(ctx, "ops", time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor("node a to refuse the key node b revoked", func() bool {
		_, err := a.APIKeyGetByHash(ctx, auth.HashKey(secret))
		return orderly.KindOf(err) == orderly.KindNotFound
	})
}

// tlog writes a logger's lines to the test's log.
type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
