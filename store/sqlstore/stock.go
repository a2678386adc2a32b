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

// This file holds the stock ledger, the balances and the allocations.
//
// A balance changes only through StockMove, which changes it and appends
// its movement in one transaction, with one guarded UPDATE: the guards
// (enough available to reserve, nothing below zero) sit in the UPDATE's
// WHERE clause, so they are checked against the row as it is when the
// UPDATE changes it. On PostgreSQL at READ COMMITTED an UPDATE that finds
// its row locked by another transaction waits, then evaluates its WHERE
// again on the newest committed version; so two reservations of the last
// unit cannot both succeed, without SERIALIZABLE and without a retry. A
// read in Go followed by a write would lose that: both could read "1
// available". On SQLite the one writer serialises every write
// transaction. The CHECK constraints of stock_balances are the last line
// of defence behind the guards.

const balanceColumns = `sku, location, on_hand, reserved, safety_stock, updated_at`

func scanBalance(s scanner) (*inventory.Balance, error) {
	var b inventory.Balance
	if err := s.Scan(&b.SKU, &b.Location, &b.OnHand, &b.Reserved, &b.SafetyStock, &b.UpdatedAt); err != nil {
		return nil, err
	}
	return &b, nil
}

// moveAttempts bounds how often StockMove runs its guarded UPDATE again
// after finding that the balance changed between a refused UPDATE and the
// read that explains the refusal (possible on PostgreSQL only).
const moveAttempts = 3

