package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/orderly-oms/orderly"
)

// Status is where a rule set is in its life. Exactly one version is active
// at a time (the store enforces that); drafts can be replayed with Compare
// before they are activated; a retired version is kept so that old
// explanations still name a rule set that exists.
type Status string

// The rule-set statuses.
const (
	StatusDraft   Status = "draft"
	StatusActive  Status = "active"
	StatusRetired Status = "retired"
)

// Filter names a test a candidate must pass to be considered at all.
// Filters run in the rule set's order; the first one a candidate fails is
// the one its explanation names.
type Filter string

// The filters. A filter either drops the whole candidate (active, channel,
// capacity) or narrows the lines it may serve (mode, ships_to, stock); a
// candidate left with no line to serve is dropped by the filter that took
// its last line.
const (
	// FilterActive drops inactive locations.
	FilterActive Filter = "active"
	// FilterChannel drops locations not allowed for the order's channel.
	FilterChannel Filter = "channel"
	// FilterCapacity drops locations whose daily capacity is used up.
	FilterCapacity Filter = "capacity"
	// FilterMode keeps only the lines whose mode the location offers;
	// pickup lines are kept only at their named store.
	FilterMode Filter = "mode"
	// FilterShipsTo keeps only pickup lines at a location that does not
	// ship to the destination country.
	FilterShipsTo Filter = "ships_to"
	// FilterStock keeps only the lines whose SKU the location has
	// available.
	FilterStock Filter = "stock"
)

// Filters lists every filter, in the default order.
var Filters = []Filter{FilterActive, FilterChannel, FilterCapacity, FilterMode, FilterShipsTo, FilterStock}

// Ranker names one criterion candidates are ordered by. Rankers apply in
// the rule set's order: the second breaks ties of the first, and so on;
// the location code breaks the last tie.
type Ranker string

// The rankers.
const (
	// RankSingleLocation puts locations that can take the whole order
	// first, so that the order is not split; among the others, those that
	// can take more units of it first, so that a split uses few locations.
	RankSingleLocation Ranker = "single_location"
	// RankPriority puts the lowest priority number first.
	RankPriority Ranker = "priority"
	// RankDistance puts the nearest location first (Haversine, in km).
	// Locations whose distance cannot be measured come after those whose
	// can, those in the destination country first.
	RankDistance Ranker = "distance"
	// RankStock puts the location with the most available units of the
	// order's SKUs first.
	RankStock Ranker = "stock"
	// RankCost puts the lowest cost per shipment first.
	RankCost Ranker = "cost"
)

// Rankers lists every ranker, in the default order.
var Rankers = []Ranker{RankSingleLocation, RankPriority, RankDistance, RankStock, RankCost}

// Action is what the caller is to do with a plan.
type Action string

// The actions. A rule set's WhenUnfillable is one of the last two.
const (
	// ActionAllocate: everything was placed; reserve the picks.
	ActionAllocate Action = "allocate"
	// ActionBackorderAndHold: reserve the picks, backorder the rest and
	// hold the order (reason insufficient_stock) until stock arrives.
	ActionBackorderAndHold Action = "backorder_and_hold"
	// ActionHoldForReview: reserve nothing; hold the order for a person,
	// who sees the proposed plan in the explanation.
	ActionHoldForReview Action = "hold_for_review"
)

// MaxMaxSplits bounds RuleSet.MaxSplits.
const MaxMaxSplits = 50

// RuleSet is one version of the routing rules. It is plain data: stored as
// JSON, shown in the console, and copied (its version) into every
// explanation it produced.
type RuleSet struct {
	// Version numbers the rule set, from 1; the store assigns it.
	Version int    `json:"version"`
	Status  Status `json:"status"`
	// Filters run in this order. Every rule set includes active, channel
	// and mode: an inactive location, or one that does not feed the
	// order's channel, never gets stock reserved, and a pickup line is
	// only ever placed at its store.
	Filters []Filter `json:"filters"`
	// Rankers order the candidates that pass the filters, most important
	// first.
	Rankers []Ranker `json:"rankers"`
	// MaxSplits is how many locations beyond the first one an order may be
	// split across; what cannot be placed within the limit is backordered.
	MaxSplits int `json:"max_splits"`
	// WhenUnfillable is the action when some quantity cannot be placed:
	// backorder_and_hold or hold_for_review.
	WhenUnfillable Action    `json:"when_unfillable"`
	CreatedAt      time.Time `json:"created_at"`
	// ActivatedAt is when the version was last made active (the store
	// sets it); nil if it never was.
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
}

