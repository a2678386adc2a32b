// Package storetest owns the contract of the store seam: Exercise runs
// the same tests against any store.Store, so that a behaviour exists in
// both backends or in neither, and Benchmark measures the hot write path.
// Each backend's tests call both with a constructor of fresh, migrated
// stores (see internal/dbtest).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// Exercise runs the contract suite against the stores newStore returns.
// newStore must return a fresh, migrated, empty store each time and close
// it when its test ends; subtests call it in parallel.
func Exercise(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Channel", testChannel},
		{"ChannelList", testChannelList},
		{"Location", testLocation},
		{"LocationList", testLocationList},
		{"SKU", testSKU},
		{"SKUList", testSKUList},
		{"SKUMissing", testSKUMissing},
		{"OrderInsertNumbers", testOrderInsertNumbers},
		{"OrderRoundTrip", testOrderRoundTrip},
		{"OrderTimes", testOrderTimes},
		{"OrderManyLines", testOrderManyLines},
		{"OrderInsertErrors", testOrderInsertErrors},
		{"OrderGetNotFound", testOrderGetNotFound},
		{"OrderList", testOrderList},
		{"OrderSearch", testOrderSearch},
		{"OrderUpdate", testOrderUpdate},
		{"InTx", testInTx},
		{"Events", testEvents},
		{"EventInsertMany", testEventInsertMany},
		{"APIKeys", testAPIKeys},
		{"Idempotency", testIdempotency},
		{"IdempotencyPurge", testIdempotencyPurge},
		{"IdempotencyApplied", testIdempotencyApplied},
		{"ReleaseInFlight", testReleaseInFlight},
		{"WebhookDeliveries", testWebhookDeliveries},
		{"Jobs", testJobs},
		{"ConcurrentJobClaims", testConcurrentJobClaims},
		{"WebhookSubscriptions", testWebhookSubscriptions},
		{"OutboxCursor", testOutboxCursor},
		{"Migrate", testMigrate},
		{"Connection", testConnection},
		{"ConcurrentDuplicateOrders", testConcurrentDuplicateOrders},
		{"ConcurrentOrders", testConcurrentOrders},
		{"ChannelLocations", testChannelLocations},
		{"StockMove", testStockMove},
		{"StockMoveInTx", testStockMoveInTx},
		{"StockMoveDuplicate", testStockMoveDuplicate},
		{"SafetyStock", testSafetyStock},
		{"MovementList", testMovementList},
		{"MovementSumSince", testMovementSumSince},
		{"BalancesLock", testBalancesLock},
		{"BalancesLockBlocks", testBalancesLockBlocks},
		{"BalancesBySKU", testBalancesBySKU},
		{"AvailabilityRead", testAvailabilityRead},
		{"AvailabilityAfterWrites", testAvailabilityAfterWrites},
		{"BalanceList", testBalanceList},
		{"Allocations", testAllocations},
		{"AllocationBeforeOrder", testAllocationBeforeOrder},
		{"LedgerCheck", testLedgerCheck},
		{"Reports", testReports},
		{"ConcurrentReservations", testConcurrentReservations},
		{"StockReserve", testStockReserve},
		{"StockReserveRefused", testStockReserveRefused},
		{"StockReserveMany", testStockReserveMany},
		{"ConcurrentStockReserve", testConcurrentStockReserve},
		{"IntakeRead", testIntakeRead},
		{"IntakeReadAfterConfigWrites", testIntakeReadAfterConfigWrites},
		{"OrderCapture", testOrderCapture},
		{"OrderCaptureDuplicate", testOrderCaptureDuplicate},
		{"OrderCaptureRefused", testOrderCaptureRefused},
		{"ConcurrentOrderCaptureDuplicates", testConcurrentOrderCaptureDuplicates},
		{"ConcurrentOrderCaptureStock", testConcurrentOrderCaptureStock},
		{"ConcurrentAdjustments", testConcurrentAdjustments},
		{"ConcurrentLockOrder", testConcurrentLockOrder},
		{"LocationRouting", testLocationRouting},
		{"LocationOrdersOn", testLocationOrdersOn},
		{"RuleSets", testRuleSets},
		{"RoutingDecisions", testRoutingDecisions},
		{"FulfilmentOrders", testFulfilmentOrders},
		{"Shipments", testShipments},
		{"Labels", testLabels},
		{"TrackingNumberNext", testTrackingNumberNext},
		{"SecretsAtRest", testSecretsAtRest}, // secrets.go
	}
	tests = append(tests, integrationTests...) // integrations.go
	tests = append(tests, orderPolicyTests...) // orderpolicy.go
	tests = append(tests, consoleTests...)     // users.go
	tests = append(tests, countTests...)       // count.go
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

var ctx = context.Background()

func testChannel(t *testing.T, s store.Store) {
	c := NewChannel("eu-store")
	ok(t, "insert", s.ChannelInsert(ctx, c))
	got, err := s.ChannelGet(ctx, "eu-store")
	ok(t, "get", err)
	equal(t, "channel", got, c)
	if got.Secret != c.Secret || !got.HasSecret {
		t.Errorf("secret = %q (has %v), want %q", got.Secret, got.HasSecret, c.Secret)
	}

	wantIs(t, "duplicate insert", s.ChannelInsert(ctx, NewChannel("eu-store")), store.ErrDuplicate)
	_, err = s.ChannelGet(ctx, "nope")
	wantKind(t, "get unknown", err, orderly.KindNotFound)

	c.Name, c.Kind, c.Secret, c.HasSecret = "EU web shop", channel.KindWooCommerce, "", false
	c.Policy = channel.Policy{CancellationWindowMinutes: 30, ReturnWindowDays: 14}
	c.UpdatedAt = at(5)
	ok(t, "update", s.ChannelUpdate(ctx, c))
	got, err = s.ChannelGet(ctx, "eu-store")
	ok(t, "get after update", err)
	equal(t, "updated channel", got, c)
	wantKind(t, "update unknown", s.ChannelUpdate(ctx, NewChannel("nope")), orderly.KindNotFound)
	wantKind(t, "lock unknown", s.InTx(ctx, func(tx store.Querier) error { return tx.ChannelLock(ctx, "nope") }), orderly.KindNotFound)
	ok(t, "lock", s.InTx(ctx, func(tx store.Querier) error { return tx.ChannelLock(ctx, c.Code) }))
}

// codes are inserted out of order; byteOrder is how every backend must
// list them: byte by byte, whatever the database's collation.
var (
	codes     = []string{"ab", "a_b", "b", "a-b", "a0", "c", "a"}
	byteOrder = []string{"a", "a-b", "a0", "a_b", "ab", "b", "c"}
)

// pageAll pages through list two at a time and returns every key.
func pageAll[T any](t *testing.T, list func(store.ListParams) ([]T, error), key func(T) string) []string {
	t.Helper()
	var keys []string
	p := store.ListParams{Limit: 2}
	for range 20 {
		page, err := list(p)
		ok(t, "list", err)
		if len(page) > 2 {
			t.Fatalf("page of %d, want at most 2", len(page))
		}
		if len(page) == 0 {
			return keys
		}
		for _, v := range page {
			keys = append(keys, key(v))
		}
		p.After = keys[len(keys)-1]
	}
	t.Fatal("list does not end")
	return nil
}

