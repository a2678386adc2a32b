package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// Orders are read with their lines in one statement (orders joined to
// order_lines, one result row per line), so that an order and its lines
// always come from the same snapshot without a read transaction.

const orderColumns = `o.id, o.number, o.channel, o.external_id, o.placed_at, o.currency,
	o.customer_name, o.customer_email, o.customer_phone, o.shipping_address, o.billing_address,
	o.shipping_lines, o.note, o.tags, o.subtotal, o.discount_total, o.shipping_total, o.tax_total,
	o.total, o.status, o.hold, o.cancel_reason, o.created_at, o.updated_at, o.version,
	o.policy, o.channel_status, o.financial_status, o.reported_totals, o.channel_updated_at`

const lineColumns = `l.id, l.sku, l.name, l.quantity, l.unit_price, l.discount, l.tax,
	l.cancelled, l.allocated, l.backordered, l.shipped, l.delivered, l.returned`

// selectOrders selects orders (from the table or a subquery aliased o)
// joined to their lines; the caller appends WHERE and ORDER BY.
const selectOrders = `SELECT ` + orderColumns + `, ` + lineColumns + ` FROM `

// orderRow is one result row of selectOrders.
type orderRow struct {
	o                                            order.Order
	status                                       string
	shipTo, billTo, shippingLines, tags, holdRaw []byte
	policy, reported                             []byte
	l                                            order.Line
}

func (r *orderRow) dest() []any {
	o, l := &r.o, &r.l
	return []any{&o.ID, &o.Number, &o.Channel, &o.ExternalID, &o.PlacedAt, &o.Currency,
		&o.Customer.Name, &o.Customer.Email, &o.Customer.Phone, &r.shipTo, &r.billTo,
		&r.shippingLines, &o.Note, &r.tags, &o.Totals.Subtotal, &o.Totals.DiscountTotal,
		&o.Totals.ShippingTotal, &o.Totals.TaxTotal, &o.Totals.Total, &r.status, &r.holdRaw,
		&o.CancelReason, &o.CreatedAt, &o.UpdatedAt, &o.Version,
		&r.policy, &o.ChannelStatus, &o.FinancialStatus, &r.reported, &o.ChannelUpdatedAt,
		&l.ID, &l.SKU, &l.Name, &l.Quantity, &l.UnitPrice, &l.Discount, &l.Tax,
		&l.Cancelled, &l.Allocated, &l.Backordered, &l.Shipped, &l.Delivered, &l.Returned}
}

// order returns the order of the row, decoding its JSON columns.
func (r *orderRow) order() (*order.Order, error) {
	o := r.o
	o.Status = order.Status(r.status)
	o.Lines = nil
	for _, f := range []struct {
		name string
		raw  []byte
		dst  any
	}{
		{"shipping_address", r.shipTo, &o.ShippingAddress},
		{"billing_address", r.billTo, &o.BillingAddress},
		{"shipping_lines", r.shippingLines, &o.ShippingLines},
		{"tags", r.tags, &o.Tags},
		{"hold", r.holdRaw, &o.Hold},
		{"policy", r.policy, &o.Policy},
		{"reported_totals", r.reported, &o.ReportedTotals},
	} {
		if f.raw == nil {
			continue // SQL NULL: only hold, policy and reported_totals may be, and nil is right
		}
		if err := json.Unmarshal(f.raw, f.dst); err != nil {
			return nil, fmt.Errorf("order %s: decode %s: %w", o.ID, f.name, err)
		}
	}
	return &o, nil
}

// scanOrders reads the rows of selectOrders, which must be ordered by
// order and then line position, and closes rs.
func scanOrders(rs *rows) ([]*order.Order, error) {
	defer rs.Close()
	var (
		out []*order.Order
		cur *order.Order
		r   orderRow
	)
	dest := r.dest()
	for rs.Next() {
		if err := rs.Scan(dest...); err != nil {
			return nil, err
		}
		if cur == nil || cur.ID != r.o.ID {
			o, err := r.order()
			if err != nil {
				return nil, err
			}
			out = append(out, o)
			cur = o
		}
		cur.Lines = append(cur.Lines, r.l)
	}
	return out, rs.Err()
}

// getOrder returns the one order the WHERE clause selects.
func (q *Querier) getOrder(ctx context.Context, where string, args ...any) (*order.Order, error) {
	rs, err := q.read.query(ctx, selectOrders+`orders o JOIN order_lines l ON l.order_id = o.id WHERE `+where+` ORDER BY l.position`, args...)
	if err != nil {
		return nil, err
	}
	os, err := scanOrders(rs)
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, NotFoundError()
	}
	return os[0], nil
}

