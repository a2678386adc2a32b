package routing

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Explanation is the receipt of one Plan call: the rule-set version, every
// candidate with the filter that dropped it or the scores that ranked it,
// the plan, and a one-paragraph summary for people. It is stored with the
// allocation and returned by the API, so its JSON is stable: fields appear
// in declaration order, lists in a fixed order, and no map is serialised.
type Explanation struct {
	RuleSetVersion int    `json:"rule_set_version"`
	OrderID        string `json:"order_id"`
	// Summary says in one paragraph where the order goes and why.
	Summary string `json:"summary"`
	// Plan is the Result Plan returned, sharing its slices.
	Plan Result `json:"plan"`
	// Candidates lists the candidates that passed the filters in rank
	// order, then those dropped, by location code.
	Candidates []CandidateExplanation `json:"candidates"`
}

// Outcome is what became of one candidate.
type Outcome string

// The outcomes.
const (
	// OutcomeChosen: the plan takes stock from the location.
	OutcomeChosen Outcome = "chosen"
	// OutcomeRanked: the location passed the filters but was not needed
	// (or could add nothing, or max_splits was reached).
	OutcomeRanked Outcome = "ranked"
	// OutcomeDropped: a filter dropped the location.
	OutcomeDropped Outcome = "dropped"
)

