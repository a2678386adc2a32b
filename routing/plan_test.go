package routing

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
)

func TestPlan(t *testing.T) {
	t.Parallel()
	hold := DefaultRuleSet()
	hold.WhenUnfillable = ActionHoldForReview
	noSplit := DefaultRuleSet()
	noSplit.MaxSplits = 0
	twoSplits := DefaultRuleSet()
	twoSplits.MaxSplits = 2
	priorityFirst := DefaultRuleSet()
	priorityFirst.Rankers = []Ranker{RankPriority, RankSingleLocation}

	tests := []struct {
		name        string
		req         Request
		cands       []Candidate
		rs          RuleSet
		wantPicks   []Pick
		wantBack    []Backorder
		wantAction  Action
		wantSummary string // a substring of the summary
	}{
		{
			name: "one location takes the whole order",
			req:  request(line("l1", "a", 2), line("l2", "b", 1)),
			cands: []Candidate{
				cand("big", stock("a", 5), stock("b", 5), priority(3)),
				cand("part", stock("a", 5), priority(1)),
			},
			rs:          DefaultRuleSet(),
			wantPicks:   []Pick{{"l1", "a", "big", 2}, {"l2", "b", "big", 1}},
			wantBack:    []Backorder{},
			wantAction:  ActionAllocate,
			wantSummary: "Fulfilled from big: the only location that could take the whole order.",
		},
		{
			name: "split when no location can take it all",
			req:  request(line("l1", "a", 2), line("l2", "b", 1)),
			cands: []Candidate{
				cand("x", stock("a", 5), priority(1)),
				cand("y", stock("b", 5), priority(2)),
			},
			rs:          DefaultRuleSet(),
			wantPicks:   []Pick{{"l1", "a", "x", 2}, {"l2", "b", "y", 1}},
			wantBack:    []Backorder{},
			wantAction:  ActionAllocate,
			wantSummary: "Split across x and y (1 split): no location could take the whole order; x ranked first: largest share of the order of 2 (takes 2 of 3 units).",
		},
		{
			name: "one line split across two locations",
			req:  request(line("l1", "a", 5)),
			cands: []Candidate{
				cand("x", stock("a", 3), priority(1)),
				cand("y", stock("a", 3), priority(2)),
			},
			rs:         DefaultRuleSet(),
			wantPicks:  []Pick{{"l1", "a", "x", 3}, {"l1", "a", "y", 2}},
			wantBack:   []Backorder{},
			wantAction: ActionAllocate,
		},
		{
			name: "max_splits 0 backorders what the first location lacks",
			req:  request(line("l1", "a", 2), line("l2", "b", 1)),
			cands: []Candidate{
				cand("x", stock("a", 5), priority(1)),
				cand("y", stock("b", 5), priority(2)),
			},
			rs:          noSplit,
			wantPicks:   []Pick{{"l1", "a", "x", 2}},
			wantBack:    []Backorder{{"l2", "b", 1}},
			wantAction:  ActionBackorderAndHold,
			wantSummary: "1 unit on 1 line could not be placed within max_splits 0: they are backordered and the order is held until stock arrives.",
		},
		{
			name: "max_splits counts locations, not lines",
			req:  request(line("l1", "a", 1), line("l2", "b", 1), line("l3", "c", 1)),
			cands: []Candidate{
				cand("x", stock("a", 1), priority(1)),
				cand("y", stock("b", 1), priority(2)),
				cand("z", stock("c", 1), priority(3)),
			},
			rs:         twoSplits,
			wantPicks:  []Pick{{"l1", "a", "x", 1}, {"l2", "b", "y", 1}, {"l3", "c", "z", 1}},
			wantBack:   []Backorder{},
			wantAction: ActionAllocate,
		},
		{
			name: "a location that adds nothing is skipped, not counted as a split",
			req:  request(line("l1", "a", 1), line("l2", "b", 1)),
			cands: []Candidate{
				cand("x", stock("a", 1), priority(1)),
				cand("y", stock("a", 9), priority(2)),
				cand("z", stock("b", 1), priority(3)),
			},
			rs:         DefaultRuleSet(),
			wantPicks:  []Pick{{"l1", "a", "x", 1}, {"l2", "b", "z", 1}},
			wantBack:   []Backorder{},
			wantAction: ActionAllocate,
		},
		{
			name: "priority before single_location splits to use the preferred location",
			req:  request(line("l1", "a", 2), line("l2", "b", 1)),
			cands: []Candidate{
				cand("big", stock("a", 5), stock("b", 5), priority(3)),
				cand("pref", stock("a", 5), priority(1)),
			},
			rs:          priorityFirst,
			wantPicks:   []Pick{{"l1", "a", "pref", 2}, {"l2", "b", "big", 1}},
			wantBack:    []Backorder{},
			wantAction:  ActionAllocate,
			wantSummary: "pref ranked first (highest priority of 2 (priority 1)) but takes only 2 of 3 units.",
		},
		{
			name:        "unfillable: nothing anywhere, backorder and hold",
			req:         request(line("l1", "a", 2)),
			cands:       []Candidate{cand("x"), cand("y", inactive)},
			rs:          DefaultRuleSet(),
			wantPicks:   []Pick{},
			wantBack:    []Backorder{{"l1", "a", 2}},
			wantAction:  ActionBackorderAndHold,
			wantSummary: "No location can take any of the order: all 2 candidates were dropped (1 by active, 1 by stock). 2 units on 1 line could not be placed",
		},
		{
			name:        "unfillable: hold for review",
			req:         request(line("l1", "a", 2)),
			cands:       []Candidate{cand("x", stock("a", 1))},
			rs:          hold,
			wantPicks:   []Pick{{"l1", "a", "x", 1}},
			wantBack:    []Backorder{{"l1", "a", 1}},
			wantAction:  ActionHoldForReview,
			wantSummary: "the order is held for review and nothing is reserved.",
		},
		{
			name:        "no candidates",
			req:         request(line("l1", "a", 2)),
			rs:          DefaultRuleSet(),
			wantPicks:   []Pick{},
			wantBack:    []Backorder{{"l1", "a", 2}},
			wantAction:  ActionBackorderAndHold,
			wantSummary: "there are no candidate locations.",
		},
		{
			name: "same-SKU lines share one tally",
			req:  request(line("l1", "a", 3), line("l2", "a", 3)),
			cands: []Candidate{
				cand("x", stock("a", 4), priority(1)),
				cand("y", stock("a", 1), priority(2)),
			},
			rs:         DefaultRuleSet(),
			wantPicks:  []Pick{{"l1", "a", "x", 3}, {"l2", "a", "x", 1}, {"l2", "a", "y", 1}},
			wantBack:   []Backorder{{"l2", "a", 1}},
			wantAction: ActionBackorderAndHold,
		},
		{
			name: "pickup goes to its store only",
			req:  request(pickup("l1", "a", 1, "york")),
			cands: []Candidate{
				cand("leeds", stock("a", 9), modes(ModePickup, ModeShip), priority(1)),
				cand("york", stock("a", 1), modes(ModePickup), priority(9)),
			},
			rs:         DefaultRuleSet(),
			wantPicks:  []Pick{{"l1", "a", "york", 1}},
			wantBack:   []Backorder{},
			wantAction: ActionAllocate,
		},
		{
			name: "pickup store without the stock: unfillable there",
			req:  request(pickup("l1", "a", 2, "york")),
			cands: []Candidate{
				cand("leeds", stock("a", 9), modes(ModePickup, ModeShip)),
				cand("york", stock("a", 1), modes(ModePickup)),
			},
			rs:         DefaultRuleSet(),
			wantPicks:  []Pick{{"l1", "a", "york", 1}},
			wantBack:   []Backorder{{"l1", "a", 1}},
			wantAction: ActionBackorderAndHold,
		},
		{
			name:       "lines without quantity are ignored",
			req:        request(line("l1", "a", 0), line("l2", "a", -3), line("l3", "a", 1)),
			cands:      []Candidate{cand("x", stock("a", 1))},
			rs:         DefaultRuleSet(),
			wantPicks:  []Pick{{"l3", "a", "x", 1}},
			wantBack:   []Backorder{},
			wantAction: ActionAllocate,
		},
		{
			name:        "nothing to route",
			req:         request(),
			cands:       []Candidate{cand("x", stock("a", 1))},
			rs:          DefaultRuleSet(),
			wantPicks:   []Pick{},
			wantBack:    []Backorder{},
			wantAction:  ActionAllocate,
			wantSummary: "Nothing to route",
		},
		{
			name: "duplicate location codes: the first wins",
			req:  request(line("l1", "a", 1)),
			cands: []Candidate{
				cand("x", stock("a", 0)),
				cand("x", stock("a", 5)),
			},
			rs:         DefaultRuleSet(),
			wantPicks:  []Pick{},
			wantBack:   []Backorder{{"l1", "a", 1}},
			wantAction: ActionBackorderAndHold,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, e := Plan(tt.req, tt.cands, tt.rs)
			if !reflect.DeepEqual(res.Picks, tt.wantPicks) {
				t.Errorf("picks %+v, want %+v", res.Picks, tt.wantPicks)
			}
			if !reflect.DeepEqual(res.Backordered, tt.wantBack) {
				t.Errorf("backordered %+v, want %+v", res.Backordered, tt.wantBack)
			}
			if res.Action != tt.wantAction || res.Unfillable != (len(tt.wantBack) > 0) {
				t.Errorf("action %s, unfillable %v; want %s", res.Action, res.Unfillable, tt.wantAction)
			}
			if !strings.Contains(e.Summary, tt.wantSummary) {
				t.Errorf("summary %q, want it to contain %q", e.Summary, tt.wantSummary)
			}
			if !reflect.DeepEqual(e.Plan, res) || e.RuleSetVersion != tt.rs.Version {
				t.Errorf("explanation plan %+v (version %d), want the result %+v", e.Plan, e.RuleSetVersion, res)
			}
			// Shuffling the candidates changes nothing but the duplicate case.
			if !strings.HasPrefix(tt.name, "duplicate") {
				shuffled := slices.Clone(tt.cands)
				rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				res2, e2 := Plan(tt.req, shuffled, tt.rs)
				if !reflect.DeepEqual(res, res2) || !reflect.DeepEqual(e, e2) {
					t.Errorf("the order of candidates changed the plan")
				}
			}
		})
	}
}