func testChannelList(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, codes...)
	all, err := s.ChannelList(ctx, store.ListParams{})
	ok(t, "list", err)
	if len(all) != len(codes) {
		t.Fatalf("listed %d channels, want %d", len(all), len(codes))
	}
	equal(t, "first channel", all[0], NewChannel("a"))
	got := pageAll(t, func(p store.ListParams) ([]*channel.Channel, error) { return s.ChannelList(ctx, p) },
		func(c *channel.Channel) string { return c.Code })
	equal(t, "paged codes", got, byteOrder)
}

func testLocation(t *testing.T, s store.Store) {
	l := newLocation("leeds", ptr(53.8008), ptr(-1.5491))
	ok(t, "insert", s.LocationInsert(ctx, l))
	got, err := s.LocationGet(ctx, "leeds")
	ok(t, "get", err)
	equal(t, "location", got, l)

	nowhere := newLocation("nowhere", nil, nil)
	ok(t, "insert without coordinates", s.LocationInsert(ctx, nowhere))
	got, err = s.LocationGet(ctx, "nowhere")
	ok(t, "get", err)
	equal(t, "location without coordinates", got, nowhere)

	wantIs(t, "duplicate insert", s.LocationInsert(ctx, newLocation("leeds", nil, nil)), store.ErrDuplicate)
	_, err = s.LocationGet(ctx, "nope")
	wantKind(t, "get unknown", err, orderly.KindNotFound)

	l.Name, l.Kind, l.Active, l.Lat, l.Lon = "Leeds store", inventory.LocationStore, false, nil, ptr(0.0)
	l.Carrier = inventory.CarrierEasyPost
	l.Address = orderly.Address{City: "Leeds", Country: "GB"}
	l.UpdatedAt = at(1)
	ok(t, "update", s.LocationUpdate(ctx, l))
	got, err = s.LocationGet(ctx, "leeds")
	ok(t, "get after update", err)
	equal(t, "updated location", got, l)
	wantKind(t, "update unknown", s.LocationUpdate(ctx, newLocation("nope", nil, nil)), orderly.KindNotFound)
	wantKind(t, "lock unknown", s.InTx(ctx, func(tx store.Querier) error { return tx.LocationLock(ctx, "nope") }), orderly.KindNotFound)
	ok(t, "lock", s.InTx(ctx, func(tx store.Querier) error { return tx.LocationLock(ctx, l.Code) }))
}

func testLocationList(t *testing.T, s store.Store) {
	for _, c := range codes {
		ok(t, "insert", s.LocationInsert(ctx, newLocation(c, nil, nil)))
	}
	got := pageAll(t, func(p store.ListParams) ([]*inventory.Location, error) { return s.LocationList(ctx, p) },
		func(l *inventory.Location) string { return l.Code })
	equal(t, "paged codes", got, byteOrder)
	page, err := s.LocationList(ctx, store.ListParams{After: "b"})
	ok(t, "list after b", err)
	equal(t, "after b", page, []*inventory.Location{newLocation("c", nil, nil)})
}

func testSKU(t *testing.T, s store.Store) {
	k := newSKU("TEE-RED-M")
	ok(t, "insert", s.SKUInsert(ctx, k))
	got, err := s.SKUGet(ctx, "TEE-RED-M")
	ok(t, "get", err)
	equal(t, "SKU", got, k)
	wantIs(t, "duplicate insert", s.SKUInsert(ctx, newSKU("TEE-RED-M")), store.ErrDuplicate)
	_, err = s.SKUGet(ctx, "tee-red-m")
	wantKind(t, "get with other case", err, orderly.KindNotFound)

	k.Name, k.Barcode, k.WeightGrams, k.UpdatedAt = "Red tee (M)", "", 0, at(1)
	ok(t, "update", s.SKUUpdate(ctx, k))
	got, err = s.SKUGet(ctx, "TEE-RED-M")
	ok(t, "get after update", err)
	equal(t, "updated SKU", got, k)
	wantKind(t, "update unknown", s.SKUUpdate(ctx, newSKU("nope")), orderly.KindNotFound)
	wantKind(t, "lock unknown", s.InTx(ctx, func(tx store.Querier) error { return tx.SKULock(ctx, "nope") }), orderly.KindNotFound)
	ok(t, "lock", s.InTx(ctx, func(tx store.Querier) error { return tx.SKULock(ctx, k.SKU) }))
}

func testSKUList(t *testing.T, s store.Store) {
	// SKU codes are the channels' own: any text, compared byte by byte.
	skus := []string{"b 2", "B", "a", "é", "A-1", "a b", "Z"}
	for _, c := range skus {
		ok(t, "insert", s.SKUInsert(ctx, newSKU(c)))
	}
	got := pageAll(t, func(p store.ListParams) ([]*inventory.SKU, error) { return s.SKUList(ctx, p) },
		func(k *inventory.SKU) string { return k.SKU })
	equal(t, "paged SKUs", got, slices.Sorted(slices.Values(skus)))
}

func testSKUMissing(t *testing.T, s store.Store) {
	for _, c := range []string{"A", "B", "C"} {
		ok(t, "insert", s.SKUInsert(ctx, newSKU(c)))
	}
	got, err := s.SKUMissing(ctx, []string{"Z", "A", "Y", "Z", "b", "C", "Y"})
	ok(t, "missing", err)
	equal(t, "missing", got, []string{"Z", "Y", "b"})
	got, err = s.SKUMissing(ctx, []string{"A", "B"})
	ok(t, "none missing", err)
	if len(got) != 0 {
		t.Errorf("missing = %q, want none", got)
	}
	got, err = s.SKUMissing(ctx, nil)
	ok(t, "no codes", err)
	if len(got) != 0 {
		t.Errorf("missing of nothing = %q, want none", got)
	}
	many := make([]string, 250) // more than one IN (…) chunk
	for i := range many {
		many[i] = fmt.Sprintf("X%03d", i)
	}
	many = append(many, "B")
	got, err = s.SKUMissing(ctx, many)
	ok(t, "many", err)
	equal(t, "many missing", got, many[:250])
}

func testOrderInsertNumbers(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web")
	for i, want := range []int64{1001, 1002, 1003} {
		o := NewOrder("web", fmt.Sprint("W", i))
		o.Number = 99 // assigned by the store, whatever the caller set
		mustInsertOrder(t, s, o)
		if o.Number != want {
			t.Errorf("order %d: number %d, want %d", i, o.Number, want)
		}
	}
	// Inside a transaction too.
	o := NewOrder("web", "W-tx")
	ok(t, "InTx", s.InTx(ctx, func(tx store.Querier) error { return tx.OrderInsert(ctx, o) }))
	if o.Number != 1004 {
		t.Errorf("number in tx = %d, want 1004", o.Number)
	}
}

