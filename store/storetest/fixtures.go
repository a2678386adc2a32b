package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// T0 is the suite's fixed "now": UTC, microsecond precision, like
// orderly.SystemClock.
var T0 = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

// at returns T0 plus n minutes.
func at(n int) time.Time { return T0.Add(time.Duration(n) * time.Minute) }

func ptr[T any](v T) *T { return &v }

// NewChannel returns a valid channel with the given code, fed by every
// location (Locations empty, as the store reads it back: [] not nil).
func NewChannel(code string) *channel.Channel {
	return &channel.Channel{
		Code: code, Kind: channel.KindShopify, Name: "Channel " + code, Secret: "shh-" + code,
		HasSecret: true, Policy: channel.DefaultPolicy(), Locations: []string{}, CreatedAt: T0, UpdatedAt: T0,
	}
}

// NewOrder returns a valid, initialised order of the channel with two
// lines and every optional field set.
func NewOrder(channelCode, externalID string) *order.Order {
	o := &order.Order{
		Channel:    channelCode,
		ExternalID: externalID,
		PlacedAt:   at(-60),
		Currency:   "EUR",
		Customer:   order.Customer{Name: "Ada Lovelace", Email: "Ada@Example.com", Phone: "+44 20 7946 0000"},
		ShippingAddress: orderly.Address{
			Name: "Ada Lovelace", Line1: "12 St James's Square", City: "London", PostalCode: "SW1Y 4JH",
			Country: "GB", Lat: ptr(51.5074), Lon: ptr(-0.1357),
		},
		BillingAddress: orderly.Address{Name: "Ada Lovelace", Company: "Analytical Engines Ltd", Line1: "1 Main St", City: "Leeds", Country: "GB"},
		Lines: []order.Line{
			{SKU: "TEE-RED-M", Name: "Red tee, M", Quantity: 2, UnitPrice: 1999, Discount: 200, Tax: 760},
			{SKU: "MUG-01", Name: "Mug", Quantity: 1, UnitPrice: 899, Tax: 180},
		},
		ShippingLines: []order.ShippingLine{{Code: "std", Name: "Standard", Price: 495}},
		Note:          "Leave with the neighbour",
		Tags:          []string{"vip", "gift"},
	}
	o.Init(order.StatusOpen, T0)
	return o
}

// mustInsertChannels stores a channel for each code.
func mustInsertChannels(t testing.TB, s store.Querier, codes ...string) {
	t.Helper()
	for _, code := range codes {
		if err := s.ChannelInsert(context.Background(), NewChannel(code)); err != nil {
			t.Fatalf("ChannelInsert(%s): %v", code, err)
		}
	}
}

// mustInsertOrder stores o.
func mustInsertOrder(t testing.TB, s store.Querier, o *order.Order) *order.Order {
	t.Helper()
	if err := s.OrderInsert(context.Background(), o); err != nil {
		t.Fatalf("OrderInsert(%s/%s): %v", o.Channel, o.ExternalID, err)
	}
	return o
}

// equal fails the test if got and want differ.
func equal(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %s\n want %s", what, show(got), show(want))
	}
}

// show renders v for a failure message: as JSON, which follows pointers.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// wantKind fails the test unless err is an *orderly.Error of kind k.
func wantKind(t testing.TB, what string, err error, k orderly.Kind) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %s", what, k)
		return
	}
	var oe *orderly.Error
	if !errors.As(err, &oe) || oe.Kind != k {
		t.Errorf("%s: error %q (kind %s), want kind %s", what, err, orderly.KindOf(err), k)
	}
}

// wantIs fails the test unless errors.Is(err, target).
func wantIs(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

// ok fails the test now if err is not nil.
func ok(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// jsonEqual reports whether a and b hold the same JSON value.
func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// newLocation returns a valid location.
func newLocation(code string, lat, lon *float64) *inventory.Location {
	return &inventory.Location{
		Code: code, Name: "Location " + code, Kind: inventory.LocationWarehouse,
		Address: orderly.Address{Line1: "Unit 4", City: "Leeds", Country: "GB", Lat: lat, Lon: lon},
		Lat:     lat, Lon: lon, Active: true, Carrier: inventory.CarrierTableRate, CreatedAt: T0, UpdatedAt: T0,
	}
}

// newSKU returns a valid SKU.
func newSKU(code string) *inventory.SKU {
	return &inventory.SKU{SKU: code, Name: "Item " + code, Barcode: "4006381333931", WeightGrams: 250, CreatedAt: T0, UpdatedAt: T0}
}

// outcomes counts the nil errors and the errors matching expected among
// errs, and fails the test on any other error.
func outcomes(t *testing.T, errs []error, expected error) (succeeded, matched int) {
	t.Helper()
	for _, err := range errs {
		switch {
		case err == nil:
			succeeded++
		case errors.Is(err, expected):
			matched++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	return succeeded, matched
}
