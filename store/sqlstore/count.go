package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/store"
)

// countChunk bounds the movements StockCount sends in one pipeline, so
// that one round trip does not grow with the batch.
const countChunk = 1000

// StockCount implements store.Querier.
//
// A movement is two statements: its balance's, then its INSERT into the
// ledger. A count up (or of zero) is an upsert, which creates a missing
// balance; a count down is StockMove's guarded UPDATE, which changes no
// row — and creates none — when the balance is missing or has too little
// on hand. Where the transaction can send a pipeline (PostgreSQL) the two
// are one statement, the ledger row inserted from the balance's RETURNING
// (a writable CTE), so a refused change writes neither; countChunk such
// statements go in one round trip. Elsewhere (SQLite) the statements run
// one by one, stopping at the first refusal. Either way every balance
// changes together with its ledger: a movement whose id is taken has its
// balance change taken back, as in StockMove.
func (q *Querier) StockCount(ctx context.Context, ms []*inventory.Movement) ([]*inventory.Balance, error) {
	// The keys in (sku, location) order, as BalancesLock locks them, so
	// that two counts creating balances cannot wait on each other in a
	// cycle.
	order := make([]int, len(ms))
	for i, m := range ms {
		if m.DeltaReserved != 0 {
			return nil, orderly.Errorf(orderly.KindInvalid, "count stock: the movement of %s at %s changes reserved stock (%+d); a count changes on hand only",
				m.SKU, m.Location, m.DeltaReserved)
		}
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(ms[a].SKU, ms[b].SKU), cmp.Compare(ms[a].Location, ms[b].Location))
	})
	for i := 1; i < len(order); i++ {
		if a, b := ms[order[i-1]], ms[order[i]]; a.SKU == b.SKU && a.Location == b.Location {
			return nil, orderly.Errorf(orderly.KindInvalid, "count stock: %s at %s is counted twice", a.SKU, a.Location)
		}
	}
	if len(ms) == 0 {
		return nil, nil
	}
	sorted := make([]*inventory.Movement, len(ms))
	for i, o := range order {
		if ms[o].ID == "" {
			ms[o].ID = orderly.NewID()
		}
		sorted[i] = ms[o]
	}
	var (
		bs   []*inventory.Balance
		seqs []int64
	)
	err := q.inTx(ctx, func(c conn) error {
		var err error
		if _, ok := c.raw.(Batcher); ok && q.d.WritableCTE {
			bs, seqs, err = countPipelined(ctx, c, sorted)
		} else {
			bs, seqs, err = countSteps(ctx, c, sorted)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("count stock: %w", err)
	}
	out := make([]*inventory.Balance, len(ms))
	for i, o := range order {
		ms[o].Seq = seqs[i]
		out[o] = bs[i]
	}
	return out, nil
}

// countBalance returns the statement that moves the on hand of m's balance
// and returns the balance (balanceColumns), or no row if it refuses.
func countBalance(m *inventory.Movement) (string, []any) {
	if m.DeltaOnHand < 0 {
		return `UPDATE stock_balances SET on_hand = on_hand + ?, updated_at = ?
			WHERE sku = ? AND location = ? AND on_hand + ? >= 0
			RETURNING ` + balanceColumns, []any{m.DeltaOnHand, m.At, m.SKU, m.Location, m.DeltaOnHand}
	}
	return `INSERT INTO stock_balances (sku, location, on_hand, reserved, safety_stock, updated_at) VALUES (?, ?, ?, 0, 0, ?)
		ON CONFLICT (sku, location) DO UPDATE SET on_hand = stock_balances.on_hand + excluded.on_hand, updated_at = excluded.updated_at
		RETURNING ` + balanceColumns, []any{m.SKU, m.Location, m.DeltaOnHand, m.At}
}

// countSteps is StockCount one statement after another; ms are in key
// order.
func countSteps(ctx context.Context, c conn, ms []*inventory.Movement) ([]*inventory.Balance, []int64, error) {
	for _, m := range ms {
		c.touch(m.SKU)
	}
	bs := make([]*inventory.Balance, len(ms))
	seqs := make([]int64, len(ms))
	for i, m := range ms {
		query, args := countBalance(m)
		b, err := scanBalance(c.queryRow(ctx, query, args...))
		switch {
		case orderly.KindOf(err) == orderly.KindNotFound:
			return nil, nil, countRefused(ctx, c, m)
		case orderly.KindOf(err) == orderly.KindInvalid: // a foreign key
			return nil, nil, unknownKey(m)
		case err != nil:
			return nil, nil, err
		}
		err = c.queryRow(ctx, `INSERT INTO stock_movements (id, sku, location, delta_on_hand, delta_reserved, reason, reference, actor, at)
			VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING seq`,
			m.ID, m.SKU, m.Location, m.DeltaOnHand, string(m.Reason), m.Reference, m.Actor, m.At).Scan(&seqs[i])
		if err != nil {
			if err := returned(err, "stock movement %s already exists", m.ID); orderly.KindOf(err) != orderly.KindConflict {
				return nil, nil, err
			}
			if err := uncount(ctx, c, m); err != nil {
				return nil, nil, err
			}
			return nil, nil, duplicate("stock movement %s already exists", m.ID)
		}
		bs[i] = b
	}
	return bs, seqs, nil
}

// countPipelined is StockCount in one round trip per countChunk movements,
// one statement each; ms are in key order. It reads every statement's
// result before it reports a refused movement or a taken id (the balance
// changes of taken ids taken back first).
func countPipelined(ctx context.Context, c conn, ms []*inventory.Movement) ([]*inventory.Balance, []int64, error) {
	for _, m := range ms {
		c.touch(m.SKU)
	}
	stmts := make([]Stmt, len(ms))
	for i, m := range ms {
		balance, args := countBalance(m)
		stmts[i] = Stmt{Query: `WITH b AS (` + balance + `),
			m AS (INSERT INTO stock_movements (id, sku, location, delta_on_hand, delta_reserved, reason, reference, actor, at)
				SELECT CAST(? AS text), b.sku, b.location, CAST(? AS bigint), 0, CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS timestamptz)
				FROM b ON CONFLICT DO NOTHING RETURNING seq)
			SELECT ` + balanceColumns + `, COALESCE((SELECT seq FROM m), 0) FROM b`,
			Args: append(args, m.ID, m.DeltaOnHand, string(m.Reason), m.Reference, m.Actor, m.At)}
	}
	bs := make([]*inventory.Balance, 0, len(ms))
	seqs := make([]int64, 0, len(ms))
	var refused, dups []*inventory.Movement
	err := c.each(ctx, stmts, countChunk, func(rs *rows) error {
		m := ms[len(bs)]
		var seq int64
		got, err := collect(rs, func(s scanner) (*inventory.Balance, error) {
			var b inventory.Balance
			return &b, s.Scan(&b.SKU, &b.Location, &b.OnHand, &b.Reserved, &b.SafetyStock, &b.UpdatedAt, &seq)
		})
		switch {
		case err != nil:
			return err
		case len(got) == 0:
			refused = append(refused, m)
			bs = append(bs, nil)
		case seq == 0:
			dups = append(dups, m)
			bs = append(bs, nil)
		default:
			bs = append(bs, got[0])
		}
		seqs = append(seqs, seq)
		return nil
	})
	switch {
	case orderly.KindOf(err) == orderly.KindInvalid && len(bs) < len(ms): // a foreign key
		return nil, nil, unknownKey(ms[len(bs)])
	case err != nil:
		return nil, nil, err
	}
	for _, m := range dups {
		if err := uncount(ctx, c, m); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case len(refused) > 0:
		return nil, nil, countRefused(ctx, c, refused[0])
	case len(dups) > 0:
		return nil, nil, duplicate("stock movement %s already exists", dups[0].ID)
	}
	return bs, seqs, nil
}

// countRefused returns the error of a count movement whose balance
// statement changed no row: it reads the balance to say why.
func countRefused(ctx context.Context, c conn, m *inventory.Movement) error {
	cur, err := scanBalance(c.queryRow(ctx, `SELECT `+balanceColumns+` FROM stock_balances WHERE sku = ? AND location = ?`, m.SKU, m.Location))
	switch {
	case orderly.KindOf(err) == orderly.KindNotFound:
		cur = &inventory.Balance{SKU: m.SKU, Location: m.Location}
	case err != nil:
		return err
	}
	if err := refusal(cur, m); err != nil {
		return err
	}
	// It fits now: the balance changed, so the caller had not locked it.
	return &orderly.Error{Kind: orderly.KindInvalid, Code: store.CodeNegativeStock,
		Message: fmt.Sprintf("%s at %s is changing too fast to count; try again", m.SKU, m.Location)}
}

// uncount takes back the balance change of a count movement whose id was
// taken, so that the balance agrees with its ledger.
func uncount(ctx context.Context, c conn, m *inventory.Movement) error {
	c.touch(m.SKU)
	_, err := c.exec(ctx, `UPDATE stock_balances SET on_hand = on_hand - ? WHERE sku = ? AND location = ?`,
		m.DeltaOnHand, m.SKU, m.Location)
	return err
}

// unknownKey is createBalance's error for a balance whose SKU or location
// does not exist.
func unknownKey(m *inventory.Movement) error {
	return orderly.Errorf(orderly.KindInvalid, "SKU %q or location %q does not exist", m.SKU, m.Location)
}