// StockMove implements store.Querier.
//
// The hot path is two statements: the guarded UPDATE … RETURNING and the
// movement's INSERT. Only when the UPDATE changes no row does StockMove
// read the balance to learn why: a guard refused the move, or there is no
// balance yet (if the move fits a zero balance, one is created with INSERT
// … ON CONFLICT DO NOTHING and the UPDATE runs again; if not, it is
// refused and nothing is created). When both guards would refuse,
// ErrNegativeStock wins. A duplicate m.ID is ErrDuplicate and leaves the
// balance as it was.
func (q *Querier) StockMove(ctx context.Context, m *inventory.Movement) (*inventory.Balance, error) {
	if m.ID == "" {
		m.ID = orderly.NewID()
	}
	var (
		b   *inventory.Balance
		seq int64
	)
	err := q.inTx(ctx, func(c conn) error {
		var err error
		b, seq, err = moveStock(ctx, c, m)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("move stock of %s at %s: %w", m.SKU, m.Location, err)
	}
	m.Seq = seq
	return b, nil
}

func moveStock(ctx context.Context, c conn, m *inventory.Movement) (*inventory.Balance, int64, error) {
	c.touch(m.SKU)
	update := `UPDATE stock_balances SET on_hand = on_hand + ?, reserved = reserved + ?, updated_at = ?
		WHERE sku = ? AND location = ? AND on_hand + ? >= 0 AND reserved + ? >= 0`
	args := []any{m.DeltaOnHand, m.DeltaReserved, m.At, m.SKU, m.Location, m.DeltaOnHand, m.DeltaReserved}
	if m.DeltaReserved > 0 {
		update += ` AND on_hand - reserved - safety_stock >= ?`
		args = append(args, m.DeltaReserved)
	}
	update += ` RETURNING ` + balanceColumns

	var b *inventory.Balance
	for attempt := 1; b == nil; attempt++ {
		var err error
		b, err = scanBalance(c.queryRow(ctx, update, args...))
		if err == nil {
			break
		}
		if orderly.KindOf(err) != orderly.KindNotFound {
			return nil, 0, err
		}
		// No row changed: find out why.
		cur, err := scanBalance(c.queryRow(ctx, `SELECT `+balanceColumns+` FROM stock_balances WHERE sku = ? AND location = ?`, m.SKU, m.Location))
		switch {
		case orderly.KindOf(err) == orderly.KindNotFound:
			// No balance yet: the move meets a zero one. Refuse it without
			// creating anything, or create it and run the UPDATE again.
			if err := refusal(&inventory.Balance{SKU: m.SKU, Location: m.Location}, m); err != nil {
				return nil, 0, err
			}
			if err := createBalance(ctx, c, m.Location, m.SKU, m.At); err != nil {
				return nil, 0, err
			}
			continue // the balance is there now (ours or a concurrent one)
		case err != nil:
			return nil, 0, err
		}
		if err := refusal(cur, m); err != nil {
			return nil, 0, err
		}
		// The move fits the balance as it is now: another transaction
		// changed it after the UPDATE looked. Try again, a few times.
		if attempt == moveAttempts {
			if m.DeltaReserved > 0 {
				return nil, 0, &orderly.Error{Kind: orderly.KindConflict, Code: store.CodeInsufficientStock,
					Message: fmt.Sprintf("%s at %s is changing too fast to reserve; try again", m.SKU, m.Location)}
			}
			return nil, 0, &orderly.Error{Kind: orderly.KindInvalid, Code: store.CodeNegativeStock,
				Message: fmt.Sprintf("%s at %s is changing too fast to move; try again", m.SKU, m.Location)}
		}
	}

	var seq int64
	err := c.queryRow(ctx, `INSERT INTO stock_movements (id, sku, location, delta_on_hand, delta_reserved, reason, reference, actor, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING seq`,
		m.ID, m.SKU, m.Location, m.DeltaOnHand, m.DeltaReserved, string(m.Reason), m.Reference, m.Actor, m.At).Scan(&seq)
	if err != nil {
		if err := returned(err, "stock movement %s already exists", m.ID); orderly.KindOf(err) != orderly.KindConflict {
			return nil, 0, err
		}
		// A duplicate id: undo the balance change (the row is still
		// locked by this transaction, and the undo restores figures that
		// passed the checks), so that a caller may handle ErrDuplicate
		// and go on without a balance that disagrees with its ledger.
		if _, err := c.exec(ctx, `UPDATE stock_balances SET on_hand = on_hand - ?, reserved = reserved - ? WHERE sku = ? AND location = ?`,
			m.DeltaOnHand, m.DeltaReserved, m.SKU, m.Location); err != nil {
			return nil, 0, err
		}
		return nil, 0, duplicate("stock movement %s already exists", m.ID)
	}
	return b, seq, nil
}

// createBalance creates the balance of (sku, location) at zero unless it
// exists. An unknown SKU or location is KindInvalid.
func createBalance(ctx context.Context, c conn, location, sku string, at time.Time) error {
	c.touch(sku)
	_, err := c.exec(ctx, `INSERT INTO stock_balances (sku, location, on_hand, reserved, safety_stock, updated_at)
		VALUES (?, ?, 0, 0, 0, ?) ON CONFLICT DO NOTHING`, sku, location, at)
	if orderly.KindOf(err) == orderly.KindInvalid { // a foreign key
		return orderly.Errorf(orderly.KindInvalid, "SKU %q or location %q does not exist", sku, location)
	}
	return err
}

// refusal returns the error of a guard that refuses m on balance b, or nil
// if m fits b.
func refusal(b *inventory.Balance, m *inventory.Movement) error {
	switch {
	case b.OnHand+m.DeltaOnHand < 0 || b.Reserved+m.DeltaReserved < 0:
		return &orderly.Error{Kind: orderly.KindInvalid, Code: store.CodeNegativeStock,
			Message: fmt.Sprintf("%s at %s has %d on hand and %d reserved: a change of %+d on hand and %+d reserved would take it below zero",
				b.SKU, b.Location, b.OnHand, b.Reserved, m.DeltaOnHand, m.DeltaReserved)}
	case m.DeltaReserved > 0 && b.OnHand-b.Reserved-b.SafetyStock < m.DeltaReserved:
		return &orderly.Error{Kind: orderly.KindConflict, Code: store.CodeInsufficientStock,
			Message: fmt.Sprintf("%s at %s has %d available, not the %d wanted", b.SKU, b.Location, b.Available(), m.DeltaReserved)}
	}
	return nil
}

// BalanceGet implements store.Querier.
func (q *Querier) BalanceGet(ctx context.Context, location, sku string) (*inventory.Balance, error) {
	b, err := scanBalance(q.read.queryRow(ctx, `SELECT `+balanceColumns+` FROM stock_balances WHERE sku = ? AND location = ?`, sku, location))
	if err != nil {
		return nil, renotFound(err, "no stock of %s at %s", sku, location)
	}
	return b, nil
}

// stringArgs returns codes as query arguments.
func stringArgs(codes []string) []any {
	args := make([]any, len(codes))
	for i, c := range codes {
		args[i] = c
	}
	return args
}

// balancesOf reads the balances of skus (at locations, unless empty) in
// (sku, location) order, appending suffix to each statement. The SKUs are
// read in sorted chunks, so the rows come, and are locked by a FOR UPDATE
// suffix, in (sku, location) order across the chunks too.
func balancesOf(ctx context.Context, c conn, skus, locations []string, suffix string) ([]*inventory.Balance, error) {
	skus = slices.Compact(slices.Sorted(slices.Values(skus)))
	var where string
	var locArgs []any
	if len(locations) > 0 {
		locations = slices.Compact(slices.Sorted(slices.Values(locations)))
		var marks string
		marks, locArgs = inList(locations[:min(len(locations), inChunk)])
		if len(locations) > inChunk {
			marks, locArgs = placeholders(len(locations)), stringArgs(locations)
		}
		where = ` AND location IN (` + marks + `)`
	}
	var out []*inventory.Balance
	for chunk := range slices.Chunk(skus, inChunk) {
		marks, args := inList(chunk)
		rs, err := c.query(ctx, `SELECT `+balanceColumns+` FROM stock_balances WHERE sku IN (`+marks+`)`+
			where+` ORDER BY sku, location`+suffix, append(args, locArgs...)...)
		if err != nil {
			return nil, err
		}
		bs, err := collect(rs, scanBalance)
		if err != nil {
			return nil, err
		}
		out = append(out, bs...)
	}
	return out, nil
}

// BalancesLock implements store.Querier.
func (q *Querier) BalancesLock(ctx context.Context, skus, locations []string) ([]*inventory.Balance, error) {
	bs, err := balancesOf(ctx, q.read, skus, locations, q.d.ForUpdate)
	if err != nil {
		return nil, fmt.Errorf("lock balances: %w", err)
	}
	return bs, nil
}

// BalancesBySKU implements store.Querier.
func (q *Querier) BalancesBySKU(ctx context.Context, skus []string) ([]*inventory.Balance, error) {
	bs, err := balancesOf(ctx, q.read, skus, nil, "")
	if err != nil {
		return nil, fmt.Errorf("read balances: %w", err)
	}
	return bs, nil
}

// BalanceList implements store.Querier.
func (q *Querier) BalanceList(ctx context.Context, p store.BalanceListParams) ([]*inventory.Balance, error) {
	query := `SELECT ` + balanceColumns + ` FROM stock_balances WHERE 1 = 1`
	var args []any
	if p.Location != "" {
		query += ` AND location = ?`
		args = append(args, p.Location)
	}
	if p.SKU != "" {
		query += ` AND sku = ?`
		args = append(args, p.SKU)
	}
	// The page starts after the key (AfterLocation, AfterSKU). Under a
	// filter the same condition is written on the one free column, a form
	// the planners seek on: SQLite would seek to the location and then walk
	// to a row value, a cost that grows with every page.
	switch after := p.AfterLocation != "" || p.AfterSKU != ""; {
	case !after:
	case p.Location != "":
		switch strings.Compare(p.AfterLocation, p.Location) {
		case 0:
			query += ` AND sku > ?`
			args = append(args, p.AfterSKU)
		case 1:
			return nil, nil // the location's balances all come before the key
		}
	case p.SKU != "":
		if p.SKU > p.AfterSKU {
			query += ` AND location >= ?`
		} else {
			query += ` AND location > ?`
		}
		args = append(args, p.AfterLocation)
	default:
		query += ` AND (location, sku) > (?, ?)`
		args = append(args, p.AfterLocation, p.AfterSKU)
	}
	query += ` ORDER BY location, sku LIMIT ?`
	args = append(args, store.RowLimit(p.Limit))
	rs, err := q.read.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rs, scanBalance)
}

