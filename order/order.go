// Package order owns the order record: its lines and their quantity
// counters, its totals, its status machine (with holds and cancellation) and
// the statuses derived from its lines.
//
// It is pure domain logic: it imports only the orderly package, never SQL or
// HTTP. Every state change goes through a method here that refuses an
// invalid move with a KindConflict error.
package order

import (
	"strconv"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
)

// Order is one customer order from one channel, with one number and one
// lifecycle, however it was captured.
type Order struct {
	// ID is the internal identifier (UUIDv7).
	ID string `json:"id"`
	// Number is the human order number, unique and sequential from 1001.
	Number int64 `json:"number"`
	// Channel is the code of the channel the order came from.
	Channel string `json:"channel"`
	// ExternalID is the channel's own id for the order; Channel+ExternalID is unique.
	ExternalID string `json:"external_id"`
	// PlacedAt is when the customer placed the order (as the channel reports it).
	PlacedAt time.Time `json:"placed_at"`
	// Currency is the ISO 4217 code every amount of the order is in.
	Currency        string          `json:"currency"`
	Customer        Customer        `json:"customer"`
	ShippingAddress orderly.Address `json:"shipping_address"`
	BillingAddress  orderly.Address `json:"billing_address"`
	Lines           []Line          `json:"lines"`
	ShippingLines   []ShippingLine  `json:"shipping_lines"`
	Note            string          `json:"note"`
	Tags            []string        `json:"tags"`
	Totals          Totals          `json:"totals"`
	Status          Status          `json:"status"`
	// Hold is set while the order is on hold.
	Hold *Hold `json:"hold,omitempty"`
	// CancelReason is set once the order is cancelled.
	CancelReason string `json:"cancel_reason,omitempty"`
	// Policy is the channel's policy in force when the order was captured,
	// copied then: later changes to the channel's policy do not touch it.
	// nil for orders captured before policies were copied.
	Policy *channel.Policy `json:"policy"`
	// ChannelStatus is the channel's own status of the order as it last
	// reported it (Amazon's OrderStatus, Shopify's open/closed); empty for
	// orders no channel reported a status of.
	ChannelStatus string `json:"channel_status"`
	// FinancialStatus is the order's payment status as the channel
	// reported it (Shopify's financial_status; paid for a sale paid at a
	// till). It is the channel's word, kept as said; see PaymentStatus.
	FinancialStatus string `json:"financial_status"`
	// ChannelUpdatedAt is when the channel last changed the order, as the
	// channel said it, for the newest of its updates applied here; nil when
	// no channel said. Platforms deliver updates out of order: one older
	// than this is recorded on the timeline and not applied.
	ChannelUpdatedAt *time.Time `json:"channel_updated_at"`
	// ReportedTotals are the totals as the channel reported them, nil when
	// it reported none. Totals are always Orderly's own computation from
	// the lines; where the two differ (a tax-inclusive shop, a rounding
	// platform) both stay visible and neither is "fixed".
	ReportedTotals *Totals   `json:"reported_totals"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// Version increases by one with every change; stores use it for
	// optimistic concurrency.
	Version int64 `json:"version"`
}

// Customer is who placed the order.
type Customer struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// Line is one SKU of an order. It carries quantities, never a status: what
// is allocated, shipped, delivered or returned is counted, and the order's
// statuses are derived from those counts.
type Line struct {
	ID   string `json:"id"`
	SKU  string `json:"sku"`
	Name string `json:"name"`
	// Quantity is the number of units ordered.
	Quantity int64 `json:"quantity"`
	// UnitPrice is the price of one unit before discount and tax, in minor units.
	UnitPrice int64 `json:"unit_price"`
	// Discount is the discount on the whole line, in minor units.
	Discount int64 `json:"discount"`
	// Tax is the tax on the whole line, in minor units (exclusive of UnitPrice).
	Tax int64 `json:"tax"`
	// The counters: how many of Quantity are in each state.
	Cancelled   int64 `json:"cancelled"`
	Allocated   int64 `json:"allocated"`
	Backordered int64 `json:"backordered"`
	Shipped     int64 `json:"shipped"`
	Delivered   int64 `json:"delivered"`
	Returned    int64 `json:"returned"`
}

// Open returns the quantity still to be fulfilled: ordered, less cancelled
// and shipped.
func (l Line) Open() int64 { return l.Quantity - l.Cancelled - l.Shipped }

// ShippingLine is a shipping charge: a method and its price in minor units.
type ShippingLine struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Price int64  `json:"price"`
}

// Totals are computed by Orderly from the lines; they are never taken from
// the client. Total = Subtotal − DiscountTotal + ShippingTotal + TaxTotal.
type Totals struct {
	Subtotal      int64 `json:"subtotal"`
	DiscountTotal int64 `json:"discount_total"`
	ShippingTotal int64 `json:"shipping_total"`
	TaxTotal      int64 `json:"tax_total"`
	Total         int64 `json:"total"`
}

// Hold records why and since when an order is on hold, and the status it
// returns to when released.
type Hold struct {
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
	// Previous is the status the order had before the hold.
	Previous Status `json:"previous"`
}

// ComputeTotals returns the order's totals from its lines and shipping lines.
// Validate has already bounded every amount, so the sums cannot overflow.
func (o *Order) ComputeTotals() Totals {
	var t Totals
	for _, l := range o.Lines {
		t.Subtotal += l.Quantity * l.UnitPrice
		t.DiscountTotal += l.Discount
		t.TaxTotal += l.Tax
	}
	for _, s := range o.ShippingLines {
		t.ShippingTotal += s.Price
	}
	t.Total = t.Subtotal - t.DiscountTotal + t.ShippingTotal + t.TaxTotal
	return t
}

// Limits on what one order may hold, so that no input can exhaust memory or
// overflow the totals.
const (
	MaxLines         = 1000
	MaxQuantity      = 1_000_000
	MaxUnitPrice     = 1_000_000_000_000 // 10^12 minor units
	MaxShippingLines = 20
	MaxTags          = 50
)

// Validate checks everything that can be checked without the database: the
// currency, addresses, lines and amounts. Field names are the API's JSON
// paths. It returns a KindInvalid *orderly.Error listing every problem.
func (o *Order) Validate() error {
	var p orderly.Problems
	if o.Channel == "" {
		p.Add("channel", "is required")
	}
	if o.ExternalID == "" {
		p.Add("external_id", "is required")
	}
	orderly.CheckText(&p, "external_id", o.ExternalID, 200)
	if o.Currency == "" {
		p.Add("currency", "is required")
	} else if !orderly.ValidCurrency(o.Currency) {
		p.Add("currency", "%q is not an ISO 4217 currency code", o.Currency)
	}
	if o.PlacedAt.IsZero() {
		p.Add("placed_at", "is required")
	}
	orderly.CheckText(&p, "customer.name", o.Customer.Name, 200)
	orderly.CheckText(&p, "customer.email", o.Customer.Email, 254)
	orderly.CheckText(&p, "customer.phone", o.Customer.Phone, 40)
	o.ShippingAddress.Validate("shipping_address", &p)
	o.BillingAddress.Validate("billing_address", &p)
	orderly.CheckText(&p, "note", o.Note, 5000)
	orderly.CheckText(&p, "channel_status", o.ChannelStatus, 100)
	orderly.CheckText(&p, "financial_status", o.FinancialStatus, 100)
	if len(o.Tags) > MaxTags {
		p.Add("tags", "has more than %d tags", MaxTags)
	}
	for i, tag := range o.Tags {
		if tag == "" {
			p.Add(fieldf("tags", i, ""), "is empty")
		}
		orderly.CheckText(&p, fieldf("tags", i, ""), tag, 100)
	}
	switch {
	case len(o.Lines) == 0:
		p.Add("lines", "must have at least one line")
	case len(o.Lines) > MaxLines:
		p.Add("lines", "has more than %d lines", MaxLines)
	}
	for i, l := range o.Lines {
		if l.SKU == "" {
			p.Add(fieldf("lines", i, "sku"), "is required")
		}
		orderly.CheckText(&p, fieldf("lines", i, "sku"), l.SKU, 100)
		orderly.CheckText(&p, fieldf("lines", i, "name"), l.Name, 500)
		if l.Quantity < 1 {
			p.Add(fieldf("lines", i, "quantity"), "must be at least 1")
		} else if l.Quantity > MaxQuantity {
			p.Add(fieldf("lines", i, "quantity"), "must be at most %d", MaxQuantity)
		}
		checkAmount(&p, fieldf("lines", i, "unit_price"), l.UnitPrice, MaxUnitPrice)
		checkAmount(&p, fieldf("lines", i, "tax"), l.Tax, orderly.MaxAmount)
		checkAmount(&p, fieldf("lines", i, "discount"), l.Discount, orderly.MaxAmount)
		if l.Quantity >= 1 && l.Quantity <= MaxQuantity && l.UnitPrice >= 0 && l.UnitPrice <= MaxUnitPrice &&
			l.Discount > l.Quantity*l.UnitPrice {
			p.Add(fieldf("lines", i, "discount"), "is larger than the line's price (%d)", l.Quantity*l.UnitPrice)
		}
	}
	if len(o.ShippingLines) > MaxShippingLines {
		p.Add("shipping_lines", "has more than %d lines", MaxShippingLines)
	}
	for i, s := range o.ShippingLines {
		orderly.CheckText(&p, fieldf("shipping_lines", i, "code"), s.Code, 100)
		orderly.CheckText(&p, fieldf("shipping_lines", i, "name"), s.Name, 200)
		checkAmount(&p, fieldf("shipping_lines", i, "price"), s.Price, MaxUnitPrice)
	}
	return p.Err()
}

func checkAmount(p *orderly.Problems, field string, v, limit int64) {
	if v < 0 {
		p.Add(field, "must not be negative")
	} else if v > limit {
		p.Add(field, "must be at most %d", limit)
	}
}

func fieldf(list string, i int, field string) string {
	s := list + "[" + strconv.Itoa(i) + "]"
	if field != "" {
		s += "." + field
	}
	return s
}

// Init prepares a validated new order for storage: it assigns ids to the
// order and its lines, computes the totals, and sets the status (open, or
// pending when the channel has not confirmed it yet), the timestamps and
// the first version. Number is assigned by the store.
func (o *Order) Init(status Status, now time.Time) {
	o.ID = orderly.NewID()
	for i := range o.Lines {
		o.Lines[i].ID = orderly.NewID()
	}
	if o.Tags == nil {
		o.Tags = []string{}
	}
	if o.ShippingLines == nil {
		o.ShippingLines = []ShippingLine{}
	}
	o.Totals = o.ComputeTotals()
	o.Status = status
	o.CreatedAt = now
	o.UpdatedAt = now
	o.Version = 1
}

// LineByID returns the line with the given id, or nil.
func (o *Order) LineByID(id string) *Line {
	for i := range o.Lines {
		if o.Lines[i].ID == id {
			return &o.Lines[i]
		}
	}
	return nil
}
