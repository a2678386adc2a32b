// Package routing owns choosing where each order line ships from, and
// recording why: versioned rule sets (filters, rankers, a split limit and
// what to do when an order cannot be filled), the pure planner Plan that
// turns an order and a snapshot of candidate locations into an allocation
// plus an explanation, and Compare, which replays orders under two rule
// sets so a draft can be judged before it is activated.
//
// It is pure domain logic: no I/O, no clock, no randomness, and the same
// input always gives the same output, byte for byte. It imports only the
// orderly, order and inventory packages; the service layer builds the
// candidates from the store and stores the result with its explanation.
package routing

import (
	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
)

// Mode is how a line reaches the customer.
type Mode string

// The fulfilment modes. A line asks for one; a location lists the ones it
// offers, and serves a line only if it offers the line's mode.
const (
	// ModeShip sends the line to the shipping address from a location
	// that ships (typically a warehouse).
	ModeShip Mode = "ship"
	// ModePickup hands the line over at one named store.
	ModePickup Mode = "pickup"
	// ModeShipFromStore sends the line to the shipping address from a store.
	ModeShipFromStore Mode = "ship_from_store"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool {
	return m == ModeShip || m == ModePickup || m == ModeShipFromStore
}

// delivers reports whether the mode sends parcels to the shipping address,
// so that the destination country matters.
func (m Mode) delivers() bool { return m != ModePickup }

// Request is what is to be routed: the open, unallocated quantity of some
// lines of one order. Build it with RequestFromOrder.
type Request struct {
	OrderID string `json:"order_id"`
	// Channel is the code of the channel the order came from.
	Channel string `json:"channel"`
	// ShipTo is the shipping address: its country and, when known, its
	// coordinates drive the ships-to filter and the distance ranker.
	ShipTo orderly.Address `json:"ship_to"`
	Lines  []Line          `json:"lines"`
}

// Line is one line's demand. Lines with a quantity below 1 are ignored.
type Line struct {
	LineID   string `json:"line_id"`
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	Mode     Mode   `json:"mode"`
	// PickupLocation names the store a pickup line must go to; a pickup
	// line can be served there or nowhere.
	PickupLocation string `json:"pickup_location,omitempty"`
}

// RequestFromOrder builds the request for the quantity of o still to be
// placed: for each line, its open quantity (ordered − cancelled − shipped)
// less what is already allocated; lines with nothing left are left out.
// Every line gets mode; pickupLocation is the store for ModePickup and is
// ignored otherwise.
func RequestFromOrder(o *order.Order, mode Mode, pickupLocation string) Request {
	r := Request{OrderID: o.ID, Channel: o.Channel, ShipTo: o.ShippingAddress, Lines: make([]Line, 0, len(o.Lines))}
	if mode != ModePickup {
		pickupLocation = ""
	}
	for _, l := range o.Lines {
		if need := l.Open() - l.Allocated; need > 0 {
			r.Lines = append(r.Lines, Line{LineID: l.ID, SKU: l.SKU, Quantity: need, Mode: mode, PickupLocation: pickupLocation})
		}
	}
	return r
}

// Candidate is one location as routing sees it at planning time: a
// snapshot the caller assembles from the location, its settings, the
// channel and the stock balances. Location codes are unique in one call
// to Plan; a second candidate with the same code is dropped.
type Candidate struct {
	// Location is the location's code.
	Location string                 `json:"location"`
	Kind     inventory.LocationKind `json:"kind"`
	Active   bool                   `json:"active"`
	// Country is where the location is (ISO 3166-1 alpha-2); the distance
	// ranker falls back to it when coordinates are missing.
	Country string   `json:"country"`
	Lat     *float64 `json:"lat,omitempty"`
	Lon     *float64 `json:"lon,omitempty"`
	// Priority is the location's rank set by operations: 1 is preferred
	// over 2, and so on.
	Priority int `json:"priority"`
	// ShipsTo lists the countries the location ships to; empty means
	// anywhere.
	ShipsTo []string `json:"ships_to,omitempty"`
	// Modes lists the fulfilment modes the location offers.
	Modes []Mode `json:"modes"`
	// DailyCapacity is how many orders the location takes per day; 0 means
	// no limit. UsedToday is how many it has taken today.
	DailyCapacity int `json:"daily_capacity"`
	UsedToday     int `json:"used_today"`
	// ChannelAllowed says whether the location may serve the request's
	// channel (it is one of the channel's feeding locations).
	ChannelAllowed bool `json:"channel_allowed"`
	// CostPerShipment is what one shipment from here costs, in minor
	// units of the business's reporting currency.
	CostPerShipment int64 `json:"cost_per_shipment"`
	// Available is the available-to-promise quantity per SKU; a missing
	// SKU or a negative figure counts as none.
	Available map[string]int64 `json:"available"`
}

func (c *Candidate) offers(m Mode) bool {
	for _, x := range c.Modes {
		if x == m {
			return true
		}
	}
	return false
}

func (c *Candidate) shipsTo(country string) bool {
	if len(c.ShipsTo) == 0 {
		return true
	}
	for _, x := range c.ShipsTo {
		if x == country {
			return true
		}
	}
	return false
}