// getOrderEveryWay reads o back by id, number and external id, checks the
// three agree, and returns it.
func getOrderEveryWay(t *testing.T, s store.Querier, o *order.Order) *order.Order {
	t.Helper()
	byID, err := s.OrderGet(ctx, o.ID)
	ok(t, "OrderGet", err)
	byNumber, err := s.OrderGetByNumber(ctx, o.Number)
	ok(t, "OrderGetByNumber", err)
	byExt, err := s.OrderGetByExternalID(ctx, o.Channel, o.ExternalID)
	ok(t, "OrderGetByExternalID", err)
	equal(t, "by number", byNumber, byID)
	equal(t, "by external id", byExt, byID)
	return byID
}

func testOrderRoundTrip(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web")
	o := NewOrder("web", "#1001")
	o.Lines[1].Allocated, o.Lines[1].Backordered = 1, 0
	o.Lines[0].Allocated, o.Lines[0].Backordered = 1, 1
	ok(t, "hold", o.PutOnHold("address check", at(1)))
	mustInsertOrder(t, s, o)
	got := getOrderEveryWay(t, s, o)
	equal(t, "order", got, o)
	if got.PlacedAt.Location() != time.UTC || got.Hold.Since.Location() != time.UTC {
		t.Errorf("times in %v and %v, want UTC", got.PlacedAt.Location(), got.Hold.Since.Location())
	}

	// Zero values and empty lists survive too.
	bare := &order.Order{Channel: "web", ExternalID: "bare", PlacedAt: T0, Currency: "JPY",
		Lines: []order.Line{{SKU: "X", Quantity: 1}}}
	bare.Init(order.StatusPending, T0)
	mustInsertOrder(t, s, bare)
	got = getOrderEveryWay(t, s, bare)
	equal(t, "bare order", got, bare)
}

func testOrderTimes(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web")
	o := NewOrder("web", "tz")
	// A time in another zone with nanoseconds reads back as the same
	// instant in UTC, truncated to microseconds.
	placed := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.FixedZone("IST", 5*3600+1800))
	o.PlacedAt = placed
	mustInsertOrder(t, s, o)
	got, err := s.OrderGet(ctx, o.ID)
	ok(t, "get", err)
	want := placed.UTC().Truncate(time.Microsecond)
	if got.PlacedAt != want {
		t.Errorf("placed_at = %v, want %v", got.PlacedAt, want)
	}
}

func testOrderManyLines(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web")
	o := NewOrder("web", "big")
	o.Lines = nil
	for i := range 120 { // more than one INSERT's worth; SKUs in descending order
		o.Lines = append(o.Lines, order.Line{SKU: fmt.Sprintf("SKU-%03d", 200-i), Name: "line", Quantity: int64(i + 1), UnitPrice: 100})
	}
	o.Init(order.StatusOpen, T0)
	mustInsertOrder(t, s, o)
	got, err := s.OrderGet(ctx, o.ID)
	ok(t, "get", err)
	equal(t, "lines in insertion order", got.Lines, o.Lines)
}

func testOrderInsertErrors(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web", "pos")
	first := mustInsertOrder(t, s, NewOrder("web", "E1"))

	dup := NewOrder("web", "E1")
	wantIs(t, "same channel and external id", s.OrderInsert(ctx, dup), store.ErrDuplicate)
	if dup.Number != 0 {
		t.Errorf("failed insert set number %d", dup.Number)
	}
	_, err := s.OrderGet(ctx, dup.ID)
	wantKind(t, "get the refused order", err, orderly.KindNotFound)

	other := mustInsertOrder(t, s, NewOrder("pos", "E1")) // same external id, other channel
	if other.Number <= first.Number {
		t.Errorf("numbers %d then %d, want increasing", first.Number, other.Number)
	}
	wantKind(t, "unknown channel", s.OrderInsert(ctx, NewOrder("nope", "E2")), orderly.KindInvalid)
	noLines := NewOrder("web", "E3")
	noLines.Lines = nil
	wantKind(t, "no lines", s.OrderInsert(ctx, noLines), orderly.KindInvalid)
	// A line's SKU need not be known.
	unknownSKU := NewOrder("web", "E4")
	unknownSKU.Lines[0].SKU = "NEVER-SEEN"
	mustInsertOrder(t, s, unknownSKU)
}

func testOrderGetNotFound(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web")
	mustInsertOrder(t, s, NewOrder("web", "X"))
	_, err := s.OrderGet(ctx, orderly.NewID())
	wantKind(t, "OrderGet", err, orderly.KindNotFound)
	_, err = s.OrderGet(ctx, "not-a-uuid")
	wantKind(t, "OrderGet of a malformed id", err, orderly.KindNotFound)
	_, err = s.OrderGetByNumber(ctx, 999999)
	wantKind(t, "OrderGetByNumber", err, orderly.KindNotFound)
	_, err = s.OrderGetByExternalID(ctx, "web", "Y")
	wantKind(t, "OrderGetByExternalID", err, orderly.KindNotFound)
	_, err = s.OrderGetByExternalID(ctx, "pos", "X")
	wantKind(t, "OrderGetByExternalID of another channel", err, orderly.KindNotFound)
}

