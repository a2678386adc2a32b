package sqlstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/store"
)

// OrderCapture implements store.Querier.
//
// Where the transaction can send a pipeline (PostgreSQL) and everything
// fits one statement each, it sends, in one round trip:
//
//  1. StockReserve's one statement (lock, guarded UPDATE, movements and
//     allocations, the inserts only if every key changed);
//  2. the order and its lines, inserted only if the order's allocations
//     are all there — so not after a refusal;
//  3. the events, joined to the order row, so stored only if the order
//     was, taking its number from it.
//
// A refusal leaves only the changed balances to change back, as in
// StockReserve; a duplicate order leaves the whole reservation to take
// back. Elsewhere (SQLite) the same steps run one by one through
// StockReserve, OrderInsert and EventInsert.
func (q *Querier) OrderCapture(ctx context.Context, p store.CaptureParams) error {
	o := p.Order
	if len(o.Lines) == 0 {
		return orderly.Invalid("lines", "must have at least one line")
	}
	var r *reservation
	if len(p.Picks) > 0 {
		var err error
		if r, err = newReservation(o.ID, p.Picks, p.Actor, p.At); err != nil {
			return err
		}
	}
	pc, ok := p.Prepared.(*preparedCapture)
	if !ok || len(pc.fulfilment) != len(p.Fulfilment) { // not prepared, or not for these parameters
		var err error
		if pc, err = prepareCapture(&p); err != nil {
			return err
		}
	}
	events := p.Events
	if p.Created != nil {
		events = append([]*orderly.Event{p.Created}, p.Events...)
	}
	err := q.inTx(ctx, func(c conn) error {
		if q.d.WritableCTE && q.d.OrderNumberTaken == "" && len(o.Lines) <= lineChunk &&
			len(events) <= eventChunk && (r == nil || r.fitsOne()) && len(p.Fulfilment) <= eventChunk {
			extra := captureExtras(p, pc)
			if ok, err := q.capturePipelined(ctx, c, p, r, pc, events, extra); ok {
				return err
			}
		}
		return q.captureSteps(ctx, c, p, r, events, pc)
	})
	if err != nil {
		return fmt.Errorf("capture order: %w", err)
	}
	return nil
}

// preparedCapture is what OrderCapture stores beside the rows' plain
// values, encoded and checked (CaptureParams.Prepared).
type preparedCapture struct {
	order      orderJSON
	created    numbered     // with CaptureParams.Created
	decision   decisionText // with CaptureParams.Decision
	fulfilment []string     // each fulfilment order's lines
}

// PrepareCapture implements store.Store.
func (s *Store) PrepareCapture(p *store.CaptureParams) error {
	pc, err := prepareCapture(p)
	if err != nil {
		return err
	}
	p.Prepared = pc
	return nil
}

// prepareCapture encodes and checks p's JSON.
func prepareCapture(p *store.CaptureParams) (*preparedCapture, error) {
	var pc preparedCapture
	var err error
	if pc.order, err = encodeOrder(p.Order); err != nil {
		return nil, err
	}
	if p.Created != nil {
		if pc.created, err = newNumbered(p.Created.Data); err != nil {
			return nil, err
		}
	}
	if p.Decision != nil {
		if pc.decision, err = decisionJSON(p.Decision); err != nil {
			return nil, err
		}
	}
	for _, f := range p.Fulfilment {
		lines, err := jsonText(f.Lines)
		if err != nil {
			return nil, err
		}
		pc.fulfilment = append(pc.fulfilment, lines)
	}
	return &pc, nil
}

// captureSteps is OrderCapture one statement after another.
func (q *Querier) captureSteps(ctx context.Context, c conn, p store.CaptureParams, r *reservation, events []*orderly.Event, pc *preparedCapture) error {
	tx := &Querier{d: q.d, read: c, write: c, seal: q.seal}
	o := p.Order
	if r != nil {
		for attempt := 1; ; attempt++ {
			var changed []reserveKey
			var err error
			if q.d.WritableCTE && r.fitsOne() {
				changed, err = r.reserveOne(ctx, c)
			} else {
				changed, err = r.reserveSteps(ctx, c)
			}
			if err != nil {
				return err
			}
			if len(changed) == len(r.keys) {
				break
			}
			if err := r.refused(ctx, c, changed, attempt); err != nil {
				return err
			}
		}
	}
	if err := tx.orderInsert(ctx, o, pc.order); err != nil {
		if errors.Is(err, store.ErrDuplicate) && r != nil {
			if uerr := r.unreserve(ctx, c); uerr != nil {
				return uerr
			}
		}
		return err
	}
	if p.Created != nil {
		p.Created.Data = pc.created.with(o.Number)
	}
	if p.Decision != nil {
		if err := tx.routingDecisionInsert(ctx, o.ID, p.Decision, pc.decision); err != nil {
			return err
		}
	}
	if err := tx.fulfilmentOrderInsert(ctx, p.Fulfilment, pc.fulfilment); err != nil {
		return err
	}
	if err := tx.EventInsert(ctx, events...); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			// Not the order: a taken event id, which is a bug.
			return fmt.Errorf("insert events: %s", err.Error())
		}
		return err
	}
	return nil
}

