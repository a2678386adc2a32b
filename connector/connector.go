// Package connector is the seam between Orderly and the sales channels it
// integrates with (Shopify, WooCommerce, Amazon, …): a small Connector
// interface that turns a platform's order payload into Orderly's shape, the
// optional capabilities a connector may add (webhook verification, polling,
// pushing shipments, stock and cancellations back), found by type assertion,
// and a Registry that opens a connector for a channel by its kind.
//
// Connectors are edges: they import orderly, the domain packages (order,
// channel) and the standard library's HTTP client, never storage, services
// or the HTTP API. They do not decide anything about an order (unknown SKUs,
// holds, stock): they report what the channel said, exactly, and flag what
// does not add up in Inbound.Problems. The service decides.
package connector

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/order"
)

// Connector is what every channel integration can do: name its kind and map
// one order payload, as the platform sent it, into an Inbound. ParseOrder is
// pure (no I/O, no clock): the same bytes always give the same Inbound, so a
// stored payload can be replayed. A malformed payload is a KindInvalid
// *orderly.Error naming the offending field.
type Connector interface {
	Kind() channel.Kind
	ParseOrder(payload []byte) (*Inbound, error)
}

// WebhookVerifier is implemented by connectors whose platform pushes
// webhooks. VerifyWebhook checks the signature of the raw body with the
// channel's secret in constant time, before anything is parsed, and returns
// the delivery's topic and id. A missing or bad signature is a
// KindUnauthorized error, and the caller writes nothing.
type WebhookVerifier interface {
	VerifyWebhook(header http.Header, body []byte) (Delivery, error)
}

// Delivery describes one verified webhook delivery.
type Delivery struct {
	// ID is the platform's delivery id (X-Shopify-Webhook-Id,
	// X-WC-Webhook-Delivery-ID): the same across retries, so the caller
	// deduplicates on it. It may be empty if the platform did not send one.
	ID string
	// Topic is the platform's event name, e.g. "orders/create" or
	// "order.updated".
	Topic string
	// IsOrder reports whether the topic carries an order payload that
	// ParseOrder understands.
	IsOrder bool
}

// OrderPuller is implemented by connectors that can poll the platform for
// orders changed since a point in time. One call fetches one page; the poll
// job stores the cursor between calls so that a crash resumes where it left
// off.
type OrderPuller interface {
	PullOrders(ctx context.Context, q PullQuery) (*PullPage, error)
}

// PullQuery asks for one page of orders.
type PullQuery struct {
	// UpdatedAfter is the watermark: orders modified after this instant.
	UpdatedAfter time.Time
	// Cursor is the NextCursor of the previous page, or "" for the first.
	Cursor string
}

// PullPage is one page of pulled orders.
type PullPage struct {
	// Payloads are the orders as raw JSON, each one ParseOrder's input. The
	// caller stores them as received (they are facts) before mapping them.
	Payloads [][]byte
	// NextCursor is "" on the last page.
	NextCursor string
	// LastUpdated is the latest modification instant seen on this page
	// (zero if the platform does not say): the next watermark once every
	// page has been processed.
	LastUpdated time.Time
}

// ShipmentPusher is implemented by connectors that tell the platform an
// order has shipped, with tracking.
type ShipmentPusher interface {
	PushShipment(ctx context.Context, s Shipment) error
}

// Shipment is what Orderly shipped, in the channel's identifiers.
type Shipment struct {
	// OrderExternalID is the channel's order id (Order.ExternalID).
	OrderExternalID string
	// Lines are the shipped lines; empty means "everything still open".
	Lines []ShipmentLine
	// Carrier is the carrier's name or code, e.g. "UPS", "DHL".
	Carrier string
	// Service is the carrier's service level, e.g. "Ground".
	Service        string
	TrackingNumber string
	TrackingURL    string
	ShippedAt      time.Time
	// NotifyCustomer asks the platform to e-mail the buyer, where it can.
	NotifyCustomer bool
	// Sequence numbers the order's shipments 1, 2, … (Amazon's package
	// reference); 0 means 1.
	Sequence int
	// Complete says nothing of the order is left to ship after this
	// shipment; platforms without partial fulfilment (WooCommerce) are only
	// marked completed then.
	Complete bool
}