// CandidateExplanation is one candidate's line of the receipt.
type CandidateExplanation struct {
	Location string  `json:"location"`
	Outcome  Outcome `json:"outcome"`
	// Rank is the candidate's place among those that passed the filters,
	// from 1; 0 (omitted) for a dropped candidate.
	Rank int `json:"rank,omitempty"`
	// DroppedBy names the filter that dropped the candidate, and Reason
	// says why in words.
	DroppedBy Filter `json:"dropped_by,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Lines lists the ids of the lines the candidate may serve once the
	// filters have run.
	Lines []string `json:"lines,omitempty"`
	// Scores lists what each ranker of the rule set gave the candidate, in
	// the rule set's order.
	Scores []Score `json:"scores,omitempty"`
}

// Score is what one ranker made of one candidate.
type Score struct {
	Ranker Ranker `json:"ranker"`
	// Value is the figure the ranker compared: the units of the order the
	// location can take on its own, the priority, the distance in km (rounded to 0.1;
	// null when it could not be measured), the available units, or the
	// cost per shipment.
	Value *float64 `json:"value"`
	// Reason says the same in words, e.g. "12.3 km" or "priority 1".
	Reason string `json:"reason"`
}

// explain builds p.exp from the planner's state.
func (p *planner) explain() {
	nl, nr := len(p.lines), len(p.rs.Rankers)
	e := &p.exp
	e.RuleSetVersion = p.rs.Version
	e.OrderID = p.req.OrderID
	e.Plan = p.res
	e.Candidates = make([]CandidateExplanation, 0, len(p.cands))
	if nl == 0 {
		e.Summary = "Nothing to route: no line has quantity left to place."
		return
	}
	chosen := make([]bool, len(p.cands))
	for _, ci := range p.used {
		chosen[ci] = true
	}
	nServes := 0
	for _, ci := range p.eligible {
		for _, s := range p.serves[ci*nl : (ci+1)*nl] {
			if s {
				nServes++
			}
		}
	}
	lineIDs := make([]string, 0, nServes)
	scores := make([]Score, len(p.eligible)*nr)
	spans := make([]span, len(scores))
	t := &p.text
	for k, ci := range p.eligible {
		c := &p.cands[ci]
		ce := CandidateExplanation{Location: c.Location, Outcome: OutcomeRanked, Rank: k + 1}
		if chosen[ci] {
			ce.Outcome = OutcomeChosen
		}
		start := len(lineIDs)
		for i, s := range p.serves[ci*nl : (ci+1)*nl] {
			if s {
				lineIDs = append(lineIDs, p.req.Lines[p.lines[i]].LineID)
			}
		}
		ce.Lines = lineIDs[start:len(lineIDs):len(lineIDs)]
		ce.Scores = scores[k*nr : (k+1)*nr : (k+1)*nr]
		for r, rk := range p.rs.Rankers {
			sc := &ce.Scores[r]
			sc.Ranker = rk
			sc.Value = &p.vals[ci*nr+r]
			start := len(t.b)
			switch rk {
			case RankSingleLocation:
				if p.covered[ci] == p.demand {
					t.str("takes the whole order")
				} else {
					t.str("takes ")
					t.int(p.covered[ci])
					t.str(" of ")
					t.int(p.demand)
					t.str(" units")
				}
			case RankPriority:
				t.str("priority ")
				t.int(int64(c.Priority))
			case RankDistance:
				if p.measured[ci] {
					// Rounded so that the receipt is the same on every
					// platform (some fuse multiply-adds).
					*sc.Value = math.Round(p.distKm[ci]*10) / 10
					t.km(*sc.Value)
					t.str(" km")
				} else {
					sc.Value = nil
					t.str("not measured; ")
					switch {
					case c.Country == "" || p.req.ShipTo.Country == "":
						t.str("country unknown")
					case c.Country == p.req.ShipTo.Country:
						t.str("same country (")
						t.str(c.Country)
						t.str(")")
					default:
						t.str("other country (")
						t.str(c.Country)
						t.str(")")
					}
				}
			case RankStock:
				t.int(p.depth[ci])
				t.str(" units available")
			case RankCost:
				t.str("cost ")
				t.int(c.CostPerShipment)
				t.str(" per shipment")
			}
			spans[k*nr+r] = t.span(start)
		}
		e.Candidates = append(e.Candidates, ce)
	}
	for _, ci := range p.byCode {
		if p.drop[ci] != "" {
			e.Candidates = append(e.Candidates, CandidateExplanation{Location: p.cands[ci].Location,
				Outcome: OutcomeDropped, DroppedBy: p.drop[ci]})
		}
	}
	t.freeze()
	for i := range scores {
		scores[i].Reason = t.get(spans[i])
	}
	j := len(p.eligible)
	for _, ci := range p.byCode {
		if p.drop[ci] != "" {
			if p.dropWhy[ci] != "" {
				e.Candidates[j].Reason = p.dropWhy[ci]
			} else {
				e.Candidates[j].Reason = t.get(p.dropSpan[ci])
			}
			j++
		}
	}
	e.Summary = p.summary()
}

// summary writes the one-paragraph account of the plan.
func (p *planner) summary() string {
	var b strings.Builder
	r := &p.res
	switch {
	case len(p.cands) == 0:
		b.WriteString("No location can take any of the order: there are no candidate locations.")
	case len(p.eligible) == 0:
		fmt.Fprintf(&b, "No location can take any of the order: all %d candidates were dropped (%s).",
			len(p.cands), p.dropCounts())
	case len(p.used) == 0:
		fmt.Fprintf(&b, "No location can take any of the order: none of the %d that passed the filters has the stock.",
			len(p.eligible))
	case len(p.used) == 1:
		fmt.Fprintf(&b, "Fulfilled from %s: %s.", r.Locations[0], p.why())
	default:
		fmt.Fprintf(&b, "Split across %s (%d %s): ", joinAnd(r.Locations), r.Splits, plural(r.Splits, "split", "splits"))
		if p.wholeCount() == 0 {
			fmt.Fprintf(&b, "no location could take the whole order; %s ranked first: %s.", r.Locations[0], p.why())
		} else {
			c0 := p.used[0]
			fmt.Fprintf(&b, "%s ranked first (%s) but takes only %d of %d units.", r.Locations[0], p.why(), p.covered[c0], p.demand)
		}
	}
	if r.Unfillable {
		var units int64
		for _, bo := range r.Backordered {
			units += bo.Quantity
		}
		fmt.Fprintf(&b, " %d %s on %d %s could not be placed", units, plural(int(units), "unit", "units"),
			len(r.Backordered), plural(len(r.Backordered), "line", "lines"))
		if p.hitLimit {
			fmt.Fprintf(&b, " within max_splits %d", p.rs.MaxSplits)
		}
		if r.Action == ActionBackorderAndHold {
			b.WriteString(": they are backordered and the order is held until stock arrives.")
		} else {
			b.WriteString(": the order is held for review and nothing is reserved.")
		}
	}
	fmt.Fprintf(&b, " Rule set version %d.", p.rs.Version)
	return b.String()
}

// why says why the first chosen location beat the others that passed the
// filters after it: for each ranker, in order, that set it apart from some
// of those still tied with it, what it had; then the code, if still tied.
func (p *planner) why() string {
	nr := len(p.rs.Rankers)
	c0 := p.used[0]
	pos := 0
	for k, ci := range p.eligible {
		if ci == c0 {
			pos = k
		}
	}
	rivals := slices.Clone(p.eligible[pos+1:])
	if len(rivals) == 0 {
		if len(p.eligible) == 1 {
			return fmt.Sprintf("the only one of %d %s that passed the filters", len(p.cands), plural(len(p.cands), "location", "locations"))
		}
		return "the last location that passed the filters with stock to add"
	}
	k0 := p.keys[c0*nr : (c0+1)*nr]
	var parts []string
	for r, rk := range p.rs.Rankers {
		if len(rivals) == 0 {
			break
		}
		n := len(rivals) + 1
		rivals = slices.DeleteFunc(rivals, func(ci int) bool { return p.keys[ci*nr+r] != k0[r] })
		if rk == RankSingleLocation && p.covered[c0] == p.demand {
			if w := p.wholeCount(); w == 1 {
				parts = append(parts, "the only location that could take the whole order")
			} else {
				parts = append(parts, fmt.Sprintf("one of %d locations that could take the whole order", w))
			}
			continue
		}
		if len(rivals)+1 < n {
			parts = append(parts, fmt.Sprintf("%s of %d (%s)", superlative(rk), n, p.exp.Candidates[pos].Scores[r].Reason))
		}
	}
	if len(rivals) > 0 {
		parts = append(parts, fmt.Sprintf("first by location code of %d tied", len(rivals)+1))
	}
	return strings.Join(parts, "; ")
}

// wholeCount returns how many candidates could take the whole order alone.
func (p *planner) wholeCount() int {
	n := 0
	for _, ci := range p.eligible {
		if p.covered[ci] == p.demand {
			n++
		}
	}
	return n
}

// dropCounts says how many candidates each filter dropped, in the rule
// set's filter order.
func (p *planner) dropCounts() string {
	var parts []string
	for _, f := range append([]Filter{DuplicateCandidate}, p.rs.Filters...) {
		n := 0
		for _, d := range p.drop {
			if d == f {
				n++
			}
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d by %s", n, f))
		}
	}
	return strings.Join(parts, ", ")
}

// superlative names the winner of a ranker.
func superlative(r Ranker) string {
	switch r {
	case RankSingleLocation:
		return "largest share of the order"
	case RankPriority:
		return "highest priority"
	case RankDistance:
		return "nearest"
	case RankStock:
		return "most stock"
	case RankCost:
		return "cheapest"
	}
	return "first by " + string(r)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// joinAnd writes "a", "a and b", "a, b and c".
func joinAnd(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}
