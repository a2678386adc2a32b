package inventory

import (
	"cmp"
	"slices"
)

// Demand is what one order line needs.
type Demand struct {
	LineID   string
	SKU      string
	Quantity int64
}

// Key identifies a balance: one SKU at one location.
type Key struct {
	SKU      string
	Location string
}

// Pick is a planned reservation: part of a line at one location.
type Pick struct {
	LineID   string
	SKU      string
	Location string
	Quantity int64
}

// Plan is where an order's demand will be reserved, and what cannot be.
type Plan struct {
	Picks []Pick
	// Backordered maps line ids to the quantity no location can take.
	Backordered map[string]int64
}

// Short reports whether any quantity is backordered.
func (p Plan) Short() bool {
	for _, q := range p.Backordered {
		if q > 0 {
			return true
		}
	}
	return false
}

// PlanSimple chooses where to reserve each line, until the routing engine
// replaces it: the feeding location with the most available stock that can
// take the whole line; failing that, the line is split across locations in
// order of most available. Lines are planned in order against one running
// tally of what is available, so two lines of the same SKU never count the
// same unit twice. Ties go to the location listed first.
func PlanSimple(demands []Demand, available map[Key]int64, locations []string) Plan {
	left := make(map[Key]int64, len(available))
	for k, v := range available {
		left[k] = max(0, v)
	}
	plan := Plan{Backordered: map[string]int64{}}
	for _, d := range demands {
		// Candidates by most available first, stable on the given order.
		cands := slices.Clone(locations)
		slices.SortStableFunc(cands, func(a, b string) int {
			return cmp.Compare(left[Key{d.SKU, b}], left[Key{d.SKU, a}])
		})
		need := d.Quantity
		for _, loc := range cands {
			if left[Key{d.SKU, loc}] >= need {
				plan.Picks = append(plan.Picks, Pick{LineID: d.LineID, SKU: d.SKU, Location: loc, Quantity: need})
				left[Key{d.SKU, loc}] -= need
				need = 0
				break
			}
		}
		for _, loc := range cands {
			if need == 0 {
				break
			}
			take := min(need, left[Key{d.SKU, loc}])
			if take <= 0 {
				continue
			}
			plan.Picks = append(plan.Picks, Pick{LineID: d.LineID, SKU: d.SKU, Location: loc, Quantity: take})
			left[Key{d.SKU, loc}] -= take
			need -= take
		}
		if need > 0 {
			plan.Backordered[d.LineID] += need
		}
	}
	return plan
}

// SortPicks orders picks by (SKU, location), the fixed order in which
// balance rows are locked so that concurrent orders cannot deadlock.
func SortPicks(picks []Pick) {
	slices.SortStableFunc(picks, func(a, b Pick) int {
		return cmp.Or(cmp.Compare(a.SKU, b.SKU), cmp.Compare(a.Location, b.Location))
	})
}
