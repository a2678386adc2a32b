package routing

import (
	"testing"
)

// TestRankers ranks two candidates by one ranker alone: the winner is
// listed first, and swapping what they have swaps the outcome, so every
// ranker can both win and lose for a candidate.
func TestRankers(t *testing.T) {
	t.Parallel()
	two := request(line("l1", "sku-a", 2))
	tests := []struct {
		name   string
		ranker Ranker
		req    Request
		// a and b are the candidates; a's code sorts first, so a win by b
		// is never a tie-break.
		a, b       Candidate
		wantFirst  string
		wantReason string // the winner's score reason
	}{
		{"single_location: whole order wins", RankSingleLocation, request(line("l1", "sku-a", 2), line("l2", "sku-b", 1)),
			cand("a", stock("sku-a", 9)), cand("b", stock("sku-a", 2), stock("sku-b", 1)), "b", "takes the whole order"},
		{"single_location: a whole", RankSingleLocation, request(line("l1", "sku-a", 2), line("l2", "sku-b", 1)),
			cand("a", stock("sku-a", 2), stock("sku-b", 1)), cand("b", stock("sku-a", 9)), "a", "takes the whole order"},
		{"single_location: same-SKU lines share the stock", RankSingleLocation, request(line("l1", "sku-a", 2), line("l2", "sku-a", 2)),
			cand("a", stock("sku-a", 3)), cand("b", stock("sku-a", 4)), "b", "takes the whole order"},

		{"priority: lower number wins", RankPriority, two,
			cand("a", stock("sku-a", 9), priority(2)), cand("b", stock("sku-a", 9), priority(1)), "b", "priority 1"},
		{"priority: a wins", RankPriority, two,
			cand("a", stock("sku-a", 9), priority(1)), cand("b", stock("sku-a", 9), priority(2)), "a", "priority 1"},

		{"distance: nearer wins", RankDistance, two,
			cand("a", stock("sku-a", 9), at(53.8008, -1.5491)), cand("b", stock("sku-a", 9), at(51.4545, -2.5879)), "b", "170.5 km"},
		{"distance: a nearer", RankDistance, two,
			cand("a", stock("sku-a", 9), at(51.4545, -2.5879)), cand("b", stock("sku-a", 9), at(53.8008, -1.5491)), "a", "170.5 km"},
		{"distance: measured before unmeasured", RankDistance, two,
			cand("a", stock("sku-a", 9)), cand("b", stock("sku-a", 9), at(53.8008, -1.5491)), "b", "272.4 km"},
		{"distance without coordinates: same country first", RankDistance, noCoords(two),
			cand("a", stock("sku-a", 9), country("FR"), at(48.85, 2.35)), cand("b", stock("sku-a", 9), at(53.8, -1.5)), "b", "not measured; same country (GB)"},
		{"distance without coordinates: a in the same country", RankDistance, noCoords(two),
			cand("a", stock("sku-a", 9)), cand("b", stock("sku-a", 9), country("FR")), "a", "not measured; same country (GB)"},

		{"stock: more wins", RankStock, two,
			cand("a", stock("sku-a", 3)), cand("b", stock("sku-a", 30)), "b", "30 units available"},
		{"stock: a has more", RankStock, two,
			cand("a", stock("sku-a", 30)), cand("b", stock("sku-a", 3)), "a", "30 units available"},
		{"stock: counts each SKU once", RankStock, request(line("l1", "sku-a", 1), line("l2", "sku-a", 1)),
			cand("a", stock("sku-a", 5)), cand("b", stock("sku-a", 6)), "b", "6 units available"},

		{"cost: cheaper wins", RankCost, two,
			cand("a", stock("sku-a", 9), cost(700)), cand("b", stock("sku-a", 9), cost(450)), "b", "cost 450 per shipment"},
		{"cost: a cheaper", RankCost, two,
			cand("a", stock("sku-a", 9), cost(450)), cand("b", stock("sku-a", 9), cost(700)), "a", "cost 450 per shipment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rs := DefaultRuleSet()
			rs.Rankers = []Ranker{tt.ranker}
			// Both orders of input give the same answer.
			for _, cands := range [][]Candidate{{tt.a, tt.b}, {tt.b, tt.a}} {
				res, e := Plan(tt.req, cands, rs)
				first := e.Candidates[0]
				if first.Location != tt.wantFirst || first.Rank != 1 {
					t.Fatalf("ranked first: %s (rank %d), want %s; explanation %+v", first.Location, first.Rank, tt.wantFirst, e.Candidates)
				}
				if got := first.Scores[0].Reason; got != tt.wantReason {
					t.Errorf("reason %q, want %q", got, tt.wantReason)
				}
				if res.Locations[0] != tt.wantFirst {
					t.Errorf("plan uses %v first, want %s", res.Locations, tt.wantFirst)
				}
			}
		})
	}
}

// TestRankerTies: equal scores fall through to the next ranker, then to
// the location code.
func TestRankerTies(t *testing.T) {
	t.Parallel()
	req := request(line("l1", "sku-a", 1))
	rs := DefaultRuleSet()
	rs.Rankers = []Ranker{RankPriority, RankCost}
	a := cand("a", stock("sku-a", 1), cost(9))
	b := cand("b", stock("sku-a", 1), cost(5))
	c := cand("c", stock("sku-a", 1), cost(5))
	_, e := Plan(req, []Candidate{c, a, b}, rs)
	var got []string
	for _, ce := range e.Candidates {
		got = append(got, ce.Location)
	}
	if want := "b c a"; joinSpace(got) != want {
		t.Errorf("rank order %q, want %q", joinSpace(got), want)
	}
	if want := "Fulfilled from b: cheapest of 3 (cost 5 per shipment); first by location code of 2 tied."; !hasPrefix(e.Summary, want) {
		t.Errorf("summary %q, want it to start %q", e.Summary, want)
	}
	rs.Rankers = nil
	_, e = Plan(req, []Candidate{c, a, b}, rs)
	if got := e.Candidates[0].Location; got != "a" {
		t.Errorf("without rankers, %s is first; want a (by code)", got)
	}
}

// TestRankerOrder: the rule set's order of rankers decides which one wins.
func TestRankerOrder(t *testing.T) {
	t.Parallel()
	req := request(line("l1", "sku-a", 1))
	near := cand("near", stock("sku-a", 1), at(51.5, -0.1), priority(2))
	high := cand("high", stock("sku-a", 1), at(55.9, -3.2), priority(1))
	rs := DefaultRuleSet()
	rs.Rankers = []Ranker{RankPriority, RankDistance}
	if res, _ := Plan(req, []Candidate{near, high}, rs); res.Locations[0] != "high" {
		t.Errorf("priority first: %v", res.Locations)
	}
	rs.Rankers = []Ranker{RankDistance, RankPriority}
	if res, _ := Plan(req, []Candidate{near, high}, rs); res.Locations[0] != "near" {
		t.Errorf("distance first: %v", res.Locations)
	}
}

func TestHaversine(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		want                   float64
	}{
		{"same point", 51.5, -0.1, 51.5, -0.1, 0},
		{"London to Paris", 51.5074, -0.1278, 48.8566, 2.3522, 343.6},
		{"antipodes", 0, 0, 0, 180, 20015.1},
		{"across the date line", 0, 179.5, 0, -179.5, 111.2},
	} {
		got := HaversineKm(tt.lat1, tt.lon1, tt.lat2, tt.lon2)
		if d := got - tt.want; d > 0.1 || d < -0.1 {
			t.Errorf("%s: %.2f km, want %.1f", tt.name, got, tt.want)
		}
	}
}

func joinSpace(xs []string) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