func testOrderList(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web", "pos")
	type spec struct {
		channel, ext, name, email string
		placed                    int // minutes after T0
		status                    order.Status
	}
	specs := []spec{
		{"web", "W-1", "Ada Lovelace", "ada@example.com", 0, order.StatusOpen},            // 1001
		{"web", "W-2", "Charles Babbage", "CB@Example.org", 10, order.StatusPending},      // 1002
		{"pos", "P-1", "100% Cotton Ltd", "shop@cotton.test", 20, order.StatusOpen},       // 1003
		{"pos", "P-2", "1000 Cotton", "a_b@example.com", 30, order.StatusCancelled},       // 1004
		{"web", "W-3", "ÉMILE Zola", "emile@example.fr", 40, order.StatusOpen},            // 1005
		{"web", "1003", "Grace_Hopper", "axb@example.com", 50, order.StatusOpen},          // 1006
		{"pos", "P-3", "Hey! Ltd", "hey@example.com", 60, order.StatusOpen},               // 1007
		{"web", "W-4", "ada lovelace-byron", "ADA@EXAMPLE.COM", 70, order.StatusOnHold},   // 1008
		{"pos", "P-4", "Mr. Percent%", "percent@example.com", 80, order.StatusOpen},       // 1009
		{"web", "W-5", "No Email", "", 90, order.StatusCompleted},                         // 1010
		{"web", "W-6", "Jane Hill", "jane@example.com", 100, order.StatusShipped},         // 1011
		{"pos", "P-5", "Last One", "last@example.com", 110, order.StatusPartiallyShipped}, // 1012
	}
	byNumber := map[int64]*order.Order{}
	for _, sp := range specs {
		o := NewOrder(sp.channel, sp.ext)
		o.Customer.Name, o.Customer.Email, o.PlacedAt, o.Status = sp.name, sp.email, at(sp.placed), sp.status
		mustInsertOrder(t, s, o)
		byNumber[o.Number] = o
	}

	list := func(p store.OrderListParams) []int64 {
		t.Helper()
		os, err := s.OrderList(ctx, p)
		ok(t, "OrderList", err)
		numbers := make([]int64, len(os))
		for i, o := range os {
			numbers[i] = o.Number
			equal(t, fmt.Sprint("listed order ", o.Number), o, byNumber[o.Number])
		}
		return numbers
	}
	for _, tt := range []struct {
		name string
		p    store.OrderListParams
		want []int64
	}{
		{"all, newest first", store.OrderListParams{}, []int64{1012, 1011, 1010, 1009, 1008, 1007, 1006, 1005, 1004, 1003, 1002, 1001}},
		{"channel", store.OrderListParams{Channel: "pos"}, []int64{1012, 1009, 1007, 1004, 1003}},
		{"status", store.OrderListParams{Status: order.StatusOpen}, []int64{1009, 1007, 1006, 1005, 1003, 1001}},
		{"channel and status", store.OrderListParams{Channel: "web", Status: order.StatusOpen}, []int64{1006, 1005, 1001}},
		{"number, or external id", store.OrderListParams{Query: "1003"}, []int64{1006, 1003}},
		{"number", store.OrderListParams{Query: "1002"}, []int64{1002}},
		{"external id", store.OrderListParams{Query: "W-2"}, []int64{1002}},
		{"external id is case-sensitive", store.OrderListParams{Query: "w-2"}, nil},
		{"email, any case", store.OrderListParams{Query: "cb@EXAMPLE.org"}, []int64{1002}},
		{"email matches whole", store.OrderListParams{Query: "example.org"}, nil},
		{"email, stored in two cases", store.OrderListParams{Query: "Ada@example.com"}, []int64{1008, 1001}},
		{"part of name, any case", store.OrderListParams{Query: "LOVELACE"}, []int64{1008, 1001}},
		{"part of name, non-ASCII case", store.OrderListParams{Query: "émile"}, []int64{1005}},
		{"% is literal", store.OrderListParams{Query: "100%"}, []int64{1003}},
		{"% alone is literal", store.OrderListParams{Query: "%"}, []int64{1009, 1003}},
		{"_ is literal", store.OrderListParams{Query: "e_h"}, []int64{1006}}, // not "Jane Hill"
		{"email with _ matches exactly", store.OrderListParams{Query: "a_b@example.com"}, []int64{1004}},
		{"escape character is literal", store.OrderListParams{Query: "y!"}, []int64{1007}},
		{"query with channel", store.OrderListParams{Query: "cotton", Channel: "pos"}, []int64{1004, 1003}},
		{"placed after is inclusive", store.OrderListParams{PlacedAfter: ptr(at(90))}, []int64{1012, 1011, 1010}},
		{"placed before is exclusive", store.OrderListParams{PlacedBefore: ptr(at(20))}, []int64{1002, 1001}},
		{"placed between", store.OrderListParams{PlacedAfter: ptr(at(5)), PlacedBefore: ptr(at(31))}, []int64{1004, 1003, 1002}},
		{"placed after, other zone", store.OrderListParams{PlacedAfter: ptr(at(100).In(time.FixedZone("X", -7*3600)))}, []int64{1012, 1011}},
		{"before number", store.OrderListParams{BeforeNumber: 1003}, []int64{1002, 1001}},
		{"limit", store.OrderListParams{Limit: 3}, []int64{1012, 1011, 1010}},
		{"page", store.OrderListParams{Limit: 3, BeforeNumber: 1010}, []int64{1009, 1008, 1007}},
		{"no match", store.OrderListParams{Channel: "nope"}, nil},
	} {
		if got := list(tt.p); !slices.Equal(got, tt.want) {
			t.Errorf("%s: numbers %v, want %v", tt.name, got, tt.want)
		}
	}

	// Paging with a filter visits every match once.
	var seen []int64
	p := store.OrderListParams{Channel: "web", Limit: 2}
	for {
		page := list(p)
		if len(page) == 0 {
			break
		}
		seen = append(seen, page...)
		p.BeforeNumber = page[len(page)-1]
	}
	equal(t, "paged web orders", seen, []int64{1011, 1010, 1008, 1006, 1005, 1002, 1001})
}

func testOrderUpdate(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web")
	o := mustInsertOrder(t, s, NewOrder("web", "U1"))
	stale := getOrderEveryWay(t, s, o)

	ok(t, "hold", o.PutOnHold("fraud check", at(1)))
	o.Note, o.Tags = "Called the customer", []string{"checked"}
	o.Lines[0].Allocated, o.Lines[0].Backordered, o.Lines[0].Shipped = 1, 1, 1
	o.Lines[1].Delivered, o.Lines[1].Returned, o.Lines[1].Cancelled = 1, 1, 0
	o.Totals.ShippingTotal = 0
	o.Totals.Total = o.Totals.Subtotal - o.Totals.DiscountTotal + o.Totals.TaxTotal
	ok(t, "update", s.OrderUpdate(ctx, o))
	if o.Version != 2 {
		t.Errorf("version after update = %d, want 2", o.Version)
	}
	got := getOrderEveryWay(t, s, o)
	equal(t, "updated order", got, o)

	wantIs(t, "stale update", s.OrderUpdate(ctx, stale), store.ErrVersionConflict)
	if stale.Version != 1 {
		t.Errorf("failed update changed version to %d", stale.Version)
	}

	ok(t, "release", o.Release(at(2)))
	ok(t, "cancel", o.Cancel("customer asked", at(3)))
	ok(t, "update in tx", s.InTx(ctx, func(tx store.Querier) error { return tx.OrderUpdate(ctx, o) }))
	got = getOrderEveryWay(t, s, o)
	equal(t, "cancelled order", got, o)
	if got.Version != 3 || got.Hold != nil || got.CancelReason != "customer asked" {
		t.Errorf("version %d, hold %v, cancel reason %q", got.Version, got.Hold, got.CancelReason)
	}

	unknown := NewOrder("web", "U2")
	wantKind(t, "update unknown order", s.OrderUpdate(ctx, unknown), orderly.KindNotFound)
	other := mustInsertOrder(t, s, NewOrder("web", "U3"))
	other.Lines[0].ID = orderly.NewID()
	wantKind(t, "update unknown line", s.OrderUpdate(ctx, other), orderly.KindNotFound)
	got, err := s.OrderGet(ctx, other.ID)
	ok(t, "get", err)
	if got.Version != 1 {
		t.Errorf("failed update left version %d, want 1 (rolled back)", got.Version)
	}
}

