package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/store"
)

// AvailabilityRead implements store.Querier: the channel, the active
// locations' codes and the balances' figures, as one pipeline where the
// connection can send one (PostgreSQL's pool: one round trip instead of
// three), one after the other elsewhere.
func (q *Querier) AvailabilityRead(ctx context.Context, channelCode string, skus []string) (*store.AvailabilityView, error) {
	var v store.AvailabilityView
	skus = slices.Compact(slices.Sorted(slices.Values(skus)))
	var (
		cached, got []*inventory.Balance
		missing     = skus
		cfg         *stockConfig
		gen         uint64
	)
	if q.stock != nil {
		missing, cfg, gen = q.stock.lookup(skus, channelCode, &cached)
	}
	var reads []read
	if cfg != nil {
		v.Channel, v.Active = cfg.channel, cfg.active
	} else {
		if channelCode != "" {
			reads = append(reads, read{Stmt{`SELECT ` + channelColumns + ` FROM channels WHERE code = ?`, []any{channelCode}},
				func(rs *rows) error {
					cs, err := collect(rs, q.scanChannel)
					if len(cs) > 0 {
						v.Channel = cs[0]
					}
					return err
				}})
		}
		reads = append(reads, read{Stmt{`SELECT code FROM locations WHERE active = ? ORDER BY code`, []any{true}},
			func(rs *rows) (err error) {
				v.Active, err = collect(rs, scanString)
				return err
			}})
	}
	for chunk := range slices.Chunk(missing, inChunk) {
		reads = append(reads, q.balanceFigures(chunk, &got))
	}
	if len(reads) == 0 {
		v.Balances = cached
		return &v, nil
	}
	err := q.read.runReads(ctx, reads)
	switch {
	case q.stock == nil:
	case err != nil:
		q.stock.finish(gen)
	case cfg == nil: // the channel and locations were read too: keep them
		q.stock.store(gen, missing, got, channelCode, &stockConfig{active: v.Active, channel: v.Channel})
	default:
		q.stock.store(gen, missing, got, channelCode, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("read availability: %w", err)
	}
	v.Balances = mergeBySKU(cached, got)
	return &v, nil
}

// mergeBySKU merges two lists of balances ordered by SKU (and location
// within one) that share no SKU.
func mergeBySKU(a, b []*inventory.Balance) []*inventory.Balance {
	switch {
	case len(a) == 0:
		return b
	case len(b) == 0:
		return a
	}
	out := make([]*inventory.Balance, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].SKU < b[0].SKU {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// balanceFigures returns the read of the figures of every balance of skus
// (sorted, at most inChunk), appended to out in (sku, location) order.
func (q *Querier) balanceFigures(skus []string, out *[]*inventory.Balance) read {
	marks, args := inList(skus)
	if q.d.PackedBalances == "" {
		return read{Stmt{`SELECT sku, location, on_hand, reserved, safety_stock FROM stock_balances WHERE sku IN (` + marks + `) ORDER BY sku, location`, args},
			func(rs *rows) error {
				bs, err := collect(rs, func(s scanner) (*inventory.Balance, error) {
					var b inventory.Balance
					return &b, s.Scan(&b.SKU, &b.Location, &b.OnHand, &b.Reserved, &b.SafetyStock)
				})
				*out = append(*out, bs...)
				return err
			}}
	}
	return read{Stmt{`SELECT sku, ` + q.d.PackedBalances + ` FROM stock_balances WHERE sku IN (` + marks + `) GROUP BY sku ORDER BY sku`, args},
		func(rs *rows) error {
			defer rs.Close()
			for rs.Next() {
				var sku, packed string
				if err := rs.Scan(&sku, &packed); err != nil {
					return err
				}
				bs, err := unpackBalances(sku, packed)
				if err != nil {
					return err
				}
				*out = append(*out, bs...)
			}
			return rs.Err()
		}}
}

// unpackBalances reads the balances of sku that Dialect.PackedBalances
// packed, in location order.
func unpackBalances(sku, packed string) ([]*inventory.Balance, error) {
	bs := make([]*inventory.Balance, 0, strings.Count(packed, "\x1e")+1)
	for rec := range strings.SplitSeq(packed, "\x1e") {
		f := strings.Split(rec, "\x1f")
		if len(f) != 4 {
			return nil, fmt.Errorf("packed balance of %s: %d fields in %q", sku, len(f), rec)
		}
		b := &inventory.Balance{SKU: sku, Location: f[0]}
		var err error
		for i, dst := range []*int64{&b.OnHand, &b.Reserved, &b.SafetyStock} {
			if *dst, err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
				return nil, fmt.Errorf("packed balance of %s at %s: %w", sku, f[0], err)
			}
		}
		bs = append(bs, b)
	}
	// The aggregate's order is the scan's, which the primary key makes
	// location order; SQL does not promise it, so make sure (cheap on a
	// sorted slice).
	slices.SortFunc(bs, func(a, b *inventory.Balance) int { return cmp.Compare(a.Location, b.Location) })
	return bs, nil
}

// scanString scans a row of one text column.
func scanString(s scanner) (string, error) {
	var v string
	return v, s.Scan(&v)
}

// read is one statement of a multi-read (IntakeRead, AvailabilityRead)
// and what scans its rows, which it must close.
type read struct {
	stmt Stmt
	scan func(rs *rows) error
}

// runReads runs reads as one pipeline where the connection can send one,
// and one after the other elsewhere (SQLite, whose reads cost no round
// trip).
func (c conn) runReads(ctx context.Context, reads []read) error {
	stmts := make([]Stmt, len(reads))
	for i, r := range reads {
		stmts[i] = r.stmt
	}
	next := 0
	return c.each(ctx, stmts, max(len(stmts), 1), func(rs *rows) error {
		next++
		return reads[next-1].scan(rs)
	})
}
