package routing

import (
	"slices"
	"strings"
	"testing"
)

// TestFilters runs one candidate through the default rule set: each filter
// drops it when its condition fails, and lets it through when it holds.
func TestFilters(t *testing.T) {
	t.Parallel()
	ship := request(line("l1", "sku-a", 1))
	tests := []struct {
		name string
		c    Candidate
		req  Request
		// wantDrop is the filter that drops the candidate, "" if it passes.
		wantDrop Filter
		// wantReason is a substring of the drop reason.
		wantReason string
	}{
		{"active passes", cand("a", stock("sku-a", 5)), ship, "", ""},
		{"active fails", cand("a", stock("sku-a", 5), inactive), ship, FilterActive, "inactive"},

		{"channel passes", cand("a", stock("sku-a", 5)), ship, "", ""},
		{"channel fails", cand("a", stock("sku-a", 5), notForChannel), ship, FilterChannel, "not allowed for channel web"},

		{"capacity unlimited", cand("a", stock("sku-a", 5), capacity(0, 500)), ship, "", ""},
		{"capacity left", cand("a", stock("sku-a", 5), capacity(10, 9)), ship, "", ""},
		{"capacity used up", cand("a", stock("sku-a", 5), capacity(10, 10)), ship, FilterCapacity, "daily capacity used: 10 of 10 orders"},

		{"mode ship passes", cand("a", stock("sku-a", 5)), ship, "", ""},
		{"mode ship fails", cand("a", stock("sku-a", 5), modes(ModePickup)), ship, FilterMode, "does not offer ship"},
		{"mode ship_from_store passes", cand("a", stock("sku-a", 5), modes(ModeShipFromStore)),
			request(Line{LineID: "l1", SKU: "sku-a", Quantity: 1, Mode: ModeShipFromStore}), "", ""},
		{"mode ship_from_store fails", cand("a", stock("sku-a", 5)),
			request(Line{LineID: "l1", SKU: "sku-a", Quantity: 1, Mode: ModeShipFromStore}), FilterMode, "does not offer ship_from_store"},
		{"mode pickup at this store", cand("york", stock("sku-a", 5), modes(ModePickup)),
			request(pickup("l1", "sku-a", 1, "york")), "", ""},
		{"mode pickup at another store", cand("leeds", stock("sku-a", 5), modes(ModePickup)),
			request(pickup("l1", "sku-a", 1, "york")), FilterMode, "does not offer pickup at york"},
		{"mode pickup without a store", cand("leeds", stock("sku-a", 5), modes(ModePickup)),
			request(pickup("l1", "sku-a", 1, "")), FilterMode, "pickup at (no store named)"},

		{"ships_to anywhere", cand("a", stock("sku-a", 5)), ship, "", ""},
		{"ships_to listed", cand("a", stock("sku-a", 5), shipsTo("FR", "GB")), ship, "", ""},
		{"ships_to not listed", cand("a", stock("sku-a", 5), shipsTo("FR", "DE")), ship, FilterShipsTo, "does not ship to GB"},
		{"ships_to irrelevant for pickup", cand("york", stock("sku-a", 5), modes(ModePickup), shipsTo("FR")),
			request(pickup("l1", "sku-a", 1, "york")), "", ""},

		{"stock some", cand("a", stock("sku-a", 1)), request(line("l1", "sku-a", 3)), "", ""},
		{"stock none", cand("a", stock("sku-b", 9)), ship, FilterStock, "no stock of sku-a"},
		{"stock negative", cand("a", stock("sku-a", -4)), ship, FilterStock, "no stock of sku-a"},
		{"stock none of several", cand("a"),
			request(line("l1", "s1", 1), line("l2", "s2", 1), line("l3", "s1", 1), line("l4", "s3", 1), line("l5", "s4", 1), line("l6", "s5", 1)),
			FilterStock, "no stock of s1, s2, s3 and 2 more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, e := Plan(tt.req, []Candidate{tt.c}, DefaultRuleSet())
			ce := explanationFor(t, e, tt.c.Location)
			if ce.DroppedBy != tt.wantDrop {
				t.Fatalf("dropped by %q (%s), want %q", ce.DroppedBy, ce.Reason, tt.wantDrop)
			}
			if tt.wantDrop == "" {
				if ce.Outcome != OutcomeChosen || ce.Reason != "" {
					t.Errorf("outcome %q, reason %q; want chosen", ce.Outcome, ce.Reason)
				}
				return
			}
			if ce.Outcome != OutcomeDropped || !strings.Contains(ce.Reason, tt.wantReason) {
				t.Errorf("outcome %q, reason %q; want dropped, reason containing %q", ce.Outcome, ce.Reason, tt.wantReason)
			}
		})
	}
}

