package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// Adjustment is a client's stock movement: a delta with a reason.
type Adjustment struct {
	Location  string
	SKU       string
	Delta     int64
	Reason    inventory.Reason
	Reference string
}

// requireStock checks that p may manage stock at location.
func requireStock(p auth.Principal, location string) error {
	if err := require(p, auth.PermInventoryManage); err != nil {
		return err
	}
	if !p.WorksAt(location) {
		return orderly.Errorf(orderly.KindForbidden, "this key may only manage stock at location %q", p.Location)
	}
	return nil
}

// checkStockKey refuses an unknown location or SKU, naming the field.
func (s *Service) checkStockKey(ctx context.Context, location, sku string) error {
	var pr orderly.Problems
	if _, err := s.store.LocationGet(ctx, location); orderly.KindOf(err) == orderly.KindNotFound {
		pr.Add("location", "unknown location %q", location)
	} else if err != nil {
		return err
	}
	if _, err := s.store.SKUGet(ctx, sku); orderly.KindOf(err) == orderly.KindNotFound {
		pr.Add("sku", "unknown SKU %q", sku)
	} else if err != nil {
		return err
	}
	return pr.Err()
}

// AdjustStock records a movement of on-hand stock (a receipt, damage, a
// correction, a transfer leg). A movement that would take on hand below
// zero is refused (KindInvalid naming delta) and writes nothing. One that
// takes it below what is reserved raises a shortage.
func (s *Service) AdjustStock(ctx context.Context, p auth.Principal, a Adjustment) (*inventory.Balance, *inventory.Movement, error) {
	if err := requireStock(p, a.Location); err != nil {
		return nil, nil, err
	}
	if err := inventory.ValidateAdjustment(a.Location, a.SKU, a.Delta, a.Reason, a.Reference); err != nil {
		return nil, nil, err
	}
	if err := s.checkStockKey(ctx, a.Location, a.SKU); err != nil {
		return nil, nil, err
	}
	var (
		bal *inventory.Balance
		m   *inventory.Movement
	)
	err := s.store.InTx(ctx, func(tx store.Querier) error {
		now := s.clock.Now()
		m = &inventory.Movement{ID: orderly.NewID(), SKU: a.SKU, Location: a.Location, DeltaOnHand: a.Delta,
			Reason: a.Reason, Reference: a.Reference, Actor: p.Actor(), At: now}
		var err error
		bal, err = tx.StockMove(ctx, m)
		if errors.Is(err, store.ErrNegativeStock) {
			return orderly.Invalid("delta", "would take on hand below zero")
		}
		if err != nil {
			return err
		}
		if err := tx.EventInsert(ctx, s.event("inventory.adjusted", "inventory", a.Location+"/"+a.SKU, "", p.Actor(),
			map[string]any{"location": a.Location, "sku": a.SKU, "delta": a.Delta, "reason": a.Reason,
				"reference": a.Reference, "on_hand": bal.OnHand, "reserved": bal.Reserved})); err != nil {
			return err
		}
		return s.checkShortage(ctx, tx, bal, p.Actor(), now)
	})
	if err != nil {
		return nil, nil, err
	}
	return bal, m, nil
}

// Count is an absolute stock figure for one SKU at one location.
type Count struct {
	Location string
	SKU      string
	OnHand   int64
	// SafetyStock, when set, replaces the balance's safety stock.
	SafetyStock *int64
	Reference   string
}

// CountStock sets a balance to counted figures. The on-hand change is a
// count movement carrying the difference. A count below what is reserved is
// accepted — it is the truth — and raises a shortage: an inventory.shortage
// event, and the newest orders whose reservations are no longer covered are
// put on hold with reason stock_shortage.
func (s *Service) CountStock(ctx context.Context, p auth.Principal, c Count) (*inventory.Balance, error) {
	if err := requireStock(p, c.Location); err != nil {
		return nil, err
	}
	var pr orderly.Problems
	if c.OnHand < 0 || c.OnHand > inventory.MaxQuantity {
		pr.Add("on_hand", "must be between 0 and %d", inventory.MaxQuantity)
	}
	if c.SafetyStock != nil && (*c.SafetyStock < 0 || *c.SafetyStock > inventory.MaxQuantity) {
		pr.Add("safety_stock", "must be between 0 and %d", inventory.MaxQuantity)
	}
	orderly.CheckText(&pr, "reference", c.Reference, 200)
	if err := pr.Err(); err != nil {
		return nil, err
	}
	if err := s.checkStockKey(ctx, c.Location, c.SKU); err != nil {
		return nil, err
	}
	var bal *inventory.Balance
	err := s.store.InTx(ctx, func(tx store.Querier) error {
		now := s.clock.Now()
		var err error
		bal, err = s.applyCount(ctx, tx, c, inventory.ReasonCount, p.Actor(), now)
		if err != nil {
			return err
		}
		return s.checkShortage(ctx, tx, bal, p.Actor(), now)
	})
	return bal, err
}