// capturePipelined is OrderCapture in one round trip; see OrderCapture.
// ok is false if the connection cannot send a pipeline.
func (q *Querier) capturePipelined(ctx context.Context, c conn, p store.CaptureParams, r *reservation, pc *preparedCapture, events []*orderly.Event, extra []Stmt) (ok bool, err error) {
	o := p.Order
	nPicks := 0
	if r != nil {
		nPicks = len(r.allocs)
	}
	// The order, only if its allocations are all there.
	insert := `INSERT INTO orders (` + insertOrderColumns + `) SELECT ` + q.orderValues() + `
		WHERE (SELECT count(*) FROM allocations WHERE order_id = ?) = ?
		ON CONFLICT DO NOTHING RETURNING number`
	orderQuery, orderArgs := fusedOrderInsert(insert, append(orderArgs(o, pc.order), o.ID, nPicks), o)
	// The events, only if the order is there, the creation event with its number.
	eventArgs := make([]any, 0, 10*len(events)+1)
	for i, e := range events {
		data := string(e.Data)
		if len(e.Data) == 0 {
			data = "{}"
		} else if !json.Valid(e.Data) {
			return true, orderly.Invalid("data", "is not valid JSON")
		}
		var orderID any // NULL for events outside an order's timeline
		if e.OrderID != "" {
			orderID = e.OrderID
		}
		eventArgs = append(eventArgs, i, e.ID, e.Type, e.Subject, e.SubjectID, orderID, e.Actor, e.At, data, i == 0 && p.Created != nil)
	}
	eventArgs = append(eventArgs, o.ID)
	eventQuery := `INSERT INTO events (id, type, subject, subject_id, order_id, actor, at, data)
		SELECT v.id, v.type, v.subject, v.subject_id, v.order_id, v.actor, v.at,
			CASE WHEN v.numbered THEN v.data || jsonb_build_object('number', o.number) ELSE v.data END
		FROM (VALUES ` + strings.Repeat(`, (CAST(? AS integer), CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text), `+
		`CAST(? AS text), CAST(? AS text), CAST(? AS timestamptz), CAST(? AS jsonb), CAST(? AS boolean))`, len(events))[2:] + `)
			AS v (i, id, type, subject, subject_id, order_id, actor, at, data, numbered)
		CROSS JOIN (SELECT number FROM orders WHERE id = ?) AS o
		ORDER BY v.i
		ON CONFLICT DO NOTHING RETURNING id, seq`

	for attempt := 1; ; attempt++ {
		stmts := make([]Stmt, 0, 3)
		if r != nil {
			r.touch(c)
			query, args := r.oneStatement()
			stmts = append(stmts, Stmt{Query: query, Args: args})
		}
		stmts = append(stmts, Stmt{Query: orderQuery, Args: orderArgs})
		stmts = append(stmts, extra...)
		if len(events) > 0 {
			stmts = append(stmts, Stmt{Query: eventQuery, Args: eventArgs})
		}
		br, ok := c.batch(ctx, stmts)
		if !ok {
			return false, nil
		}
		res, err := readCapture(br, r, events, o.Channel, len(extra))
		if err != nil {
			return true, err
		}
		if r != nil && len(res.changed) < len(r.keys) {
			// A key refused: nothing but the balances changed.
			if err := r.refused(ctx, c, res.changed, attempt); err != nil {
				return true, err
			}
			continue
		}
		if res.number == 0 {
			// A duplicate order: take the reservation back.
			if r != nil {
				if err := r.unreserve(ctx, c); err != nil {
					return true, err
				}
			}
			return true, duplicate("channel %q already has an order with external id %q", o.Channel, o.ExternalID)
		}
		if len(res.seqs) < len(events) {
			return true, fmt.Errorf("insert events: an event id is already taken")
		}
		o.Number = res.number
		for i, e := range events {
			e.Seq = res.seqs[e.ID]
			if i > 0 && e.Seq <= events[i-1].Seq {
				return true, fmt.Errorf("insert events: seq %d of event %s does not follow %d", e.Seq, e.ID, events[i-1].Seq)
			}
		}
		if p.Created != nil {
			p.Created.Data = pc.created.with(o.Number)
		}
		return true, nil
	}
}

// captureResult is what the pipeline of a capture returned.
type captureResult struct {
	changed []reserveKey
	number  int64 // 0: the order was not inserted
	seqs    map[string]int64
}

