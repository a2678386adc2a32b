package fulfilment

import (
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/inventory"
)

// StockEffect is one stock-ledger write a rejection calls for, as data: the
// service turns each into a movement in the transaction that records the
// rejection, in the order given.
type StockEffect struct {
	SKU      string           `json:"sku"`
	Location string           `json:"location"`
	Reason   inventory.Reason `json:"reason"`
	// DeltaOnHand and DeltaReserved are the signed changes of every
	// effect but a count.
	DeltaOnHand   int64 `json:"delta_on_hand"`
	DeltaReserved int64 `json:"delta_reserved"`
	// CountTo is, for a count (Reason == inventory.ReasonCount), the
	// on-hand quantity that was found. A count is recorded in the ledger as
	// its difference from the balance, which only the store knows.
	CountTo int64 `json:"count_to"`
}

// Movement returns the ledger row for the effect, given the balance's
// current on-hand quantity (read under the balance's lock in the same
// transaction; it matters only for a count).
func (e StockEffect) Movement(onHand int64, reference, actor string, at time.Time) inventory.Movement {
	m := inventory.Movement{
		ID: orderly.NewID(), SKU: e.SKU, Location: e.Location, Reason: e.Reason,
		DeltaOnHand: e.DeltaOnHand, DeltaReserved: e.DeltaReserved,
		Reference: reference, Actor: actor, At: at,
	}
	if e.Reason == inventory.ReasonCount {
		m.DeltaOnHand = e.CountTo - onHand
	}
	return m
}

// RejectEffect returns the stock-ledger writes for rejecting qty units of
// sku at location for reason:
//
//  1. always a release of the qty reserved for this fulfilment order
//     (Δreserved −qty), so the units can be routed elsewhere;
//  2. not_found: a count of the SKU at the location to zero. Whatever else
//     was reserved there for other orders becomes a shortage
//     (inventory.Balance.Shortage), which routing and reconciliation see;
//  3. damaged: a damage movement taking the qty out of on-hand stock
//     (Δon_hand −qty), so it is no longer sellable;
//  4. no_capacity and other: nothing more; the stock stays sellable.
//
// The release comes first so that the count and the damage never see this
// order's reservation.
func RejectEffect(reason RejectReason, sku, location string, qty int64) ([]StockEffect, error) {
	var p orderly.Problems
	if !reason.Valid() {
		p.Add("reason", "must be one of not_found, damaged, no_capacity, other")
	}
	if sku == "" {
		p.Add("sku", "is required")
	}
	if location == "" {
		p.Add("location", "is required")
	}
	if qty < 1 || qty > inventory.MaxQuantity {
		p.Add("quantity", "must be between 1 and %d", inventory.MaxQuantity)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	out := []StockEffect{{SKU: sku, Location: location, Reason: inventory.ReasonRelease, DeltaReserved: -qty}}
	switch reason {
	case RejectNotFound:
		out = append(out, StockEffect{SKU: sku, Location: location, Reason: inventory.ReasonCount, CountTo: 0})
	case RejectDamaged:
		out = append(out, StockEffect{SKU: sku, Location: location, Reason: inventory.ReasonDamage, DeltaOnHand: -qty})
	}
	return out, nil
}
