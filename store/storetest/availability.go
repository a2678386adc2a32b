package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
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

// testAvailabilityAfterWrites reads availability before and after every
// kind of write to a balance — in and out of transactions, committed,
// refused and rolled back — and compares it with the balances themselves:
// the store may answer availability from a cache (sqlstore's stock
// cache), which every such write must keep exact.
func testAvailabilityAfterWrites(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds", "york"}, []string{"A", "B", "C"})
	mustInsertChannels(t, s, "web")
	skus := []string{"A", "B", "C"}
	check := func(step string) {
		t.Helper()
		for range 2 { // the first read may fill the cache, the second is from it
			for _, channel := range []string{"", "web", "nope"} {
				got, err := s.AvailabilityRead(ctx, channel, skus)
				ok(t, step, err)
				want := &store.AvailabilityView{}
				want.Balances, err = s.BalancesBySKU(ctx, skus)
				ok(t, step, err)
				for _, b := range want.Balances {
					b.UpdatedAt = time.Time{}
				}
				ls, err := s.LocationList(ctx, store.ListParams{Limit: store.MaxLimit})
				ok(t, step, err)
				for _, l := range ls {
					if l.Active {
						want.Active = append(want.Active, l.Code)
					}
				}
				if channel != "" {
					want.Channel, err = s.ChannelGet(ctx, channel)
					if orderly.KindOf(err) == orderly.KindNotFound {
						err = nil
					}
					ok(t, step, err)
				}
				equal(t, fmt.Sprintf("availability for channel %q after %s", channel, step), got, want)
			}
		}
	}
	check("nothing")
	mustMove(t, s, newMove("leeds", "A", 10, 0, inventory.ReasonReceive, 0))
	check("a receipt creating a balance")
	mustMove(t, s, newMove("leeds", "A", 0, 2, inventory.ReasonReserve, 1))
	check("a reserving movement")
	_, err := s.StockMove(ctx, newMove("leeds", "A", -20, 0, inventory.ReasonDamage, 1))
	wantKind(t, "a refused movement", err, orderly.KindInvalid)
	check("a refused movement")
	_, err = s.StockCount(ctx, []*inventory.Movement{newMove("york", "B", 7, 0, inventory.ReasonCount, 2),
		newMove("leeds", "A", -3, 0, inventory.ReasonCount, 2)})
	ok(t, "count", err)
	check("a count")
	_, err = s.BalanceSetSafetyStock(ctx, "york", "B", 2, at(3))
	ok(t, "safety stock", err)
	check("a safety stock")
	_, err = s.BalanceSetSafetyStock(ctx, "york", "C", 1, at(3))
	ok(t, "safety stock of a new balance", err)
	check("a safety stock creating a balance")
	o := NewOrder("web", "CACHE1")
	ok(t, "capture", s.OrderCapture(ctx, captureParams(o, pk(o.Lines[0].ID, "A", "leeds", 1), pk(o.Lines[1].ID, "B", "york", 1))))
	check("a capture")
	_, err = s.StockReserve(ctx, o.ID, []inventory.Pick{pk(o.Lines[1].ID, "B", "york", 3)}, "key:test", at(4))
	ok(t, "reserve", err)
	check("a reservation")
	_, err = s.StockReserve(ctx, o.ID, []inventory.Pick{pk(o.Lines[1].ID, "B", "york", 1), pk(o.Lines[0].ID, "A", "leeds", 50)}, "key:test", at(4))
	wantIs(t, "a refused reservation", err, store.ErrInsufficientStock)
	check("a refused reservation")
	dup := NewOrder("web", "CACHE1")
	wantIs(t, "a duplicate capture", s.OrderCapture(ctx, captureParams(dup, pk(dup.Lines[0].ID, "A", "leeds", 1))), store.ErrDuplicate)
	check("a duplicate capture")
	errRollback := errors.New("rolled back")
	err = s.InTx(ctx, func(tx store.Querier) error {
		mustMove(t, tx, newMove("york", "A", 4, 0, inventory.ReasonReceive, 5))
		got, err := tx.AvailabilityRead(ctx, "", skus)
		ok(t, "read in the transaction", err)
		if len(got.Balances) != 4 {
			t.Errorf("a transaction's read: %v, want its own new balance among 4", keys(got.Balances))
		}
		return errRollback
	})
	wantIs(t, "rollback", err, errRollback)
	check("a rolled-back transaction")
	ok(t, "transaction", s.InTx(ctx, func(tx store.Querier) error {
		mustMove(t, tx, newMove("york", "A", 4, 0, inventory.ReasonReceive, 6))
		_, err := tx.StockMove(ctx, newMove("york", "C", 0, 0, inventory.ReasonReceive, 6))
		return err
	}))
	check("a committed transaction")
	york, err := s.LocationGet(ctx, "york")
	ok(t, "york", err)
	york.Active = false
	ok(t, "close york", s.LocationUpdate(ctx, york))
	check("a location closed")
	ok(t, "hull", s.LocationInsert(ctx, newLocation("hull", nil, nil)))
	check("a location opened")
	web, err := s.ChannelGet(ctx, "web")
	ok(t, "web", err)
	web.Locations = []string{"leeds"}
	ok(t, "web from leeds", s.ChannelUpdate(ctx, web))
	check("a channel's locations changed")
	mustInsertChannels(t, s, "nope")
	check("a channel created")
	ok(t, "transaction", s.InTx(ctx, func(tx store.Querier) error {
		web.Locations = nil
		return tx.ChannelUpdate(ctx, web)
	}))
	check("a channel changed in a transaction")
}