func testInTx(t *testing.T, s store.Store) {
	// Commit on nil, with reads in the transaction seeing its writes.
	err := s.InTx(ctx, func(tx store.Querier) error {
		mustInsertChannels(t, tx, "committed")
		_, err := tx.ChannelGet(ctx, "committed")
		return err
	})
	ok(t, "InTx", err)
	_, err = s.ChannelGet(ctx, "committed")
	ok(t, "get committed", err)

	// Roll back on error, returning it.
	boom := errors.New("boom")
	err = s.InTx(ctx, func(tx store.Querier) error {
		mustInsertChannels(t, tx, "rolled-back")
		return fmt.Errorf("wrapped: %w", boom)
	})
	wantIs(t, "InTx error", err, boom)
	_, err = s.ChannelGet(ctx, "rolled-back")
	wantKind(t, "get rolled back", err, orderly.KindNotFound)

	// Roll back on panic, and panic on.
	func() {
		defer func() {
			if r := recover(); r != "kaboom" {
				t.Errorf("recovered %v, want kaboom", r)
			}
		}()
		_ = s.InTx(ctx, func(tx store.Querier) error {
			mustInsertChannels(t, tx, "panicked")
			panic("kaboom")
		})
		t.Error("InTx returned after a panic")
	}()
	_, err = s.ChannelGet(ctx, "panicked")
	wantKind(t, "get after panic", err, orderly.KindNotFound)

	// An error from a statement rolls back what came before it.
	err = s.InTx(ctx, func(tx store.Querier) error {
		mustInsertChannels(t, tx, "half")
		return tx.ChannelInsert(ctx, NewChannel("committed"))
	})
	wantIs(t, "duplicate in tx", err, store.ErrDuplicate)
	_, err = s.ChannelGet(ctx, "half")
	wantKind(t, "get half", err, orderly.KindNotFound)

	// A duplicate does not spoil the transaction: the caller may handle it
	// and go on (on PostgreSQL too, where a raised error would abort it).
	order1 := NewOrder("committed", "D1")
	mustInsertOrder(t, s, order1)
	err = s.InTx(ctx, func(tx store.Querier) error {
		for _, err := range []error{
			tx.ChannelInsert(ctx, NewChannel("committed")),
			tx.LocationInsert(ctx, newLocation("leeds", nil, nil)),
			tx.LocationInsert(ctx, newLocation("leeds", nil, nil)),
			tx.SKUInsert(ctx, newSKU("S")),
			tx.SKUInsert(ctx, newSKU("S")),
			tx.OrderInsert(ctx, NewOrder("committed", "D1")),
		} {
			if err != nil && !errors.Is(err, store.ErrDuplicate) {
				return err
			}
		}
		if _, err := tx.OrderGetByExternalID(ctx, "committed", "D1"); err != nil {
			return err
		}
		return tx.ChannelInsert(ctx, NewChannel("after-duplicates"))
	})
	ok(t, "InTx going on after duplicates", err)
	_, err = s.ChannelGet(ctx, "after-duplicates")
	ok(t, "get channel inserted after duplicates", err)
	_, err = s.LocationGet(ctx, "leeds")
	ok(t, "get location inserted before a duplicate", err)

	// The store is still usable after all that.
	ok(t, "InTx after failures", s.InTx(ctx, func(tx store.Querier) error {
		return tx.ChannelInsert(ctx, NewChannel("after"))
	}))

	// A cancelled context fails the transaction.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = s.InTx(cctx, func(tx store.Querier) error { return tx.ChannelInsert(cctx, NewChannel("cancelled")) })
	wantIs(t, "cancelled context", err, context.Canceled)
	_, err = s.ChannelGet(ctx, "cancelled")
	wantKind(t, "get cancelled", err, orderly.KindNotFound)
}

func newEvent(typ, orderID string, n int) *orderly.Event {
	return &orderly.Event{
		ID: orderly.NewID(), Type: typ, Subject: "order", SubjectID: orderID, OrderID: orderID,
		Actor: orderly.SystemActor, At: at(n), Data: []byte(fmt.Sprintf(`{"n": %d, "b": [true, null], "a": "x"}`, n)),
	}
}

func testEvents(t *testing.T, s store.Store) {
	a, b := orderly.NewID(), orderly.NewID()
	var events []*orderly.Event
	for i, orderID := range []string{a, b, a, "", a} {
		e := newEvent("order.created", orderID, i)
		if orderID == "" {
			e.Type, e.Subject, e.SubjectID = "channel.created", "channel", "web"
		}
		ok(t, "insert", s.EventInsert(ctx, e))
		if i > 0 && e.Seq <= events[i-1].Seq {
			t.Errorf("seq %d after %d, want increasing", e.Seq, events[i-1].Seq)
		}
		events = append(events, e)
	}
	in := &orderly.Event{ID: orderly.NewID(), Type: "order.held", Subject: "order", SubjectID: a, OrderID: a, Actor: "key:ops", At: at(9)}
	ok(t, "insert in tx", s.InTx(ctx, func(tx store.Querier) error { return tx.EventInsert(ctx, in) }))
	events = append(events, in)

	check := func(what string, got []*orderly.Event, want ...*orderly.Event) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %d events, want %d", what, len(got), len(want))
			return
		}
		for i := range got {
			g, w := *got[i], *want[i]
			wantData := w.Data
			if len(wantData) == 0 {
				wantData = []byte("{}")
			}
			if !jsonEqual(g.Data, wantData) {
				t.Errorf("%s: event %d data %s, want %s", what, i, g.Data, wantData)
			}
			g.Data, w.Data = nil, nil
			equal(t, fmt.Sprint(what, ": event ", i), g, w)
		}
	}
	all, err := s.EventList(ctx, store.EventListParams{})
	ok(t, "list", err)
	check("all", all, events...)
	got, err := s.EventList(ctx, store.EventListParams{AfterSeq: events[1].Seq})
	ok(t, "list after", err)
	check("after seq", got, events[2:]...)
	got, err = s.EventList(ctx, store.EventListParams{OrderID: a})
	ok(t, "list order", err)
	check("order a", got, events[0], events[2], events[4], events[5])
	got, err = s.EventList(ctx, store.EventListParams{OrderID: a, AfterSeq: events[2].Seq, Limit: 1})
	ok(t, "list order page", err)
	check("order a page", got, events[4])
	got, err = s.EventList(ctx, store.EventListParams{Limit: 2})
	ok(t, "list limit", err)
	check("limit", got, events[:2]...)
	got, err = s.EventList(ctx, store.EventListParams{AfterSeq: events[5].Seq})
	ok(t, "list past the end", err)
	check("past the end", got)

	wantIs(t, "duplicate id", s.EventInsert(ctx, &orderly.Event{ID: in.ID, Type: "x", At: T0}), store.ErrDuplicate)
	wantKind(t, "data not JSON", s.EventInsert(ctx, &orderly.Event{ID: orderly.NewID(), Type: "x", At: T0, Data: []byte("{")}), orderly.KindInvalid)
}

