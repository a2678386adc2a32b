package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/store"
	"github.com/orderly-oms/orderly/store/storetest"
)

// benchOrders is how many orders the list benchmarks search through.
const benchOrders = 100_000

// BenchmarkOrdersPage measures the order list page, rendered and served,
// over 100,000 orders: the first page, a search by number, by e-mail, by
// part of a name that few orders have (a scan), and the backordered filter.
func BenchmarkOrdersPage(b *testing.B) {
	for _, be := range dbtest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			st := be.Open(b)
			f := newBenchFixture(b, st)
			for _, q := range []struct{ name, path string }{
				{"first-page", "/orders"},
				{"number", "/orders?q=1054321"},
				{"email", "/orders?q=c77777%40example.com"},
				{"name-part", "/orders?q=zed"},
				{"backordered", "/orders?backordered=1"},
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
