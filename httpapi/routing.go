package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/routing"
	"github.com/orderly-oms/orderly/store"
)

// Routing rule sets: versioned, created as drafts, activated one at a
// time. See docs/decisions/0005-routing.md.

// ruleSetRequest is the body of POST /api/v1/routing/rule-sets.
type ruleSetRequest struct {
	Filters        []routing.Filter `json:"filters" openapi:"required" doc:"Filters in the order they run: active, channel, capacity, mode, ships_to, stock, each at most once; active, channel and mode are required."`
	Rankers        []routing.Ranker `json:"rankers" openapi:"required" doc:"Rankers, most important first: single_location, priority, distance, stock, cost, each at most once."`
	MaxSplits      int              `json:"max_splits" doc:"How many locations beyond the first an order may be split across, 0 to 50."`
	WhenUnfillable routing.Action   `json:"when_unfillable" openapi:"required" doc:"backorder_and_hold (reserve what can be, backorder the rest, hold with insufficient_stock) or hold_for_review (reserve nothing, hold with routing_review)."`
}

// ruleSetList is a page of rule sets.
type ruleSetList struct {
	Items      []*routing.RuleSet `json:"items"`
	NextCursor *string            `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

func (a *api) listRuleSets(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := queryParams(q, "limit", "cursor"); err != nil {
		return err
	}
	var p orderly.Problems
	lp := store.RuleSetListParams{Limit: limitParam(q, &p)}
	if c := decodeCursor(q, "rule-sets", &p); c != "" {
		if v, err := strconv.Atoi(c); err != nil || v < 1 {
			p.Add("cursor", "is not a cursor of this list; pass next_cursor from the previous page unchanged")
		} else {
			lp.BeforeVersion = v
		}
	}
	if err := p.Err(); err != nil {
		return err
	}
	items, next, err := a.svc.ListRuleSets(r.Context(), principal(r), lp)
	if err != nil {
		return err
	}
	out := ruleSetList{Items: nonNil(items)}
	if next > 0 {
		out.NextCursor = encodeCursor("rule-sets", strconv.Itoa(next))
	}
	return writeJSON(w, http.StatusOK, out)
}

// ruleSetVersion reads the {version} path parameter.
func ruleSetVersion(r *http.Request) (int, error) {
	v, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || v < 0 {
		return 0, orderly.Errorf(orderly.KindNotFound, "rule set version %q not found", r.PathValue("version"))
	}
	return v, nil
}

func (a *api) getRuleSet(w http.ResponseWriter, r *http.Request) error {
	v, err := ruleSetVersion(r)
	if err != nil {
		return err
	}
	rs, err := a.svc.GetRuleSet(r.Context(), principal(r), v)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rs)
}

func (a *api) createRuleSet(w http.ResponseWriter, r *http.Request) error {
	var req ruleSetRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	rs, err := a.svc.CreateRuleSet(r.Context(), principal(r), &routing.RuleSet{Filters: req.Filters, Rankers: req.Rankers,
		MaxSplits: req.MaxSplits, WhenUnfillable: req.WhenUnfillable})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, rs)
}

func (a *api) activateRuleSet(w http.ResponseWriter, r *http.Request) error {
	v, err := ruleSetVersion(r)
	if err != nil {
		return err
	}
	rs, err := a.svc.ActivateRuleSet(r.Context(), principal(r), v)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rs)
}

// simulateRequest is the body of POST /api/v1/routing/simulate.
type simulateRequest struct {
	Version      int       `json:"version" doc:"The rule set to try (usually a draft); 0 is the built-in default."`
	PlacedAfter  time.Time `json:"placed_after" openapi:"required" doc:"Replay the orders placed at or after this time (RFC 3339)."`
	PlacedBefore time.Time `json:"placed_before" openapi:"required" doc:"… and before this time."`
}

func (a *api) simulateRouting(w http.ResponseWriter, r *http.Request) error {
	var req simulateRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	rep, err := a.svc.SimulateRouting(r.Context(), principal(r), req.Version, req.PlacedAfter, req.PlacedBefore)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}
