package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/routing"
	"github.com/orderly-oms/orderly/store"
)

// This file holds routing's data: the orders a location took today, the
// versioned rule sets and the routing decisions of orders.

// LocationOrdersOn implements store.Querier: the counts the triggers of
// migration 0015 keep, one row per location with a capacity.
func (q *Querier) LocationOrdersOn(ctx context.Context, day time.Time) (map[string]int, error) {
	rs, err := q.read.query(ctx, `SELECT location, orders FROM location_day_orders WHERE day = ? AND orders > 0`,
		day.UTC().Format(time.DateOnly))
	if err != nil {
		return nil, err
	}
	type locCount struct {
		location string
		n        int
	}
	got, err := collect(rs, func(s scanner) (locCount, error) {
		var c locCount
		return c, s.Scan(&c.location, &c.n)
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(got))
	for _, c := range got {
		out[c.location] = c.n
	}
	return out, nil
}

const ruleSetColumns = `version, status, body, created_at, activated_at`

func scanRuleSet(s scanner) (*routing.RuleSet, error) {
	var (
		version     int
		status      string
		body        []byte
		createdAt   time.Time
		activatedAt *time.Time
	)
	if err := s.Scan(&version, &status, &body, &createdAt, &activatedAt); err != nil {
		return nil, err
	}
	var rs routing.RuleSet
	if err := json.Unmarshal(body, &rs); err != nil {
		return nil, fmt.Errorf("rule set %d: decode body: %w", version, err)
	}
	rs.Version, rs.Status, rs.CreatedAt, rs.ActivatedAt = version, routing.Status(status), createdAt, activatedAt
	return &rs, nil
}

// RuleSetInsert implements store.Querier.
func (q *Querier) RuleSetInsert(ctx context.Context, rs *routing.RuleSet) error {
	if rs.Status == "" {
		rs.Status = routing.StatusDraft
	}
	body, err := jsonText(rs)
	if err != nil {
		return err
	}
	var version int
	err = q.inTx(ctx, func(c conn) error {
		c.touch(configKey) // it may be inserted active: intake reads it
		// WHERE true: SQLite needs it to tell the upsert clause from a join.
		err := c.queryRow(ctx, `INSERT INTO routing_rule_sets (`+ruleSetColumns+`)
			SELECT coalesce(max(version), 0) + 1, ?, ?, ?, ? FROM routing_rule_sets WHERE true
			ON CONFLICT DO NOTHING RETURNING version`,
			string(rs.Status), body, rs.CreatedAt, rs.ActivatedAt).Scan(&version)
		return returned(err, "a rule set version was taken concurrently, or another version is active")
	})
	if err != nil {
		return err
	}
	rs.Version = version
	return nil
}

// RuleSetGet implements store.Querier.
func (q *Querier) RuleSetGet(ctx context.Context, version int) (*routing.RuleSet, error) {
	rs, err := scanRuleSet(q.read.queryRow(ctx, `SELECT `+ruleSetColumns+` FROM routing_rule_sets WHERE version = ?`, version))
	if err != nil {
		return nil, renotFound(err, "rule set version %d not found", version)
	}
	return rs, nil
}

// RuleSetActive implements store.Querier.
func (q *Querier) RuleSetActive(ctx context.Context) (*routing.RuleSet, error) {
	rs, err := scanRuleSet(q.read.queryRow(ctx, `SELECT `+ruleSetColumns+` FROM routing_rule_sets WHERE status = 'active'`))
	if err != nil {
		return nil, renotFound(err, "no rule set is active")
	}
	return rs, nil
}

// RuleSetList implements store.Querier.
func (q *Querier) RuleSetList(ctx context.Context, p store.RuleSetListParams) ([]*routing.RuleSet, error) {
	before := p.BeforeVersion
	if before <= 0 {
		before = 1<<31 - 1
	}
	rs, err := q.read.query(ctx, `SELECT `+ruleSetColumns+` FROM routing_rule_sets WHERE version < ? ORDER BY version DESC LIMIT ?`,
		before, store.RowLimit(p.Limit))
	if err != nil {
		return nil, err
	}
	return collect(rs, scanRuleSet)
}

// RuleSetActivate implements store.Querier.
func (q *Querier) RuleSetActivate(ctx context.Context, version int, at time.Time) (*routing.RuleSet, error) {
	var out *routing.RuleSet
	err := q.inTx(ctx, func(c conn) error {
		c.touch(configKey) // intake reads the active rule set
		rs, err := scanRuleSet(c.queryRow(ctx, `SELECT `+ruleSetColumns+` FROM routing_rule_sets WHERE version = ?`+q.d.ForUpdate, version))
		if err != nil {
			return renotFound(err, "rule set version %d not found", version)
		}
		if rs.Status == routing.StatusActive {
			out = rs
			return nil
		}
		if _, err := c.exec(ctx, `UPDATE routing_rule_sets SET status = 'retired' WHERE status = 'active'`); err != nil {
			return err
		}
		n, err := c.exec(ctx, `UPDATE routing_rule_sets SET status = 'active', activated_at = ? WHERE version = ?`, at, version)
		if err := updated(n, err, "rule set version %d not found", version); err != nil {
			return err
		}
		rs.Status, rs.ActivatedAt = routing.StatusActive, &at
		out = rs
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RoutingDecisionInsert implements store.Querier.
func (q *Querier) RoutingDecisionInsert(ctx context.Context, d *store.RoutingDecision) error {
	t, err := decisionJSON(d)
	if err != nil {
		return err
	}
	return q.routingDecisionInsert(ctx, d.OrderID, d, t)
}

// decisionText is a routing decision's JSON as stored, checked.
type decisionText struct {
	explanation string
	input       *string
}

// routingDecisionInsert stores d for orderID with its checked JSON t.
func (q *Querier) routingDecisionInsert(ctx context.Context, orderID string, d *store.RoutingDecision, t decisionText) error {
	_, err := q.write.exec(ctx, `INSERT INTO routing_decisions (order_id, version, explanation, input, created_at) VALUES (?, ?, ?, ?, ?)`,
		orderID, d.RuleSetVersion, t.explanation, t.input, d.CreatedAt)
	return err
}

// decisionJSON returns d's explanation and input (NULL when absent) as
// stored, or KindInvalid if either is not JSON.
func decisionJSON(d *store.RoutingDecision) (decisionText, error) {
	if !json.Valid(d.Explanation) {
		return decisionText{}, orderly.Invalid("explanation", "is not valid JSON")
	}
	t := decisionText{explanation: string(d.Explanation)}
	if d.Input != nil {
		if !json.Valid(d.Input) {
			return decisionText{}, orderly.Invalid("input", "is not valid JSON")
		}
		in := string(d.Input)
		t.input = &in
	}
	return t, nil
}

// RoutingDecisionsPlaced implements store.Querier.
func (q *Querier) RoutingDecisionsPlaced(ctx context.Context, after, before time.Time, limit int) ([]*store.RoutingDecision, error) {
	rs, err := q.read.query(ctx, `SELECT d.order_id, d.version, d.explanation, d.input, d.created_at
		FROM orders o JOIN routing_decisions d ON d.order_id = o.id
		WHERE o.placed_at >= ? AND o.placed_at < ?
		  AND d.seq = (SELECT MIN(f.seq) FROM routing_decisions f WHERE f.order_id = o.id)
		ORDER BY o.placed_at, o.id LIMIT ?`, after, before, limit)
	if err != nil {
		return nil, err
	}
	return collect(rs, scanDecision)
}

func scanDecision(s scanner) (*store.RoutingDecision, error) {
	var d store.RoutingDecision
	var exp, input []byte
	if err := s.Scan(&d.OrderID, &d.RuleSetVersion, &exp, &input, &d.CreatedAt); err != nil {
		return nil, err
	}
	d.Explanation, d.Input = exp, input
	return &d, nil
}

// RoutingDecisionListByOrder implements store.Querier.
func (q *Querier) RoutingDecisionListByOrder(ctx context.Context, orderID string) ([]*store.RoutingDecision, error) {
	rs, err := q.read.query(ctx, `SELECT order_id, version, explanation, input, created_at FROM routing_decisions
		WHERE order_id = ? ORDER BY seq`, orderID)
	if err != nil {
		return nil, err
	}
	return collect(rs, scanDecision)
}
