package routing

import (
	"testing"
)

// ukNetwork is a small network of locations around Great Britain and one
// in France.
func ukNetwork() []Candidate {
	return []Candidate{
		cand("leeds", at(53.8008, -1.5491), priority(2), cost(450), stock("mug", 40), stock("tea", 12), stock("pot", 3)),
		cand("bristol", at(51.4545, -2.5879), priority(1), cost(500), stock("mug", 9), stock("tea", 2)),
		cand("glasgow", at(55.8642, -4.2518), priority(1), cost(400), stock("mug", 100), stock("tea", 100), stock("pot", 100), inactive),
		cand("london-store", at(51.5138, -0.0984), priority(3), cost(300), modes(ModePickup, ModeShipFromStore),
			stock("mug", 4), stock("tea", 4), stock("pot", 1)),
		cand("paris", country("FR"), at(48.8566, 2.3522), priority(1), cost(350), shipsTo("FR", "BE"),
			stock("mug", 50), stock("tea", 50), stock("pot", 50)),
		cand("york", at(53.9600, -1.0873), priority(2), cost(450), stock("mug", 40), stock("tea", 40), stock("pot", 2),
			capacity(100, 37)),
		cand("manchester", at(53.4808, -2.2426), priority(2), cost(450), stock("mug", 40), stock("tea", 40), stock("pot", 5),
			capacity(80, 80)),
		cand("outlet", at(52.4862, -1.8904), priority(1), notForChannel, stock("mug", 40), stock("tea", 40), stock("pot", 40)),
	}
}

func TestExplanationGolden(t *testing.T) {
	t.Parallel()
	maxOne := DefaultRuleSet()
	maxOne.Version = 4
	maxOne.MaxSplits = 0
	review := DefaultRuleSet()
	review.Version = 5
	review.WhenUnfillable = ActionHoldForReview
	cheapest := DefaultRuleSet()
	cheapest.Version = 6
	cheapest.Status = StatusDraft
	cheapest.Rankers = []Ranker{RankCost, RankDistance}

	basket := request(line("l1", "mug", 2), line("l2", "tea", 3), line("l3", "pot", 1))
	tests := []struct {
		name string
		req  Request
		rs   RuleSet
	}{
		{"whole_order", basket, DefaultRuleSet()},
		{"whole_order_no_coordinates", noCoords(basket), DefaultRuleSet()},
		{"split", request(line("l1", "mug", 2), line("l2", "pot", 9)), DefaultRuleSet()},
		{"max_splits_backorder", request(line("l1", "mug", 2), line("l2", "pot", 9)), maxOne},
		{"pickup", request(line("l1", "mug", 1), pickup("l2", "tea", 2, "london-store")), DefaultRuleSet()},
		{"hold_for_review", request(line("l1", "pot", 500)), review},
		{"draft_cheapest", basket, cheapest},
		{"same_sku_lines", request(line("l1", "pot", 2), line("l2", "pot", 2)), DefaultRuleSet()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, e := Plan(tt.req, ukNetwork(), tt.rs)
			checkGolden(t, "explanation_"+tt.name, e)
		})
	}
}

func TestCompareGolden(t *testing.T) {
	t.Parallel()
	var cases []Case
	for i, req := range []Request{
		request(line("l1", "mug", 2), line("l2", "tea", 3), line("l3", "pot", 1)),
		request(line("l1", "mug", 2), line("l2", "pot", 9)),
		noCoords(request(line("l1", "tea", 1))),
		request(line("l1", "pot", 500)),
	} {
		req.OrderID = "order-" + string(rune('1'+i))
		cases = append(cases, Case{Request: req, Candidates: ukNetwork()})
	}
	draft := DefaultRuleSet()
	draft.Version = 2
	draft.Status = StatusDraft
	draft.Rankers = []Ranker{RankCost, RankDistance}
	draft.MaxSplits = 0
	checkGolden(t, "compare", Compare(cases, DefaultRuleSet(), draft))
}