// DefaultRuleSet is the rule set a new installation starts with, version
// 1 and active: every filter, every ranker in the order of Rankers, at most
// one split, and backorder-and-hold, which is what capture did before
// routing existed.
func DefaultRuleSet() RuleSet {
	return RuleSet{
		Version:        1,
		Status:         StatusActive,
		Filters:        []Filter{FilterActive, FilterChannel, FilterCapacity, FilterMode, FilterShipsTo, FilterStock},
		Rankers:        []Ranker{RankSingleLocation, RankPriority, RankDistance, RankStock, RankCost},
		MaxSplits:      1,
		WhenUnfillable: ActionBackorderAndHold,
	}
}

func knownFilter(f Filter) bool {
	for _, x := range Filters {
		if x == f {
			return true
		}
	}
	return false
}

func knownRanker(r Ranker) bool {
	for _, x := range Rankers {
		if x == r {
			return true
		}
	}
	return false
}

// Validate checks the rule set and returns a KindInvalid *orderly.Error
// naming every bad field, or nil.
func (rs *RuleSet) Validate() error {
	var p orderly.Problems
	if rs.Version < 1 {
		p.Add("version", "must be at least 1")
	}
	switch rs.Status {
	case StatusDraft, StatusActive, StatusRetired:
	default:
		p.Add("status", "must be one of draft, active, retired")
	}
	seenF := make(map[Filter]bool, len(rs.Filters))
	for i, f := range rs.Filters {
		field := "filters[" + strconv.Itoa(i) + "]"
		switch {
		case !knownFilter(f):
			p.Add(field, "must be one of active, channel, capacity, mode, ships_to, stock")
		case seenF[f]:
			p.Add(field, "lists %q twice", f)
		}
		seenF[f] = true
	}
	if !seenF[FilterActive] {
		p.Add("filters", "must include active")
	}
	if !seenF[FilterChannel] {
		p.Add("filters", "must include channel")
	}
	if !seenF[FilterMode] {
		p.Add("filters", "must include mode")
	}
	seenR := make(map[Ranker]bool, len(rs.Rankers))
	for i, r := range rs.Rankers {
		field := "rankers[" + strconv.Itoa(i) + "]"
		switch {
		case !knownRanker(r):
			p.Add(field, "must be one of single_location, priority, distance, stock, cost")
		case seenR[r]:
			p.Add(field, "lists %q twice", r)
		}
		seenR[r] = true
	}
	if rs.MaxSplits < 0 || rs.MaxSplits > MaxMaxSplits {
		p.Add("max_splits", "must be between 0 and %d", MaxMaxSplits)
	}
	if rs.WhenUnfillable != ActionBackorderAndHold && rs.WhenUnfillable != ActionHoldForReview {
		p.Add("when_unfillable", "must be one of backorder_and_hold, hold_for_review")
	}
	return p.Err()
}

// ParseRuleSet decodes a rule set from JSON, refusing unknown fields and
// trailing data, and validates it. Every error is KindInvalid.
func ParseRuleSet(data []byte) (RuleSet, error) {
	var rs RuleSet
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		return RuleSet{}, orderly.Errorf(orderly.KindInvalid, "rule set: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return RuleSet{}, orderly.Errorf(orderly.KindInvalid, "rule set: unexpected data after the JSON object")
	}
	if err := rs.Validate(); err != nil {
		return RuleSet{}, err
	}
	return rs, nil
}
