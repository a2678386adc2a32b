package inventory

import (
	"slices"
	"strings"
	"time"
)

// SnapshotMode says how to read a stock snapshot from a WMS, ERP or POS.
type SnapshotMode string

// The snapshot modes.
const (
	// SnapshotFull: the snapshot is the whole location; a SKU Orderly holds
	// there but the snapshot omits counts as zero.
	SnapshotFull SnapshotMode = "full"
	// SnapshotPartial: only the SKUs listed are compared.
	SnapshotPartial SnapshotMode = "partial"
)

// Cause is the likely explanation of a drift line.
type Cause string

// The causes a reconciliation can name.
const (
	CauseNone Cause = "none" // counted equals expected
	// CauseMovementsAfterCount: stock moved in Orderly (shipments, receipts)
	// after the count was taken, and accounts for the whole difference.
	CauseMovementsAfterCount Cause = "movements_after_count"
	// CauseUnreleasedReservations: the count is short by exactly what is
	// reserved: goods picked or shipped without Orderly being told, or
	// reservations that should have been released.
	CauseUnreleasedReservations Cause = "unreleased_reservations"
	// CauseMissingFromSnapshot: a full snapshot did not list a SKU Orderly
	// holds at the location.
	CauseMissingFromSnapshot Cause = "missing_from_snapshot"
	// CauseUnknownToOrderly: the snapshot lists stock Orderly has no record of.
	CauseUnknownToOrderly Cause = "unknown_to_orderly"
	// CauseUnknownSKU: the snapshot names a SKU that is not in the catalogue;
	// it is reported and never applied.
	CauseUnknownSKU  Cause = "unknown_sku"
	CauseUnexplained Cause = "unexplained"
)

// DriftLine compares one SKU's expected and counted stock.
type DriftLine struct {
	SKU      string `json:"sku"`
	Expected int64  `json:"expected"`
	Counted  int64  `json:"counted"`
	// Drift is Counted − Expected.
	Drift    int64 `json:"drift"`
	Reserved int64 `json:"reserved"`
	// MovedSinceCount is the net on-hand change Orderly recorded after the
	// count was taken (0 without a counted_at).
	MovedSinceCount int64 `json:"moved_since_count"`
	Cause           Cause `json:"cause"`
}

// Correction is what applying the snapshot changes on hand by: the count
// carried forward over the movements recorded after it, less what Orderly
// expects.
func (l DriftLine) Correction() int64 {
	return l.Counted + l.MovedSinceCount - l.Expected
}

// Report is the outcome of comparing a snapshot with Orderly's balances.
type Report struct {
	ID        string       `json:"id"`
	Location  string       `json:"location"`
	Mode      SnapshotMode `json:"mode"`
	Applied   bool         `json:"applied"`
	CountedAt *time.Time   `json:"counted_at,omitempty"`
	Actor     string       `json:"actor"`
	CreatedAt time.Time    `json:"created_at"`
	// SKUs compared, SKUs with drift, and the sum of |drift|.
	SKUs       int         `json:"skus"`
	Drifted    int         `json:"drifted"`
	DriftUnits int64       `json:"drift_units"`
	Lines      []DriftLine `json:"lines,omitempty"`
}

// Compare builds the drift lines of a snapshot: balances are Orderly's
// records at the location, counted the snapshot's figures by SKU, and
// moved the net on-hand change per SKU recorded after the count was taken.
// Lines are sorted by SKU.
func Compare(balances []*Balance, counted map[string]int64, mode SnapshotMode, moved map[string]int64) []DriftLine {
	bySKU := make(map[string]*Balance, len(balances))
	for _, b := range balances {
		bySKU[b.SKU] = b
	}
	var lines []DriftLine
	for sku, c := range counted {
		l := DriftLine{SKU: sku, Counted: c, MovedSinceCount: moved[sku]}
		if b, ok := bySKU[sku]; ok {
			l.Expected, l.Reserved = b.OnHand, b.Reserved
		}
		l.Drift = l.Counted - l.Expected
		l.Cause = cause(l, bySKU[sku] != nil, false)
		lines = append(lines, l)
	}
	if mode == SnapshotFull {
		for _, b := range balances {
			if _, ok := counted[b.SKU]; ok || (b.OnHand == 0 && b.Reserved == 0) {
				continue
			}
			l := DriftLine{SKU: b.SKU, Expected: b.OnHand, Reserved: b.Reserved, MovedSinceCount: moved[b.SKU]}
			l.Drift = -l.Expected
			l.Cause = cause(l, true, true)
			lines = append(lines, l)
		}
	}
	slices.SortFunc(lines, func(a, b DriftLine) int { return strings.Compare(a.SKU, b.SKU) })
	return lines
}

func cause(l DriftLine, known, missing bool) Cause {
	switch {
	case l.Drift == 0:
		return CauseNone
	case l.MovedSinceCount != 0 && l.Counted+l.MovedSinceCount == l.Expected:
		return CauseMovementsAfterCount
	case l.Reserved > 0 && l.Counted == l.Expected-l.Reserved:
		return CauseUnreleasedReservations
	case missing:
		return CauseMissingFromSnapshot
	case !known:
		return CauseUnknownToOrderly
	}
	return CauseUnexplained
}

// Summarise fills the report's counts from its lines.
func (r *Report) Summarise() {
	r.SKUs, r.Drifted, r.DriftUnits = len(r.Lines), 0, 0
	for _, l := range r.Lines {
		if l.Drift != 0 {
			r.Drifted++
			r.DriftUnits += max(l.Drift, -l.Drift)
		}
	}
}
