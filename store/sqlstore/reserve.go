package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/store"
)

// StockReserve takes an order's picks in as few statements as the backend
// allows, with the same guard as StockMove's reservation, applied to the
// demand of each (sku, location) summed over its picks:
//
//   - one guarded UPDATE … FROM (the keys and their summed quantities)
//     RETURNING the keys it changed, which locks the balances (in
//     (sku, location) order on PostgreSQL, through a FOR UPDATE it reads
//     first) and, at READ COMMITTED, checks the guard on the newest
//     committed version of each;
//   - one multi-row INSERT of the movements, one per pick;
//   - one multi-row INSERT of the allocations, one per pick.
//
// On PostgreSQL, when the picks fit one statement, the three are one
// data-modifying CTE — one round trip — whose inserts run only if the
// UPDATE changed every key. If it did not, the keys it did change are
// changed back (this transaction still holds them), so a refusal writes
// nothing and leaves the transaction usable.

// reserveChunk bounds the keys of one guarded UPDATE and the rows of one
// INSERT, far below every backend's parameter limit.
const reserveChunk = 200

// reserveKey is the summed demand at one balance.
type reserveKey struct {
	sku, location string
	quantity      int64
}

// StockReserve implements store.Querier.
func (q *Querier) StockReserve(ctx context.Context, orderID string, picks []inventory.Pick, actor string, at time.Time) ([]*inventory.Allocation, error) {
	if len(picks) == 0 {
		return nil, nil
	}
	r, err := newReservation(orderID, picks, actor, at)
	if err != nil {
		return nil, err
	}
	err = q.inTx(ctx, func(c conn) error {
		for attempt := 1; ; attempt++ {
			var changed []reserveKey
			var err error
			if q.d.WritableCTE && r.fitsOne() {
				changed, err = r.reserveOne(ctx, c)
			} else {
				changed, err = r.reserveSteps(ctx, c)
			}
			if err != nil || len(changed) == len(r.keys) {
				return err
			}
			if err := r.refused(ctx, c, changed, attempt); err != nil {
				return err
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reserve stock: %w", err)
	}
	return r.allocs, nil
}

// newReservation checks picks and sums their demand per key.
func newReservation(orderID string, picks []inventory.Pick, actor string, at time.Time) (*reservation, error) {
	sums := map[[2]string]int64{}
	for i, p := range picks {
		if p.Quantity <= 0 {
			return nil, orderly.Invalid(fmt.Sprintf("picks[%d].quantity", i), "must be positive")
		}
		if p.Quantity > inventory.MaxQuantity {
			return nil, orderly.Invalid(fmt.Sprintf("picks[%d].quantity", i), "must be at most %d", inventory.MaxQuantity)
		}
		sums[[2]string{p.SKU, p.Location}] += p.Quantity
	}
	keys := make([]reserveKey, 0, len(sums))
	for k, n := range sums {
		if n > inventory.MaxQuantity {
			return nil, &orderly.Error{Kind: orderly.KindConflict, Code: store.CodeInsufficientStock,
				Message: fmt.Sprintf("%s at %s cannot hold a reservation of %d", k[0], k[1], n)}
		}
		keys = append(keys, reserveKey{sku: k[0], location: k[1], quantity: n})
	}
	slices.SortFunc(keys, compareKeys)
	allocs := make([]*inventory.Allocation, len(picks))
	moveIDs := make([]string, len(picks))
	for i, p := range picks {
		allocs[i] = &inventory.Allocation{ID: orderly.NewID(), OrderID: orderID, LineID: p.LineID,
			SKU: p.SKU, Location: p.Location, Quantity: p.Quantity, CreatedAt: at}
		moveIDs[i] = orderly.NewID()
	}
	return &reservation{orderID: orderID, keys: keys, allocs: allocs, moveIDs: moveIDs, actor: actor, at: at}, nil
}

// touch records the reservation's SKUs as written by c's transaction.
func (r *reservation) touch(c conn) {
	for _, k := range r.keys {
		c.touch(k.sku)
	}
}

// fitsOne says the reservation fits one statement (oneStatement).
func (r *reservation) fitsOne() bool {
	return len(r.keys) <= reserveChunk && len(r.allocs) <= reserveChunk
}

// refused handles an attempt in which some key refused: it changes back
// the keys the attempt changed (this transaction still holds them) and
// returns ErrInsufficientStock for the first key that does not fit, or
// nil if every key fits as read now — a balance changed after the UPDATE
// looked (possible on PostgreSQL only), and the caller tries again —
// unless that was the last of moveAttempts.
func (r *reservation) refused(ctx context.Context, c conn, changed []reserveKey, attempt int) error {
	if err := r.undo(ctx, c, changed); err != nil {
		return err
	}
	err := r.refusal(ctx, c)
	if err == nil && attempt == moveAttempts {
		err = &orderly.Error{Kind: orderly.KindConflict, Code: store.CodeInsufficientStock,
			Message: "the stock is changing too fast to reserve; try again"}
	}
	return err
}

// unreserve takes back a reservation that went through in full: the
// balances' reserved stock, the allocations and the movements, so that
// nothing of it is left in the transaction.
func (r *reservation) unreserve(ctx context.Context, c conn) error {
	if err := r.undo(ctx, c, r.keys); err != nil {
		return err
	}
	for start := 0; start < len(r.allocs); start += reserveChunk {
		end := min(start+reserveChunk, len(r.allocs))
		ids := make([]any, 0, end-start)
		moves := make([]any, 0, end-start)
		for i := start; i < end; i++ {
			ids = append(ids, r.allocs[i].ID)
			moves = append(moves, r.moveIDs[i])
		}
		if _, err := c.exec(ctx, `DELETE FROM allocations WHERE id IN (`+placeholders(len(ids))+`)`, ids...); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `DELETE FROM stock_movements WHERE id IN (`+placeholders(len(moves))+`)`, moves...); err != nil {
			return err
		}
	}
	return nil
}

// reservation is one StockReserve call's rows.
type reservation struct {
	orderID string
	keys    []reserveKey
	allocs  []*inventory.Allocation
	moveIDs []string
	actor   string
	at      time.Time
}

// keyValues returns the rows (sku, location, quantity) of keys as a
// VALUES list and its arguments.
func keyValues(keys []reserveKey) (string, []any) {
	args := make([]any, 0, 3*len(keys))
	for _, k := range keys {
		args = append(args, k.sku, k.location, k.quantity)
	}
	return strings.Repeat(`, (CAST(? AS text), CAST(? AS text), CAST(? AS bigint))`, len(keys))[2:], args
}

// guardedReserve is the guarded UPDATE of the balances of the keys in the
// CTE want(w_sku, w_location, w_quantity); lockFirst, if set, names a CTE
// that must be read before any row is changed. The columns of want have
// names of their own, and the target no alias, because SQLite's RETURNING
// may name only the target's columns, unqualified.
func guardedReserve(lockFirst string) string {
	lock := ``
	if lockFirst != "" {
		lock = ` AND (SELECT count(*) FROM ` + lockFirst + `) >= 0`
	}
	return `UPDATE stock_balances SET reserved = reserved + w_quantity, updated_at = ?
		FROM want WHERE sku = w_sku AND location = w_location` + lock + `
		AND on_hand - reserved - safety_stock >= w_quantity
		RETURNING sku, location`
}

const (
	reserveMovementColumns = `id, sku, location, delta_on_hand, delta_reserved, reason, reference, actor, at`
	reserveAllocColumns    = `id, order_id, line_id, sku, location, quantity, created_at`
)

// reserveOne reserves everything with one statement (PostgreSQL) and
// returns the keys it changed.
func (r *reservation) reserveOne(ctx context.Context, c conn) ([]reserveKey, error) {
	r.touch(c)
	query, args := r.oneStatement()
	rs, err := c.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return r.scanChanged(rs)
}

// oneStatement returns the statement that reserves everything at once
// (PostgreSQL): lock the balances in key order, change them with the
// guard, and insert the movements and allocations only if every key
// changed. It returns the keys it changed.
func (r *reservation) oneStatement() (string, []any) {
	values, args := keyValues(r.keys)
	pickRows := strings.Repeat(`, (CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS bigint))`, len(r.allocs))[2:]
	for i, a := range r.allocs {
		args = append(args, r.moveIDs[i], a.ID, a.LineID, a.SKU, a.Location, a.Quantity)
	}
	ref := "order:" + r.orderID
	args = append(args, r.at, string(inventory.ReasonReserve), ref, r.actor, r.at, len(r.keys), r.orderID, r.at, len(r.keys))
	query := `WITH want (w_sku, w_location, w_quantity) AS (VALUES ` + values + `),
		pick (move_id, alloc_id, line_id, sku, location, quantity) AS (VALUES ` + pickRows + `),
		locked AS (SELECT b.sku FROM stock_balances AS b JOIN want ON b.sku = w_sku AND b.location = w_location
			ORDER BY b.sku, b.location FOR UPDATE OF b),
		changed AS (` + guardedReserve("locked") + `),
		moved AS (INSERT INTO stock_movements (` + reserveMovementColumns + `)
			SELECT p.move_id, p.sku, p.location, 0, p.quantity, ?, ?, ?, ? FROM pick AS p
			WHERE (SELECT count(*) FROM changed) = ?),
		allocated AS (INSERT INTO allocations (` + reserveAllocColumns + `)
			SELECT p.alloc_id, ?, p.line_id, p.sku, p.location, p.quantity, ? FROM pick AS p
			WHERE (SELECT count(*) FROM changed) = ?)
		SELECT sku, location FROM changed`
	return query, args
}

// scanChanged reads the keys a guarded UPDATE returned, with their
// quantities from r.keys.
func (r *reservation) scanChanged(rs *rows) ([]reserveKey, error) {
	return collect(rs, func(s scanner) (reserveKey, error) {
		var k reserveKey
		if err := s.Scan(&k.sku, &k.location); err != nil {
			return k, err
		}
		i, found := slices.BinarySearchFunc(r.keys, k, compareKeys)
		if !found {
			return k, fmt.Errorf("reserve stock: the update returned %s at %s, which it was not given", k.sku, k.location)
		}
		return r.keys[i], nil
	})
}

// compareKeys orders keys by (sku, location).
func compareKeys(a, b reserveKey) int {
	if c := strings.Compare(a.sku, b.sku); c != 0 {
		return c
	}
	return strings.Compare(a.location, b.location)
}

// reserveSteps reserves with one guarded UPDATE per chunk of keys and, if
// every key changed, multi-row INSERTs of the movements and allocations.
// It returns the keys it changed.
func (r *reservation) reserveSteps(ctx context.Context, c conn) ([]reserveKey, error) {
	r.touch(c)
	var changed []reserveKey
	for chunk := range slices.Chunk(r.keys, reserveChunk) {
		values, args := keyValues(chunk)
		rs, err := c.query(ctx, `WITH want (w_sku, w_location, w_quantity) AS (VALUES `+values+`) `+guardedReserve(""),
			append(args, r.at)...)
		if err != nil {
			return changed, err
		}
		got, err := r.scanChanged(rs)
		changed = append(changed, got...)
		if err != nil || len(got) < len(chunk) {
			return changed, err
		}
	}
	ref := "order:" + r.orderID
	for start := 0; start < len(r.allocs); start += reserveChunk {
		chunk := r.allocs[start:min(start+reserveChunk, len(r.allocs))]
		args := make([]any, 0, 9*len(chunk))
		for i, a := range chunk {
			args = append(args, r.moveIDs[start+i], a.SKU, a.Location, 0, a.Quantity, string(inventory.ReasonReserve), ref, r.actor, r.at)
		}
		if _, err := c.exec(ctx, `INSERT INTO stock_movements (`+reserveMovementColumns+`) VALUES `+
			strings.Repeat(`, (?, ?, ?, ?, ?, ?, ?, ?, ?)`, len(chunk))[2:], args...); err != nil {
			return changed, err
		}
		args = args[:0]
		for _, a := range chunk {
			args = append(args, a.ID, a.OrderID, a.LineID, a.SKU, a.Location, a.Quantity, a.CreatedAt)
		}
		if _, err := c.exec(ctx, `INSERT INTO allocations (`+reserveAllocColumns+`) VALUES `+
			strings.Repeat(`, (?, ?, ?, ?, ?, ?, ?)`, len(chunk))[2:], args...); err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// undo changes back the reservations of the keys a refused attempt
// changed; this transaction still holds their rows.
func (r *reservation) undo(ctx context.Context, c conn, changed []reserveKey) error {
	r.touch(c)
	for chunk := range slices.Chunk(changed, reserveChunk) {
		values, args := keyValues(chunk)
		if _, err := c.exec(ctx, `WITH want (w_sku, w_location, w_quantity) AS (VALUES `+values+`)
			UPDATE stock_balances SET reserved = reserved - w_quantity
			FROM want WHERE sku = w_sku AND location = w_location`, args...); err != nil {
			return err
		}
	}
	return nil
}

// refusal reads the balances of the keys and returns ErrInsufficientStock
// for the first key whose summed demand does not fit, or nil if every key
// fits now.
func (r *reservation) refusal(ctx context.Context, c conn) error {
	skus := make([]string, len(r.keys))
	for i, k := range r.keys {
		skus[i] = k.sku
	}
	bs, err := balancesOf(ctx, c, skus, nil, "")
	if err != nil {
		return err
	}
	have := make(map[[2]string]*inventory.Balance, len(bs))
	for _, b := range bs {
		have[[2]string{b.SKU, b.Location}] = b
	}
	for _, k := range r.keys {
		b := have[[2]string{k.sku, k.location}]
		if b == nil {
			b = &inventory.Balance{SKU: k.sku, Location: k.location}
		}
		if err := refusal(b, &inventory.Movement{SKU: k.sku, Location: k.location, DeltaReserved: k.quantity}); err != nil {
			return err
		}
	}
	return nil
}
