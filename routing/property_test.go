package routing

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

var (
	propCodes = []string{"a", "b", "c", "d", "e", "f"}
	propSKUs  = []string{"s1", "s2", "s3"}
	propModes = []Mode{ModeShip, ModePickup, ModeShipFromStore}
)

func genRuleSet(t *rapid.T) RuleSet {
	rs := DefaultRuleSet()
	rs.Version = rapid.IntRange(1, 9).Draw(t, "version")
	filters := []Filter{FilterActive, FilterChannel, FilterMode}
	for _, f := range []Filter{FilterCapacity, FilterShipsTo, FilterStock} {
		if rapid.Bool().Draw(t, "with "+string(f)) {
			filters = append(filters, f)
		}
	}
	rs.Filters = rapid.Permutation(filters).Draw(t, "filters")
	rankers := rapid.Permutation(Rankers).Draw(t, "rankers")
	rs.Rankers = rankers[:rapid.IntRange(0, len(rankers)).Draw(t, "n rankers")]
	rs.MaxSplits = rapid.IntRange(0, 3).Draw(t, "max splits")
	rs.WhenUnfillable = rapid.SampledFrom([]Action{ActionBackorderAndHold, ActionHoldForReview}).Draw(t, "when")
	return rs
}

func genCandidate(t *rapid.T, i int) Candidate {
	c := Candidate{
		Location:        rapid.SampledFrom(propCodes).Draw(t, fmt.Sprintf("c%d code", i)),
		Active:          rapid.Float64Range(0, 1).Draw(t, fmt.Sprintf("c%d active", i)) < 0.85,
		ChannelAllowed:  rapid.Float64Range(0, 1).Draw(t, fmt.Sprintf("c%d channel", i)) < 0.85,
		Country:         rapid.SampledFrom([]string{"GB", "FR", ""}).Draw(t, fmt.Sprintf("c%d country", i)),
		Priority:        rapid.IntRange(0, 3).Draw(t, fmt.Sprintf("c%d priority", i)),
		CostPerShipment: rapid.Int64Range(0, 900).Draw(t, fmt.Sprintf("c%d cost", i)),
		DailyCapacity:   rapid.IntRange(0, 3).Draw(t, fmt.Sprintf("c%d capacity", i)),
		UsedToday:       rapid.IntRange(0, 3).Draw(t, fmt.Sprintf("c%d used", i)),
		Modes:           rapid.SliceOfNDistinct(rapid.SampledFrom(propModes), 0, 3, rapid.ID[Mode]).Draw(t, fmt.Sprintf("c%d modes", i)),
		ShipsTo:         rapid.SliceOfNDistinct(rapid.SampledFrom([]string{"GB", "FR", "DE"}), 0, 2, rapid.ID[string]).Draw(t, fmt.Sprintf("c%d ships to", i)),
		Available:       map[string]int64{},
	}
	if rapid.Bool().Draw(t, fmt.Sprintf("c%d has coordinates", i)) {
		c.Lat = f64(rapid.Float64Range(-90, 90).Draw(t, fmt.Sprintf("c%d lat", i)))
		c.Lon = f64(rapid.Float64Range(-180, 180).Draw(t, fmt.Sprintf("c%d lon", i)))
	}
	for _, sku := range propSKUs {
		if rapid.Bool().Draw(t, fmt.Sprintf("c%d stocks %s", i, sku)) {
			c.Available[sku] = rapid.Int64Range(-3, 12).Draw(t, fmt.Sprintf("c%d %s", i, sku))
		}
	}
	return c
}

