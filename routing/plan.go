package routing

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/orderly-oms/orderly/inventory"
)

// Pick is part of a line placed at one location: the caller reserves
// Quantity units of SKU there for the line.
type Pick struct {
	LineID   string `json:"line_id"`
	SKU      string `json:"sku"`
	Location string `json:"location"`
	Quantity int64  `json:"quantity"`
}

// Backorder is the part of a line that no location could take.
type Backorder struct {
	LineID   string `json:"line_id"`
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// Result is the plan for one request.
type Result struct {
	// Picks are grouped by location, in the order the locations were
	// chosen, and by line in request order within a location.
	Picks []Pick `json:"picks"`
	// Backordered lists, in request order, the lines with quantity that
	// could not be placed.
	Backordered []Backorder `json:"backordered"`
	// Locations are the locations used, best-ranked first.
	Locations []string `json:"locations"`
	// Splits is len(Locations) − 1, or 0: how many extra locations the
	// order is split across.
	Splits int `json:"splits"`
	// Unfillable is true when some quantity could not be placed.
	Unfillable bool `json:"unfillable"`
	// Action is what the caller is to do: allocate when everything was
	// placed, else the rule set's WhenUnfillable.
	Action Action `json:"action"`
}

// InventoryPlan returns the picks and backorders in inventory's shape, for
// the code that reserves stock. Under ActionHoldForReview the caller
// reserves nothing, whatever the picks say.
func (r *Result) InventoryPlan() inventory.Plan {
	p := inventory.Plan{Picks: make([]inventory.Pick, len(r.Picks)), Backordered: make(map[string]int64, len(r.Backordered))}
	for i, pk := range r.Picks {
		p.Picks[i] = inventory.Pick{LineID: pk.LineID, SKU: pk.SKU, Location: pk.Location, Quantity: pk.Quantity}
	}
	for _, b := range r.Backordered {
		p.Backordered[b.LineID] += b.Quantity
	}
	return p
}

// DuplicateCandidate is the dropped-by name of a candidate whose location
// code an earlier candidate already used. It is not a filter a rule set
// may list.
const DuplicateCandidate Filter = "duplicate"

// Plan chooses where each line of req is placed among cands under rs, and
// explains the choice. It is pure and deterministic: the order of cands
// does not matter (ties go to the lower location code), nothing is
// mutated, and it never panics on any input.
//
// Candidates that pass every filter of rs are ranked by its rankers. Then,
// in rank order, each candidate that can add something takes as much of
// every line it serves as its stock allows, until every line is placed or
// rs.MaxSplits extra locations are in use. With single_location as the
// first ranker, a location that can take the whole order is therefore used
// alone. Lines of the same SKU draw on one running tally per location, so
// no unit is counted twice. Plan expects a valid rule set; it skips filter
// and ranker names it does not know.
func Plan(req Request, cands []Candidate, rs RuleSet) (Result, Explanation) {
	var p planner
	p.run(&req, cands, &rs, true)
	return p.res, p.exp
}

// planner holds one call's working state. Per-candidate data lives in flat
// slices indexed by candidate (and line or SKU), allocated once.
type planner struct {
	req   *Request
	cands []Candidate
	rs    *RuleSet

	lines   []int    // indices into req.Lines of the lines to place
	lineSKU []int    // per line: index into skus
	skus    []string // the distinct SKUs, in first-seen order
	demand  int64    // total units to place

	byCode   []int     // candidate indices by location code
	drop     []Filter  // per candidate: the filter that dropped it, or ""
	dropWhy  []string  // per candidate: why it was dropped, when not in dropSpan
	dropSpan []span    // per candidate: why it was dropped, in text
	serves   []bool    // [candidate*len(lines)+line]: may serve the line
	left     []int64   // [candidate*len(skus)+sku]: available, then what is left
	eligible []int     // candidates that passed, best first
	keys     []float64 // [candidate*len(rankers)+ranker]: lower ranks first
	vals     []float64 // [candidate*len(rankers)+ranker]: the figure shown
	covered  []int64   // per candidate: units of the order it can take alone
	depth    []int64   // per candidate: available units of the order's SKUs
	distKm   []float64 // per candidate: distance, when measured
	measured []bool    // per candidate: distance was measured
	used     []int     // chosen candidates, in the order chosen
	need     []int64   // per line: what is still to place
	hitLimit bool      // a contributing candidate was refused for max_splits

	res  Result
	exp  Explanation
	text textBuf
}

func (p *planner) run(req *Request, cands []Candidate, rs *RuleSet, explain bool) {
	p.req, p.cands, p.rs = req, cands, rs
	p.indexLines()
	nc, nl, ns := len(cands), len(p.lines), len(p.skus)

	p.byCode = make([]int, nc)
	for i := range p.byCode {
		p.byCode[i] = i
	}
	slices.SortStableFunc(p.byCode, func(a, b int) int { return cmp.Compare(cands[a].Location, cands[b].Location) })

	p.drop = make([]Filter, nc)
	p.dropWhy = make([]string, nc)
	p.dropSpan = make([]span, nc)
	if explain {
		p.text.b = make([]byte, 0, 16*nc*(1+len(rs.Rankers)))
	}
	p.serves = make([]bool, nc*nl)
	p.left = make([]int64, nc*ns)
	p.need = make([]int64, nl)
	for i, li := range p.lines {
		p.need[i] = req.Lines[li].Quantity
	}
	if nl > 0 {
		p.filter(explain)
		p.rank()
		p.allocate()
	}
	p.result()
	if explain {
		p.explain()
	}
}

// indexLines picks the lines to place and numbers their SKUs.
func (p *planner) indexLines() {
	ls := p.req.Lines
	p.lines = make([]int, 0, len(ls))
	p.lineSKU = make([]int, 0, len(ls))
	var index map[string]int
	if len(ls) > 32 {
		index = make(map[string]int, len(ls))
	}
	for i := range ls {
		if ls[i].Quantity < 1 {
			continue
		}
		s := -1
		if index != nil {
			if j, ok := index[ls[i].SKU]; ok {
				s = j
			}
		} else {
			for j, sku := range p.skus {
				if sku == ls[i].SKU {
					s = j
					break
				}
			}
		}
		if s < 0 {
			s = len(p.skus)
			p.skus = append(p.skus, ls[i].SKU)
			if index != nil {
				index[ls[i].SKU] = s
			}
		}
		p.lines = append(p.lines, i)
		p.lineSKU = append(p.lineSKU, s)
		p.demand += ls[i].Quantity
	}
}

// filter runs the rule set's filters over every candidate.
func (p *planner) filter(explain bool) {
	nl, ns := len(p.lines), len(p.skus)
	country := p.req.ShipTo.Country
	p.eligible = make([]int, 0, len(p.cands))
	prev := ""
	for k, ci := range p.byCode {
		c := &p.cands[ci]
		if k > 0 && c.Location == prev {
			p.drop[ci] = DuplicateCandidate
			if explain {
				p.dropWhy[ci] = "another candidate has the same location code"
			}
			continue
		}
		prev = c.Location
		for s, sku := range p.skus {
			p.left[ci*ns+s] = max(0, c.Available[sku])
		}
		serves := p.serves[ci*nl : (ci+1)*nl]
		for i := range serves {
			serves[i] = true
		}
		p.drop[ci] = p.applyFilters(ci, c, serves, country, explain)
		if p.drop[ci] == "" {
			p.eligible = append(p.eligible, ci)
		}
	}
}

// applyFilters returns the filter that drops candidate ci, or "".
func (p *planner) applyFilters(ci int, c *Candidate, serves []bool, country string, explain bool) Filter {
	t := &p.text
	for _, f := range p.rs.Filters {
		start := len(t.b)
		switch f {
		case FilterActive:
			if !c.Active {
				if explain {
					t.str("inactive")
					p.dropSpan[ci] = t.span(start)
				}
				return f
			}
			continue
		case FilterChannel:
			if !c.ChannelAllowed {
				if explain {
					t.str("not allowed for channel ")
					t.str(p.req.Channel)
					p.dropSpan[ci] = t.span(start)
				}
				return f
			}
			continue
		case FilterCapacity:
			if c.DailyCapacity > 0 && c.UsedToday >= c.DailyCapacity {
				if explain {
					t.str("daily capacity used: ")
					t.int(int64(c.UsedToday))
					t.str(" of ")
					t.int(int64(c.DailyCapacity))
					t.str(" orders")
					p.dropSpan[ci] = t.span(start)
				}
				return f
			}
			continue
		}
		// The narrowing filters: each may take lines away.
		kept := 0
		for i := range p.lines {
			if serves[i] && p.keeps(f, ci, c, i, country) {
				kept++
			}
		}
		if kept > 0 {
			for i := range p.lines {
				serves[i] = serves[i] && p.keeps(f, ci, c, i, country)
			}
			continue
		}
		if explain {
			p.dropReason(serves, f, country)
			p.dropSpan[ci] = t.span(start)
		}
		return f
	}
	return ""
}

// keeps reports whether the narrowing filter f lets candidate ci (which is
// c) serve line i. Unknown filters keep everything.
func (p *planner) keeps(f Filter, ci int, c *Candidate, i int, country string) bool {
	l := &p.req.Lines[p.lines[i]]
	switch f {
	case FilterMode:
		return c.offers(l.Mode) && (l.Mode != ModePickup || l.PickupLocation == c.Location)
	case FilterShipsTo:
		return !l.Mode.delivers() || country == "" || c.shipsTo(country)
	case FilterStock:
		return p.left[ci*len(p.skus)+p.lineSKU[i]] > 0
	}
	return true
}

// dropReason writes why filter f left the candidate with no line.
func (p *planner) dropReason(serves []bool, f Filter, country string) {
	t := &p.text
	switch f {
	case FilterShipsTo:
		t.str("does not ship to ")
		t.str(country)
		return
	case FilterMode:
		t.str("does not offer ")
	case FilterStock:
		t.str("no stock of ")
	}
	// List what the remaining lines asked for, each once, at most three.
	shown, more := 0, 0
	for i, li := range p.lines {
		if !serves[i] {
			continue
		}
		l := &p.req.Lines[li]
		dup := false
		for j := range i {
			lj := &p.req.Lines[p.lines[j]]
			if serves[j] && (f == FilterStock && lj.SKU == l.SKU ||
				f == FilterMode && lj.Mode == l.Mode && lj.PickupLocation == l.PickupLocation) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if shown == 3 {
			more++
			continue
		}
		if shown > 0 {
			t.str(", ")
		}
		shown++
		if f == FilterStock {
			t.str(l.SKU)
			continue
		}
		t.str(string(l.Mode))
		if l.Mode == ModePickup {
			t.str(" at ")
			if l.PickupLocation == "" {
				t.str("(no store named)")
			} else {
				t.str(l.PickupLocation)
			}
		}
	}
	if more > 0 {
		t.str(" and ")
		t.int(int64(more))
		t.str(" more")
	}
}

// Distance keys of candidates whose distance cannot be measured: after
// every measured distance, same country first.
const (
	unmeasuredSameCountry  = 1e9
	unmeasuredOtherCountry = 2e9
)

// rank scores the eligible candidates and sorts them, best first.
func (p *planner) rank() {
	nc, nl, ns, nr := len(p.cands), len(p.lines), len(p.skus), len(p.rs.Rankers)
	p.keys = make([]float64, nc*nr)
	p.vals = make([]float64, nc*nr)
	p.covered = make([]int64, nc)
	p.depth = make([]int64, nc)
	p.distKm = make([]float64, nc)
	p.measured = make([]bool, nc)
	to := p.req.ShipTo
	tally := make([]int64, ns)
	seen := make([]bool, ns)
	for _, ci := range p.eligible {
		c := &p.cands[ci]
		serves := p.serves[ci*nl : (ci+1)*nl]
		left := p.left[ci*ns : (ci+1)*ns]
		copy(tally, left)
		clear(seen)
		var covered, depth int64
		for i := range p.lines {
			if !serves[i] {
				continue
			}
			s := p.lineSKU[i]
			take := min(p.need[i], tally[s])
			tally[s] -= take
			covered += take
			if !seen[s] {
				seen[s] = true
				depth += left[s]
			}
		}
		p.covered[ci], p.depth[ci] = covered, depth
		if to.Lat != nil && to.Lon != nil && c.Lat != nil && c.Lon != nil {
			p.distKm[ci] = HaversineKm(*to.Lat, *to.Lon, *c.Lat, *c.Lon)
			p.measured[ci] = true
		}
		keys := p.keys[ci*nr : (ci+1)*nr]
		vals := p.vals[ci*nr : (ci+1)*nr]
		for r, rk := range p.rs.Rankers {
			switch rk {
			case RankSingleLocation:
				// Units it cannot take: 0 for the whole order, and among
				// the rest, the one that leaves least to others first.
				keys[r], vals[r] = float64(p.demand-covered), float64(covered)
			case RankPriority:
				keys[r], vals[r] = float64(c.Priority), float64(c.Priority)
			case RankDistance:
				switch {
				case p.measured[ci]:
					keys[r], vals[r] = p.distKm[ci], p.distKm[ci]
				case to.Country != "" && c.Country == to.Country:
					keys[r] = unmeasuredSameCountry
				default:
					keys[r] = unmeasuredOtherCountry
				}
			case RankStock:
				keys[r], vals[r] = -float64(depth), float64(depth)
			case RankCost:
				keys[r], vals[r] = float64(c.CostPerShipment), float64(c.CostPerShipment)
			}
		}
	}
	slices.SortFunc(p.eligible, func(a, b int) int {
		ka, kb := p.keys[a*nr:(a+1)*nr], p.keys[b*nr:(b+1)*nr]
		for r := range ka {
			if c := cmp.Compare(ka[r], kb[r]); c != 0 {
				return c
			}
		}
		return cmp.Compare(p.cands[a].Location, p.cands[b].Location)
	})
}

// allocate places the lines, greedily in rank order, within max_splits.
func (p *planner) allocate() {
	nl, ns := len(p.lines), len(p.skus)
	limit := max(0, p.rs.MaxSplits) + 1
	remaining := p.demand
	for _, ci := range p.eligible {
		if remaining == 0 {
			break
		}
		serves := p.serves[ci*nl : (ci+1)*nl]
		left := p.left[ci*ns : (ci+1)*ns]
		adds := false
		for i := range p.lines {
			if serves[i] && p.need[i] > 0 && left[p.lineSKU[i]] > 0 {
				adds = true
				break
			}
		}
		if !adds {
			continue
		}
		if len(p.used) == limit {
			p.hitLimit = true
			break
		}
		p.used = append(p.used, ci)
		for i, li := range p.lines {
			s := p.lineSKU[i]
			take := min(p.need[i], left[s])
			if !serves[i] || take <= 0 {
				continue
			}
			l := &p.req.Lines[li]
			p.res.Picks = append(p.res.Picks, Pick{LineID: l.LineID, SKU: l.SKU, Location: p.cands[ci].Location, Quantity: take})
			left[s] -= take
			p.need[i] -= take
			remaining -= take
		}
	}
}

// result fills in what the plan left over and the action.
func (p *planner) result() {
	r := &p.res
	if r.Picks == nil {
		r.Picks = []Pick{}
	}
	r.Backordered = []Backorder{}
	for i, li := range p.lines {
		if p.need[i] > 0 {
			l := &p.req.Lines[li]
			r.Backordered = append(r.Backordered, Backorder{LineID: l.LineID, SKU: l.SKU, Quantity: p.need[i]})
		}
	}
	r.Locations = make([]string, len(p.used))
	for i, ci := range p.used {
		r.Locations[i] = p.cands[ci].Location
	}
	r.Splits = max(0, len(p.used)-1)
	r.Unfillable = len(r.Backordered) > 0
	switch {
	case !r.Unfillable:
		r.Action = ActionAllocate
	case p.rs.WhenUnfillable == ActionBackorderAndHold:
		r.Action = ActionBackorderAndHold
	default:
		// Unknown means an unvalidated rule set: the safe choice is a person.
		r.Action = ActionHoldForReview
	}
}

// textBuf collects the explanation's many short texts in one buffer; each
// is remembered as a span and cut from one string at the end, so that
// explaining 50 candidates costs one allocation instead of hundreds (and
// no pointer writes while building).
type textBuf struct {
	b []byte
	s string
}

// span is a piece of a textBuf, [start, end).
type span struct{ start, end int32 }

func (t *textBuf) str(s string) { t.b = append(t.b, s...) }
func (t *textBuf) int(n int64)  { t.b = strconv.AppendInt(t.b, n, 10) }
func (t *textBuf) km(v float64) { t.b = strconv.AppendFloat(t.b, v, 'f', 1, 64) }

// span returns the span from start to the end of the buffer.
func (t *textBuf) span(start int) span { return span{int32(start), int32(len(t.b))} }

// freeze makes the string that get cuts from; nothing is written after.
func (t *textBuf) freeze() { t.s = string(t.b) }

// get returns the text of sp.
func (t *textBuf) get(sp span) string { return t.s[sp.start:sp.end] }
