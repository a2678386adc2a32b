package service_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/internal/clocktest"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// analyzeCounter is a store that counts AnalyzeStock calls.
type analyzeCounter struct {
	store.Store
	calls atomic.Int64
}

func (a *analyzeCounter) AnalyzeStock(ctx context.Context) error {
	a.calls.Add(1)
	return a.Store.AnalyzeStock(ctx)
}

// TestSnapshotRefreshesStatistics: an applied snapshot that creates a
// thousand balances or more refreshes the planner's statistics of the
// stock balances (PostgreSQL planned a sequential scan for every
// availability lookup right after a bulk load); a smaller one, one that
// only corrects existing balances, or one right after a refresh does not.
func TestSnapshotRefreshesStatistics(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		counter := &analyzeCounter{Store: st}
		clock := clocktest.New(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
		svc := service.New(counter, clock, nil)
		if _, err := svc.CreateLocation(ctx, admin, &inventory.Location{Code: "wh1", Name: "Warehouse", Kind: inventory.LocationWarehouse, Active: true}); err != nil {
			t.Fatal(err)
		}
		skus := mustSKUs(t, st, clock.Now(), 2100)
		snapshot := func(skus []string, onHand int64) {
			t.Helper()
			items := make([]service.SnapshotItem, len(skus))
			for i, sku := range skus {
				items[i] = service.SnapshotItem{SKU: sku, OnHand: onHand}
			}
			if _, err := svc.SubmitSnapshot(ctx, admin, service.Snapshot{Location: "wh1", Mode: inventory.SnapshotPartial, Apply: true, Items: items}); err != nil {
				t.Fatal(err)
			}
		}
		snapshot(skus[:999], 5) // 999 new balances: too few
		if n := counter.calls.Load(); n != 0 {
			t.Fatalf("after 999 new balances: %d refreshes, want 0", n)
		}
		snapshot(skus[999:2000], 5) // 1,001 new
		if n := counter.calls.Load(); n != 1 {
			t.Fatalf("after 1,001 new balances: %d refreshes, want 1", n)
		}
		snapshot(skus[:2000], 7) // 2,000 corrected, none new
		snapshot(skus[2000:], 1) // 100 new
		if n := counter.calls.Load(); n != 1 {
			t.Fatalf("after corrections and a small count: %d refreshes, want still 1", n)
		}
	})
}
