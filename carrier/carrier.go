// Package carrier owns the seam between Orderly and the parcel carriers:
// the small Carrier interface (rates, labels, tracking) every carrier
// adapter implements, and the types it speaks. Adapters live in
// subpackages (tablerate, easypost).
//
// It imports only the orderly package. Errors from adapters carry orderly
// kinds: bad input is KindInvalid, an unknown tracking number KindNotFound,
// a carrier that is down, slow or refusing (5xx, 429, timeouts, and also
// refused credentials: the carrier is unusable until someone fixes the
// configuration, which is not the API caller's fault) KindUnavailable.
package carrier

import (
	"context"
	"time"

	"github.com/orderly-oms/orderly"
)

// Carrier is one way of shipping parcels.
type Carrier interface {
	// Rates returns what each of the carrier's services would charge for
	// the parcel, cheapest first. No service for the parcel is an empty
	// list, not an error.
	Rates(ctx context.Context, p Parcel) ([]Rate, error)
	// CreateLabel buys postage for the parcel with one service and returns
	// the label and its tracking number.
	CreateLabel(ctx context.Context, r LabelRequest) (*Label, error)
	// Track returns what the carrier knows of a parcel.
	Track(ctx context.Context, trackingNumber string) (*Tracking, error)
}

// Parcel is what is to be sent: from where, to where, how heavy and how big.
type Parcel struct {
	From orderly.Address `json:"from"`
	To   orderly.Address `json:"to"`
	// WeightGrams is the parcel's weight, packaging included.
	WeightGrams int64 `json:"weight_grams"`
	// Dimensions in millimetres; zero when unknown.
	LengthMM int64 `json:"length_mm,omitempty"`
	WidthMM  int64 `json:"width_mm,omitempty"`
	HeightMM int64 `json:"height_mm,omitempty"`
	// Reference is Orderly's own reference for the parcel (a shipment or
	// fulfilment order id), printed or sent where the carrier allows.
	Reference string `json:"reference,omitempty"`
}

// MaxWeightGrams bounds any parcel's weight (1 tonne).
const MaxWeightGrams = 1_000_000

// Validate checks the parcel: both addresses with a country, a positive
// weight, non-negative dimensions.
func (p Parcel) Validate() error {
	var pr orderly.Problems
	p.From.Validate("from", &pr)
	p.To.Validate("to", &pr)
	if p.From.Country == "" && p.From.IsZero() {
		pr.Add("from.country", "is required")
	}
	if p.To.Country == "" && p.To.IsZero() {
		pr.Add("to.country", "is required")
	}
	if p.WeightGrams < 1 || p.WeightGrams > MaxWeightGrams {
		pr.Add("weight_grams", "must be between 1 and %d", MaxWeightGrams)
	}
	for _, d := range []struct {
		name string
		v    int64
	}{{"length_mm", p.LengthMM}, {"width_mm", p.WidthMM}, {"height_mm", p.HeightMM}} {
		if d.v < 0 || d.v > 10_000 {
			pr.Add(d.name, "must be between 0 and 10000")
		}
	}
	orderly.CheckText(&pr, "reference", p.Reference, 100)
	return pr.Err()
}

// Rate is one service's price for a parcel.
type Rate struct {
	// ID is the carrier's id for the quote, when it has one (EasyPost's
	// rate id); CreateLabel may need it.
	ID string `json:"id,omitempty"`
	// ShipmentID is the carrier's shipment the quote belongs to, when it
	// quotes per shipment (EasyPost's shp_…); CreateLabel needs it with ID.
	ShipmentID string `json:"shipment_id,omitempty"`
	Carrier    string `json:"carrier"`
	Service    string `json:"service"`
	// Amount is in minor units of Currency.
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	// EstimatedDays is the carrier's estimate of transit days; 0 if none.
	EstimatedDays int `json:"estimated_days,omitempty"`
}

// LabelRequest asks for a label for a parcel with one service. RateID is
// needed by carriers that quote first (EasyPost: the rate to buy, from
// Rates; ShipmentID then names the carrier's shipment the rate belongs to).
type LabelRequest struct {
	Parcel     Parcel `json:"parcel"`
	Service    string `json:"service"`
	RateID     string `json:"rate_id,omitempty"`
	ShipmentID string `json:"shipment_id,omitempty"`
}

// Label is a bought label.
type Label struct {
	Carrier        string `json:"carrier"`
	Service        string `json:"service"`
	TrackingNumber string `json:"tracking_number"`
	// PDF holds the label when the carrier returns the document itself;
	// URL where it is to be fetched from. One of them is set.
	PDF []byte `json:"-"`
	URL string `json:"url,omitempty"`
	// Amount and Currency are what the postage cost, when known.
	Amount   int64  `json:"amount,omitempty"`
	Currency string `json:"currency,omitempty"`
	// CarrierRef is the carrier's own id for the shipment (EasyPost's shp_…).
	CarrierRef string `json:"carrier_ref,omitempty"`
}

// TrackingStatus is Orderly's tracking status; the values are those of
// fulfilment.TrackingStatus, which carriers' statuses are mapped onto
// (carrier imports nothing but orderly, so it repeats them).
type TrackingStatus string

// The tracking statuses.
const (
	StatusPreTransit       TrackingStatus = "pre_transit"
	StatusInTransit        TrackingStatus = "in_transit"
	StatusOutForDelivery   TrackingStatus = "out_for_delivery"
	StatusDelivered        TrackingStatus = "delivered"
	StatusException        TrackingStatus = "exception"
	StatusReturnedToSender TrackingStatus = "returned_to_sender"
)

// Tracking is what a carrier knows of one parcel.
type Tracking struct {
	TrackingNumber string `json:"tracking_number"`
	Carrier        string `json:"carrier"`
	// Status is the parcel's current status; "" when the carrier's status
	// says nothing (unknown), so the shipment keeps its own.
	Status TrackingStatus `json:"status"`
	// Events are the carrier's tracking events, oldest first.
	Events []Event `json:"events"`
	// EstimatedDelivery is the carrier's estimate, when it gives one.
	EstimatedDelivery *time.Time `json:"estimated_delivery,omitempty"`
	// PublicURL is a tracking page to show customers.
	PublicURL string `json:"public_url,omitempty"`
	// CarrierRef is the carrier's id for the tracker (EasyPost's trk_…).
	CarrierRef string `json:"carrier_ref,omitempty"`
}

// Event is one tracking event.
type Event struct {
	Status TrackingStatus `json:"status"`
	At     time.Time      `json:"at"`
	Detail string         `json:"detail,omitempty"`
	// Location is the carrier's description of where, e.g. "HOUSTON TX 77063".
	Location string `json:"location,omitempty"`
}

// Unavailable returns a KindUnavailable error: the carrier is down, busy or
// slow; the caller may retry later.
func Unavailable(carrierName, format string, args ...any) error {
	e := orderly.Errorf(orderly.KindUnavailable, format, args...)
	e.Message = carrierName + ": " + e.Message
	return e
}