func testEventInsertMany(t *testing.T, s store.Store) {
	a := orderly.NewID()
	ok(t, "no events", s.EventInsert(ctx))
	first := newEvent("order.created", a, 0)
	ok(t, "one", s.EventInsert(ctx, first))
	// Several in one call, in and outside a transaction, with an event
	// outside any order's timeline and one without data among them.
	many := func(n int) []*orderly.Event {
		var es []*orderly.Event
		for i := range n {
			e := newEvent(fmt.Sprint("order.e", i), a, i)
			switch i % 3 {
			case 1:
				e.OrderID, e.Subject, e.SubjectID = "", "channel", "web"
			case 2:
				e.Data = nil
			}
			es = append(es, e)
		}
		return es
	}
	outside := many(3)
	ok(t, "insert three", s.EventInsert(ctx, outside...))
	inside := many(120) // more than one statement's worth
	ok(t, "insert many in tx", s.InTx(ctx, func(tx store.Querier) error { return tx.EventInsert(ctx, inside...) }))
	want := append(append([]*orderly.Event{first}, outside...), inside...)
	for i := 1; i < len(want); i++ {
		if want[i].Seq <= want[i-1].Seq {
			t.Fatalf("event %d: seq %d after %d, want increasing in the order given", i, want[i].Seq, want[i-1].Seq)
		}
	}
	var got []*orderly.Event
	for p := (store.EventListParams{Limit: store.MaxLimit}); ; {
		page, err := s.EventList(ctx, p)
		ok(t, "list", err)
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		p.AfterSeq = page[len(page)-1].Seq
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Seq != want[i].Seq || got[i].Type != want[i].Type || got[i].OrderID != want[i].OrderID {
			t.Errorf("event %d = %s %s seq %d order %q, want %s %s seq %d order %q", i, got[i].ID, got[i].Type, got[i].Seq, got[i].OrderID,
				want[i].ID, want[i].Type, want[i].Seq, want[i].OrderID)
		}
	}

	// All or nothing: a taken id, or one given twice, stores none of them,
	// and leaves the transaction usable.
	fresh := newEvent("order.x", a, 1)
	wantIs(t, "taken id", s.EventInsert(ctx, newEvent("order.y", a, 1), &orderly.Event{ID: first.ID, Type: "x", At: T0}), store.ErrDuplicate)
	twice := newEvent("order.z", a, 1)
	wantIs(t, "id given twice", s.EventInsert(ctx, twice, fresh, twice), store.ErrDuplicate)
	wantKind(t, "data not JSON", s.EventInsert(ctx, newEvent("order.w", a, 1), &orderly.Event{ID: orderly.NewID(), Type: "x", At: T0, Data: []byte("{")}), orderly.KindInvalid)
	var after *orderly.Event
	ok(t, "in tx", s.InTx(ctx, func(tx store.Querier) error {
		wantIs(t, "taken id in tx", tx.EventInsert(ctx, fresh, &orderly.Event{ID: first.ID, Type: "x", At: T0}), store.ErrDuplicate)
		after = newEvent("order.after", a, 2)
		return tx.EventInsert(ctx, after)
	}))
	rest, err := s.EventList(ctx, store.EventListParams{AfterSeq: want[len(want)-1].Seq})
	ok(t, "list after refusals", err)
	if len(rest) != 1 || rest[0].ID != after.ID {
		var ids []string
		for _, e := range rest {
			ids = append(ids, e.Type)
		}
		t.Errorf("after the refusals the log holds %v more, want only order.after", ids)
	}
}

func newKey(t *testing.T, name string, role auth.Role, ch, loc string) (*auth.APIKey, string) {
	t.Helper()
	k, secret, err := auth.NewAPIKey(name, role, ch, loc, T0)
	ok(t, "NewAPIKey", err)
	return k, secret
}

func testAPIKeys(t *testing.T, s store.Store) {
	admin, secret := newKey(t, "ops", auth.RoleAdmin, "", "")
	wh, _ := newKey(t, "leeds-packers", auth.RoleWarehouse, "", "leeds")
	ch, _ := newKey(t, "eu-store", auth.RoleChannel, "eu-store", "")
	old, oldSecret := newKey(t, "old", auth.RoleViewer, "", "")
	old.RevokedAt = ptr(at(1))
	for _, k := range []*auth.APIKey{admin, wh, ch, old} {
		ok(t, "insert "+k.Name, s.APIKeyInsert(ctx, k))
	}

	got, err := s.APIKeyGetByHash(ctx, auth.HashKey(secret))
	ok(t, "get by hash", err)
	equal(t, "key", got, admin)
	_, err = s.APIKeyGetByHash(ctx, auth.HashKey(oldSecret))
	wantKind(t, "get revoked", err, orderly.KindNotFound)
	_, err = s.APIKeyGetByHash(ctx, auth.HashKey("ork_unknown"))
	wantKind(t, "get unknown", err, orderly.KindNotFound)

	dup, _ := newKey(t, "ops", auth.RoleViewer, "", "")
	wantIs(t, "duplicate name", s.APIKeyInsert(ctx, dup), store.ErrDuplicate)

	all, err := s.APIKeyList(ctx)
	ok(t, "list", err)
	equal(t, "keys by name", all, []*auth.APIKey{ch, wh, old, admin})

	// Revoked: found no more at once, even right after being found (the
	// store may keep keys it found in memory).
	got, revoked, err := s.APIKeyRevoke(ctx, "ops", at(2))
	ok(t, "revoke", err)
	admin.RevokedAt = ptr(at(2))
	if !revoked {
		t.Error("revoke: not reported as revoked by this call")
	}
	equal(t, "revoked key", got, admin)
	_, err = s.APIKeyGetByHash(ctx, auth.HashKey(secret))
	wantKind(t, "get a key just revoked", err, orderly.KindNotFound)
	got, revoked, err = s.APIKeyRevoke(ctx, "ops", at(3))
	ok(t, "revoke again", err)
	if revoked || !got.RevokedAt.Equal(at(2)) {
		t.Errorf("revoke again: revoked %v at %v, want false and the first time", revoked, got.RevokedAt)
	}
	_, _, err = s.APIKeyRevoke(ctx, "nobody", at(3))
	wantKind(t, "revoke unknown", err, orderly.KindNotFound)
	ok(t, "in a transaction", s.InTx(ctx, func(tx store.Querier) error {
		_, _, err := tx.APIKeyRevoke(ctx, "leeds-packers", at(4))
		return err
	}))
	all, err = s.APIKeyList(ctx)
	ok(t, "list", err)
	wh.RevokedAt = ptr(at(4))
	equal(t, "keys by name after revoking", all, []*auth.APIKey{ch, wh, old, admin})
}

