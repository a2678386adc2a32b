package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/store"
)

// This file holds fulfilment's data: fulfilment orders and shipments. Their
// lines (and a shipment's tracking events) are JSON columns: they are read
// and written with their row, never queried on their own.

const foColumns = `id, order_id, location, status, reject_reason, lines, created_at, updated_at, version`

func scanFulfilmentOrder(s scanner) (*fulfilment.FulfilmentOrder, error) {
	var (
		f              fulfilment.FulfilmentOrder
		status, reason string
		lines          []byte
	)
	if err := s.Scan(&f.ID, &f.OrderID, &f.Location, &status, &reason, &lines, &f.CreatedAt, &f.UpdatedAt, &f.Version); err != nil {
		return nil, err
	}
	f.Status, f.RejectReason = fulfilment.Status(status), fulfilment.RejectReason(reason)
	if err := json.Unmarshal(lines, &f.Lines); err != nil {
		return nil, fmt.Errorf("fulfilment order %s: decode lines: %w", f.ID, err)
	}
	return &f, nil
}

// FulfilmentOrderInsert implements store.Querier.
func (q *Querier) FulfilmentOrderInsert(ctx context.Context, fos ...*fulfilment.FulfilmentOrder) error {
	lines := make([]string, len(fos))
	for i, f := range fos {
		var err error
		if lines[i], err = jsonText(f.Lines); err != nil {
			return err
		}
	}
	return q.fulfilmentOrderInsert(ctx, fos, lines)
}

