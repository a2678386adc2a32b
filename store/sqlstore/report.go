package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/store"
)

// This file holds the reconciliation reports. A report and its lines are
// written once and never changed.

const reportColumns = `id, location, mode, applied, counted_at, actor, created_at, skus, drifted, drift_units`

func scanReport(s scanner) (*inventory.Report, error) {
	var r inventory.Report
	var mode string
	if err := s.Scan(&r.ID, &r.Location, &mode, &r.Applied, &r.CountedAt, &r.Actor, &r.CreatedAt, &r.SKUs, &r.Drifted, &r.DriftUnits); err != nil {
		return nil, err
	}
	r.Mode = inventory.SnapshotMode(mode)
	return &r, nil
}

const reportLineColumns = `report_id, sku, expected, counted, drift, reserved, moved_since_count, cause`

// ReportInsert implements store.Querier, assigning r.ID if empty. An
// unknown location is KindInvalid; a taken id ErrDuplicate.
func (q *Querier) ReportInsert(ctx context.Context, r *inventory.Report) error {
	if r.ID == "" {
		r.ID = orderly.NewID()
	}
	err := q.inTx(ctx, func(c conn) error {
		n, err := c.exec(ctx, `INSERT INTO reconciliation_reports (`+reportColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			r.ID, r.Location, string(r.Mode), r.Applied, r.CountedAt, r.Actor, r.CreatedAt, r.SKUs, r.Drifted, r.DriftUnits)
		if orderly.KindOf(err) == orderly.KindInvalid { // the one foreign key
			return orderly.Invalid("location", "location %q does not exist", r.Location)
		}
		if err := inserted(n, err, "reconciliation report %s already exists", r.ID); err != nil {
			return err
		}
		for chunk := range slices.Chunk(r.Lines, lineChunk) {
			args := make([]any, 0, 8*len(chunk))
			for _, l := range chunk {
				args = append(args, r.ID, l.SKU, l.Expected, l.Counted, l.Drift, l.Reserved, l.MovedSinceCount, string(l.Cause))
			}
			values := strings.Repeat(`, (?, ?, ?, ?, ?, ?, ?, ?)`, len(chunk))[2:]
			if _, err := c.exec(ctx, `INSERT INTO reconciliation_lines (`+reportLineColumns+`) VALUES `+values, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("insert reconciliation report: %w", err)
	}
	return nil
}

// ReportGet implements store.Querier. The lines are in SKU order.
func (q *Querier) ReportGet(ctx context.Context, id string) (*inventory.Report, error) {
	r, err := scanReport(q.read.queryRow(ctx, `SELECT `+reportColumns+` FROM reconciliation_reports WHERE id = ?`, id))
	if err != nil {
		return nil, renotFound(err, "reconciliation report %s not found", id)
	}
	// A second statement is safe: a stored report never changes.
	rs, err := q.read.query(ctx, `SELECT sku, expected, counted, drift, reserved, moved_since_count, cause
		FROM reconciliation_lines WHERE report_id = ? ORDER BY sku`, id)
	if err != nil {
		return nil, err
	}
	r.Lines, err = collect(rs, func(s scanner) (inventory.DriftLine, error) {
		var l inventory.DriftLine
		var cause string
		err := s.Scan(&l.SKU, &l.Expected, &l.Counted, &l.Drift, &l.Reserved, &l.MovedSinceCount, &cause)
		l.Cause = inventory.Cause(cause)
		return l, err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// ReportList implements store.Querier.
func (q *Querier) ReportList(ctx context.Context, location string, p store.ListParams) ([]*inventory.Report, error) {
	query := `SELECT ` + reportColumns + ` FROM reconciliation_reports WHERE 1 = 1`
	var args []any
	if location != "" {
		query += ` AND location = ?`
		args = append(args, location)
	}
	if p.After != "" {
		query += ` AND id < ?`
		args = append(args, p.After)
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, store.RowLimit(p.Limit))
	rs, err := q.read.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rs, scanReport)
}
