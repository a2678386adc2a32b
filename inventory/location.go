// Package inventory owns where stock is and how much: locations, SKUs, and
// (with the inventory issue) the stock ledger, balances, reservations and
// available-to-promise.
//
// It is pure domain logic and imports only the orderly and channel packages.
package inventory

import (
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
)

// LocationKind is the type of a location.
type LocationKind string

// The location kinds.
const (
	LocationWarehouse LocationKind = "warehouse"
	LocationStore     LocationKind = "store"
	LocationDropship  LocationKind = "dropship"
)

// Valid reports whether k is a known kind.
func (k LocationKind) Valid() bool {
	return k == LocationWarehouse || k == LocationStore || k == LocationDropship
}

// Location is a place stock is kept and shipped from.
type Location struct {
	Code    string          `json:"code"`
	Name    string          `json:"name"`
	Kind    LocationKind    `json:"kind"`
	Address orderly.Address `json:"address"`
	// Lat and Lon place the location for distance-based routing.
	Lat       *float64  `json:"lat,omitempty"`
	Lon       *float64  `json:"lon,omitempty"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks the location.
func (l *Location) Validate() error {
	var p orderly.Problems
	if !channel.ValidCode(l.Code) {
		p.Add("code", "must be 1-64 characters of a-z, 0-9, '-' or '_'")
	}
	if l.Name == "" {
		p.Add("name", "is required")
	}
	orderly.CheckText(&p, "name", l.Name, 200)
	if !l.Kind.Valid() {
		p.Add("kind", "must be one of warehouse, store, dropship")
	}
	l.Address.Validate("address", &p)
	if l.Lat != nil && (*l.Lat < -90 || *l.Lat > 90) {
		p.Add("lat", "must be between -90 and 90")
	}
	if l.Lon != nil && (*l.Lon < -180 || *l.Lon > 180) {
		p.Add("lon", "must be between -180 and 180")
	}
	return p.Err()
}
