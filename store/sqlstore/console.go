package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// This file holds the console dashboard's grouped counts and the
// locations' fulfilment SLAs (store.ConsoleQuerier).

// OrderCountByChannel implements store.Querier.
func (q *Querier) OrderCountByChannel(ctx context.Context, after, before time.Time) (map[string]int, error) {
	rs, err := q.read.query(ctx, `SELECT channel, COUNT(*) FROM orders WHERE placed_at >= ? AND placed_at < ? GROUP BY channel`, after, before)
	if err != nil {
		return nil, err
	}
	return countMap(rs)
}

func countMap(rs *rows) (map[string]int, error) {
	defer rs.Close()
	out := map[string]int{}
	for rs.Next() {
		var k string
		var n int64
		if err := rs.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = int(n)
	}
	return out, rs.Err()
}

// OrderHoldReasons implements store.Querier. The reason is inside the
// hold's JSON, which the two backends store differently, so the holds are
// decoded here; only orders on hold are read.
func (q *Querier) OrderHoldReasons(ctx context.Context) (map[string]int, error) {
	rs, err := q.read.query(ctx, `SELECT hold FROM orders WHERE status = ? AND hold IS NOT NULL`, string(order.StatusOnHold))
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := map[string]int{}
	for rs.Next() {
		var raw []byte
		if err := rs.Scan(&raw); err != nil {
			return nil, err
		}
		var h order.Hold
		if err := json.Unmarshal(raw, &h); err != nil {
			return nil, fmt.Errorf("decode hold: %w", err)
		}
		out[h.Reason]++
	}
	return out, rs.Err()
}

// OrderBackorders implements store.Querier.
func (q *Querier) OrderBackorders(ctx context.Context) (int, int64, error) {
	var orders, units int64
	err := q.read.queryRow(ctx, `SELECT COUNT(DISTINCT order_id), COALESCE(SUM(backordered), 0) FROM order_lines WHERE backordered > 0`).
		Scan(&orders, &units)
	return int(orders), units, err
}

// FulfilmentOrderListOpenBefore implements store.Querier.
func (q *Querier) FulfilmentOrderListOpenBefore(ctx context.Context, location string, before time.Time, limit int) ([]*fulfilment.FulfilmentOrder, error) {
	rs, err := q.read.query(ctx, `SELECT `+foColumns+` FROM fulfilment_orders
		WHERE location = ? AND status IN (?, ?, ?, ?) AND created_at < ? ORDER BY id LIMIT ?`,
		location, string(fulfilment.StatusRequested), string(fulfilment.StatusAccepted), string(fulfilment.StatusPicking),
		string(fulfilment.StatusPacked), before, store.RowLimit(limit))
	if err != nil {
		return nil, err
	}
	return collect(rs, scanFulfilmentOrder)
}

// LocationSLAList implements store.Querier.
func (q *Querier) LocationSLAList(ctx context.Context) (map[string]int, error) {
	rs, err := q.read.query(ctx, `SELECT location, minutes FROM location_slas`)
	if err != nil {
		return nil, err
	}
	return countMap(rs)
}

// LocationSLASet implements store.Querier.
func (q *Querier) LocationSLASet(ctx context.Context, location string, minutes int) error {
	_, err := q.write.exec(ctx, `INSERT INTO location_slas (location, minutes) VALUES (?, ?)
		ON CONFLICT (location) DO UPDATE SET minutes = excluded.minutes`, location, minutes)
	if orderly.KindOf(err) == orderly.KindInvalid {
		return orderly.Invalid("location", "unknown location %q", location)
	}
	return err
}
