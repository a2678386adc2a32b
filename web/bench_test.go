package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/postgres"
	"github.com/orderly-oms/orderly/store"
	"github.com/orderly-oms/orderly/store/storetest"
)

// benchOrders is how many orders the list benchmarks search through.
const benchOrders = 100_000

// BenchmarkOrdersPage measures the order list page, rendered and served,
// over 100,000 orders: the first page; searches by number, e-mail,
// external id, part of a name that few orders have, part of a name every
// order has (and its second page), two letters of a rare name (too short
// for the trigram index: a scan); the filters (backordered, on hold, a
// status, a channel, a placing date range) alone and with a search.
// docs/benchmarks.md has figures.
func BenchmarkOrdersPage(b *testing.B) {
	for _, be := range dbtest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			st, analyze := be.Open(b), func() {}
			if be.Name == "postgres" {
				st, analyze = openAnalyzed(b)
			}
			f := newBenchFixture(b, st)
			analyze()
			for _, q := range []struct{ name, path string }{
				{"first-page", "/orders"},
				{"number", "/orders?q=1054321"},
				{"email", "/orders?q=c77777%40example.com"},
				{"external-id", "/orders?q=B-4321"},
				{"name-part", "/orders?q=zed"},
				{"name-common", "/orders?q=customer"},
				{"name-common-page-2", "/orders?q=customer&before=1090000"},
				{"name-short", "/orders?q=ze"},
				{"backordered", "/orders?backordered=1"},
				{"on-hold", "/orders?on_hold=1"},
				{"status-rare", "/orders?status=cancelled"},
				{"channel", "/orders?channel=web"},
				{"placed-range", "/orders?from=2025-03-20&to=2025-03-21"},
				{"name-part-on-hold", "/orders?q=zed&on_hold=1"},
				{"name-common-placed-range", "/orders?q=customer&from=2025-03-20&to=2025-03-21"},
			} {
				b.Run(q.name, func(b *testing.B) {
					for b.Loop() {
						resp, err := f.client.Get(f.base + q.path)
						if err != nil {
							b.Fatal(err)
						}
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							b.Fatalf("%s: %d", q.path, resp.StatusCode)
						}
					}
				})
			}
		})
	}
}

// openAnalyzed opens a PostgreSQL store as dbtest.Postgres does, and
// returns with it a function that runs ANALYZE on the orders and their
// lines. PostgreSQL plans the list's searches and filters by statistics,
// which autovacuum gathers in production shortly after a load; right
// after a fresh bulk load it has none and its plans for a rare name or
// the backordered filter read the whole table (docs/benchmarks.md).
func openAnalyzed(b *testing.B) (store.Store, func()) {
	ctx := context.Background()
	url := dbtest.PostgresURL(b)
	st, err := postgres.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() }) // before PostgresURL drops the schema
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return st, func() {
		pool, err := pgxpool.New(ctx, url) // the URL holds pool settings
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		if _, err := pool.Exec(ctx, `ANALYZE orders, order_lines`); err != nil {
			b.Fatal(err)
		}
	}
}

type benchFixture struct {
	base   string
	client *http.Client
}

// newBenchFixture is the test fixture plus benchOrders orders inserted
// through the store in large transactions (the service would take minutes).
func newBenchFixture(b *testing.B, st store.Store) *benchFixture {
	b.Helper()
	f := newFixture(b, st)
	ctx := context.Background()
	const batch = 5000
	for start := 0; start < benchOrders; start += batch {
		err := st.InTx(ctx, func(tx store.Querier) error {
			for i := start; i < start+batch; i++ {
				o := storetest.NewOrder("web", fmt.Sprintf("B-%d", i))
				o.Customer.Name = fmt.Sprintf("Customer %d", i)
				if i%10_000 == 0 {
					o.Customer.Name = fmt.Sprintf("Zed %d", i)
				}
				o.Customer.Email = fmt.Sprintf("c%d@example.com", i)
				if i%1000 == 0 {
					o.Lines[0].Backordered = 1
				}
				if i%500 == 250 || i%20_000 == 0 {
					if err := o.PutOnHold("address check", storetest.T0); err != nil {
						return err
					}
				}
				// A placing time a minute apart: 100,000 orders span 70 days.
				o.PlacedAt = storetest.T0.Add(time.Duration(i) * time.Minute)
				if err := tx.OrderInsert(ctx, o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	c := f.login(b, "viewer@example.com")
	return &benchFixture{base: f.srv.URL, client: c.http}
}