func genRequest(t *rapid.T) Request {
	r := Request{OrderID: "o", Channel: "web"}
	r.ShipTo.Country = rapid.SampledFrom([]string{"GB", "FR", ""}).Draw(t, "to country")
	if rapid.Bool().Draw(t, "to has coordinates") {
		r.ShipTo.Lat = f64(rapid.Float64Range(-90, 90).Draw(t, "to lat"))
		r.ShipTo.Lon = f64(rapid.Float64Range(-180, 180).Draw(t, "to lon"))
	}
	n := rapid.IntRange(0, 6).Draw(t, "lines")
	for i := range n {
		l := Line{
			LineID:   fmt.Sprintf("l%d", i),
			SKU:      rapid.SampledFrom(propSKUs).Draw(t, fmt.Sprintf("l%d sku", i)),
			Quantity: rapid.Int64Range(-1, 15).Draw(t, fmt.Sprintf("l%d qty", i)),
			Mode:     rapid.SampledFrom(propModes).Draw(t, fmt.Sprintf("l%d mode", i)),
		}
		if l.Mode == ModePickup {
			l.PickupLocation = rapid.SampledFrom(propCodes).Draw(t, fmt.Sprintf("l%d store", i))
		}
		r.Lines = append(r.Lines, l)
	}
	return r
}

// TestPlanProperties checks, for random orders, networks and rule sets,
// the promises Plan makes whatever the rules say.
func TestPlanProperties(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		rs := genRuleSet(t)
		req := genRequest(t)
		cands := make([]Candidate, rapid.IntRange(0, 8).Draw(t, "candidates"))
		for i := range cands {
			cands[i] = genCandidate(t, i)
		}
		res, e := Plan(req, cands, rs)

		// The candidate Plan uses for a code is the first one listed.
		byCode := map[string]*Candidate{}
		for i := range cands {
			if byCode[cands[i].Location] == nil {
				byCode[cands[i].Location] = &cands[i]
			}
		}
		outcome := map[string]Outcome{}
		for _, ce := range e.Candidates {
			if ce.Outcome != OutcomeDropped {
				outcome[ce.Location] = ce.Outcome
			}
		}
		lines := map[string]Line{}
		for _, l := range req.Lines {
			lines[l.LineID] = l
		}

		taken := map[[2]string]int64{} // (location, sku) → units
		placed := map[string]int64{}   // line → units
		for _, pk := range res.Picks {
			if pk.Quantity <= 0 {
				t.Fatalf("pick of %d units: %+v", pk.Quantity, pk)
			}
			if outcome[pk.Location] != OutcomeChosen {
				t.Fatalf("pick at %s, whose outcome is %q", pk.Location, outcome[pk.Location])
			}
			l := lines[pk.LineID]
			if l.SKU != pk.SKU {
				t.Fatalf("pick %+v for a line of SKU %s", pk, l.SKU)
			}
			if l.Mode == ModePickup && pk.Location != l.PickupLocation {
				t.Fatalf("pickup line at %s placed at %s", l.PickupLocation, pk.Location)
			}
			taken[[2]string{pk.Location, pk.SKU}] += pk.Quantity
			placed[pk.LineID] += pk.Quantity
		}
		for k, q := range taken {
			if avail := max(0, byCode[k[0]].Available[k[1]]); q > avail {
				t.Fatalf("%d units of %s taken at %s, which has %d", q, k[1], k[0], avail)
			}
		}
		back := map[string]int64{}
		for _, b := range res.Backordered {
			if b.Quantity <= 0 {
				t.Fatalf("backorder of %d units", b.Quantity)
			}
			back[b.LineID] += b.Quantity
		}
		for _, l := range req.Lines {
			want := max(0, l.Quantity)
			if got := placed[l.LineID] + back[l.LineID]; got != want {
				t.Fatalf("line %s: %d placed + %d backordered, want %d", l.LineID, placed[l.LineID], back[l.LineID], want)
			}
		}
		if len(res.Locations) > rs.MaxSplits+1 || res.Splits != max(0, len(res.Locations)-1) {
			t.Fatalf("%d locations, %d splits, max_splits %d", len(res.Locations), res.Splits, rs.MaxSplits)
		}
		if res.Unfillable != (len(res.Backordered) > 0) ||
			(res.Unfillable && res.Action != rs.WhenUnfillable) || (!res.Unfillable && res.Action != ActionAllocate) {
			t.Fatalf("unfillable %v with action %s", res.Unfillable, res.Action)
		}
		if _, err := json.Marshal(e); err != nil {
			t.Fatalf("explanation does not marshal: %v", err)
		}
		res2, e2 := Plan(req, cands, rs)
		if !reflect.DeepEqual(res, res2) || !reflect.DeepEqual(e, e2) {
			t.Fatal("Plan is not deterministic")
		}
	})
}