// ShipmentLine is one shipped line.
type ShipmentLine struct {
	// LineExternalID is the channel's id of the line (Inbound.LineExternalIDs).
	LineExternalID string
	SKU            string
	Quantity       int64
}

// StockPusher is implemented by connectors that publish availability to the
// platform.
type StockPusher interface {
	PushStock(ctx context.Context, levels []StockLevel) error
}

// StockLevel is the quantity available to sell of one item at one of the
// channel's locations.
type StockLevel struct {
	SKU string
	// ItemRef and LocationRef are the channel's own identifiers for the
	// item and the location (Shopify: inventory_item_id and location_id),
	// resolved by the caller from the channel's settings.
	ItemRef     string
	LocationRef string
	Available   int64
}

// CancellationPusher is implemented by connectors that can cancel an order
// on the platform when Orderly cancels it.
type CancellationPusher interface {
	PushCancellation(ctx context.Context, c CancelRequest) error
}

// CancelRequest asks the platform to cancel an order.
type CancelRequest struct {
	OrderExternalID string
	// Reason is Orderly's reason, passed on where the platform keeps one.
	Reason string
	// NotifyCustomer asks the platform to e-mail the buyer, where it can.
	NotifyCustomer bool
}

// LineCancellationPusher is implemented by connectors that can cancel some
// units of an order on the platform when Orderly cancels them and the rest
// of the order goes on (a partial cancellation).
type LineCancellationPusher interface {
	PushLineCancellation(ctx context.Context, c LineCancelRequest) error
}

// LineCancelRequest asks the platform to cancel units of some lines of an
// order; nothing moves money (refunds are the merchant's, where they are
// made).
type LineCancelRequest struct {
	OrderExternalID string
	Lines           []CancelLine
	// Reason is Orderly's reason, passed on where the platform keeps one.
	Reason string
	// Ref names this cancellation, the same on every retry (Orderly's
	// event id): the connector marks what it creates with it, so that a
	// retry after a lost answer does not cancel the units twice.
	Ref string
	// NotifyCustomer asks the platform to e-mail the buyer, where it can.
	NotifyCustomer bool
	// LocationRef is the channel's location the units go back to (Shopify
	// location_id) where the platform cannot tell which; may be empty.
	LocationRef string
}

// Validate checks what every platform needs of a line cancellation: a
// reference and lines of at least one unit. Line ids are the connector's
// to check (their form is the platform's).
func (r LineCancelRequest) Validate() error {
	if r.Ref == "" || len(r.Lines) == 0 {
		return orderly.Invalid("lines", "a line cancellation needs a reference and at least one line")
	}
	for _, l := range r.Lines {
		if l.Quantity < 1 {
			return orderly.Invalid("lines", "quantity of line %s must be at least 1", l.LineExternalID)
		}
	}
	return nil
}

// LineCancelNote is the note a connector leaves on what it creates for a
// LineCancelRequest (a refund of no money, say): "Orderly cancellation
// <ref>", then ": <reason>" if there is one. A retry finds it with
// IsLineCancelNote and creates nothing more.
func LineCancelNote(r LineCancelRequest) string {
	note := "Orderly cancellation " + r.Ref
	if r.Reason != "" {
		note += ": " + r.Reason
	}
	return note
}

// IsLineCancelNote reports whether note was left for the cancellation ref.
func IsLineCancelNote(note, ref string) bool {
	marker := "Orderly cancellation " + ref
	return note == marker || strings.HasPrefix(note, marker+": ")
}

// CancelLine is a quantity of one of the channel's order lines.
type CancelLine struct {
	LineExternalID string
	SKU            string
	Quantity       int64
}

// Hinter is implemented by connectors whose platform imposes rules that
// Orderly should copy into the channel's policy or respect when talking to
// the buyer.
type Hinter interface {
	Hints() Hints
}

