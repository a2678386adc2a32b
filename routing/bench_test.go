package routing

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/orderly-oms/orderly"
)

// synthNetwork returns n candidate locations spread over Great Britain,
// Ireland, France and Germany, each stocking most of skus.
func synthNetwork(r *rand.Rand, n int, skus []string) []Candidate {
	countries := []struct {
		code     string
		lat, lon float64
	}{{"GB", 53, -1.5}, {"IE", 53.3, -7.5}, {"FR", 47, 2.5}, {"DE", 51, 10}}
	cands := make([]Candidate, n)
	for i := range cands {
		cc := countries[r.IntN(len(countries))]
		c := Candidate{
			Location:        fmt.Sprintf("loc-%03d", i),
			Kind:            "warehouse",
			Active:          r.IntN(20) != 0,
			Country:         cc.code,
			Priority:        1 + r.IntN(3),
			Modes:           []Mode{ModeShip},
			ChannelAllowed:  r.IntN(10) != 0,
			CostPerShipment: 300 + int64(r.IntN(400)),
			Available:       make(map[string]int64, len(skus)),
		}
		if r.IntN(5) == 0 {
			c.Kind = "store"
			c.Modes = []Mode{ModePickup, ModeShipFromStore, ModeShip}
		}
		if r.IntN(8) != 0 {
			c.Lat, c.Lon = f64(cc.lat+r.Float64()*4-2), f64(cc.lon+r.Float64()*4-2)
		}
		if r.IntN(4) == 0 {
			c.ShipsTo = []string{cc.code}
		}
		if r.IntN(3) == 0 {
			c.DailyCapacity, c.UsedToday = 100, r.IntN(110)
		}
		for _, sku := range skus {
			if r.IntN(4) != 0 {
				c.Available[sku] = int64(r.IntN(30))
			}
		}
		cands[i] = c
	}
	return cands
}

// synthRequest returns an order of n lines of skus to somewhere in Great
// Britain or France.
func synthRequest(r *rand.Rand, id string, n int, skus []string) Request {
	req := Request{OrderID: id, Channel: "web", ShipTo: orderly.Address{Country: "GB"}}
	if r.IntN(4) == 0 {
		req.ShipTo.Country = "FR"
	}
	if r.IntN(10) != 0 {
		req.ShipTo.Lat, req.ShipTo.Lon = f64(50+r.Float64()*5), f64(-3+r.Float64()*5)
	}
	for i := range n {
		req.Lines = append(req.Lines, Line{LineID: fmt.Sprintf("%s-l%d", id, i), SKU: skus[r.IntN(len(skus))],
			Quantity: 1 + int64(r.IntN(4)), Mode: ModeShip})
	}
	return req
}

func benchSKUs(n int) []string {
	skus := make([]string, n)
	for i := range skus {
		skus[i] = fmt.Sprintf("sku-%04d", i)
	}
	return skus
}

// BenchmarkPlan plans one order of 5 lines over 50 candidate locations,
// explanation included. Target: ≤ 100 µs/op.
func BenchmarkPlan(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	skus := benchSKUs(40)
	cands := synthNetwork(r, 50, skus)
	req := synthRequest(r, "order-1", 5, skus[:8])
	rs := DefaultRuleSet()
	b.ReportAllocs()
	for b.Loop() {
		Plan(req, cands, rs)
	}
}

// BenchmarkSimulate10k replays 10,000 synthetic orders under the active
// default rule set and a draft, and compares them. Target: ≤ 5 s/op.
func BenchmarkSimulate10k(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	skus := benchSKUs(200)
	// Ten stock snapshots of one 50-location network stand in for the
	// state of the network when each order was placed.
	networks := make([][]Candidate, 10)
	for i := range networks {
		networks[i] = synthNetwork(rand.New(rand.NewPCG(3, uint64(i))), 50, skus)
	}
	cases := make([]Case, 10_000)
	for i := range cases {
		cases[i] = Case{Request: synthRequest(r, fmt.Sprintf("order-%d", i), 1+r.IntN(6), skus), Candidates: networks[i%len(networks)]}
	}
	active := DefaultRuleSet()
	draft := DefaultRuleSet()
	draft.Version, draft.Status = 2, StatusDraft
	draft.Rankers = []Ranker{RankSingleLocation, RankDistance, RankCost}
	draft.MaxSplits = 2
	b.ReportAllocs()
	var rep Report
	for b.Loop() {
		rep = Compare(cases, active, draft)
	}
	b.ReportMetric(float64(rep.Changed), "changed")
	b.ReportMetric(rep.Active.SplitRate, "active-split-rate")
	b.ReportMetric(rep.Draft.SplitRate, "draft-split-rate")
}
