package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/store"
	"github.com/orderly-oms/orderly/store/sqlstore"
	"github.com/orderly-oms/orderly/store/storetest"
)

// These tests pin what the contract suite cannot see: the connection
// settings, the write lock and the stored form of times.

func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, path
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	for name, db := range map[string]*sql.DB{"writer": s.write, "reader": s.read} {
		for pragma, want := range map[string]string{
			"journal_mode": "wal",
			"synchronous":  "2", // FULL
			"foreign_keys": "1",
			"busy_timeout": "5000",
			"temp_store":   "2", // MEMORY
		} {
			var got string
			if err := db.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("%s: %s: %v", name, pragma, err)
			}
			if got != want {
				t.Errorf("%s: PRAGMA %s = %s, want %s", name, pragma, got, want)
			}
		}
	}
	for name, db := range map[string]*sql.DB{"writer": s.write, "reader": s.read} {
		want := map[string]int{"writer": WALBackstopPages, "reader": 1000}[name]
		var got int
		if err := db.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: PRAGMA wal_autocheckpoint = %d, want %d", name, got, want)
		}
	}
	if s.PoolStats().MaxOpen < 5 {
		t.Errorf("pool stats %+v, want one writer and at least four readers", s.PoolStats())
	}
	if _, err := s.read.ExecContext(ctx, "DELETE FROM channels"); err == nil {
		t.Error("a reader connection could write")
	}
}