// applyCount moves a locked balance to c.OnHand (and c.SafetyStock) and
// records the count event. It returns the new balance.
func (s *Service) applyCount(ctx context.Context, tx store.Querier, c Count, reason inventory.Reason, actor string, now time.Time) (*inventory.Balance, error) {
	locked, err := tx.BalancesLock(ctx, []string{c.SKU}, []string{c.Location})
	if err != nil {
		return nil, err
	}
	before := inventory.Balance{SKU: c.SKU, Location: c.Location}
	if len(locked) == 1 {
		before = *locked[0]
	}
	bal := &before
	if delta := c.OnHand - before.OnHand; delta != 0 || len(locked) == 0 {
		bal, err = tx.StockMove(ctx, &inventory.Movement{ID: orderly.NewID(), SKU: c.SKU, Location: c.Location,
			DeltaOnHand: delta, Reason: reason, Reference: c.Reference, Actor: actor, At: now})
		if err != nil {
			return nil, err
		}
	}
	if c.SafetyStock != nil && *c.SafetyStock != bal.SafetyStock {
		if bal, err = tx.BalanceSetSafetyStock(ctx, c.Location, c.SKU, *c.SafetyStock, now); err != nil {
			return nil, err
		}
	}
	return bal, tx.EventInsert(ctx, s.event("inventory.counted", "inventory", c.Location+"/"+c.SKU, "", actor,
		map[string]any{"location": c.Location, "sku": c.SKU, "from": before.OnHand, "to": bal.OnHand,
			"safety_stock": bal.SafetyStock, "reserved": bal.Reserved, "reference": c.Reference}))
}

// checkShortage raises a shortage when a balance has more reserved than on
// hand: an inventory.shortage event, and the newest allocations that are no
// longer covered have their orders put on hold (stock_shortage) so nobody
// ships what is not there. Routing will re-route them.
func (s *Service) checkShortage(ctx context.Context, tx store.Querier, bal *inventory.Balance, actor string, now time.Time) error {
	short := bal.Shortage()
	if short == 0 {
		return nil
	}
	allocs, err := tx.AllocationListByStock(ctx, bal.Location, bal.SKU)
	if err != nil {
		return err
	}
	var affected []string
	seen := map[string]bool{}
	for _, a := range allocs { // newest first
		if short <= 0 {
			break
		}
		short -= a.Quantity
		if !seen[a.OrderID] {
			seen[a.OrderID] = true
			affected = append(affected, a.OrderID)
		}
	}
	if err := tx.EventInsert(ctx, s.event("inventory.shortage", "inventory", bal.Location+"/"+bal.SKU, "", actor,
		map[string]any{"location": bal.Location, "sku": bal.SKU, "on_hand": bal.OnHand, "reserved": bal.Reserved,
			"short": bal.Shortage(), "orders": affected})); err != nil {
		return err
	}
	for _, id := range affected {
		if err := tx.OrderLock(ctx, id); err != nil {
			return err
		}
		o, err := tx.OrderGet(ctx, id)
		if err != nil {
			return err
		}
		from := o.Status
		if err := o.PutOnHold(HoldStockShortage, now); err != nil {
			if errors.Is(err, order.ErrInvalidTransition) {
				continue // already on hold: the shortage event names it
			}
			return err
		}
		if err := tx.OrderUpdate(ctx, o); err != nil {
			return err
		}
		if err := tx.EventInsert(ctx, s.event("order.held", "order", o.ID, o.ID, actor,
			map[string]any{"reason": HoldStockShortage, "from": from, "to": o.Status,
				"location": bal.Location, "sku": bal.SKU})); err != nil {
			return err
		}
	}
	return nil
}

