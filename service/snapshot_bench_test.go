package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/internal/clocktest"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// snapshotBenchSKUs is the size of the benchmarked snapshot: what a WMS
// sends for one location, and what `orderly bench --mode availability`
// seeds with.
const snapshotBenchSKUs = 5_000

// BenchmarkSnapshotApply times one applied snapshot of 5,000 SKUs, each
// drifted, on each backend: "new" counts stock at a location without
// balances (every balance is created, as when a bench seeds its data),
// "existing" corrects balances that are there. Run it with a small
// -benchtime, e.g. -benchtime 3x.
func BenchmarkSnapshotApply(b *testing.B) {
	for _, be := range dbtest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			st := be.Open(b)
			ctx := context.Background()
			clock := clocktest.New(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
			svc := service.New(st, clock, nil)
			skus := mustSKUs(b, st, clock.Now(), snapshotBenchSKUs)
			locations := 0
			newLocation := func(b *testing.B) string {
				locations++
				code := fmt.Sprintf("wh%d", locations)
				if _, err := svc.CreateLocation(ctx, admin, &inventory.Location{Code: code, Name: code, Kind: inventory.LocationWarehouse, Active: true}); err != nil {
					b.Fatal(err)
				}
				return code
			}
			apply := func(b *testing.B, location string, round int64) {
				items := make([]service.SnapshotItem, len(skus))
				for i, sku := range skus {
					items[i] = service.SnapshotItem{SKU: sku, OnHand: 10 + int64(i%7) + round}
				}
				rep, err := svc.SubmitSnapshot(ctx, admin, service.Snapshot{Location: location, Mode: inventory.SnapshotPartial, Apply: true, Items: items})
				if err != nil {
					b.Fatal(err)
				}
				if rep.Drifted != len(skus) {
					b.Fatalf("%d SKUs drifted, want %d", rep.Drifted, len(skus))
				}
			}
			b.Run("new", func(b *testing.B) {
				for b.Loop() {
					apply(b, newLocation(b), 0)
				}
			})
			b.Run("existing", func(b *testing.B) {
				location := newLocation(b)
				apply(b, location, 0)
				round := int64(0)
				for b.Loop() {
					round++
					apply(b, location, round%2*5+1)
				}
			})
		})
	}
}

// mustSKUs stores n SKUs (SKU-00000, SKU-00001, …) in one transaction and
// returns their codes: a catalogue for snapshots too large to build
// through the service one SKU at a time.
func mustSKUs(tb testing.TB, st store.Store, now time.Time, n int) []string {
	tb.Helper()
	skus := make([]string, n)
	err := st.InTx(context.Background(), func(tx store.Querier) error {
		for i := range skus {
			skus[i] = fmt.Sprintf("SKU-%05d", i)
			if err := tx.SKUInsert(context.Background(), &inventory.SKU{SKU: skus[i], Name: "Item " + skus[i], CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return skus
}