func testIdempotency(t *testing.T, s store.Store) {
	rec := &store.IdempotencyRecord{Scope: "key:ops POST /api/v1/orders", Key: "k1", RequestHash: "h1", CreatedAt: T0, LockedAt: T0}
	existing, err := s.IdempotencyBegin(ctx, rec)
	ok(t, "begin", err)
	if existing != nil {
		t.Fatalf("begin of a new key returned %+v, want nil", existing)
	}

	// A second request with the key sees the first, in progress.
	again := *rec
	again.RequestHash, again.CreatedAt, again.LockedAt = "h2", at(1), at(1)
	existing, err = s.IdempotencyBegin(ctx, &again)
	ok(t, "begin again", err)
	want := *rec
	equal(t, "in-progress record", existing, &want)

	// The same key in another scope is another record.
	otherScope := *rec
	otherScope.Scope = "key:other POST /api/v1/orders"
	existing, err = s.IdempotencyBegin(ctx, &otherScope)
	ok(t, "begin in another scope", err)
	if existing != nil {
		t.Errorf("begin in another scope returned %+v", existing)
	}

	// Reclaim only a record locked before staleBefore.
	took, err := s.IdempotencyReclaim(ctx, rec.Scope, rec.Key, "h3", T0, at(2))
	ok(t, "reclaim fresh", err)
	if took {
		t.Error("reclaimed a record locked at staleBefore")
	}
	took, err = s.IdempotencyReclaim(ctx, rec.Scope, rec.Key, "h3", at(1), at(2))
	ok(t, "reclaim stale", err)
	if !took {
		t.Error("did not reclaim a stale record")
	}
	existing, err = s.IdempotencyBegin(ctx, &again)
	ok(t, "begin after reclaim", err)
	want.RequestHash, want.LockedAt = "h3", at(2)
	equal(t, "reclaimed record", existing, &want)
	took, err = s.IdempotencyReclaim(ctx, rec.Scope, "nope", "h3", at(9), at(9))
	ok(t, "reclaim unknown", err)
	if took {
		t.Error("reclaimed an unknown key")
	}

	// Complete records the response, once; Get reads it.
	ok(t, "complete", s.IdempotencyComplete(ctx, completed(&want, 201, `{"number":1001}`)))
	existing, err = s.IdempotencyBegin(ctx, &again)
	ok(t, "begin after complete", err)
	want.Status, want.Body = 201, []byte(`{"number":1001}`)
	equal(t, "completed record", existing, &want)
	got, err := s.IdempotencyGet(ctx, rec.Scope, rec.Key)
	ok(t, "get", err)
	equal(t, "record read", got, &want)
	_, err = s.IdempotencyGet(ctx, rec.Scope, "nope")
	wantKind(t, "get unknown", err, orderly.KindNotFound)
	wantKind(t, "complete twice", s.IdempotencyComplete(ctx, completed(rec, 500, "")), orderly.KindNotFound)
	equal(t, "record after completing twice", mustIdempotencyGet(t, s, rec.Scope, rec.Key), &want)

	// A key claimed in memory (store.SingleProcess) has no record until
	// its response is complete: the record is stored whole.
	unclaimed := &store.IdempotencyRecord{Scope: rec.Scope, Key: "in-memory", RequestHash: "h5", CreatedAt: at(5), LockedAt: at(5)}
	ok(t, "complete unclaimed", s.IdempotencyComplete(ctx, completed(unclaimed, 200, `{}`)))
	equal(t, "record of an unclaimed key", mustIdempotencyGet(t, s, rec.Scope, "in-memory"), completed(unclaimed, 200, `{}`))
	took, err = s.IdempotencyReclaim(ctx, rec.Scope, rec.Key, "h4", at(9), at(9))
	ok(t, "reclaim completed", err)
	if took {
		t.Error("reclaimed a completed record")
	}

	// Delete forgets an in-progress record but never a completed one.
	ok(t, "delete completed", s.IdempotencyDelete(ctx, rec.Scope, rec.Key))
	existing, err = s.IdempotencyBegin(ctx, &again)
	ok(t, "begin after deleting completed", err)
	equal(t, "completed record kept", existing, &want)
	ok(t, "delete in progress", s.IdempotencyDelete(ctx, otherScope.Scope, otherScope.Key))
	existing, err = s.IdempotencyBegin(ctx, &otherScope)
	ok(t, "begin after delete", err)
	if existing != nil {
		t.Errorf("begin after delete returned %+v, want nil", existing)
	}
	ok(t, "delete unknown", s.IdempotencyDelete(ctx, rec.Scope, "nope"))

	// Completing with no body stores an empty one.
	ok(t, "complete without body", s.IdempotencyComplete(ctx, &store.IdempotencyRecord{Scope: otherScope.Scope, Key: otherScope.Key, RequestHash: otherScope.RequestHash, Status: 204}))
	existing, err = s.IdempotencyBegin(ctx, &otherScope)
	ok(t, "begin", err)
	if existing == nil || existing.Status != 204 || len(existing.Body) != 0 {
		t.Errorf("record completed without body: %+v", existing)
	}

	// Inside a transaction too.
	inTx := &store.IdempotencyRecord{Scope: rec.Scope, Key: "k-tx", RequestHash: "h", CreatedAt: T0, LockedAt: T0}
	ok(t, "begin in tx", s.InTx(ctx, func(tx store.Querier) error {
		existing, err := tx.IdempotencyBegin(ctx, inTx)
		if existing != nil {
			return errors.New("new key not claimed")
		}
		return err
	}))
	existing, err = s.IdempotencyBegin(ctx, inTx)
	ok(t, "begin after tx", err)
	equal(t, "record from tx", existing, inTx)
}

func testIdempotencyPurge(t *testing.T, s store.Store) {
	for i := range 5 {
		rec := &store.IdempotencyRecord{Scope: "s", Key: fmt.Sprint("k", i), RequestHash: "h", CreatedAt: at(i), LockedAt: at(i)}
		existing, err := s.IdempotencyBegin(ctx, rec)
		if err != nil || existing != nil {
			t.Fatalf("begin %d: %v, %v", i, existing, err)
		}
	}
	ok(t, "complete", s.IdempotencyComplete(ctx, &store.IdempotencyRecord{Scope: "s", Key: "k0", Status: 200, Body: []byte("{}")}))
	n, err := s.IdempotencyPurge(ctx, at(2))
	ok(t, "purge", err)
	if n != 2 {
		t.Errorf("purged %d, want 2", n)
	}
	for i := range 5 {
		rec := &store.IdempotencyRecord{Scope: "s", Key: fmt.Sprint("k", i), RequestHash: "new", CreatedAt: at(9), LockedAt: at(9)}
		existing, err := s.IdempotencyBegin(ctx, rec)
		ok(t, "begin", err)
		if purged := i < 2; purged != (existing == nil) {
			t.Errorf("key k%d: purged %v, but begin returned %+v", i, purged, existing)
		}
	}
	n, err = s.IdempotencyPurge(ctx, T0)
	ok(t, "purge nothing", err)
	if n != 0 {
		t.Errorf("purged %d, want 0", n)
	}
}

var migrationName = regexp.MustCompile(`^[0-9]{4}_[a-z0-9_]+\.sql$`)

func testMigrate(t *testing.T, s store.Store) {
	before, err := s.MigrationStatus(ctx)
	ok(t, "status", err)
	if len(before) == 0 || before[0].Name != "0001_init.sql" {
		t.Fatalf("migrations %+v, want 0001_init.sql first", before)
	}
	for i, m := range before {
		if !migrationName.MatchString(m.Name) {
			t.Errorf("migration name %q", m.Name)
		}
		if m.AppliedAt == nil || m.AppliedAt.IsZero() {
			t.Errorf("migration %s not applied", m.Name)
		}
		if i > 0 && before[i-1].Name >= m.Name {
			t.Errorf("migrations out of order: %s, %s", before[i-1].Name, m.Name)
		}
	}
	ok(t, "migrate again", s.Migrate(ctx))
	after, err := s.MigrationStatus(ctx)
	ok(t, "status again", err)
	equal(t, "status after a second migrate", after, before)
}

func testConnection(t *testing.T, s store.Store) {
	ok(t, "ping", s.Ping(ctx))
	if b := s.Backend(); b != "sqlite" && b != "postgres" {
		t.Errorf("backend %q", b)
	}
	if st := s.PoolStats(); st.MaxOpen < 1 || st.Open < 0 || st.InUse < 0 || st.Idle < 0 {
		t.Errorf("pool stats %+v", st)
	}
}

// concurrency is how many goroutines the concurrency tests start.
const concurrency = 50