// Snapshot is a stock count of a location sent by a WMS, ERP or POS.
type Snapshot struct {
	Location string
	Mode     inventory.SnapshotMode
	// Apply corrects the balances; without it the snapshot only reports.
	Apply bool
	// CountedAt is when the count was taken; movements after it explain drift.
	CountedAt *time.Time
	Items     []SnapshotItem
}

// SnapshotItem is one SKU's counted on-hand quantity.
type SnapshotItem struct {
	SKU    string
	OnHand int64
}

// MaxSnapshotItems bounds one snapshot request.
const MaxSnapshotItems = 10_000

// SubmitSnapshot compares a snapshot with Orderly's balances and stores a
// reconciliation report: per SKU the expected and counted figures, the
// drift and its likely cause. With Apply, each balance is corrected to the
// count — adjusted for movements Orderly recorded after the count was
// taken — through count movements. SKUs not in the catalogue are reported
// (cause unknown_sku) and never applied. Without Apply no balance changes.
func (s *Service) SubmitSnapshot(ctx context.Context, p auth.Principal, sn Snapshot) (*inventory.Report, error) {
	if err := requireStock(p, sn.Location); err != nil {
		return nil, err
	}
	var pr orderly.Problems
	if sn.Mode != inventory.SnapshotFull && sn.Mode != inventory.SnapshotPartial {
		pr.Add("mode", "must be full or partial")
	}
	if len(sn.Items) > MaxSnapshotItems {
		pr.Add("items", "has more than %d items", MaxSnapshotItems)
	}
	if sn.CountedAt != nil && sn.CountedAt.After(s.clock.Now()) {
		pr.Add("counted_at", "is in the future")
	}
	counted := make(map[string]int64, len(sn.Items))
	skus := make([]string, 0, len(sn.Items))
	for i, it := range sn.Items {
		f := "items[" + strconv.Itoa(i) + "]"
		switch {
		case !inventory.ValidSKUCode(it.SKU):
			pr.Add(f+".sku", "is not a valid SKU code")
		case it.OnHand < 0 || it.OnHand > inventory.MaxQuantity:
			pr.Add(f+".on_hand", "must be between 0 and %d", inventory.MaxQuantity)
		default:
			if _, dup := counted[it.SKU]; dup {
				pr.Add(f+".sku", "lists %q twice", it.SKU)
			}
		}
		counted[it.SKU] = it.OnHand
		skus = append(skus, it.SKU)
	}
	if err := pr.Err(); err != nil {
		return nil, err
	}
	if _, err := s.store.LocationGet(ctx, sn.Location); orderly.KindOf(err) == orderly.KindNotFound {
		return nil, orderly.Invalid("location", "unknown location %q", sn.Location)
	} else if err != nil {
		return nil, err
	}
	unknown := map[string]bool{}
	if len(skus) > 0 {
		missing, err := s.store.SKUMissing(ctx, skus)
		if err != nil {
			return nil, err
		}
		for _, m := range missing {
			unknown[m] = true
		}
	}

	var report *inventory.Report
	var created int // balances the snapshot created
	txCtx := ctx
	if len(sn.Items) > aloneAbove || sn.Mode == inventory.SnapshotFull {
		txCtx = store.Alone(ctx) // a large write: not inside a group-commit batch
	}
	err := s.store.InTx(txCtx, func(tx store.Querier) error {
		now := s.clock.Now()
		// Every SKU held at the location (for a full snapshot) and every SKU
		// counted, locked in one go so the comparison and corrections see
		// one state.
		keys := slices.Clone(skus)
		if sn.Mode == inventory.SnapshotFull {
			held, err := balancesAt(ctx, tx, sn.Location)
			if err != nil {
				return err
			}
			for _, b := range held {
				keys = append(keys, b.SKU)
			}
		}
		slices.Sort(keys)
		keys = slices.Compact(keys)
		balances, err := tx.BalancesLock(ctx, keys, []string{sn.Location})
		if err != nil {
			return err
		}
		moved := map[string]int64{}
		if sn.CountedAt != nil {
			if moved, err = tx.MovementSumSince(ctx, sn.Location, *sn.CountedAt); err != nil {
				return err
			}
		}
		report = &inventory.Report{ID: orderly.NewID(), Location: sn.Location, Mode: sn.Mode, Applied: sn.Apply,
			CountedAt: sn.CountedAt, Actor: p.Actor(), CreatedAt: now,
			Lines: inventory.Compare(balances, counted, sn.Mode, moved)}
		for i := range report.Lines {
			if unknown[report.Lines[i].SKU] {
				report.Lines[i].Cause = inventory.CauseUnknownSKU
			}
		}
		report.Summarise()
		if err := tx.ReportInsert(ctx, report); err != nil {
			return err
		}
		if report.Drifted > 0 {
			if err := tx.EventInsert(ctx, s.event("inventory.drift_detected", "location", sn.Location, "", p.Actor(),
				map[string]any{"report_id": report.ID, "location": sn.Location, "skus": report.SKUs,
					"drifted": report.Drifted, "drift_units": report.DriftUnits, "applied": sn.Apply})); err != nil {
				return err
			}
		}
		if !sn.Apply {
			return nil
		}
		created, err = s.applySnapshot(ctx, tx, report, balances, p.Actor(), now)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.refreshStockStats(ctx, created)
	return report, nil
}

// applySnapshot corrects the balances of a report's lines that have a
// correction (SKUs Orderly knows only) to the count carried forward, never
// below zero: what applyCount and checkShortage do for one SKU, for all of
// them in a few round trips. locked are the balances SubmitSnapshot has
// locked at the location. The count movements go in one StockCount; the
// inventory.counted events, in the lines' order, in one EventInsert, cut
// only where a balance falls short, whose shortage events and holds follow
// its counted event as before. It returns how many balances it created.
func (s *Service) applySnapshot(ctx context.Context, tx store.Querier, r *inventory.Report, locked []*inventory.Balance, actor string, now time.Time) (created int, err error) {
	held := make(map[string]*inventory.Balance, len(locked))
	for _, b := range locked {
		held[b.SKU] = b
	}
	reference := "reconciliation:" + r.ID
	type counted struct {
		from int64
		bal  *inventory.Balance // the balance after the count
		move int                // index in moves, or -1 if nothing moved
	}
	var (
		counts []counted
		moves  []*inventory.Movement
	)
	for _, l := range r.Lines {
		if l.Correction() == 0 || l.Cause == inventory.CauseUnknownSKU {
			continue
		}
		c := counted{bal: &inventory.Balance{SKU: l.SKU, Location: r.Location}, move: -1}
		b, ok := held[l.SKU]
		if ok {
			c.bal = b
		}
		c.from = c.bal.OnHand
		// As applyCount: a count that changes nothing moves nothing, unless
		// there is no balance yet.
		if !ok {
			created++
		}
		if delta := max(0, l.Expected+l.Correction()) - c.from; delta != 0 || !ok {
			c.move = len(moves)
			moves = append(moves, &inventory.Movement{ID: orderly.NewID(), SKU: l.SKU, Location: r.Location,
				DeltaOnHand: delta, Reason: inventory.ReasonCount, Reference: reference, Actor: actor, At: now})
		}
		counts = append(counts, c)
	}
	if len(moves) > 0 {
		bals, err := tx.StockCount(ctx, moves)
		if err != nil {
			return 0, err
		}
		for i := range counts {
			if counts[i].move >= 0 {
				counts[i].bal = bals[counts[i].move]
			}
		}
	}
	var events []*orderly.Event
	for _, c := range counts {
		b := c.bal
		events = append(events, s.event("inventory.counted", "inventory", b.Location+"/"+b.SKU, "", actor,
			map[string]any{"location": b.Location, "sku": b.SKU, "from": c.from, "to": b.OnHand,
				"safety_stock": b.SafetyStock, "reserved": b.Reserved, "reference": reference}))
		if b.Shortage() == 0 {
			continue
		}
		if err := tx.EventInsert(ctx, events...); err != nil {
			return 0, err
		}
		events = nil
		if err := s.checkShortage(ctx, tx, b, actor, now); err != nil {
			return 0, err
		}
	}
	return created, tx.EventInsert(ctx, events...)
}

// stockStats refreshes the planner's statistics of the stock balances
// (store.AnalyzeStock) after a bulk change: one refresh at a time, at most
// one per analyzeEvery, after a change that created at least analyzeAfter
// balances. A bulk load of many snapshots so refreshes as it grows; what
// its last snapshots add, autovacuum samples a minute or so later.
type stockStats struct {
	mu   sync.Mutex
	last time.Time
}

const (
	analyzeAfter = 1000
	analyzeEvery = 10 * time.Second
)

// refreshStockStats refreshes the statistics if created is large enough
// and no refresh runs or ran in the last analyzeEvery. A failure is
// logged: the change it follows is committed, and plans only get slower.
func (s *Service) refreshStockStats(ctx context.Context, created int) {
	st := &s.stockStats
	if created < analyzeAfter || !st.mu.TryLock() {
		return // a refresh running now may miss these rows; the next bulk change or autovacuum will not
	}
	defer st.mu.Unlock()
	if time.Since(st.last) < analyzeEvery {
		return
	}
	st.last = time.Now()
	if err := s.store.AnalyzeStock(ctx); err != nil {
		s.log.WarnContext(ctx, "refresh stock statistics", "err", err)
	}
}

// aloneAbove is the number of snapshot items above which a snapshot runs
// as a transaction of its own (store.Alone).
const aloneAbove = 100

// balancesAt returns every balance at a location.
func balancesAt(ctx context.Context, q store.Querier, location string) ([]*inventory.Balance, error) {
	var out []*inventory.Balance
	p := store.BalanceListParams{Location: location, Limit: store.MaxLimit}
	for {
		page, err := q.BalanceList(ctx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < store.MaxLimit {
			return out, nil
		}
		p.AfterLocation, p.AfterSKU = page[len(page)-1].Location, page[len(page)-1].SKU
	}
}

// ListBalances returns a page of balances ordered by (location, sku) and the
// params of the next page (nil when this is the last).
func (s *Service) ListBalances(ctx context.Context, p auth.Principal, params store.BalanceListParams) ([]*inventory.Balance, *store.BalanceListParams, error) {
	if err := require(p, auth.PermInventoryRead); err != nil {
		return nil, nil, err
	}
	limit := store.Limit(params.Limit)
	params.Limit = limit + 1
	items, err := s.store.BalanceList(ctx, params)
	if err != nil {
		return nil, nil, err
	}
	if len(items) <= limit {
		return items, nil, nil
	}
	items = items[:limit]
	next := params
	next.Limit = limit
	next.AfterLocation, next.AfterSKU = items[limit-1].Location, items[limit-1].SKU
	return items, &next, nil
}

// Ledger returns a page of one balance's movements, newest first, and the
// BeforeSeq of the next page (0 when this is the last).
func (s *Service) Ledger(ctx context.Context, p auth.Principal, params store.MovementListParams) ([]*inventory.Movement, int64, error) {
	if err := require(p, auth.PermInventoryRead); err != nil {
		return nil, 0, err
	}
	limit := store.Limit(params.Limit)
	params.Limit = limit + 1
	items, err := s.store.MovementList(ctx, params)
	if err != nil {
		return nil, 0, err
	}
	if len(items) <= limit {
		return items, 0, nil
	}
	items = items[:limit]
	return items, items[limit-1].Seq, nil
}

// SKUAvailability is what can be promised of one SKU.
type SKUAvailability struct {
	SKU string `json:"sku"`
	// Available is the sum over the locations that feed the channel (every
	// active location when no channel is given).
	Available int64                  `json:"available"`
	Locations []LocationAvailability `json:"locations"`
}

// LocationAvailability is one location's part of a SKU's availability.
type LocationAvailability struct {
	Location    string `json:"location"`
	OnHand      int64  `json:"on_hand"`
	Reserved    int64  `json:"reserved"`
	SafetyStock int64  `json:"safety_stock"`
	Available   int64  `json:"available"`
}

// MaxAvailabilitySKUs bounds one availability request.
const MaxAvailabilitySKUs = 100

// Availability returns, per SKU asked for (in the order asked), what is
// available at the locations that feed channelCode, or at every active
// location when channelCode is empty (a channel key always reads its own
// channel's). Unknown SKUs have nothing available.
func (s *Service) Availability(ctx context.Context, p auth.Principal, skus []string, channelCode string) ([]SKUAvailability, error) {
	if err := require(p, auth.PermInventoryRead); err != nil {
		return nil, err
	}
	if p.Role == auth.RoleChannel {
		// A channel key sees what its own channel sells.
		if channelCode != "" && channelCode != p.Channel {
			return nil, orderly.Errorf(orderly.KindForbidden, "this key may only read availability for channel %q", p.Channel)
		}
		channelCode = p.Channel
	}
	switch {
	case len(skus) == 0:
		return nil, orderly.Invalid("sku", "name at least one SKU")
	case len(skus) > MaxAvailabilitySKUs:
		return nil, orderly.Invalid("sku", "at most %d SKUs per request", MaxAvailabilitySKUs)
	}
	// One read (one round trip on PostgreSQL): the channel, the active
	// locations and the balances' figures.
	v, err := s.store.AvailabilityRead(ctx, channelCode, skus)
	if err != nil {
		return nil, err
	}
	ch := &channelAll
	if channelCode != "" {
		if v.Channel == nil {
			return nil, orderly.Invalid("channel", "unknown channel %q", channelCode)
		}
		ch = v.Channel
	}
	feeds := feedingSet(v.Active, ch)
	// The balances come ordered by SKU: each SKU's are one run of them.
	runs := make(map[string][2]int, len(skus))
	for i := 0; i < len(v.Balances); {
		j := i + 1
		for j < len(v.Balances) && v.Balances[j].SKU == v.Balances[i].SKU {
			j++
		}
		runs[v.Balances[i].SKU] = [2]int{i, j}
		i = j
	}
	out := make([]SKUAvailability, 0, len(skus))
	locs := make([]LocationAvailability, 0, len(v.Balances)) // every SKU's, one allocation
	seen := make(map[string]bool, len(skus))
	for _, sku := range skus {
		if seen[sku] {
			continue
		}
		seen[sku] = true
		a := SKUAvailability{SKU: sku}
		start := len(locs)
		r := runs[sku]
		for _, b := range v.Balances[r[0]:r[1]] {
			if !feeds[b.Location] {
				continue
			}
			locs = append(locs, LocationAvailability{Location: b.Location, OnHand: b.OnHand,
				Reserved: b.Reserved, SafetyStock: b.SafetyStock, Available: b.Available()})
			a.Available += b.Available()
		}
		a.Locations = locs[start:len(locs):len(locs)]
		out = append(out, a)
	}
	return out, nil
}

// ListReports returns a page of reconciliation reports, newest first, and
// the cursor of the next page ("" when this is the last).
func (s *Service) ListReports(ctx context.Context, p auth.Principal, location string, lp store.ListParams) ([]*inventory.Report, string, error) {
	if err := require(p, auth.PermInventoryRead); err != nil {
		return nil, "", err
	}
	return page(ctx, lp, func(ctx context.Context, lp store.ListParams) ([]*inventory.Report, error) {
		return s.store.ReportList(ctx, location, lp)
	}, func(r *inventory.Report) string { return r.ID })
}

// GetReport returns a reconciliation report with its lines.
func (s *Service) GetReport(ctx context.Context, p auth.Principal, id string) (*inventory.Report, error) {
	if err := require(p, auth.PermInventoryRead); err != nil {
		return nil, err
	}
	return notFoundAs(s.store.ReportGet(ctx, id))("reconciliation report %q not found", id)
}

// OrderAllocations returns an order's open allocations: where its reserved
// units sit. The caller has already been allowed to see the order.
func (s *Service) OrderAllocations(ctx context.Context, p auth.Principal, orderID string) ([]*inventory.Allocation, error) {
	if err := require(p, auth.PermOrdersRead); err != nil {
		return nil, err
	}
	return s.store.AllocationListByOrder(ctx, orderID)
}

// CheckLedger recomputes every balance from the ledger and compares
// reserved with the open allocations: the integrity check behind `orderly
// reconcile`. An operator command: it takes no principal.
func (s *Service) CheckLedger(ctx context.Context) ([]store.LedgerMismatch, error) {
	mismatches, err := s.store.LedgerCheck(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger check: %w", err)
	}
	return mismatches, nil
}
