package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/store"
)

// This file holds the reference data: channels, locations and SKUs.

// jsonText encodes v for a JSON column. Values are passed as text: SQLite
// stores it as TEXT, PostgreSQL parses it into jsonb.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// scanner is a query result positioned on a row: *rows or row.
type scanner interface {
	Scan(dest ...any) error
}

// collect reads every row of rs with scan and closes rs.
func collect[T any](rs *rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rs.Close()
	var out []T
	for rs.Next() {
		v, err := scan(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rs.Err()
}

// listByCode runs a page query ordered by a code column after p.After.
func listByCode[T any](ctx context.Context, c conn, query string, p store.ListParams, scan func(scanner) (T, error)) ([]T, error) {
	rs, err := c.query(ctx, query, p.After, store.RowLimit(p.Limit))
	if err != nil {
		return nil, err
	}
	return collect(rs, scan)
}

const channelColumns = `code, kind, name, secret, policy, locations, created_at, updated_at`

// scanChannel scans a channel row, opening its secret.
func (q *Querier) scanChannel(s scanner) (*channel.Channel, error) {
	c, err := scanChannelRow(s)
	if err != nil {
		return nil, err
	}
	if c.Secret, err = q.seal.Open(channelSecretPlace(c.Code), c.Secret); err != nil {
		return nil, err
	}
	return c, nil
}

func scanChannelRow(s scanner) (*channel.Channel, error) {
	var c channel.Channel
	var kind string
	var policy, locations []byte
	if err := s.Scan(&c.Code, &kind, &c.Name, &c.Secret, &policy, &locations, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, err
	}
	c.Kind = channel.Kind(kind)
	c.HasSecret = c.Secret != ""
	if err := json.Unmarshal(policy, &c.Policy); err != nil {
		return nil, fmt.Errorf("channel %q: decode policy: %w", c.Code, err)
	}
	c.Locations = []string{} // [] rather than null when there are none
	if err := json.Unmarshal(locations, &c.Locations); err != nil {
		return nil, fmt.Errorf("channel %q: decode locations: %w", c.Code, err)
	}
	return &c, nil
}

// channelJSON encodes a channel's JSON columns: its policy and its
// locations (an empty array, never null).
func channelJSON(c *channel.Channel) (policy, locations string, err error) {
	if policy, err = jsonText(c.Policy); err != nil {
		return "", "", err
	}
	locs := c.Locations
	if locs == nil {
		locs = []string{}
	}
	locations, err = jsonText(locs)
	return policy, locations, err
}

// execConfig runs a statement that writes a channel or a location — what
// availability reads besides balances — in a transaction that drops them
// from the stock cache once it commits.
func (q *Querier) execConfig(ctx context.Context, query string, args ...any) (n int64, err error) {
	err = q.inTx(ctx, func(c conn) error {
		c.touch(configKey)
		n, err = c.exec(ctx, query, args...)
		return err
	})
	return n, err
}

// ChannelInsert implements store.Querier.
func (q *Querier) ChannelInsert(ctx context.Context, c *channel.Channel) error {
	policy, locations, err := channelJSON(c)
	if err != nil {
		return err
	}
	sealed, err := q.seal.Seal(channelSecretPlace(c.Code), c.Secret)
	if err != nil {
		return err
	}
	n, err := q.execConfig(ctx, `INSERT INTO channels (`+channelColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		c.Code, string(c.Kind), c.Name, sealed, policy, locations, c.CreatedAt, c.UpdatedAt)
	return inserted(n, err, "channel %q already exists", c.Code)
}

// ChannelGet implements store.Querier.
func (q *Querier) ChannelGet(ctx context.Context, code string) (*channel.Channel, error) {
	c, err := q.scanChannel(q.read.queryRow(ctx, `SELECT `+channelColumns+` FROM channels WHERE code = ?`, code))
	if err != nil {
		return nil, renotFound(err, "channel %q not found", code)
	}
	return c, nil
}

// ChannelList implements store.Querier.
func (q *Querier) ChannelList(ctx context.Context, p store.ListParams) ([]*channel.Channel, error) {
	return listByCode(ctx, q.read, `SELECT `+channelColumns+` FROM channels WHERE code > ? ORDER BY code LIMIT ?`, p, q.scanChannel)
}

// ChannelLock implements store.Querier.
func (q *Querier) ChannelLock(ctx context.Context, code string) error {
	var got string
	err := q.read.queryRow(ctx, `SELECT code FROM channels WHERE code = ?`+q.d.ForUpdate, code).Scan(&got)
	return renotFound(err, "channel %q not found", code)
}

// ChannelUpdate implements store.Querier. It overwrites the channel's
// locations too.
func (q *Querier) ChannelUpdate(ctx context.Context, c *channel.Channel) error {
	policy, locations, err := channelJSON(c)
	if err != nil {
		return err
	}
	sealed, err := q.seal.Seal(channelSecretPlace(c.Code), c.Secret)
	if err != nil {
		return err
	}
	n, err := q.execConfig(ctx, `UPDATE channels SET kind = ?, name = ?, secret = ?, policy = ?, locations = ?, updated_at = ? WHERE code = ?`,
		string(c.Kind), c.Name, sealed, policy, locations, c.UpdatedAt, c.Code)
	return updated(n, err, "channel %q not found", c.Code)
}

// Inserts say ON CONFLICT DO NOTHING and report a row not inserted as a
// duplicate, rather than letting the database raise a unique violation: on
// PostgreSQL a raised error aborts the whole transaction, and a caller of
// InTx must be able to handle ErrDuplicate and go on, as on SQLite.

// inserted turns the result of an INSERT … ON CONFLICT DO NOTHING of one
// row into the store's errors: no row inserted means a duplicate.
func inserted(n int64, err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	if n == 0 {
		return duplicate(format, args...)
	}
	return nil
}

// returned is inserted for an INSERT … ON CONFLICT DO NOTHING RETURNING:
// no row returned means a duplicate.
func returned(err error, format string, args ...any) error {
	if orderly.KindOf(err) == orderly.KindNotFound {
		return duplicate(format, args...)
	}
	return err
}

// updated turns the result of an UPDATE of one row into the store's
// errors: no row changed means the row does not exist.
func updated(n int64, err error, notFound string, args ...any) error {
	if err != nil {
		return err
	}
	if n == 0 {
		return renotFound(NotFoundError(), notFound, args...)
	}
	return nil
}

const locationColumns = `code, name, kind, address, lat, lon, active, priority, ships_to, modes, daily_capacity, cost_per_shipment, carrier, created_at, updated_at`

func scanLocation(s scanner) (*inventory.Location, error) {
	var l inventory.Location
	var kind string
	var addr, shipsTo, modes []byte
	if err := s.Scan(&l.Code, &l.Name, &kind, &addr, &l.Lat, &l.Lon, &l.Active, &l.Priority, &shipsTo, &modes,
		&l.DailyCapacity, &l.CostPerShipment, &l.Carrier, &l.CreatedAt, &l.UpdatedAt); err != nil {
		return nil, err
	}
	l.Kind = inventory.LocationKind(kind)
	if err := json.Unmarshal(addr, &l.Address); err != nil {
		return nil, fmt.Errorf("location %q: decode address: %w", l.Code, err)
	}
	if err := json.Unmarshal(shipsTo, &l.ShipsTo); err != nil {
		return nil, fmt.Errorf("location %q: decode ships_to: %w", l.Code, err)
	}
	if err := json.Unmarshal(modes, &l.Modes); err != nil {
		return nil, fmt.Errorf("location %q: decode modes: %w", l.Code, err)
	}
	// Empty lists read back as nil, as they were most likely written.
	if len(l.ShipsTo) == 0 {
		l.ShipsTo = nil
	}
	if len(l.Modes) == 0 {
		l.Modes = nil
	}
	return &l, nil
}

// locationJSON encodes a location's JSON columns; empty lists are [],
// never null.
func locationJSON(l *inventory.Location) (addr, shipsTo, modes string, err error) {
	if addr, err = jsonText(l.Address); err != nil {
		return "", "", "", err
	}
	st, m := l.ShipsTo, l.Modes
	if st == nil {
		st = []string{}
	}
	if m == nil {
		m = []string{}
	}
	if shipsTo, err = jsonText(st); err != nil {
		return "", "", "", err
	}
	modes, err = jsonText(m)
	return addr, shipsTo, modes, err
}

// LocationInsert implements store.Querier.
func (q *Querier) LocationInsert(ctx context.Context, l *inventory.Location) error {
	addr, shipsTo, modes, err := locationJSON(l)
	if err != nil {
		return err
	}
	n, err := q.execConfig(ctx, `INSERT INTO locations (`+locationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		l.Code, l.Name, string(l.Kind), addr, l.Lat, l.Lon, l.Active, l.Priority, shipsTo, modes, l.DailyCapacity, l.CostPerShipment,
		l.Carrier, l.CreatedAt, l.UpdatedAt)
	return inserted(n, err, "location %q already exists", l.Code)
}

// LocationGet implements store.Querier.
func (q *Querier) LocationGet(ctx context.Context, code string) (*inventory.Location, error) {
	l, err := scanLocation(q.read.queryRow(ctx, `SELECT `+locationColumns+` FROM locations WHERE code = ?`, code))
	if err != nil {
		return nil, renotFound(err, "location %q not found", code)
	}
	return l, nil
}

// LocationList implements store.Querier.
func (q *Querier) LocationList(ctx context.Context, p store.ListParams) ([]*inventory.Location, error) {
	return listByCode(ctx, q.read, `SELECT `+locationColumns+` FROM locations WHERE code > ? ORDER BY code LIMIT ?`, p, scanLocation)
}

// LocationLock implements store.Querier.
func (q *Querier) LocationLock(ctx context.Context, code string) error {
	var got string
	err := q.read.queryRow(ctx, `SELECT code FROM locations WHERE code = ?`+q.d.ForUpdate, code).Scan(&got)
	return renotFound(err, "location %q not found", code)
}

// LocationUpdate implements store.Querier.
func (q *Querier) LocationUpdate(ctx context.Context, l *inventory.Location) error {
	addr, shipsTo, modes, err := locationJSON(l)
	if err != nil {
		return err
	}
	n, err := q.execConfig(ctx, `UPDATE locations SET name = ?, kind = ?, address = ?, lat = ?, lon = ?, active = ?,
		priority = ?, ships_to = ?, modes = ?, daily_capacity = ?, cost_per_shipment = ?, carrier = ?, updated_at = ? WHERE code = ?`,
		l.Name, string(l.Kind), addr, l.Lat, l.Lon, l.Active, l.Priority, shipsTo, modes, l.DailyCapacity, l.CostPerShipment,
		l.Carrier, l.UpdatedAt, l.Code)
	return updated(n, err, "location %q not found", l.Code)
}

const skuColumns = `sku, name, barcode, weight_grams, created_at, updated_at`

func scanSKU(s scanner) (*inventory.SKU, error) {
	var k inventory.SKU
	if err := s.Scan(&k.SKU, &k.Name, &k.Barcode, &k.WeightGrams, &k.CreatedAt, &k.UpdatedAt); err != nil {
		return nil, err
	}
	return &k, nil
}

// SKUInsert implements store.Querier.
func (q *Querier) SKUInsert(ctx context.Context, k *inventory.SKU) error {
	n, err := q.write.exec(ctx, `INSERT INTO skus (`+skuColumns+`) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		k.SKU, k.Name, k.Barcode, k.WeightGrams, k.CreatedAt, k.UpdatedAt)
	return inserted(n, err, "SKU %q already exists", k.SKU)
}

// SKUGet implements store.Querier.
func (q *Querier) SKUGet(ctx context.Context, sku string) (*inventory.SKU, error) {
	k, err := scanSKU(q.read.queryRow(ctx, `SELECT `+skuColumns+` FROM skus WHERE sku = ?`, sku))
	if err != nil {
		return nil, renotFound(err, "SKU %q not found", sku)
	}
	return k, nil
}

// SKUList implements store.Querier.
func (q *Querier) SKUList(ctx context.Context, p store.ListParams) ([]*inventory.SKU, error) {
	return listByCode(ctx, q.read, `SELECT `+skuColumns+` FROM skus WHERE sku > ? ORDER BY sku LIMIT ?`, p, scanSKU)
}

// SKULock implements store.Querier.
func (q *Querier) SKULock(ctx context.Context, sku string) error {
	var got string
	err := q.read.queryRow(ctx, `SELECT sku FROM skus WHERE sku = ?`+q.d.ForUpdate, sku).Scan(&got)
	return renotFound(err, "SKU %q not found", sku)
}

// SKUUpdate implements store.Querier.
func (q *Querier) SKUUpdate(ctx context.Context, k *inventory.SKU) error {
	n, err := q.write.exec(ctx, `UPDATE skus SET name = ?, barcode = ?, weight_grams = ?, updated_at = ? WHERE sku = ?`,
		k.Name, k.Barcode, k.WeightGrams, k.UpdatedAt, k.SKU)
	return updated(n, err, "SKU %q not found", k.SKU)
}

// inChunk bounds the placeholders of one IN (…) list, so that the
// statement shapes a dialect caches stay few and every backend's parameter
// limit is far away.
const inChunk = 100

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	b := make([]byte, 0, 3*n)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '?')
	}
	return string(b)
}

// inSizes are the lengths an IN (…) list is padded to, so that a backend's
// prepared-statement cache (SQLite's cachingConn, pgx's statement cache)
// holds a few shapes of each query rather than one per list length.
var inSizes = [...]int{1, 2, 4, 8, 16, 32, 64, inChunk}

// inList returns the placeholders and arguments of an IN (…) list of codes
// (at most inChunk), padded to the next of inSizes by repeating the last
// code: a repeated value in an IN list changes nothing it matches.
func inList(codes []string) (string, []any) {
	n := len(codes)
	for _, size := range inSizes {
		if size >= n {
			n = size
			break
		}
	}
	args := make([]any, n)
	for i := range n {
		args[i] = codes[min(i, len(codes)-1)]
	}
	return placeholders(n), args
}

// SKUMissing implements store.Querier.
func (q *Querier) SKUMissing(ctx context.Context, codes []string) ([]string, error) {
	want := slices.Compact(slices.Sorted(slices.Values(codes)))
	known := make(map[string]bool, len(want))
	for chunk := range slices.Chunk(want, inChunk) {
		marks, args := inList(chunk)
		rs, err := q.read.query(ctx, `SELECT sku FROM skus WHERE sku IN (`+marks+`)`, args...)
		if err != nil {
			return nil, err
		}
		found, err := collect(rs, func(s scanner) (string, error) {
			var sku string
			return sku, s.Scan(&sku)
		})
		if err != nil {
			return nil, err
		}
		for _, sku := range found {
			known[sku] = true
		}
	}
	var missing []string
	for _, c := range codes {
		if !known[c] {
			missing = append(missing, c)
			known[c] = true // report each code once
		}
	}
	return missing, nil
}
