package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderly-oms/orderly/internal/dbtest"
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

// TestLedgerCheckTampered breaks the books with raw SQL through a pool of
// its own.
func TestLedgerCheckTampered(t *testing.T) {
	t.Parallel()
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
	storetest.LedgerCheckTampered(t, s, func(q string) error {
		_, err := raw.Exec(ctx, q)
		return err
	})
}

// TestInTxRetriesDeadlock makes two transactions deadlock; PostgreSQL
// aborts one, and InTx must run it again so that both succeed.
func TestInTxRetriesDeadlock(t *testing.T) {
	t.Parallel()
	s := dbtest.Postgres(t)
	ctx := context.Background()
	for _, code := range []string{"a", "b"} {
		if err := s.ChannelInsert(ctx, storetest.NewChannel(code)); err != nil {
			t.Fatal(err)
		}
	}
	var attempts atomic.Int32
	var locked sync.WaitGroup // both hold their first row
	locked.Add(2)
	update := func(first, second string) error {
		firstAttempt := true
		return s.InTx(ctx, func(tx store.Querier) error {
			attempts.Add(1)
			for i, code := range []string{first, second} {
				c, err := tx.ChannelGet(ctx, code)
				if err != nil {
					return err
				}
				c.Name += "+"
				if err := tx.ChannelUpdate(ctx, c); err != nil {
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
	wg.Go(func() { errs[0] = update("a", "b") })
	wg.Go(func() { errs[1] = update("b", "a") })
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
	for _, code := range []string{"a", "b"} {
		c, err := s.ChannelGet(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		if want := "Channel " + code + "++"; c.Name != want {
			t.Errorf("channel %s named %q, want %q", code, c.Name, want)
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