// OrderGet implements store.Querier.
func (q *Querier) OrderGet(ctx context.Context, id string) (*order.Order, error) {
	o, err := q.getOrder(ctx, `o.id = ?`, id)
	return o, renotFound(err, "order %s not found", id)
}

// OrderLock implements store.Querier.
func (q *Querier) OrderLock(ctx context.Context, id string) error {
	var got string
	err := q.read.queryRow(ctx, `SELECT id FROM orders WHERE id = ?`+q.d.ForUpdate, id).Scan(&got)
	return renotFound(err, "order %s not found", id)
}

// OrderGetByNumber implements store.Querier.
func (q *Querier) OrderGetByNumber(ctx context.Context, number int64) (*order.Order, error) {
	o, err := q.getOrder(ctx, `o.number = ?`, number)
	return o, renotFound(err, "order %d not found", number)
}

// OrderGetByExternalID implements store.Querier.
func (q *Querier) OrderGetByExternalID(ctx context.Context, channel, externalID string) (*order.Order, error) {
	o, err := q.getOrder(ctx, `o.channel = ? AND o.external_id = ?`, channel, externalID)
	return o, renotFound(err, "channel %q has no order %q", channel, externalID)
}

// fold is the case-insensitive form of text that orders are searched by.
// It is computed here rather than with SQL's lower(), which folds only
// ASCII on SQLite, so both backends find the same orders.
func fold(s string) string { return strings.ToLower(s) }

// likeEscaper makes text match itself in a LIKE pattern with ESCAPE '!'.
var likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

// ftsPhrase is an FTS5 query for the names that contain text: one phrase
// (a double quote inside doubled), which the trigram tokenizer turns into
// the text's consecutive trigrams.
func ftsPhrase(text string) string {
	return `"` + strings.ReplaceAll(text, `"`, `""`) + `"`
}

// minNamePart is the shortest text, in characters, that the trigram
// indexes (FTS5 on SQLite, pg_trgm on PostgreSQL) can look up. A shorter
// text is still searched for in names, by reading orders newest first
// until the page is full: quick for a text many names contain, a scan for
// a rare one.
const minNamePart = 3

// filteredFew is how many orders the list's filters may select for a
// search on SQLite to test their names one by one rather than look the
// text up in the FTS5 table (see OrderList). A variable so that a test
// can send every filtered search through the FTS5 table.
var filteredFew = 5000

