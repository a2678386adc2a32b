package inventory

import (
	"time"

	"github.com/orderly-oms/orderly"
)

// Reason says why stock moved. Every ledger row has one.
type Reason string

// The movement reasons. Receive, adjust, damage, return and the transfers
// are entered by people and systems through the adjustments API; count is a
// stock count (absolute value) recorded as its difference; reserve, release
// and ship are written by order capture and fulfilment.
const (
	ReasonReceive     Reason = "receive"
	ReasonAdjust      Reason = "adjust"
	ReasonDamage      Reason = "damage"
	ReasonCount       Reason = "count"
	ReasonReserve     Reason = "reserve"
	ReasonRelease     Reason = "release"
	ReasonShip        Reason = "ship"
	ReasonReturn      Reason = "return"
	ReasonTransferIn  Reason = "transfer_in"
	ReasonTransferOut Reason = "transfer_out"
)

// AdjustmentReasons are the reasons a client may give to the adjustments
// API; the others are written by Orderly itself.
var AdjustmentReasons = []Reason{ReasonReceive, ReasonAdjust, ReasonDamage, ReasonReturn, ReasonTransferIn, ReasonTransferOut}

// Movement is one immutable row of the stock ledger: a change of on-hand
// and/or reserved quantity of one SKU at one location. A balance changes
// only together with its movement, in one transaction, so the balance can
// always be recomputed as the sum of the ledger.
type Movement struct {
	// Seq orders the ledger; assigned by the store.
	Seq      int64  `json:"seq"`
	ID       string `json:"id"`
	SKU      string `json:"sku"`
	Location string `json:"location"`
	// DeltaOnHand and DeltaReserved are the signed changes.
	DeltaOnHand   int64  `json:"delta_on_hand"`
	DeltaReserved int64  `json:"delta_reserved"`
	Reason        Reason `json:"reason"`
	// Reference names what caused the movement: "order:<id>",
	// "shipment:<id>", "count:<id>", "reconciliation:<id>", or a client's
	// own reference (a purchase order number, …).
	Reference string    `json:"reference"`
	Actor     string    `json:"actor"`
	At        time.Time `json:"at"`
}

// ValidateAdjustment checks a client's adjustment request: a known reason
// allowed to clients, a non-zero delta whose sign fits the reason.
func ValidateAdjustment(location, sku string, delta int64, reason Reason, reference string) error {
	var p orderly.Problems
	if location == "" {
		p.Add("location", "is required")
	}
	if sku == "" {
		p.Add("sku", "is required")
	}
	allowed := false
	for _, r := range AdjustmentReasons {
		allowed = allowed || r == reason
	}
	switch {
	case !allowed:
		p.Add("reason", "must be one of receive, adjust, damage, return, transfer_in, transfer_out")
	case delta == 0:
		p.Add("delta", "must not be zero")
	case delta > MaxQuantity || delta < -MaxQuantity:
		p.Add("delta", "must be between -%d and %d", MaxQuantity, MaxQuantity)
	case (reason == ReasonReceive || reason == ReasonReturn || reason == ReasonTransferIn) && delta < 0:
		p.Add("delta", "must be positive for %s", reason)
	case (reason == ReasonDamage || reason == ReasonTransferOut) && delta > 0:
		p.Add("delta", "must be negative for %s", reason)
	}
	orderly.CheckText(&p, "reference", reference, 200)
	return p.Err()
}

// MaxQuantity bounds any stock quantity Orderly accepts (10^9 units), so
// sums over a ledger stay far inside int64.
const MaxQuantity = 1_000_000_000

// Balance is the current stock of one SKU at one location.
type Balance struct {
	SKU      string `json:"sku"`
	Location string `json:"location"`
	// OnHand is what is physically there.
	OnHand int64 `json:"on_hand"`
	// Reserved is what open orders have claimed and not yet shipped.
	Reserved int64 `json:"reserved"`
	// SafetyStock is held back from what is promised.
	SafetyStock int64     `json:"safety_stock"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Available is what can still be promised: on hand less reserved and
// safety stock, never below zero.
func (b Balance) Available() int64 {
	return max(0, b.OnHand-b.Reserved-b.SafetyStock)
}

// Shortage is how many reserved units are not on hand (after a count found
// less than was reserved); zero normally.
func (b Balance) Shortage() int64 {
	return max(0, b.Reserved-b.OnHand)
}

// Allocation is the part of an order line reserved at one location. The
// balance's Reserved is always the sum of the open allocations at its key.
type Allocation struct {
	ID       string `json:"id"`
	OrderID  string `json:"order_id"`
	LineID   string `json:"line_id"`
	SKU      string `json:"sku"`
	Location string `json:"location"`
	// Quantity is the open reserved quantity: it falls as units ship or
	// are released, and the allocation is closed at zero.
	Quantity  int64     `json:"quantity"`
	CreatedAt time.Time `json:"created_at"`
}
