package httpapi

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// benchSKUs is how many SKUs the uniform capture benchmark spreads its
// orders over.
const benchSKUs = 1000

// BenchmarkCreateOrder measures the whole HTTP path of order capture —
// authentication, decoding, validation, the stock reservation, the insert
// with its events, the response — on each backend, with as many concurrent
// clients as GOMAXPROCS×4. Every order is reserved in full (the common
// path), not backordered.
//
//   - uniform: each order has 1–3 lines of distinct SKUs drawn at random
//     from benchSKUs SKUs stocked at one location, so concurrent captures
//     rarely want the same balance: the normal case.
//   - hot-sku: every order wants the same two SKUs at one location, so on
//     PostgreSQL each capture waits for the previous one's balance locks:
//     the worst case of a flash sale, not the normal one.
func BenchmarkCreateOrder(b *testing.B) {
	for _, backend := range dbtest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			b.Run("uniform", func(b *testing.B) {
				bu := setup(b, backend.Open(b))
				stockBenchSKUs(b, bu.store)
				runCreateOrder(b, bu, uniformOrderBody)
			})
			b.Run("hot-sku", func(b *testing.B) {
				bu := setup(b, backend.Open(b))
				for _, sku := range []string{sku1, sku2} {
					if _, _, err := bu.svc.AdjustStock(context.Background(), auth.Principal{Name: "key:bench", Role: auth.RoleAdmin},
						service.Adjustment{Location: locLeeds, SKU: sku, Delta: inventory.MaxQuantity - fixtureStock, Reason: inventory.ReasonReceive}); err != nil {
						b.Fatal(err)
					}
				}
				runCreateOrder(b, bu, func(_ *rand.Rand, ext string) string { return orderBody(chWeb, ext) })
			})
		})
	}
}

// benchSKU is the code of the i-th benchmark SKU.
func benchSKU(i int) string { return fmt.Sprintf("BENCH-%04d", i) }

// stockBenchSKUs creates benchSKUs SKUs, each with as much stock at leeds
// as a balance can hold, in one transaction.
func stockBenchSKUs(b *testing.B, s store.Store) {
	b.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx store.Querier) error {
		for i := range benchSKUs {
			code := benchSKU(i)
			if err := tx.SKUInsert(ctx, &inventory.SKU{SKU: code, Name: "Item " + code, CreatedAt: t0, UpdatedAt: t0}); err != nil {
				return err
			}
			if _, err := tx.StockMove(ctx, &inventory.Movement{SKU: code, Location: locLeeds, DeltaOnHand: inventory.MaxQuantity,
				Reason: inventory.ReasonReceive, Reference: "bench", Actor: "key:bench", At: t0}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// uniformOrderBody returns an order of 1–3 lines of distinct random
// benchmark SKUs.
func uniformOrderBody(rng *rand.Rand, ext string) string {
	n := 1 + rng.IntN(3)
	picked := make([]int, 0, n)
	var lines []string
	for len(picked) < n {
		i := rng.IntN(benchSKUs)
		dup := false
		for _, p := range picked {
			dup = dup || p == i
		}
		if dup {
			continue
		}
		picked = append(picked, i)
		lines = append(lines, fmt.Sprintf(`{"sku":%q,"quantity":%d,"unit_price":1999,"tax":380,"name":"Widget"}`, benchSKU(i), 1+rng.IntN(3)))
	}
	return `{"channel":"` + chWeb + `","external_id":"` + ext + `","placed_at":"2025-02-28T10:00:00Z","currency":"EUR",
		"customer":{"name":"Ada Lovelace","email":"ada@example.com","phone":"+44 20 7946 0000"},
		"shipping_address":{"name":"Ada Lovelace","line1":"1 Analytical St","city":"London","postal_code":"N1 1AA","country":"GB","lat":51.5,"lon":-0.1},
		"billing_address":{"name":"Ada Lovelace","country":"GB"},
		"lines":[` + strings.Join(lines, ",") + `],
		"shipping_lines":[{"code":"std","name":"Standard","price":495}],
		"note":"leave at the door","tags":["vip"]}`
}

// runCreateOrder posts the orders body returns, from GOMAXPROCS×4 clients,
// and reports orders/s.
func runCreateOrder(b *testing.B, bu *bundle, body func(rng *rand.Rand, ext string) string) {
	client := bu.srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	var seq, seed atomic.Uint64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(seed.Add(1), 42))
		for pb.Next() {
			r, err := http.NewRequest("POST", bu.srv.URL+"/api/v1/orders", strings.NewReader(body(rng, fmt.Sprint("B-", seq.Add(1)))))
			if err != nil {
				b.Error(err)
				return
			}
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", "Bearer "+bu.keys["admin"])
			res, err := client.Do(r)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
}