func TestPlanDoesNotMutate(t *testing.T) {
	t.Parallel()
	req := request(line("l1", "a", 3), line("l2", "a", 3))
	cands := []Candidate{cand("x", stock("a", 4)), cand("y", stock("a", 4))}
	before := cands[0].Available["a"]
	Plan(req, cands, DefaultRuleSet())
	if cands[0].Available["a"] != before || req.Lines[0].Quantity != 3 {
		t.Error("Plan changed its input")
	}
}

func TestRequestFromOrder(t *testing.T) {
	t.Parallel()
	o := &order.Order{ID: "o1", Channel: "web", ShippingAddress: orderly.Address{Country: "GB"}, Lines: []order.Line{
		{ID: "l1", SKU: "a", Quantity: 5, Cancelled: 1, Shipped: 1, Allocated: 1},
		{ID: "l2", SKU: "b", Quantity: 2, Allocated: 2},
		{ID: "l3", SKU: "c", Quantity: 1},
	}}
	got := RequestFromOrder(o, ModePickup, "york")
	want := Request{OrderID: "o1", Channel: "web", ShipTo: orderly.Address{Country: "GB"}, Lines: []Line{
		{LineID: "l1", SKU: "a", Quantity: 2, Mode: ModePickup, PickupLocation: "york"},
		{LineID: "l3", SKU: "c", Quantity: 1, Mode: ModePickup, PickupLocation: "york"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if got := RequestFromOrder(o, ModeShip, "york"); got.Lines[0].PickupLocation != "" || got.Lines[0].Mode != ModeShip {
		t.Errorf("ship request: %+v", got.Lines[0])
	}
}

func TestInventoryPlan(t *testing.T) {
	t.Parallel()
	res, _ := Plan(request(line("l1", "a", 3)), []Candidate{cand("x", stock("a", 2))}, DefaultRuleSet())
	got := res.InventoryPlan()
	want := inventory.Plan{Picks: []inventory.Pick{{LineID: "l1", SKU: "a", Location: "x", Quantity: 2}},
		Backordered: map[string]int64{"l1": 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestRuleSetValidate(t *testing.T) {
	t.Parallel()
	if err := (&RuleSet{}).Validate(); err == nil {
		t.Fatal("zero rule set is valid")
	}
	rs := DefaultRuleSet()
	if err := rs.Validate(); err != nil {
		t.Fatalf("default: %v", err)
	}
	for _, tt := range []struct {
		field string
		edit  func(*RuleSet)
	}{
		{"version", func(r *RuleSet) { r.Version = 0 }},
		{"status", func(r *RuleSet) { r.Status = "live" }},
		{"filters[1]", func(r *RuleSet) { r.Filters[1] = "colour" }},
		{"filters[2]", func(r *RuleSet) { r.Filters[2] = FilterActive }},
		{"filters", func(r *RuleSet) { r.Filters = []Filter{FilterChannel, FilterMode} }},
		{"filters", func(r *RuleSet) { r.Filters = []Filter{FilterActive, FilterMode} }},
		{"filters", func(r *RuleSet) { r.Filters = []Filter{FilterActive, FilterChannel} }},
		{"rankers[0]", func(r *RuleSet) { r.Rankers[0] = "vibes" }},
		{"rankers[3]", func(r *RuleSet) { r.Rankers[3] = RankPriority }},
		{"max_splits", func(r *RuleSet) { r.MaxSplits = -1 }},
		{"max_splits", func(r *RuleSet) { r.MaxSplits = MaxMaxSplits + 1 }},
		{"when_unfillable", func(r *RuleSet) { r.WhenUnfillable = ActionAllocate }},
	} {
		rs := DefaultRuleSet()
		tt.edit(&rs)
		err := rs.Validate()
		var oe *orderly.Error
		if !errors.As(err, &oe) || oe.Kind != orderly.KindInvalid {
			t.Errorf("%s: got %v, want a KindInvalid error", tt.field, err)
			continue
		}
		if !slices.ContainsFunc(oe.Fields, func(f orderly.FieldError) bool { return f.Field == tt.field }) {
			t.Errorf("%s: fields %+v do not name it", tt.field, oe.Fields)
		}
	}
}

func TestParseRuleSet(t *testing.T) {
	t.Parallel()
	good := `{"version":2,"status":"draft","filters":["active","channel","mode"],"rankers":["distance"],
		"max_splits":0,"when_unfillable":"hold_for_review","created_at":"2026-01-02T03:04:05Z"}`
	rs, err := ParseRuleSet([]byte(good))
	if err != nil || rs.Version != 2 || rs.Rankers[0] != RankDistance || rs.WhenUnfillable != ActionHoldForReview {
		t.Fatalf("got %+v, %v", rs, err)
	}
	for _, bad := range []string{
		``, `null`, `[]`, `{"version":1}`,
		good[:len(good)-1] + `,"extra":1}`,
		good + ` {}`,
		`{"version":"2"}`,
	} {
		if _, err := ParseRuleSet([]byte(bad)); orderly.KindOf(err) != orderly.KindInvalid {
			t.Errorf("%q: got %v, want KindInvalid", bad, err)
		}
	}
}