// Hints are a platform's rules, as data.
type Hints struct {
	// BuyerEmailIsRelay says the buyer's e-mail is an anonymised relay
	// address (Amazon): fine for order messages, never for anything else.
	BuyerEmailIsRelay bool `json:"buyer_email_is_relay"`
	// NoMarketing says the platform forbids marketing messages to its
	// buyers.
	NoMarketing bool `json:"no_marketing"`
	// ShipmentConfirmationRequired says the platform expects every shipment
	// to be confirmed back to it.
	ShipmentConfirmationRequired bool `json:"shipment_confirmation_required"`
}

// Inbound is one order as a channel reported it, mapped into Orderly's
// shape, plus what the order record does not hold (yet) but Orderly must
// keep: the channel's own totals and statuses, its cancellation, and the
// problems found while mapping.
type Inbound struct {
	// Order holds the input fields of the order (external id, placed at,
	// currency, customer, addresses, lines, shipping lines, note, tags).
	// Channel is left empty for the caller to set; ids, number, totals,
	// status and timestamps are the service's (order.Order.Init).
	Order order.Order `json:"order"`
	// LineExternalIDs[i] is the channel's id of Order.Lines[i], needed to
	// push shipments back.
	LineExternalIDs []string `json:"line_external_ids"`
	// Number is the channel's human order name, e.g. "#1001".
	Number string `json:"number,omitempty"`
	// Status is the status the channel's state maps to: pending (the
	// channel has not confirmed the order, e.g. Amazon Pending), open or
	// cancelled.
	Status order.Status `json:"status"`
	// ChannelStatus is the channel's own status: Amazon's OrderStatus
	// ("Unshipped") and WooCommerce's status ("processing") verbatim,
	// Shopify's open, closed or cancelled.
	ChannelStatus string `json:"channel_status,omitempty"`
	// FinancialStatus is the channel's payment status: Shopify's
	// financial_status verbatim, WooCommerce "paid", "unpaid" or
	// "refunded"; empty for Amazon, which collects payment itself.
	FinancialStatus string `json:"financial_status,omitempty"`
	// Cancellation is set when the channel reports the order cancelled.
	Cancellation *Cancellation `json:"cancellation,omitempty"`
	// UpdatedAt is when the channel last changed the order; the service
	// ignores an update older than the one it already applied.
	UpdatedAt time.Time `json:"updated_at"`
	// Reported are the totals as the channel reported them, in minor units
	// of Order.Currency; nil when the channel reported none (an Amazon
	// Pending order). They are what the customer was charged: kept, never
	// recomputed.
	Reported *order.Totals `json:"reported,omitempty"`
	// TaxesIncluded says the channel's prices include tax (line and
	// shipping tax amounts are then informational, not added on top).
	TaxesIncluded bool `json:"taxes_included,omitempty"`
	// Adjustments are amounts the customer was charged or credited that the
	// order record has no field for yet (shipping tax, gift wrap, fees).
	Adjustments []Adjustment `json:"adjustments,omitempty"`
	// Test marks a platform test order.
	Test bool `json:"test,omitempty"`
	// Problems lists what did not add up or had to be interpreted, in
	// words for a person ("lines do not add up to the reported total: …").
	// They are flags: nothing was "fixed" to hide them.
	Problems []string `json:"problems,omitempty"`
}

// Cancellation is the channel's record of an order being cancelled.
type Cancellation struct {
	// At is when the channel cancelled the order (zero if it does not say).
	At time.Time `json:"at"`
	// Reason is the channel's reason, verbatim (Shopify cancel_reason,
	// Amazon BuyerCancelReason); "channel" when it gives none.
	Reason string `json:"reason"`
}

// Adjustment is a charge (positive) or credit (negative) outside the lines
// and shipping lines, in minor units of Currency. An adjustment in another
// currency than the order's is kept in its own currency, never converted,
// and flagged as a problem.
type Adjustment struct {
	// Kind names the charge: "shipping_tax", "gift_wrap", "gift_wrap_tax",
	// "fee", "cod_fee", "cod_fee_discount".
	Kind     string `json:"kind"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	// Ref says where it came from, e.g. "OrderItems[0].BuyerInfo.GiftWrapPrice".
	Ref string `json:"ref,omitempty"`
}

// Flag records a problem.
func (in *Inbound) Flag(problem string) {
	in.Problems = append(in.Problems, problem)
}