// fulfilmentOrderInsert is FulfilmentOrderInsert with each order's lines
// as JSON.
func (q *Querier) fulfilmentOrderInsert(ctx context.Context, fos []*fulfilment.FulfilmentOrder, lines []string) error {
	if len(fos) == 0 {
		return nil
	}
	return q.inTx(ctx, func(c conn) error {
		for i, f := range fos {
			if f.ID == "" {
				f.ID = orderly.NewID()
			}
			n, err := c.exec(ctx, `INSERT INTO fulfilment_orders (`+foColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				f.ID, f.OrderID, f.Location, string(f.Status), string(f.RejectReason), lines[i], f.CreatedAt, f.UpdatedAt, f.Version)
			if orderly.KindOf(err) == orderly.KindInvalid {
				return orderly.Errorf(orderly.KindInvalid, "fulfilment order %s: order %s or location %q does not exist, or a field breaks a rule", f.ID, f.OrderID, f.Location)
			}
			if err := inserted(n, err, "fulfilment order %s already exists", f.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// FulfilmentOrderGet implements store.Querier.
func (q *Querier) FulfilmentOrderGet(ctx context.Context, id string) (*fulfilment.FulfilmentOrder, error) {
	f, err := scanFulfilmentOrder(q.read.queryRow(ctx, `SELECT `+foColumns+` FROM fulfilment_orders WHERE id = ?`, id))
	if err != nil {
		return nil, renotFound(err, "fulfilment order %s not found", id)
	}
	return f, nil
}

// FulfilmentOrderListByOrder implements store.Querier.
func (q *Querier) FulfilmentOrderListByOrder(ctx context.Context, orderID string) ([]*fulfilment.FulfilmentOrder, error) {
	rs, err := q.read.query(ctx, `SELECT `+foColumns+` FROM fulfilment_orders WHERE order_id = ? ORDER BY id`, orderID)
	if err != nil {
		return nil, err
	}
	return collect(rs, scanFulfilmentOrder)
}

// FulfilmentOrderList implements store.Querier.
func (q *Querier) FulfilmentOrderList(ctx context.Context, p store.FulfilmentOrderListParams) ([]*fulfilment.FulfilmentOrder, error) {
	where := []string{`id > ?`}
	args := []any{p.After}
	if p.Location != "" {
		where = append(where, `location = ?`)
		args = append(args, p.Location)
	}
	if p.Status != "" {
		where = append(where, `status = ?`)
		args = append(args, string(p.Status))
	}
	if p.Channel != "" {
		where = append(where, `order_id IN (SELECT id FROM orders WHERE channel = ?)`)
		args = append(args, p.Channel)
	}
	args = append(args, store.RowLimit(p.Limit))
	rs, err := q.read.query(ctx, `SELECT `+foColumns+` FROM fulfilment_orders WHERE `+strings.Join(where, ` AND `)+` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	return collect(rs, scanFulfilmentOrder)
}

// FulfilmentOrderUpdate implements store.Querier.
func (q *Querier) FulfilmentOrderUpdate(ctx context.Context, f *fulfilment.FulfilmentOrder) error {
	lines, err := jsonText(f.Lines)
	if err != nil {
		return err
	}
	n, err := q.write.exec(ctx, `UPDATE fulfilment_orders SET status = ?, reject_reason = ?, lines = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ?`, string(f.Status), string(f.RejectReason), lines, f.UpdatedAt, f.ID, f.Version)
	if err != nil {
		return fmt.Errorf("update fulfilment order: %w", err)
	}
	if n == 0 {
		return q.staleOrMissing(ctx, "fulfilment_orders", "fulfilment order", f.ID, f.Version)
	}
	f.Version++
	return nil
}

// staleOrMissing explains an optimistic UPDATE that changed no row: the
// row is missing (KindNotFound) or its version moved on (ErrVersionConflict).
func (q *Querier) staleOrMissing(ctx context.Context, table, what, id string, version int64) error {
	var got int64
	if err := q.write.queryRow(ctx, `SELECT version FROM `+table+` WHERE id = ?`, id).Scan(&got); err != nil {
		return renotFound(err, "%s %s not found", what, id)
	}
	return &orderly.Error{Kind: orderly.KindConflict, Code: store.CodeVersionConflict,
		Message: fmt.Sprintf("%s %s was changed by someone else (version %d, not %d); reload it and try again", what, id, got, version)}
}

const shipmentColumns = `id, fulfilment_order_id, order_id, location, carrier, service, tracking_number, label,
	lines, status, events, delivered_at, created_at, updated_at, version`

func scanShipment(s scanner) (*fulfilment.Shipment, error) {
	var (
		sh            fulfilment.Shipment
		status        string
		lines, events []byte
		deliveredAt   *time.Time
	)
	if err := s.Scan(&sh.ID, &sh.FulfilmentOrderID, &sh.OrderID, &sh.Location, &sh.Carrier, &sh.Service, &sh.TrackingNumber,
		&sh.Label, &lines, &status, &events, &deliveredAt, &sh.CreatedAt, &sh.UpdatedAt, &sh.Version); err != nil {
		return nil, err
	}
	sh.Status, sh.DeliveredAt = fulfilment.TrackingStatus(status), deliveredAt
	if err := json.Unmarshal(lines, &sh.Lines); err != nil {
		return nil, fmt.Errorf("shipment %s: decode lines: %w", sh.ID, err)
	}
	if err := json.Unmarshal(events, &sh.Events); err != nil {
		return nil, fmt.Errorf("shipment %s: decode events: %w", sh.ID, err)
	}
	return &sh, nil
}

// shipmentJSON encodes a shipment's JSON columns; events are never null.
func shipmentJSON(sh *fulfilment.Shipment) (lines, events string, err error) {
	if lines, err = jsonText(sh.Lines); err != nil {
		return "", "", err
	}
	evs := sh.Events
	if evs == nil {
		evs = []fulfilment.TrackingEvent{}
	}
	events, err = jsonText(evs)
	return lines, events, err
}

// ShipmentInsert implements store.Querier.
func (q *Querier) ShipmentInsert(ctx context.Context, sh *fulfilment.Shipment) error {
	if sh.ID == "" {
		sh.ID = orderly.NewID()
	}
	lines, events, err := shipmentJSON(sh)
	if err != nil {
		return err
	}
	n, err := q.write.exec(ctx, `INSERT INTO shipments (`+shipmentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		sh.ID, sh.FulfilmentOrderID, sh.OrderID, sh.Location, sh.Carrier, sh.Service, sh.TrackingNumber, sh.Label,
		lines, string(sh.Status), events, sh.DeliveredAt, sh.CreatedAt, sh.UpdatedAt, sh.Version)
	if orderly.KindOf(err) == orderly.KindInvalid {
		return orderly.Errorf(orderly.KindInvalid, "shipment %s: fulfilment order %s, order %s or location %q does not exist",
			sh.ID, sh.FulfilmentOrderID, sh.OrderID, sh.Location)
	}
	return inserted(n, err, "shipment %s already exists", sh.ID)
}

// ShipmentGet implements store.Querier.
func (q *Querier) ShipmentGet(ctx context.Context, id string) (*fulfilment.Shipment, error) {
	sh, err := scanShipment(q.read.queryRow(ctx, `SELECT `+shipmentColumns+` FROM shipments WHERE id = ?`, id))
	if err != nil {
		return nil, renotFound(err, "shipment %s not found", id)
	}
	return sh, nil
}

// ShipmentGetByTracking implements store.Querier.
func (q *Querier) ShipmentGetByTracking(ctx context.Context, trackingNumber string) (*fulfilment.Shipment, error) {
	sh, err := scanShipment(q.read.queryRow(ctx, `SELECT `+shipmentColumns+` FROM shipments
		WHERE tracking_number = ? AND tracking_number <> '' ORDER BY created_at DESC, id DESC LIMIT 1`, trackingNumber))
	if err != nil {
		return nil, renotFound(err, "no shipment with tracking number %q", trackingNumber)
	}
	return sh, nil
}

// ShipmentListByOrder implements store.Querier.
func (q *Querier) ShipmentListByOrder(ctx context.Context, orderID string) ([]*fulfilment.Shipment, error) {
	rs, err := q.read.query(ctx, `SELECT `+shipmentColumns+` FROM shipments WHERE order_id = ? ORDER BY id`, orderID)
	if err != nil {
		return nil, err
	}
	return collect(rs, scanShipment)
}

// ShipmentUpdate implements store.Querier.
func (q *Querier) ShipmentUpdate(ctx context.Context, sh *fulfilment.Shipment) error {
	_, events, err := shipmentJSON(sh)
	if err != nil {
		return err
	}
	n, err := q.write.exec(ctx, `UPDATE shipments SET status = ?, events = ?, delivered_at = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ?`, string(sh.Status), events, sh.DeliveredAt, sh.UpdatedAt, sh.ID, sh.Version)
	if err != nil {
		return fmt.Errorf("update shipment: %w", err)
	}
	if n == 0 {
		return q.staleOrMissing(ctx, "shipments", "shipment", sh.ID, sh.Version)
	}
	sh.Version++
	return nil
}

const labelColumns = `id, fulfilment_order_id, carrier, service, tracking_number, url, amount, currency, carrier_ref, pdf, created_at`

// LabelInsert implements store.Querier.
func (q *Querier) LabelInsert(ctx context.Context, l *fulfilment.Label) error {
	if l.ID == "" {
		l.ID = orderly.NewID()
	}
	var pdf any // NULL when the carrier keeps the document
	if len(l.PDF) > 0 {
		pdf = l.PDF
	}
	n, err := q.write.exec(ctx, `INSERT INTO labels (`+labelColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		l.ID, l.FulfilmentOrderID, l.Carrier, l.Service, l.TrackingNumber, l.URL, l.Amount, l.Currency, l.CarrierRef, pdf, l.CreatedAt)
	if orderly.KindOf(err) == orderly.KindInvalid {
		return orderly.Errorf(orderly.KindInvalid, "label %s: fulfilment order %s does not exist", l.ID, l.FulfilmentOrderID)
	}
	return inserted(n, err, "label %s already exists", l.ID)
}

// LabelGet implements store.Querier.
func (q *Querier) LabelGet(ctx context.Context, id string) (*fulfilment.Label, error) {
	var l fulfilment.Label
	err := q.read.queryRow(ctx, `SELECT `+labelColumns+` FROM labels WHERE id = ?`, id).Scan(&l.ID, &l.FulfilmentOrderID,
		&l.Carrier, &l.Service, &l.TrackingNumber, &l.URL, &l.Amount, &l.Currency, &l.CarrierRef, &l.PDF, &l.CreatedAt)
	if err != nil {
		return nil, renotFound(err, "label %s not found", id)
	}
	return &l, nil
}

// TrackingNumberNext implements store.Querier.
func (q *Querier) TrackingNumberNext(ctx context.Context) (int64, error) {
	var n int64
	if err := q.write.queryRow(ctx, q.d.NextTrackingNumber).Scan(&n); err != nil {
		return 0, fmt.Errorf("tracking number sequence: %w", err)
	}
	return n, nil
}
