// Package inventory owns where stock is and how much: locations, SKUs, and
// (with the inventory issue) the stock ledger, balances, reservations and
// available-to-promise.
//
// It is pure domain logic and imports only the orderly and channel packages.
package inventory

import (
	"slices"
	"strconv"
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
	Lat    *float64 `json:"lat,omitempty"`
	Lon    *float64 `json:"lon,omitempty"`
	Active bool     `json:"active"`

	// Routing attributes (see package routing). Priority ranks locations
	// for the priority ranker, lower first; 0 stands for DefaultPriority.
	Priority int `json:"priority"`
	// ShipsTo lists the countries (ISO 3166-1 alpha-2) the location ships
	// to; empty means anywhere.
	ShipsTo []string `json:"ships_to"`
	// Modes lists the fulfilment modes the location offers (ModeShip,
	// ModePickup, ModeShipFromStore); empty means the default of its kind
	// (DefaultModes).
	Modes []string `json:"modes"`
	// DailyCapacity is how many orders a day (UTC) the location takes; 0
	// means no limit.
	DailyCapacity int `json:"daily_capacity"`
	// CostPerShipment is what one shipment from here costs, in minor units
	// of the business's reporting currency.
	CostPerShipment int64 `json:"cost_per_shipment"`
	// Carrier is the kind of carrier that rates and labels this location's
	// parcels: CarrierTableRate or CarrierEasyPost; empty means
	// CarrierTableRate.
	Carrier string `json:"carrier"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// The fulfilment modes a location may offer; package routing names the
// same strings.
const (
	ModeShip          = "ship"
	ModePickup        = "pickup"
	ModeShipFromStore = "ship_from_store"
)

// The carrier kinds a location may use (package carrier's adapters).
const (
	CarrierTableRate = "table-rate"
	CarrierEasyPost  = "easypost"
)

// Carriers lists the carrier kinds, in documentation order.
var Carriers = []string{CarrierTableRate, CarrierEasyPost}

// DefaultPriority is the priority of a location that was given none.
const DefaultPriority = 100

// MaxPriority bounds Location.Priority.
const MaxPriority = 1_000_000

// DefaultModes returns the modes a location of kind k offers unless told
// otherwise: a store ships, ships from store and hands over pickups;
// anything else ships.
func DefaultModes(k LocationKind) []string {
	if k == LocationStore {
		return []string{ModeShip, ModeShipFromStore, ModePickup}
	}
	return []string{ModeShip}
}

// ApplyDefaults fills the routing attributes left unset: priority 0
// becomes DefaultPriority, no modes the kind's DefaultModes, no carrier
// CarrierTableRate.
func (l *Location) ApplyDefaults() {
	if l.Priority == 0 {
		l.Priority = DefaultPriority
	}
	if len(l.Modes) == 0 {
		l.Modes = DefaultModes(l.Kind)
	}
	if l.ShipsTo == nil {
		l.ShipsTo = []string{}
	}
	if l.Carrier == "" {
		l.Carrier = CarrierTableRate
	}
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
	if !slices.Contains(Carriers, l.Carrier) {
		p.Add("carrier", "must be one of table-rate, easypost")
	}
	if l.Lat != nil && (*l.Lat < -90 || *l.Lat > 90) {
		p.Add("lat", "must be between -90 and 90")
	}
	if l.Lon != nil && (*l.Lon < -180 || *l.Lon > 180) {
		p.Add("lon", "must be between -180 and 180")
	}
	if l.Priority < 0 || l.Priority > MaxPriority {
		p.Add("priority", "must be between 1 and %d (0 means %d)", MaxPriority, DefaultPriority)
	}
	if len(l.ShipsTo) > 250 {
		p.Add("ships_to", "must list at most 250 countries")
	}
	for i, c := range l.ShipsTo {
		if !countryCode(c) {
			p.Add("ships_to["+strconv.Itoa(i)+"]", "must be an ISO 3166-1 alpha-2 code of two capital letters")
		} else if slices.Contains(l.ShipsTo[:i], c) {
			p.Add("ships_to["+strconv.Itoa(i)+"]", "lists %q twice", c)
		}
	}
	for i, m := range l.Modes {
		switch {
		case m != ModeShip && m != ModePickup && m != ModeShipFromStore:
			p.Add("modes["+strconv.Itoa(i)+"]", "must be one of ship, pickup, ship_from_store")
		case slices.Contains(l.Modes[:i], m):
			p.Add("modes["+strconv.Itoa(i)+"]", "lists %q twice", m)
		}
	}
	if l.DailyCapacity < 0 {
		p.Add("daily_capacity", "must not be negative (0 means no limit)")
	}
	if l.CostPerShipment < 0 {
		p.Add("cost_per_shipment", "must not be negative")
	}
	return p.Err()
}

// countryCode reports whether c looks like an ISO 3166-1 alpha-2 code.
func countryCode(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}
