package fulfilment

import "time"

// Label is a carrier label bought for a fulfilment order's parcel: its
// tracking number is then given to Ship. The document is PDF when the
// carrier returned it (table-rate), else at URL (the carrier's copy).
type Label struct {
	ID                string `json:"id"`
	FulfilmentOrderID string `json:"fulfilment_order_id"`
	Carrier           string `json:"carrier"`
	Service           string `json:"service"`
	TrackingNumber    string `json:"tracking_number"`
	// URL is where the carrier keeps the label; empty when PDF holds it.
	URL string `json:"url,omitempty"`
	// Amount is what the postage cost, in minor units of Currency; 0 and
	// "" when the carrier did not say.
	Amount   int64  `json:"amount"`
	Currency string `json:"currency,omitempty"`
	// CarrierRef is the carrier's own id for the shipment (EasyPost's shp_…).
	CarrierRef string    `json:"carrier_ref,omitempty"`
	PDF        []byte    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
}
