package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// TestConcurrentChannelPatches: PATCHes of different fields of one channel,
// at the same time, all take effect. Without the row lock taken before the
// read, on PostgreSQL a PATCH could write back the fields it read before
// another committed, losing that one's change.
func TestConcurrentChannelPatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		for round := range 10 {
			name := fmt.Sprintf("Web shop %d", round)
			days := 10 + round
			var wg sync.WaitGroup
			errs := make([]error, 2)
			wg.Go(func() {
				_, errs[0] = b.svc.UpdateChannel(ctx, admin, "web", service.ChannelPatch{Name: &name})
			})
			wg.Go(func() {
				_, errs[1] = b.svc.UpdateChannel(ctx, admin, "web", service.ChannelPatch{Policy: &service.PolicyPatch{ReturnWindowDays: &days}})
			})
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d, patch %d: %v", round, i, err)
				}
			}
			c, err := b.svc.GetChannel(ctx, admin, "web")
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != name || c.Policy.ReturnWindowDays != days {
				t.Fatalf("round %d: name %q, return window %d; want %q and %d (a concurrent PATCH was lost)",
					round, c.Name, c.Policy.ReturnWindowDays, name, days)
			}
		}
	})
}

// TestConcurrentLocationAndSKUPatches: as TestConcurrentChannelPatches,
// for locations and SKUs.
func TestConcurrentLocationAndSKUPatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := stockSetup(t, st)
		ctx := context.Background()
		for round := range 10 {
			name := fmt.Sprintf("Warehouse %d", round)
			priority := 10 + round
			skuName := fmt.Sprintf("Hot item %d", round)
			weight := int64(100 + round)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			wg.Go(func() {
				_, errs[0] = b.svc.UpdateLocation(ctx, admin, "wh2", service.LocationPatch{Name: &name})
			})
			wg.Go(func() {
				_, errs[1] = b.svc.UpdateLocation(ctx, admin, "wh2", service.LocationPatch{Priority: &priority})
			})
			wg.Go(func() {
				_, errs[2] = b.svc.UpdateSKU(ctx, admin, "HOT", service.SKUPatch{Name: &skuName})
			})
			wg.Go(func() {
				_, errs[3] = b.svc.UpdateSKU(ctx, admin, "HOT", service.SKUPatch{WeightGrams: &weight})
			})
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d, patch %d: %v", round, i, err)
				}
			}
			l, err := b.svc.GetLocation(ctx, admin, "wh2")
			if err != nil {
				t.Fatal(err)
			}
			if l.Name != name || l.Priority != priority {
				t.Fatalf("round %d: location %q priority %d; want %q and %d (a concurrent PATCH was lost)", round, l.Name, l.Priority, name, priority)
			}
			k, err := b.svc.GetSKU(ctx, admin, "HOT")
			if err != nil {
				t.Fatal(err)
			}
			if k.Name != skuName || k.WeightGrams != weight {
				t.Fatalf("round %d: SKU %q weight %d; want %q and %d (a concurrent PATCH was lost)", round, k.Name, k.WeightGrams, skuName, weight)
			}
		}
	})
}