// TestBeginImmediate checks that InTx holds the write lock from its first
// statement: another connection cannot start writing even before the
// transaction has written anything.
func TestBeginImmediate(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	ctx := context.Background()
	other, err := sql.Open("sqlite", path+"?_busy_timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close() }()
	err = s.InTx(ctx, func(tx store.Querier) error {
		if _, err := tx.ChannelList(ctx, store.ListParams{}); err != nil {
			return err
		}
		_, err := other.ExecContext(ctx, "BEGIN IMMEDIATE")
		if err == nil {
			t.Error("another connection took the write lock during InTx")
			_, _ = other.ExecContext(ctx, "ROLLBACK")
		} else if k := orderly.KindOf(s.dialect.Interpret(err)); k != orderly.KindUnavailable {
			t.Errorf("busy error %v interpreted as %s, want unavailable", err, k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStoredTime(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	if err := s.ChannelInsert(ctx, storetest.NewChannel("web")); err != nil {
		t.Fatal(err)
	}
	var typ, text string
	if err := s.read.QueryRowContext(ctx, "SELECT typeof(created_at), created_at FROM channels").Scan(&typ, &text); err != nil {
		t.Fatal(err)
	}
	if want := "2025-03-14T09:26:53.589793Z"; typ != "text" || text != want {
		t.Errorf("created_at stored as %s %q, want text %q", typ, text, want)
	}
}

func TestOpenRejectsNonFiles(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if s, err := Open(context.Background(), path); err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

// TestLedgerCheckTampered breaks the books with raw SQL on the writer.
func TestLedgerCheckTampered(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	storetest.LedgerCheckTampered(t, s, func(q string) error {
		_, err := s.write.ExecContext(context.Background(), q)
		return err
	})
}

// TestOutboxQueryPlan pins the plan of the dispatcher's read: events after
// the cursor, a range of the rowid (seq), in its order, without a sort.
// The row-value form (txid, seq) > (?, ?) once made SQLite range over
// txid alone — every event, since all have txid 0 — on each poll; the
// (txid, seq) index that then served it is gone (migration 0014).
func TestOutboxQueryPlan(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	for _, q := range []string{s.dialect.OutboxEventsQuery()} {
		plan := queryPlan(t, s, q, 0, 5, 200)
		if len(plan) != 1 || !strings.Contains(plan[0], "SEARCH e USING INTEGER PRIMARY KEY (rowid>?)") {
			t.Errorf("plan %q, want one SEARCH of events by rowid>? and no sort", plan)
		}
	}
}

// TestSearchExactPlan pins the plan of the order search's exact arm:
// the number, the external id through the unique (channel, external_id)
// key once per channel (there is no index on external_id alone, migration
// 0016) and the e-mail, each an index search — no scan of orders.
func TestSearchExactPlan(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	plan := strings.Join(queryPlan(t, s, `SELECT o.number FROM orders o WHERE (o.number = ? OR `+sqlstore.OrderSearchExact+`)`,
		5, "EXT-5", "a@example.com"), "\n")
	for _, want := range []string{"MULTI-INDEX OR", "(number=?)", "(channel=? AND external_id=?)", "(customer_email_fold=?)"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	if strings.Contains(plan, "SCAN o") {
		t.Errorf("plan scans orders:\n%s", plan)
	}
}

// TestWritesOutsideTxJoinBatches checks that a single-statement write made
// outside a transaction runs in a group-commit batch rather than as a
// transaction (and fsync) of its own on the writer.
func TestWritesOutsideTxJoinBatches(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	rec := &store.IdempotencyRecord{Scope: "test", Key: "k", RequestHash: "h", CreatedAt: now, LockedAt: now}
	if existing, err := s.IdempotencyBegin(ctx, rec); err != nil || existing != nil {
		t.Fatal(existing, err)
	}
	before := s.GroupCommitStats()
	rec.Status, rec.Body = 201, []byte(`{}`)
	if err := s.IdempotencyComplete(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IdempotencyPurge(ctx, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	after := s.GroupCommitStats()
	if got := after.Transactions - before.Transactions; got != 2 {
		t.Errorf("group commit ran %d transactions for two writes outside a transaction, want 2", got)
	}
	if after.Busy <= before.Busy {
		t.Errorf("group commit's busy time did not grow over two writes: %v, then %v", before.Busy, after.Busy)
	}
}

// TestAloneTransactionsRunOnTheirOwn queues transactions marked
// store.Alone among ordinary ones behind a transaction that holds the
// writer: each Alone one runs as a batch of its own, the others still
// batch.
func TestAloneTransactionsRunOnTheirOwn(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	insert := func(ctx context.Context, code string) error {
		return s.InTx(ctx, func(tx store.Querier) error {
			return tx.SKUInsert(ctx, &inventory.SKU{SKU: code, Name: code, CreatedAt: at, UpdatedAt: at})
		})
	}
	before := s.GroupCommitStats()
	hold, held := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.InTx(ctx, func(store.Querier) error { close(held); <-hold; return nil }); err != nil {
			t.Error(err)
		}
	})
	<-held
	for i := range 6 {
		c := ctx
		if i%3 == 0 {
			c = store.Alone(ctx)
		}
		wg.Go(func() {
			if err := insert(c, fmt.Sprint("Q-", i)); err != nil {
				t.Error(err)
			}
		})
	}
	// Let the six queue up behind the held transaction (their order does
	// not matter: two are Alone, wherever they stand).
	for deadline := time.Now().Add(5 * time.Second); s.GroupCommitQueued() < 6 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	close(hold)
	wg.Wait()
	after := s.GroupCommitStats()
	if got := after.Transactions - before.Transactions; got != 7 {
		t.Fatalf("%d transactions, want 7", got)
	}
	// The held one, each Alone one, and at least one batch of the others;
	// without Alone the six would be one batch.
	if got := after.Batches - before.Batches; got < 4 {
		t.Errorf("%d batches, want at least 4", got)
	}
}

// TestLedgerCheckPlan pins the plan of `orderly reconcile`'s query: one
// pass over the three tables and a sort, no join. The FULL JOIN it had
// before ran as a nested loop: hours at two million balances.
func TestLedgerCheckPlan(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	all := strings.Join(queryPlan(t, s, sqlstore.LedgerCheckQuery), "\n")
	if strings.Contains(all, "JOIN") || !strings.Contains(all, "GROUP BY") {
		t.Errorf("plan:\n%s\nwant scans of the three tables grouped, no join", all)
	}
}

// queryPlan returns the details of EXPLAIN QUERY PLAN of query on the
// writer, one per step.
func queryPlan(t *testing.T, s *Store, query string, args ...any) []string {
	t.Helper()
	rows, err := s.write.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}
