package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/inventory"
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

// BenchmarkAvailability measures the availability read path:
// AvailabilityRead of availabilityBatch random SKUs for no channel (the
// active locations and the balances' figures), outside any transaction,
// on a store
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
		v, err := s.AvailabilityRead(ctx, "", skus)
		durations = append(durations, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if len(v.Balances) < AvailabilityLocations || len(v.Active) != AvailabilityLocations {
			b.Fatalf("%d balances of %d SKUs, %d active locations", len(v.Balances), len(skus), len(v.Active))
		}
	}
	slices.Sort(durations)
	percentile := func(p float64) float64 {
		return float64(durations[int(p*float64(len(durations)-1))]) / float64(time.Microsecond)
	}
	b.ReportMetric(percentile(0.50), "p50-µs")
	b.ReportMetric(percentile(0.99), "p99-µs")
}

// testAvailabilityRead checks that AvailabilityRead returns what the
// single-purpose reads return — the channel named, the active locations'
// codes and the SKUs' balances, whose figures only — in and outside a
// transaction, with no channel or an unknown one, and for more SKUs than
// one IN list takes.
func testAvailabilityRead(t *testing.T, s store.Store) {
	empty, err := s.AvailabilityRead(ctx, "", []string{"A"})
	ok(t, "read of nothing", err)
	equal(t, "view of an empty store", empty, &store.AvailabilityView{})

	mustStock(t, s, []string{"york", "leeds", "hull"}, []string{"A", "B"})
	mustInsertChannels(t, s, "web")
	hull, err := s.LocationGet(ctx, "hull")
	ok(t, "hull", err)
	hull.Active = false
	ok(t, "close hull", s.LocationUpdate(ctx, hull))
	mustMove(t, s, newMove("leeds", "A", 10, 0, inventory.ReasonReceive, 0))
	mustMove(t, s, newMove("york", "A", 5, 0, inventory.ReasonReceive, 1))
	mustMove(t, s, newMove("hull", "A", 7, 0, inventory.ReasonReceive, 1))
	mustMove(t, s, newMove("york", "A", 0, 2, inventory.ReasonReserve, 2))
	mustMove(t, s, newMove("york", "B", 3, 0, inventory.ReasonReceive, 2))
	_, err = s.BalanceSetSafetyStock(ctx, "leeds", "A", 4, at(3))
	ok(t, "safety stock", err)

	want := func(t *testing.T, q store.Querier, channel string, skus []string) *store.AvailabilityView {
		t.Helper()
		var v store.AvailabilityView
		if channel != "" {
			v.Channel, err = q.ChannelGet(ctx, channel)
			ok(t, "channel", err)
		}
		v.Active = []string{"leeds", "york"}
		v.Balances, err = q.BalancesBySKU(ctx, skus)
		ok(t, "balances", err)
		for _, b := range v.Balances {
			b.UpdatedAt = time.Time{}
		}
		return &v
	}
	for _, skus := range [][]string{{"B", "A", "NOPE", "A"}, manySKUs(150, "A", "B")} {
		sorted := dedupSorted(skus)
		for _, channel := range []string{"", "web"} {
			got, err := s.AvailabilityRead(ctx, channel, skus)
			ok(t, "read", err)
			name := fmt.Sprintf("view of %d SKUs for channel %q", len(sorted), channel)
			equal(t, name, got, want(t, s, channel, sorted))
			if len(got.Balances) != 4 || got.Balances[2].Location != "york" || got.Balances[2].Reserved != 2 {
				t.Fatalf("%s: balances %v, want 4 with A@york reserving 2", name, keys(got.Balances))
			}
			ok(t, "in a transaction", s.InTx(ctx, func(tx store.Querier) error {
				got, err := tx.AvailabilityRead(ctx, channel, skus)
				ok(t, "read in tx", err)
				equal(t, name+" in a transaction", got, want(t, tx, channel, sorted))
				return nil
			}))
		}
	}
	none, err := s.AvailabilityRead(ctx, "nope", []string{"B"})
	ok(t, "read of an unknown channel", err)
	if none.Channel != nil || len(none.Balances) != 1 || len(none.Active) != 2 {
		t.Errorf("view of an unknown channel: %+v", none)
	}
}