// BalanceSetSafetyStock implements store.Querier. A negative safety stock,
// or an unknown SKU or location, is KindInvalid.
func (q *Querier) BalanceSetSafetyStock(ctx context.Context, location, sku string, safety int64, at time.Time) (*inventory.Balance, error) {
	if safety < 0 {
		return nil, orderly.Invalid("safety_stock", "must not be negative")
	}
	var b *inventory.Balance
	err := q.inTx(ctx, func(c conn) (err error) {
		c.touch(sku)
		b, err = scanBalance(c.queryRow(ctx, `INSERT INTO stock_balances (sku, location, on_hand, reserved, safety_stock, updated_at)
			VALUES (?, ?, 0, 0, ?, ?)
			ON CONFLICT (sku, location) DO UPDATE SET safety_stock = excluded.safety_stock, updated_at = excluded.updated_at
			RETURNING `+balanceColumns, sku, location, safety, at))
		return err
	})
	if orderly.KindOf(err) == orderly.KindInvalid {
		return nil, orderly.Errorf(orderly.KindInvalid, "SKU %q or location %q does not exist", sku, location)
	}
	return b, err
}

const movementColumns = `seq, id, sku, location, delta_on_hand, delta_reserved, reason, reference, actor, at`

func scanMovement(s scanner) (*inventory.Movement, error) {
	var m inventory.Movement
	var reason string
	if err := s.Scan(&m.Seq, &m.ID, &m.SKU, &m.Location, &m.DeltaOnHand, &m.DeltaReserved, &reason, &m.Reference, &m.Actor, &m.At); err != nil {
		return nil, err
	}
	m.Reason = inventory.Reason(reason)
	return &m, nil
}

