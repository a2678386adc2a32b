package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/store"
)

// The availability benchmark's data set: AvailabilitySKUs SKUs named by
// AvailabilitySKU, each with a balance at each of AvailabilityLocations
// locations named by AvailabilityLocation (two million balances). Each
// backend loads it its own fast way, in bulk SQL, and keeps it between
// runs.
const (
	AvailabilitySKUs      = 100_000
	AvailabilityLocations = 20
)

// AvailabilitySKU names the i-th SKU of the availability data set.
func AvailabilitySKU(i int) string { return fmt.Sprintf("SKU-%06d", i) }

// AvailabilityLocation names the i-th location of the availability data set.
func AvailabilityLocation(i int) string { return fmt.Sprintf("LOC-%02d", i) }

// availabilityBatch is how many SKUs one availability read asks for: a
// large basket, or a storefront's page of products.
const availabilityBatch = 20

// BenchmarkAvailability measures the availability read path: BalancesBySKU
// of availabilityBatch random SKUs, outside any transaction, on a store
// holding the availability data set. Besides ns/op it reports the median
// and 99th percentile of the reads, in microseconds.
func BenchmarkAvailability(b *testing.B, s store.Store) {
	last := AvailabilitySKU(AvailabilitySKUs - 1)
	bs, err := s.BalancesBySKU(ctx, []string{last})
	if err != nil || len(bs) != AvailabilityLocations {
		b.Fatalf("the store does not hold the availability data set: %d balances of %s, %v", len(bs), last, err)
	}
	b.ReportAllocs()
	rng := rand.New(rand.NewPCG(1, 2))
	skus := make([]string, availabilityBatch)
	durations := make([]time.Duration, 0, 1024)
	for b.Loop() {
		for i := range skus {
			skus[i] = AvailabilitySKU(rng.IntN(AvailabilitySKUs))
		}
		start := time.Now()
		bs, err := s.BalancesBySKU(ctx, skus)
		durations = append(durations, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if len(bs) < AvailabilityLocations {
			b.Fatalf("%d balances of %d SKUs", len(bs), len(skus))
		}
	}
	slices.Sort(durations)
	percentile := func(p float64) float64 {
		return float64(durations[int(p*float64(len(durations)-1))]) / float64(time.Microsecond)
	}
	b.ReportMetric(percentile(0.50), "p50-µs")
	b.ReportMetric(percentile(0.99), "p99-µs")
}
