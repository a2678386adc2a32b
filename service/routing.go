package service

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/routing"
	"github.com/orderly-oms/orderly/store"
)

// Routing rule sets are versioned: a new one is stored as a draft with the
// next version, and activating a version retires the one that was active.
// When no version is active, capture routes with routing.DefaultRuleSet,
// shown as version 0. Everyone who may read orders may read rule sets;
// only who may manage reference data (admin) may create or activate them.

// ListRuleSets returns a page of rule sets, newest first, and the
// BeforeVersion of the next page (0 when this is the last).
func (s *Service) ListRuleSets(ctx context.Context, p auth.Principal, lp store.RuleSetListParams) ([]*routing.RuleSet, int, error) {
	if err := require(p, auth.PermOrdersRead); err != nil {
		return nil, 0, err
	}
	limit := store.Limit(lp.Limit)
	lp.Limit = limit + 1
	items, err := s.store.RuleSetList(ctx, lp)
	if err != nil {
		return nil, 0, err
	}
	next := 0
	if len(items) > limit {
		items = items[:limit]
		next = items[limit-1].Version
	}
	return items, next, nil
}

// GetRuleSet returns a rule set by version; version 0 is the built-in
// default that applies while no version is active.
func (s *Service) GetRuleSet(ctx context.Context, p auth.Principal, version int) (*routing.RuleSet, error) {
	if err := require(p, auth.PermOrdersRead); err != nil {
		return nil, err
	}
	if version == 0 {
		rs := routing.DefaultRuleSet()
		rs.Version = 0
		if _, err := s.store.RuleSetActive(ctx); err == nil {
			rs.Status = routing.StatusRetired
		} else if orderly.KindOf(err) != orderly.KindNotFound {
			return nil, err
		}
		return &rs, nil
	}
	return s.store.RuleSetGet(ctx, version)
}

// CreateRuleSet validates rs's rules and stores them as a draft with the
// next version. Its version, status and times are assigned.
func (s *Service) CreateRuleSet(ctx context.Context, p auth.Principal, rs *routing.RuleSet) (*routing.RuleSet, error) {
	if err := require(p, auth.PermReferenceManage); err != nil {
		return nil, err
	}
	rs.Version, rs.Status, rs.ActivatedAt = 1, routing.StatusDraft, nil // the version is the store's to assign
	if err := rs.Validate(); err != nil {
		return nil, err
	}
	rs.CreatedAt = s.clock.Now()
	var err error
	for range 3 { // a concurrent create may take the version first
		err = s.store.InTx(ctx, func(tx store.Querier) error {
			if err := tx.RuleSetInsert(ctx, rs); err != nil {
				return err
			}
			return tx.EventInsert(ctx, s.event("routing.rule_set_created", "rule_set", strconv.Itoa(rs.Version), "", p.Actor(),
				map[string]any{"version": rs.Version, "filters": rs.Filters, "rankers": rs.Rankers,
					"max_splits": rs.MaxSplits, "when_unfillable": rs.WhenUnfillable}))
		})
		if !errors.Is(err, store.ErrDuplicate) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return rs, nil
}

// ActivateRuleSet makes a version the active one, retiring the active one;
// the next capture routes with it. Activating the active version changes
// nothing.
func (s *Service) ActivateRuleSet(ctx context.Context, p auth.Principal, version int) (*routing.RuleSet, error) {
	if err := require(p, auth.PermReferenceManage); err != nil {
		return nil, err
	}
	var out *routing.RuleSet
	err := s.store.InTx(ctx, func(tx store.Querier) error {
		prev, err := s.activeRuleSet(ctx, tx)
		if err != nil {
			return err
		}
		rs, err := tx.RuleSetActivate(ctx, version, s.clock.Now())
		if err != nil {
			return err
		}
		out = rs
		if prev.Version == version {
			return nil
		}
		return tx.EventInsert(ctx, s.event("routing.rule_set_activated", "rule_set", strconv.Itoa(version), "", p.Actor(),
			map[string]any{"version": version, "previous_version": prev.Version}))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RoutingDecisions returns an order's routing decisions, oldest first. The
// caller has already been allowed to see the order.
func (s *Service) RoutingDecisions(ctx context.Context, p auth.Principal, orderID string) ([]*store.RoutingDecision, error) {
	if err := require(p, auth.PermOrdersRead); err != nil {
		return nil, err
	}
	return s.store.RoutingDecisionListByOrder(ctx, orderID)
}

// MaxSimulatedOrders bounds the orders one simulation replays.
const MaxSimulatedOrders = 10_000

// Simulation is what a draft rule set would have done with past orders,
// beside the active version.
type Simulation struct {
	routing.Report
	// Skipped counts the routed orders in the window whose routing
	// decision does not keep its input (routed before migration 0007);
	// they are not replayed. Orders never routed are not counted.
	Skipped int `json:"skipped"`
}

// SimulateRouting replays the orders placed in [after, before) with the
// rule set of version (0: the built-in default) and with the active one,
// each against the candidates and stock its capture saw (kept with its
// first routing decision), and compares the plans. It writes nothing. A
// window with more than MaxSimulatedOrders orders is refused.
func (s *Service) SimulateRouting(ctx context.Context, p auth.Principal, version int, after, before time.Time) (*Simulation, error) {
	if err := require(p, auth.PermReferenceManage); err != nil {
		return nil, err
	}
	var pr orderly.Problems
	if after.IsZero() {
		pr.Add("placed_after", "is required")
	}
	if before.IsZero() {
		pr.Add("placed_before", "is required")
	} else if !before.After(after) {
		pr.Add("placed_before", "must be after placed_after")
	}
	if version < 0 {
		pr.Add("version", "must be 0 or more")
	}
	if err := pr.Err(); err != nil {
		return nil, err
	}
	var draft routing.RuleSet
	if version == 0 {
		draft = routing.DefaultRuleSet()
		draft.Version = 0
	} else {
		rs, err := s.store.RuleSetGet(ctx, version)
		if orderly.KindOf(err) == orderly.KindNotFound {
			return nil, orderly.Invalid("version", "rule set version %d does not exist", version)
		}
		if err != nil {
			return nil, err
		}
		draft = *rs
	}
	active, err := s.activeRuleSet(ctx, s.store)
	if err != nil {
		return nil, err
	}
	ds, err := s.store.RoutingDecisionsPlaced(ctx, after.UTC(), before.UTC(), MaxSimulatedOrders+1)
	if err != nil {
		return nil, err
	}
	if len(ds) > MaxSimulatedOrders {
		return nil, orderly.Invalid("placed_before", "the window holds more than %d routed orders; narrow it", MaxSimulatedOrders)
	}
	cases := make([]routing.Case, 0, len(ds))
	skipped := 0
	for _, d := range ds {
		var c routing.Case
		if d.Input == nil || json.Unmarshal(d.Input, &c) != nil {
			skipped++
			continue
		}
		cases = append(cases, c)
	}
	return &Simulation{Report: routing.Compare(cases, active, draft), Skipped: skipped}, nil
}