// MovementList implements store.Querier.
func (q *Querier) MovementList(ctx context.Context, p store.MovementListParams) ([]*inventory.Movement, error) {
	query := `SELECT ` + movementColumns + ` FROM stock_movements WHERE location = ? AND sku = ?`
	args := []any{p.Location, p.SKU}
	if p.BeforeSeq > 0 {
		query += ` AND seq < ?`
		args = append(args, p.BeforeSeq)
	}
	query += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, store.RowLimit(p.Limit))
	rs, err := q.read.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rs, scanMovement)
}

// MovementSumSince implements store.Querier. SKUs whose movements since
// net to zero are left out, as are SKUs that did not move.
func (q *Querier) MovementSumSince(ctx context.Context, location string, since time.Time) (map[string]int64, error) {
	rs, err := q.read.query(ctx, `SELECT sku, CAST(SUM(delta_on_hand) AS bigint) FROM stock_movements
		WHERE location = ? AND at >= ? GROUP BY sku HAVING SUM(delta_on_hand) <> 0`, location, since)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	sums := map[string]int64{}
	for rs.Next() {
		var sku string
		var sum int64
		if err := rs.Scan(&sku, &sum); err != nil {
			return nil, err
		}
		sums[sku] = sum
	}
	return sums, rs.Err()
}

// LedgerCheckQuery (exported for the backends' query-plan tests) is one
// statement, so both backends read one snapshot: every
// key that has a balance, movements or open allocations, with the
// balance's figures, the sums of its ledger and of its open allocations,
// where they disagree. A key missing from a side counts as zeros there, so
// a balance created at zero and never moved is consistent. The rows of the
// three tables are put together and grouped by (sku, location): one pass,
// a sort. (It used to FULL JOIN two grouped CTEs, which SQLite ran as a
// nested loop without an index: 3.5 s at 5,000 balances, and no end at two
// million.)
const LedgerCheckQuery = `SELECT sku, location,
		CAST(SUM(on_hand) AS bigint), CAST(SUM(reserved) AS bigint),
		CAST(SUM(ledger_on_hand) AS bigint), CAST(SUM(ledger_reserved) AS bigint), CAST(SUM(allocated) AS bigint)
	FROM (
		SELECT sku, location, on_hand, reserved, 0 AS ledger_on_hand, 0 AS ledger_reserved, 0 AS allocated
			FROM stock_balances
		UNION ALL
		SELECT sku, location, 0, 0, delta_on_hand, delta_reserved, 0 FROM stock_movements
		UNION ALL
		SELECT sku, location, 0, 0, 0, 0, quantity FROM allocations WHERE quantity > 0
	) AS books
	GROUP BY sku, location
	HAVING SUM(on_hand) <> SUM(ledger_on_hand) OR SUM(reserved) <> SUM(ledger_reserved) OR SUM(reserved) <> SUM(allocated)
	ORDER BY sku, location`

