package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/store"
)

// IntakeRead implements store.Querier. Its seven reads go to the server as
// one pipeline where the connection can send one (PostgreSQL's pool), and
// one after the other elsewhere (SQLite, whose reads cost no round trip).
// Before it, capture paid a round trip for each (docs/benchmarks.md).
func (q *Querier) IntakeRead(ctx context.Context, in store.IntakeQuery) (*store.IntakeView, error) {
	skus := slices.Compact(slices.Sorted(slices.Values(in.SKUs)))
	if len(skus) > inChunk {
		return q.intakeReadApart(ctx, in, skus)
	}
	var v store.IntakeView
	// The channel, the locations, the rule set and the connectors change
	// seldom: from the stock cache when it has them (decision 0016).
	var (
		cached bool
		cfg    *intakeConfig
		gen    uint64
	)
	if q.stock != nil {
		v.Channel, cfg, cached, gen = q.stock.intakeLookup(in.Channel)
	}
	marks, skuArgs := inList(skus)
	reads := []read{
		{Stmt{selectOrders + `orders o JOIN order_lines l ON l.order_id = o.id WHERE o.channel = ? AND o.external_id = ? ORDER BY l.position`,
			[]any{in.Channel, in.ExternalID}}, func(rs *rows) error {
			os, err := scanOrders(rs)
			if len(os) > 0 {
				v.Existing = os[0]
			}
			return err
		}},
		{Stmt{`SELECT ` + channelColumns + ` FROM channels WHERE code = ?`, []any{in.Channel}}, func(rs *rows) error {
			cs, err := collect(rs, q.scanChannel)
			if len(cs) > 0 {
				v.Channel = cs[0]
			}
			return err
		}},
		{Stmt{`SELECT sku FROM skus WHERE sku IN (` + marks + `)`, skuArgs}, func(rs *rows) error {
			known, err := collect(rs, scanString)
			for _, sku := range skus {
				if !slices.Contains(known, sku) {
					v.MissingSKUs = append(v.MissingSKUs, sku)
				}
			}
			return err
		}},
		{Stmt{allLocations, nil}, func(rs *rows) (err error) {
			v.Locations, err = collect(rs, scanLocation)
			return err
		}},
		{Stmt{`SELECT ` + ruleSetColumns + ` FROM routing_rule_sets WHERE status = 'active'`, nil}, func(rs *rows) error {
			sets, err := collect(rs, scanRuleSet)
			if len(sets) > 0 {
				v.RuleSet = sets[0]
			}
			return err
		}},
		{Stmt{`SELECT ` + balanceColumns + ` FROM stock_balances WHERE sku IN (` + marks + `) ORDER BY sku, location`, skuArgs},
			func(rs *rows) (err error) {
				v.Balances, err = collect(rs, scanBalance)
				return err
			}},
		{Stmt{allConnectors, nil}, func(rs *rows) (err error) {
			v.Connectors, err = collect(rs, q.scanConnectorConfig)
			return err
		}},
	}
	if cached {
		v.Locations, v.RuleSet, v.Connectors = cfg.locations, cfg.ruleSet, cfg.connectors
		reads = []read{reads[0], reads[2], reads[5]} // the order, the SKUs, the balances
	}
	if err := q.read.runReads(ctx, reads); err != nil {
		return nil, fmt.Errorf("read for intake: %w", err)
	}
	if q.stock != nil && !cached {
		q.stock.storeIntake(gen, in.Channel, v.Channel, &intakeConfig{locations: v.Locations, ruleSet: v.RuleSet, connectors: v.Connectors})
	}
	return &v, nil
}

// scanConnectorConfig is scanConnector without what changes on every
// poll and would go stale in the stock cache, and which intake does not
// use: the polling state, job ids and outcomes.
func (q *Querier) scanConnectorConfig(s scanner) (*store.ChannelConnector, error) {
	c, err := q.scanConnector(s)
	if err != nil {
		return nil, err
	}
	return &store.ChannelConnector{Channel: c.Channel, Kind: c.Kind, BaseURL: c.BaseURL, Settings: c.Settings, Enabled: c.Enabled,
		PollInterval: c.PollInterval, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}, nil
}

// allLocations reads every location, in code order.
const allLocations = `SELECT ` + locationColumns + ` FROM locations ORDER BY code`

// intakeReadApart is IntakeRead through the single-purpose reads, for an
// order of more SKUs than one IN list takes.
func (q *Querier) intakeReadApart(ctx context.Context, in store.IntakeQuery, skus []string) (*store.IntakeView, error) {
	var v store.IntakeView
	var err error
	if v.Existing, err = q.OrderGetByExternalID(ctx, in.Channel, in.ExternalID); err != nil && !isNotFound(err) {
		return nil, err
	}
	if v.Channel, err = q.ChannelGet(ctx, in.Channel); err != nil && !isNotFound(err) {
		return nil, err
	}
	if v.MissingSKUs, err = q.SKUMissing(ctx, skus); err != nil {
		return nil, err
	}
	rs, err := q.read.query(ctx, allLocations)
	if err != nil {
		return nil, err
	}
	if v.Locations, err = collect(rs, scanLocation); err != nil {
		return nil, err
	}
	if v.RuleSet, err = q.RuleSetActive(ctx); err != nil && !isNotFound(err) {
		return nil, err
	}
	if v.Balances, err = q.BalancesBySKU(ctx, skus); err != nil {
		return nil, err
	}
	rs, err = q.read.query(ctx, allConnectors)
	if err != nil {
		return nil, err
	}
	if v.Connectors, err = collect(rs, q.scanConnectorConfig); err != nil {
		return nil, err
	}
	return &v, nil
}

func isNotFound(err error) bool { return orderly.KindOf(err) == orderly.KindNotFound }