// readCapture reads the results of capturePipelined's statements and
// closes the batch.
func readCapture(br *batchResults, r *reservation, events []*orderly.Event, channel string, extra int) (res captureResult, err error) {
	defer func() {
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}()
	if r != nil {
		rs, err := br.query()
		if err != nil {
			return res, err
		}
		if res.changed, err = r.scanChanged(rs); err != nil {
			return res, err
		}
	}
	rs, err := br.query()
	if err != nil {
		return res, err
	}
	numbers, err := collect(rs, func(s scanner) (int64, error) {
		var n int64
		return n, s.Scan(&n)
	})
	switch {
	case errors.Is(err, store.ErrDuplicate):
		// Line ids are new by construction (order.Init): a bug.
		return res, errors.New("insert order: a line id is already taken")
	case orderly.KindOf(err) == orderly.KindInvalid: // the channel's foreign key
		return res, orderly.Invalid("channel", "channel %q does not exist", channel)
	case err != nil:
		return res, err
	}
	if len(numbers) == 1 {
		res.number = numbers[0]
	}
	for range extra {
		rs, err := br.query()
		if err != nil {
			return res, err
		}
		rs.Close()
	}
	if len(events) == 0 {
		return res, nil
	}
	rs, err = br.query()
	if err != nil {
		return res, err
	}
	type idSeq struct {
		id  string
		seq int64
	}
	got, err := collect(rs, func(s scanner) (idSeq, error) {
		var r idSeq
		return r, s.Scan(&r.id, &r.seq)
	})
	if err != nil {
		return res, err
	}
	res.seqs = make(map[string]int64, len(got))
	for _, g := range got {
		res.seqs[g.id] = g.seq
	}
	return res, nil
}

// numbered is the creation event's data split around its member
// "number", which only the capture's transaction knows: before ends with
// `"number":`, after holds the rest. with joins them without parsing
// again.
type numbered struct{ before, after []byte }

// newNumbered checks that data is empty (read as {}) or a JSON object and
// splits it for its member "number" — what json.Marshal of the object
// with "number" set would write (members sorted by name, compact).
func newNumbered(data []byte) (numbered, error) {
	m := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &m); err != nil || m == nil {
			return numbered{}, orderly.Invalid("data", "of the order's creation event must be a JSON object")
		}
	}
	delete(m, "number")
	below, above := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	for k, v := range m {
		if k < "number" {
			below[k] = v
		} else {
			above[k] = v
		}
	}
	lo, err := json.Marshal(below)
	if err != nil {
		return numbered{}, orderly.Invalid("data", "of the order's creation event must be a JSON object")
	}
	hi, err := json.Marshal(above)
	if err != nil {
		return numbered{}, orderly.Invalid("data", "of the order's creation event must be a JSON object")
	}
	n := numbered{before: lo[:len(lo)-1]} // without its '}'
	if len(below) > 0 {
		n.before = append(n.before, ',')
	}
	n.before = append(n.before, `"number":`...)
	if len(above) > 0 {
		n.after = append([]byte{','}, hi[1:]...) // without its '{'
	} else {
		n.after = []byte{'}'}
	}
	return n, nil
}

// with returns the data with "number" set to number.
func (n numbered) with(number int64) []byte {
	out := make([]byte, 0, len(n.before)+20+len(n.after))
	out = append(out, n.before...)
	out = strconv.AppendInt(out, number, 10)
	return append(out, n.after...)
}

// captureExtras returns the statements that store p's routing decision
// and fulfilment orders in capturePipelined's pipeline, after the order:
// each joined to the order's row, so that they are stored only if the
// order was (not after a refusal, not for a duplicate), with pc's JSON. It
// assigns the fulfilment orders' missing ids.
func captureExtras(p store.CaptureParams, pc *preparedCapture) []Stmt {
	var out []Stmt
	o := p.Order
	if d := p.Decision; d != nil {
		out = append(out, Stmt{Query: `INSERT INTO routing_decisions (order_id, version, explanation, input, created_at)
			SELECT id, CAST(? AS integer), CAST(? AS json), CAST(? AS json), CAST(? AS timestamptz) FROM orders WHERE id = ?`,
			Args: []any{d.RuleSetVersion, pc.decision.explanation, pc.decision.input, d.CreatedAt, o.ID}})
	}
	if len(p.Fulfilment) > 0 {
		args := make([]any, 0, 8*len(p.Fulfilment)+1)
		for i, f := range p.Fulfilment {
			if f.ID == "" {
				f.ID = orderly.NewID()
			}
			args = append(args, f.ID, f.Location, string(f.Status), string(f.RejectReason), pc.fulfilment[i], f.CreatedAt, f.UpdatedAt, f.Version)
		}
		args = append(args, o.ID)
		out = append(out, Stmt{Query: `INSERT INTO fulfilment_orders (` + foColumns + `)
			SELECT v.id, o.id, v.location, v.status, v.reject_reason, v.lines, v.created_at, v.updated_at, v.version
			FROM (VALUES ` + strings.Repeat(`, (CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text), `+
			`CAST(? AS jsonb), CAST(? AS timestamptz), CAST(? AS timestamptz), CAST(? AS bigint))`, len(p.Fulfilment))[2:] + `)
				AS v (id, location, status, reject_reason, lines, created_at, updated_at, version)
			CROSS JOIN (SELECT id FROM orders WHERE id = ?) AS o`, Args: args})
	}
	return out
}
