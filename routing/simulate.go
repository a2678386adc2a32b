package routing

import (
	"cmp"
	"math"
	"slices"
)

// Case is one order to replay: the request and the candidates as they
// stood when it was placed (or as they stand now, for a what-if).
type Case struct {
	Request    Request     `json:"request"`
	Candidates []Candidate `json:"candidates"`
}

// Report compares what two rule sets do with the same orders, so that a
// draft can be judged against the active version before it replaces it.
type Report struct {
	Orders int   `json:"orders"`
	Active Stats `json:"active"`
	Draft  Stats `json:"draft"`
	// Changed counts the orders whose plan differs: other picks or other
	// backorders.
	Changed int `json:"changed"`
	// ChangedOrders lists the ids of the first MaxChangedListed changed
	// orders, in case order.
	ChangedOrders []string `json:"changed_orders"`
}

// MaxChangedListed bounds Report.ChangedOrders.
const MaxChangedListed = 100

// Stats sums up one rule set's plans over a set of orders.
type Stats struct {
	RuleSetVersion int `json:"rule_set_version"`
	// Split counts the orders sent from more than one location; SplitRate
	// is Split over the orders.
	Split     int     `json:"split"`
	SplitRate float64 `json:"split_rate"`
	// Unfillable counts the orders with quantity that could not be placed.
	Unfillable int `json:"unfillable"`
	// Shipments counts (order, location) pairs: one parcel per location.
	Shipments int `json:"shipments"`
	// MeanDistanceKm is the mean distance of the shipments whose distance
	// could be measured; Measured is how many those were.
	MeanDistanceKm float64 `json:"mean_distance_km"`
	Measured       int     `json:"measured"`
	// PerLocation counts the orders each location takes part in, by
	// location code.
	PerLocation []LocationCount `json:"per_location"`
}

// LocationCount is how many orders one location takes part in.
type LocationCount struct {
	Location string `json:"location"`
	Orders   int    `json:"orders"`
}

// Compare plans every case under both rule sets and reports the
// differences. It is pure: no candidate's stock or capacity carries over
// from one case to the next, since each case holds its own snapshot.
func Compare(cases []Case, active, draft RuleSet) Report {
	rep := Report{Orders: len(cases), ChangedOrders: []string{}}
	var sa, sd stats
	sa.init(active.Version)
	sd.init(draft.Version)
	for i := range cases {
		c := &cases[i]
		var pa, pd planner
		pa.run(&c.Request, c.Candidates, &active, false)
		pd.run(&c.Request, c.Candidates, &draft, false)
		sa.add(&pa)
		sd.add(&pd)
		if !samePlan(&pa.res, &pd.res) {
			rep.Changed++
			if len(rep.ChangedOrders) < MaxChangedListed {
				rep.ChangedOrders = append(rep.ChangedOrders, c.Request.OrderID)
			}
		}
	}
	rep.Active = sa.finish(len(cases))
	rep.Draft = sd.finish(len(cases))
	return rep
}

// stats accumulates Stats.
type stats struct {
	s        Stats
	distance float64
	per      map[string]int
}

func (a *stats) init(version int) {
	a.s.RuleSetVersion = version
	a.per = map[string]int{}
}

func (a *stats) add(p *planner) {
	if len(p.used) > 1 {
		a.s.Split++
	}
	if p.res.Unfillable {
		a.s.Unfillable++
	}
	a.s.Shipments += len(p.used)
	for _, ci := range p.used {
		a.per[p.cands[ci].Location]++
		if p.measured != nil && p.measured[ci] {
			a.distance += p.distKm[ci]
			a.s.Measured++
		}
	}
}

func (a *stats) finish(orders int) Stats {
	s := a.s
	if orders > 0 {
		s.SplitRate = float64(s.Split) / float64(orders)
	}
	if s.Measured > 0 {
		// Rounded to metres so that reports compare equal across
		// platforms (some fuse multiply-adds).
		s.MeanDistanceKm = math.Round(a.distance/float64(s.Measured)*1000) / 1000
	}
	s.PerLocation = make([]LocationCount, 0, len(a.per))
	for loc, n := range a.per {
		s.PerLocation = append(s.PerLocation, LocationCount{Location: loc, Orders: n})
	}
	slices.SortFunc(s.PerLocation, func(x, y LocationCount) int { return cmp.Compare(x.Location, y.Location) })
	return s
}

// samePlan reports whether two results reserve and backorder the same
// quantities, whatever order their picks are listed in.
func samePlan(a, b *Result) bool {
	if len(a.Picks) != len(b.Picks) || len(a.Backordered) != len(b.Backordered) {
		return false
	}
	for i := range a.Backordered {
		if a.Backordered[i] != b.Backordered[i] {
			return false
		}
	}
	byLine := func(x, y Pick) int {
		return cmp.Or(cmp.Compare(x.LineID, y.LineID), cmp.Compare(x.Location, y.Location))
	}
	pa, pb := slices.Clone(a.Picks), slices.Clone(b.Picks)
	slices.SortFunc(pa, byLine)
	slices.SortFunc(pb, byLine)
	return slices.Equal(pa, pb)
}