// TestFiltersAreOptional: a candidate failing an optional filter passes
// when the rule set leaves that filter out.
func TestFiltersAreOptional(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		filter Filter
		c      Candidate
	}{
		{FilterCapacity, cand("a", stock("sku-a", 5), capacity(1, 1))},
		{FilterShipsTo, cand("a", stock("sku-a", 5), shipsTo("FR"))},
		{FilterStock, cand("a")},
	} {
		rs := DefaultRuleSet()
		rs.Filters = slices.DeleteFunc(rs.Filters, func(f Filter) bool { return f == tt.filter })
		if err := rs.Validate(); err != nil {
			t.Fatalf("without %s: %v", tt.filter, err)
		}
		_, e := Plan(request(line("l1", "sku-a", 1)), []Candidate{tt.c}, rs)
		if ce := explanationFor(t, e, "a"); ce.Outcome == OutcomeDropped {
			t.Errorf("without %s: dropped by %s (%s)", tt.filter, ce.DroppedBy, ce.Reason)
		}
	}
}

// TestFilterOrder: the explanation names the first filter, in the rule
// set's order, that the candidate fails.
func TestFilterOrder(t *testing.T) {
	t.Parallel()
	c := cand("a", inactive, notForChannel)
	rs := DefaultRuleSet()
	_, e := Plan(request(line("l1", "sku-a", 1)), []Candidate{c}, rs)
	if got := explanationFor(t, e, "a").DroppedBy; got != FilterActive {
		t.Errorf("default order: dropped by %s, want active", got)
	}
	rs.Filters = []Filter{FilterStock, FilterChannel, FilterMode, FilterActive}
	_, e = Plan(request(line("l1", "sku-a", 1)), []Candidate{c}, rs)
	if got := explanationFor(t, e, "a").DroppedBy; got != FilterStock {
		t.Errorf("stock first: dropped by %s, want stock", got)
	}
}

// TestFiltersNarrowLines: a filter that takes some lines away keeps the
// candidate for the others, and the plan respects that.
func TestFiltersNarrowLines(t *testing.T) {
	t.Parallel()
	req := request(line("l1", "sku-a", 1), pickup("l2", "sku-b", 1, "york"))
	wh := cand("wh", stock("sku-a", 5), stock("sku-b", 5))
	york := cand("york", stock("sku-a", 5), stock("sku-b", 5), modes(ModePickup), priority(2))
	res, e := Plan(req, []Candidate{wh, york}, DefaultRuleSet())
	if got := explanationFor(t, e, "wh").Lines; !slices.Equal(got, []string{"l1"}) {
		t.Errorf("wh serves %v, want [l1]", got)
	}
	if got := explanationFor(t, e, "york").Lines; !slices.Equal(got, []string{"l2"}) {
		t.Errorf("york serves %v, want [l2]", got)
	}
	want := []Pick{{"l1", "sku-a", "wh", 1}, {"l2", "sku-b", "york", 1}}
	if !slices.Equal(res.Picks, want) {
		t.Errorf("picks %+v, want %+v", res.Picks, want)
	}
}
