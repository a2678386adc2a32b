package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/service"
)

// BenchmarkCreateOrder measures the whole HTTP path of order capture —
// authentication, decoding, validation, the stock reservation, the insert
// with its events, the response — on each backend, with as many concurrent clients as
// GOMAXPROCS×4.
func BenchmarkCreateOrder(b *testing.B) {
	for _, backend := range dbtest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			bu := setup(b, backend.Open(b))
			// Stock for every order the benchmark may capture, so that each
			// one is reserved in full (the common path), not backordered.
			for _, sku := range []string{sku1, sku2} {
				if _, _, err := bu.svc.AdjustStock(context.Background(), auth.Principal{Name: "key:bench", Role: auth.RoleAdmin},
					service.Adjustment{Location: locLeeds, SKU: sku, Delta: inventory.MaxQuantity - fixtureStock, Reason: inventory.ReasonReceive}); err != nil {
					b.Fatal(err)
				}
			}
			client := bu.srv.Client()
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
			var seq atomic.Int64
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					body := orderBody(chWeb, fmt.Sprint("B-", seq.Add(1)))
					r, err := http.NewRequest("POST", bu.srv.URL+"/api/v1/orders", strings.NewReader(body))
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
		})
	}
}