func testConcurrentDuplicateOrders(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web")
	var wg sync.WaitGroup
	errs := make([]error, concurrency)
	for i := range concurrency {
		wg.Go(func() {
			errs[i] = s.InTx(ctx, func(tx store.Querier) error {
				o := NewOrder("web", "SAME")
				if err := tx.OrderInsert(ctx, o); err != nil {
					return err
				}
				return tx.EventInsert(ctx, newEvent("order.created", o.ID, i))
			})
		})
	}
	wg.Wait()
	succeeded, duplicates := outcomes(t, errs, store.ErrDuplicate)
	if succeeded != 1 || duplicates != concurrency-1 {
		t.Errorf("%d succeeded and %d were duplicates, want 1 and %d", succeeded, duplicates, concurrency-1)
	}
	events, err := s.EventList(ctx, store.EventListParams{})
	ok(t, "events", err)
	if len(events) != 1 {
		t.Errorf("%d events, want 1: the failed transactions' events must roll back", len(events))
	}
}

func testConcurrentOrders(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web")
	var wg sync.WaitGroup
	numbers := make([]int64, concurrency)
	errs := make([]error, concurrency)
	for i := range concurrency {
		wg.Go(func() {
			o := NewOrder("web", fmt.Sprint("C", i))
			if i%2 == 0 { // half in InTx, half on their own
				errs[i] = s.InTx(ctx, func(tx store.Querier) error { return tx.OrderInsert(ctx, o) })
			} else {
				errs[i] = s.OrderInsert(ctx, o)
			}
			numbers[i] = o.Number
		})
	}
	wg.Wait()
	for i, err := range errs {
		ok(t, fmt.Sprint("insert ", i), err)
	}
	slices.Sort(numbers)
	if numbers[0] < 1001 || len(slices.Compact(slices.Clone(numbers))) != concurrency {
		t.Errorf("numbers %v, want %d distinct from 1001", numbers, concurrency)
	}
	all, err := s.OrderList(ctx, store.OrderListParams{Limit: store.MaxLimit})
	ok(t, "list", err)
	if len(all) != concurrency {
		t.Errorf("listed %d orders, want %d", len(all), concurrency)
	}
}

// Benchmark measures the hot write path, order intake: one order with
// three lines and its order.created event in one InTx. "serial" runs one
// writer; "parallel" runs b.RunParallel's writers (GOMAXPROCS of them).
// The "-reserve" variants capture as service.CreateOrder does
// (benchCapture): IntakeRead before the transaction, then, in one InTx,
// OrderCapture of the order with its three picks at one location and two
// events. The
// orders spread over benchSKUs SKUs, so parallel writers rarely wait on
// one balance; "parallel-reserve-hot" has every order want the same three
// SKUs, so on PostgreSQL each capture's reservation waits for the previous
// one's balance locks. newStore returns a fresh, migrated store.
func Benchmark(b *testing.B, newStore func(tb testing.TB) store.Store) {
	setup := func(b *testing.B, reserve, hot bool) (insert func(i int64) error) {
		b.ReportAllocs()
		s := newStore(b)
		mustInsertChannels(b, s, "web")
		if reserve {
			mustStock(b, s, []string{"bench"}, nil)
			ok(b, "stock", s.InTx(ctx, func(tx store.Querier) error {
				for i := range benchSKUs {
					mustStock(b, tx, nil, []string{benchSKU(i)})
					mustMove(b, tx, newMove("bench", benchSKU(i), inventory.MaxQuantity, 0, inventory.ReasonReceive, 0))
				}
				return nil
			}))
		}
		return func(i int64) error {
			o := NewOrder("web", fmt.Sprint("B", i))
			o.Lines = append(o.Lines, order.Line{SKU: "SOCK-3", Name: "Socks", Quantity: 3, UnitPrice: 499})
			if reserve {
				for j := range o.Lines {
					if hot {
						o.Lines[j].SKU = benchSKU(j)
					} else {
						o.Lines[j].SKU = benchSKU(int(3*i) + j)
					}
				}
			}
			o.Init(order.StatusOpen, T0)
			if reserve {
				return benchCapture(s, o)
			}
			return s.InTx(ctx, func(tx store.Querier) error {
				if err := tx.OrderInsert(ctx, o); err != nil {
					return err
				}
				return tx.EventInsert(ctx, newEvent("order.created", o.ID, 0))
			})
		}
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	}

	for _, v := range []struct {
		suffix       string
		reserve, hot bool
		serial       bool
	}{{"", false, false, true}, {"-reserve", true, false, true}, {"-reserve-hot", true, true, false}} {
		suffix, reserve, hot := v.suffix, v.reserve, v.hot
		if v.serial {
			b.Run("serial"+suffix, func(b *testing.B) {
				insert := setup(b, reserve, hot)
				var i int64
				for b.Loop() {
					i++
					if err := insert(i); err != nil {
						b.Fatal(err)
					}
				}
				report(b)
			})
		}
		b.Run("parallel"+suffix, func(b *testing.B) {
			insert := setup(b, reserve, hot)
			var next atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := insert(next.Add(1)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			report(b)
		})
	}
}

// benchSKUs is how many SKUs the reserving order benchmark spreads over.
const benchSKUs = 1000

func benchSKU(i int) string { return fmt.Sprintf("BENCH-%04d", i%benchSKUs) }

// benchCapture captures o with its stock reserved at location "bench" as
// service.CreateOrder does: read what capture needs (IntakeRead, before
// the transaction, locking nothing), plan every line there, then, in the
// transaction, OrderCapture with the picks — whose guarded reservation
// re-checks the stock — and the order.created and order.allocated events.
func benchCapture(s store.Store, o *order.Order) error {
	skus := make([]string, len(o.Lines))
	picks := make([]inventory.Pick, len(o.Lines))
	for i := range o.Lines {
		l := &o.Lines[i]
		skus[i] = l.SKU
		picks[i] = inventory.Pick{LineID: l.ID, SKU: l.SKU, Location: "bench", Quantity: l.Quantity}
		l.Allocated = l.Quantity
	}
	view, err := s.IntakeRead(ctx, store.IntakeQuery{Channel: o.Channel, ExternalID: o.ExternalID, SKUs: skus})
	if err != nil {
		return err
	}
	if view.Existing != nil || view.Channel == nil || len(view.Balances) < len(slices.Compact(slices.Sorted(slices.Values(skus)))) {
		return fmt.Errorf("bench: unexpected intake view %+v", view)
	}
	inventory.SortPicks(picks)
	return s.InTx(ctx, func(tx store.Querier) error { return tx.OrderCapture(ctx, captureParams(o, picks...)) })
}

// completed returns a copy of rec with a response.
func completed(rec *store.IdempotencyRecord, status int, body string) *store.IdempotencyRecord {
	c := *rec
	c.Status, c.Body = status, []byte(body)
	return &c
}

func mustIdempotencyGet(t *testing.T, s store.Store, scope, key string) *store.IdempotencyRecord {
	t.Helper()
	r, err := s.IdempotencyGet(ctx, scope, key)
	ok(t, "get "+key, err)
	return r
}