// OrderList implements store.Querier.
//
// Every condition is on orders aliased o. A search is the union of two
// disjoint arms: the exact matches (number, external id, e-mail — B-tree
// lookups), and the names containing the text (the trigram index, for a
// text of at least minNamePart characters) that are not exact matches,
// newest first and cut at the page's size, so that a text many names
// contain fills its page from its first matches and a rare one reads only
// its few matches.
func (q *Querier) OrderList(ctx context.Context, p store.OrderListParams) ([]*order.Order, error) {
	var where []string
	var args []any
	if p.Channel != "" {
		where = append(where, `o.channel = ?`)
		args = append(args, p.Channel)
	}
	if p.Status != "" {
		where = append(where, `o.status = ?`)
		args = append(args, string(p.Status))
	}
	if p.PlacedAfter != nil {
		where = append(where, `o.placed_at >= ?`)
		args = append(args, *p.PlacedAfter)
	}
	if p.PlacedBefore != nil {
		where = append(where, `o.placed_at < ?`)
		args = append(args, *p.PlacedBefore)
	}
	if p.Backordered {
		// The few short lines, through their partial index (migration
		// 0009), rather than a probe per order.
		where = append(where, `o.id IN (SELECT order_id FROM order_lines WHERE backordered > 0)`)
	}
	if p.BeforeNumber > 0 {
		where = append(where, `o.number < ?`)
		args = append(args, p.BeforeNumber)
	}
	limit := store.RowLimit(p.Limit)
	// and returns the WHERE clause of conds and the filters.
	and := func(conds ...string) string {
		if conds = append(conds, where...); len(conds) == 0 {
			return ``
		}
		return ` WHERE ` + strings.Join(conds, ` AND `)
	}
	var page string
	if p.Query == "" {
		page = `SELECT o.* FROM orders o` + and() + ` ORDER BY o.number DESC LIMIT ?`
		args = append(args, limit)
	} else {
		filterArgs := args
		f := fold(p.Query)
		exact := OrderSearchExact
		exactArgs := []any{p.Query, f}
		if n, err := strconv.ParseInt(p.Query, 10, 64); err == nil && n > 0 {
			exact = `o.number = ? OR ` + exact
			exactArgs = append([]any{n}, exactArgs...)
		}
		// The exact matches are few (one order per number, one per channel
		// and external id, a customer's orders per e-mail) and taken whole:
		// without ORDER BY … LIMIT, PostgreSQL cannot mistake them for many
		// and read the table by number instead of the three indexes.
		arms := `SELECT o.number FROM orders o` + and(`(`+exact+`)`)
		args = slices.Concat(exactArgs, filterArgs)
		useFTS := q.d.Name == "sqlite" && utf8.RuneCountInString(f) >= minNamePart
		if useFTS && len(where) > 0 {
			// SQLite's planner cannot weigh the FTS5 table against the
			// filters' indexes; this does, cheaply: when the filters alone
			// select fewer than filteredFew orders, reading those (by their
			// index) and testing each name beats reading the name's
			// matches, which are many when the text is common.
			var n int
			err := q.read.queryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM orders o`+and()+` LIMIT ?) AS f`,
				append(slices.Clone(filterArgs), filteredFew)...).Scan(&n)
			if err != nil {
				return nil, err
			}
			useFTS = n >= filteredFew
		}
		if useFTS {
			// The FTS5 table of migration 0013 drives, read in number
			// order (its rowid), each match joined to its order for the
			// filters; the page's cursor also bounds its rowid so that its
			// scan starts there.
			nameArm := `SELECT s.rowid AS number FROM order_search s JOIN orders o ON o.number = s.rowid` +
				and(`s.customer_name_fold MATCH ?`, `NOT (`+exact+`)`)
			args = slices.Concat(args, []any{ftsPhrase(f)}, exactArgs, filterArgs)
			if p.BeforeNumber > 0 {
				nameArm += ` AND s.rowid < ?`
				args = append(args, p.BeforeNumber)
			}
			arms += ` UNION ALL SELECT number FROM (` + nameArm + ` ORDER BY s.rowid DESC LIMIT ?) AS n`
		} else {
			// PostgreSQL: the trigram index of migration 0013 serves the
			// LIKE, and the planner weighs it against the filters' indexes
			// and reading by number. SQLite: a text too short for
			// trigrams, or few orders filtered.
			arms += ` UNION ALL SELECT number FROM (SELECT o.number FROM orders o` +
				and(`o.customer_name_fold LIKE ? ESCAPE '!'`, `NOT (`+exact+`)`) + ` ORDER BY o.number DESC LIMIT ?) AS n`
			args = slices.Concat(args, []any{"%" + likeEscaper.Replace(f) + "%"}, exactArgs, filterArgs)
		}
		args = append(args, limit)
		page = `SELECT o.* FROM orders o WHERE o.number IN (` + arms + `) ORDER BY o.number DESC LIMIT ?`
		args = append(args, limit)
	}
	rs, err := q.read.query(ctx, selectOrders+`(`+page+`) o JOIN order_lines l ON l.order_id = o.id ORDER BY o.number DESC, l.position`, args...)
	if err != nil {
		return nil, err
	}
	return scanOrders(rs)
}

// OrderSearchExact is the order search's exact matches by external id and
// e-mail (exported for the backends' plan tests); the number is put in
// front when the text is one. An external id is looked up in the unique
// (channel, external_id) key, one probe per channel: SQLite has no index
// on external_id alone, one B-tree fewer for every capture to write
// (migration 0016). PostgreSQL keeps that index, which its planner needs
// to put this term in a bitmap OR with the others (it cannot probe a key
// through an IN subquery there), and filters by the channel list.
const OrderSearchExact = `(o.channel IN (SELECT code FROM channels) AND o.external_id = ?) OR o.customer_email_fold = ?`

// orderJSON holds an order's JSON columns, encoded.
type orderJSON struct {
	shipTo, billTo, shippingLines, tags string
	hold, policy, reported              any // nil or string
}

func encodeOrder(o *order.Order) (orderJSON, error) {
	var j orderJSON
	var err error
	for _, f := range []struct {
		dst *string
		v   any
	}{
		{&j.shipTo, o.ShippingAddress},
		{&j.billTo, o.BillingAddress},
		{&j.shippingLines, o.ShippingLines},
		{&j.tags, o.Tags},
	} {
		if *f.dst, err = jsonText(f.v); err != nil {
			return j, err
		}
	}
	if o.Hold != nil {
		if j.hold, err = jsonText(o.Hold); err != nil {
			return j, err
		}
	}
	if o.Policy != nil {
		if j.policy, err = jsonText(o.Policy); err != nil {
			return j, err
		}
	}
	if o.ReportedTotals != nil {
		if j.reported, err = jsonText(o.ReportedTotals); err != nil {
			return j, err
		}
	}
	return j, nil
}

const insertOrderColumns = `id, number, channel, external_id, placed_at, currency,
	customer_name, customer_email, customer_phone, customer_name_fold, customer_email_fold,
	shipping_address, billing_address, shipping_lines, note, tags,
	subtotal, discount_total, shipping_total, tax_total, total,
	status, hold, cancel_reason, created_at, updated_at, version,
	policy, channel_status, financial_status, reported_totals, channel_updated_at`

// orderValues returns the values of insertOrderColumns: placeholders for
// orderArgs, and the dialect's next number.
func (q *Querier) orderValues() string {
	return `?, ` + q.d.NextOrderNumber + `, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?`
}

// orderArgs returns the arguments of orderValues.
func orderArgs(o *order.Order, j orderJSON) []any {
	return []any{o.ID, o.Channel, o.ExternalID, o.PlacedAt, o.Currency,
		o.Customer.Name, o.Customer.Email, o.Customer.Phone, fold(o.Customer.Name), fold(o.Customer.Email),
		j.shipTo, j.billTo, j.shippingLines, o.Note, j.tags,
		o.Totals.Subtotal, o.Totals.DiscountTotal, o.Totals.ShippingTotal, o.Totals.TaxTotal, o.Totals.Total,
		string(o.Status), j.hold, o.CancelReason, o.CreatedAt, o.UpdatedAt, o.Version,
		j.policy, o.ChannelStatus, o.FinancialStatus, j.reported, o.ChannelUpdatedAt}
}

// fusedOrderInsert returns one statement (PostgreSQL) that runs insert,
// an INSERT of the order … RETURNING number whose arguments are args,
// and inserts the lines by a CTE only if the order was inserted (not a
// duplicate); it returns the number, or no row. The lines' foreign key is
// checked at the end of the statement, after the order is in. At most
// lineChunk lines.
func fusedOrderInsert(insert string, args []any, o *order.Order) (string, []any) {
	values := strings.Repeat(`, (CAST(? AS text), CAST(? AS text), CAST(? AS integer), CAST(? AS text), CAST(? AS text), `+
		`CAST(? AS bigint), CAST(? AS bigint), CAST(? AS bigint), CAST(? AS bigint), CAST(? AS bigint), CAST(? AS bigint), `+
		`CAST(? AS bigint), CAST(? AS bigint), CAST(? AS bigint), CAST(? AS bigint))`, len(o.Lines))[2:]
	fused := `WITH o AS (` + insert + `),
		l AS (INSERT INTO order_lines (` + insertLineColumns + `) SELECT * FROM (VALUES ` + values + `) AS v
			WHERE EXISTS (SELECT 1 FROM o))
		SELECT number FROM o`
	return fused, append(args, lineInsertArgs(o, o.Lines, 0)...)
}

const insertLineColumns = `id, order_id, position, sku, name, quantity, unit_price, discount, tax,
	cancelled, allocated, backordered, shipped, delivered, returned`

// lineChunk bounds the lines stored by one INSERT.
const lineChunk = 50

// OrderInsert implements store.Querier.
func (q *Querier) OrderInsert(ctx context.Context, o *order.Order) error {
	j, err := encodeOrder(o)
	if err != nil {
		return err
	}
	return q.orderInsert(ctx, o, j)
}

// orderInsert is OrderInsert with o's JSON j.
func (q *Querier) orderInsert(ctx context.Context, o *order.Order, j orderJSON) error {
	if len(o.Lines) == 0 {
		return orderly.Invalid("lines", "must have at least one line")
	}
	insert := `INSERT INTO orders (` + insertOrderColumns + `) VALUES (` + q.orderValues() + `) ON CONFLICT DO NOTHING RETURNING number`
	var number int64
	if q.d.WritableCTE && q.d.OrderNumberTaken == "" && len(o.Lines) <= lineChunk {
		// One statement, one round trip: the lines are inserted by a CTE
		// only if the order was (not a duplicate). Their foreign key is
		// checked at the end of the statement, after the order is in.
		fused, args := fusedOrderInsert(insert, orderArgs(o, j), o)
		err := q.write.queryRow(ctx, fused, args...).Scan(&number)
		switch {
		case errors.Is(err, store.ErrDuplicate):
			// Line ids are new by construction (order.Init): a bug.
			return fmt.Errorf("insert order: order %s: a line id is already taken", o.ID)
		case orderly.KindOf(err) == orderly.KindInvalid: // the channel's foreign key
			return orderly.Invalid("channel", "channel %q does not exist", o.Channel)
		case err != nil:
			return fmt.Errorf("insert order: %w", returned(err, "channel %q already has an order with external id %q", o.Channel, o.ExternalID))
		}
		o.Number = number
		return nil
	}
	err := q.inTx(ctx, func(c conn) error {
		err := c.queryRow(ctx, insert, orderArgs(o, j)...).Scan(&number)
		switch {
		case orderly.KindOf(err) == orderly.KindInvalid: // the one foreign key
			return orderly.Invalid("channel", "channel %q does not exist", o.Channel)
		case err != nil:
			return returned(err, "channel %q already has an order with external id %q", o.Channel, o.ExternalID)
		}
		if q.d.OrderNumberTaken != "" {
			if _, err := c.exec(ctx, q.d.OrderNumberTaken, number); err != nil {
				return err
			}
		}
		pos := 0
		for chunk := range slices.Chunk(o.Lines, lineChunk) {
			args := lineInsertArgs(o, chunk, pos)
			pos += len(chunk)
			values := strings.Repeat(`, (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, len(chunk))[2:]
			if _, err := c.exec(ctx, `INSERT INTO order_lines (`+insertLineColumns+`) VALUES `+values, args...); err != nil {
				if errors.Is(err, store.ErrDuplicate) {
					// Line ids are new by construction (order.Init): a bug.
					return fmt.Errorf("order %s: a line id is already taken", o.ID)
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("insert order: %w", err)
	}
	o.Number = number
	return nil
}

// lineInsertArgs returns the insertLineColumns of lines, the first at
// position pos.
func lineInsertArgs(o *order.Order, lines []order.Line, pos int) []any {
	args := make([]any, 0, 15*len(lines))
	for _, l := range lines {
		args = append(args, l.ID, o.ID, pos, l.SKU, l.Name, l.Quantity, l.UnitPrice, l.Discount, l.Tax,
			l.Cancelled, l.Allocated, l.Backordered, l.Shipped, l.Delivered, l.Returned)
		pos++
	}
	return args
}

// OrderUpdate implements store.Querier.
func (q *Querier) OrderUpdate(ctx context.Context, o *order.Order) error {
	j, err := encodeOrder(o)
	if err != nil {
		return err
	}
	err = q.inTx(ctx, func(c conn) error {
		n, err := c.exec(ctx, `UPDATE orders SET status = ?, hold = ?, cancel_reason = ?, note = ?, tags = ?,
			subtotal = ?, discount_total = ?, shipping_total = ?, tax_total = ?, total = ?,
			channel_status = ?, financial_status = ?, reported_totals = COALESCE(?, reported_totals),
			channel_updated_at = ?, updated_at = ?, version = version + 1
			WHERE id = ? AND version = ?`,
			string(o.Status), j.hold, o.CancelReason, o.Note, j.tags,
			o.Totals.Subtotal, o.Totals.DiscountTotal, o.Totals.ShippingTotal, o.Totals.TaxTotal, o.Totals.Total,
			o.ChannelStatus, o.FinancialStatus, j.reported, o.ChannelUpdatedAt, o.UpdatedAt, o.ID, o.Version)
		if err != nil {
			return err
		}
		if n == 0 {
			var version int64
			if err := c.queryRow(ctx, `SELECT version FROM orders WHERE id = ?`, o.ID).Scan(&version); err != nil {
				return renotFound(err, "order %s not found", o.ID)
			}
			return &orderly.Error{Kind: orderly.KindConflict, Code: store.CodeVersionConflict,
				Message: fmt.Sprintf("order %d was changed by someone else (version %d, not %d); reload it and try again", o.Number, version, o.Version)}
		}
		for _, l := range o.Lines {
			// Name and prices too: a marketplace order captured while
			// pending (Amazon) gets them only when it is confirmed.
			n, err := c.exec(ctx, `UPDATE order_lines SET name = ?, unit_price = ?, discount = ?, tax = ?,
				cancelled = ?, allocated = ?, backordered = ?, shipped = ?, delivered = ?, returned = ?
				WHERE id = ? AND order_id = ?`,
				l.Name, l.UnitPrice, l.Discount, l.Tax,
				l.Cancelled, l.Allocated, l.Backordered, l.Shipped, l.Delivered, l.Returned, l.ID, o.ID)
			if err := updated(n, err, "order %s has no line %s", o.ID, l.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update order: %w", err)
	}
	o.Version++
	return nil
}