// LedgerCheck implements store.Querier. It reads every balance, movement
// and open allocation: an operation for a job or an operator, not for a
// request path.
func (q *Querier) LedgerCheck(ctx context.Context) ([]store.LedgerMismatch, error) {
	rs, err := q.read.query(ctx, LedgerCheckQuery)
	if err != nil {
		return nil, fmt.Errorf("check ledger: %w", err)
	}
	return collect(rs, func(s scanner) (store.LedgerMismatch, error) {
		var m store.LedgerMismatch
		err := s.Scan(&m.SKU, &m.Location, &m.OnHand, &m.Reserved, &m.LedgerOnHand, &m.LedgerReserved, &m.Allocated)
		return m, err
	})
}

const allocationColumns = `id, order_id, line_id, sku, location, quantity, created_at`

func scanAllocation(s scanner) (*inventory.Allocation, error) {
	var a inventory.Allocation
	if err := s.Scan(&a.ID, &a.OrderID, &a.LineID, &a.SKU, &a.Location, &a.Quantity, &a.CreatedAt); err != nil {
		return nil, err
	}
	return &a, nil
}

// AllocationInsert implements store.Querier. A negative quantity or an
// unknown location is KindInvalid. The order is checked when the
// transaction commits (the foreign key is deferred), so a capture may
// reserve before it inserts its order; an unknown order then fails the
// commit with KindInvalid.
func (q *Querier) AllocationInsert(ctx context.Context, a *inventory.Allocation) error {
	if a.Quantity < 0 {
		return orderly.Invalid("quantity", "must not be negative")
	}
	if a.ID == "" {
		a.ID = orderly.NewID()
	}
	n, err := q.write.exec(ctx, `INSERT INTO allocations (`+allocationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		a.ID, a.OrderID, a.LineID, a.SKU, a.Location, a.Quantity, a.CreatedAt)
	if orderly.KindOf(err) == orderly.KindInvalid {
		return orderly.Errorf(orderly.KindInvalid, "allocation %s: order %s or location %q does not exist", a.ID, a.OrderID, a.Location)
	}
	return inserted(n, err, "allocation %s already exists", a.ID)
}

// AllocationListByOrder implements store.Querier.
func (q *Querier) AllocationListByOrder(ctx context.Context, orderID string) ([]*inventory.Allocation, error) {
	rs, err := q.read.query(ctx, `SELECT `+allocationColumns+` FROM allocations
		WHERE order_id = ? AND quantity > 0 ORDER BY created_at, id`, orderID)
	if err != nil {
		return nil, err
	}
	return collect(rs, scanAllocation)
}

// AllocationListByStock implements store.Querier.
func (q *Querier) AllocationListByStock(ctx context.Context, location, sku string) ([]*inventory.Allocation, error) {
	rs, err := q.read.query(ctx, `SELECT `+allocationColumns+` FROM allocations
		WHERE location = ? AND sku = ? AND quantity > 0 ORDER BY created_at DESC, id DESC`, location, sku)
	if err != nil {
		return nil, err
	}
	return collect(rs, scanAllocation)
}

// AllocationSetQuantity implements store.Querier. An unknown id is
// KindNotFound; a negative quantity KindInvalid.
func (q *Querier) AllocationSetQuantity(ctx context.Context, id string, quantity int64) error {
	if quantity < 0 {
		return orderly.Invalid("quantity", "must not be negative")
	}
	n, err := q.write.exec(ctx, `UPDATE allocations SET quantity = ? WHERE id = ?`, quantity, id)
	return updated(n, err, "allocation %s not found", id)
}
