package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/outbound"
	"github.com/orderly-oms/orderly/store"
)

// Push-back: telling a channel what Orderly did to its orders and stock
// (docs/decisions/0010-channel-jobs.md). The jobs are enqueued in the
// transaction of the change that causes them, by a wrapper around every
// service transaction (channelAwareStore) that watches what the
// transaction writes — shipments, cancellation events, stock movements —
// and, before it commits, enqueues:
//   - channel.push_shipment for a shipment of a channel order;
//   - channel.push_cancellation when Orderly (not the channel) cancels a
//     channel order;
//   - channel.push_line_cancellation when Orderly (not the channel) cancels
//     some units of a channel order and the rest goes on;
//   - channel.push_stock when the availability of SKUs the channel lists
//     changes, coalesced: one pending job per channel whatever the number
//     of movements, the SKUs kept in stock_push_pending.
// Watching the writes, rather than calling a helper at each place that
// moves stock, means a new use case that moves stock cannot forget to.
// Only channels with an enabled connector whose connector has the
// capability get jobs; with no registry (s.Connectors nil) nothing is
// watched.

// The kinds of the channel jobs.
const (
	KindChannelPoll      = "channel.poll"
	KindPushShipment     = "channel.push_shipment"
	KindPushCancellation = "channel.push_cancellation"
	KindPushStock        = "channel.push_stock"
	// KindPushLineCancellation is a partial cancellation's push.
	KindPushLineCancellation = "channel.push_line_cancellation"
)

// ChannelJobKinds lists the kinds of the channel jobs.
var ChannelJobKinds = []string{KindChannelPoll, KindPushShipment, KindPushCancellation, KindPushLineCancellation, KindPushStock}

// The connector settings push-back reads (besides each connector's own).
const (
	// SettingStockLocation is the channel's location id that stock is
	// published to (Shopify location_id).
	SettingStockLocation = "stock_location"
	// SettingItemPrefix + SKU is the channel's id of the SKU's stock item
	// (Shopify inventory_item_id). Only SKUs with one are published.
	SettingItemPrefix = "item."
	// SettingNotifyCustomer "true" asks the platform to e-mail the buyer
	// about shipments and cancellations.
	SettingNotifyCustomer = "notify_customer"
)

// channelAwareStore is the service's store: every InTx also enqueues the
// push-back its transaction causes.
type channelAwareStore struct {
	store.Store
	s *Service
}

// InTx implements store.Store.
func (c channelAwareStore) InTx(ctx context.Context, fn func(tx store.Querier) error) error {
	return c.Store.InTx(ctx, func(tx store.Querier) error {
		if c.s.Connectors == nil {
			return fn(tx)
		}
		w := &watchedTx{Querier: tx}
		if err := fn(w); err != nil {
			return err
		}
		return c.s.enqueuePushBack(ctx, tx, w)
	})
}

// watchedTx records what a transaction writes that a channel may need to
// hear about.
type watchedTx struct {
	store.Querier
	skus      []string        // in the order first touched
	seen      map[string]bool // skus, as a set: a snapshot touches thousands
	shipments []*fulfilment.Shipment
	cancelled []cancelled
	partial   []cancelled // some units, the order going on
}

type cancelled struct {
	orderID, reason string
	eventID         string                    // partial: names the cancellation to the channel
	lines           []fulfilment.LineQuantity // partial: what was cancelled
}

func (w *watchedTx) touch(skus ...string) {
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	for _, s := range skus {
		if !w.seen[s] {
			w.seen[s] = true
			w.skus = append(w.skus, s)
		}
	}
}

func (w *watchedTx) StockMove(ctx context.Context, m *inventory.Movement) (*inventory.Balance, error) {
	b, err := w.Querier.StockMove(ctx, m)
	if err == nil {
		w.touch(m.SKU)
	}
	return b, err
}

func (w *watchedTx) StockCount(ctx context.Context, ms []*inventory.Movement) ([]*inventory.Balance, error) {
	bs, err := w.Querier.StockCount(ctx, ms)
	if err == nil {
		for _, m := range ms {
			w.touch(m.SKU)
		}
	}
	return bs, err
}

func (w *watchedTx) StockReserve(ctx context.Context, orderID string, picks []inventory.Pick, actor string, at time.Time) ([]*inventory.Allocation, error) {
	as, err := w.Querier.StockReserve(ctx, orderID, picks, actor, at)
	if err == nil {
		for _, p := range picks {
			w.touch(p.SKU)
		}
	}
	return as, err
}

func (w *watchedTx) OrderCapture(ctx context.Context, p store.CaptureParams) error {
	err := w.Querier.OrderCapture(ctx, p)
	if err == nil {
		for _, pk := range p.Picks {
			w.touch(pk.SKU)
		}
	}
	return err
}

func (w *watchedTx) BalanceSetSafetyStock(ctx context.Context, location, sku string, safety int64, at time.Time) (*inventory.Balance, error) {
	b, err := w.Querier.BalanceSetSafetyStock(ctx, location, sku, safety, at)
	if err == nil {
		w.touch(sku)
	}
	return b, err
}

func (w *watchedTx) ShipmentInsert(ctx context.Context, sh *fulfilment.Shipment) error {
	err := w.Querier.ShipmentInsert(ctx, sh)
	if err == nil {
		w.shipments = append(w.shipments, sh)
	}
	return err
}

// EventInsert watches for an order becoming cancelled by anyone but its
// channel: order.cancelled, or order.lines_cancelled that left nothing;
// and for order.lines_cancelled that left the order going on.
func (w *watchedTx) EventInsert(ctx context.Context, es ...*orderly.Event) error {
	err := w.Querier.EventInsert(ctx, es...)
	if err != nil {
		return err
	}
	for _, e := range es {
		if e.OrderID == "" || strings.HasPrefix(e.Actor, "channel:") {
			continue
		}
		var data struct {
			Reason string                    `json:"reason"`
			To     string                    `json:"to"`
			Lines  []fulfilment.LineQuantity `json:"lines"`
		}
		_ = json.Unmarshal(e.Data, &data)
		switch {
		case e.Type == "order.cancelled" || e.Type == "order.lines_cancelled" && data.To == string(order.StatusCancelled):
			w.cancelled = append(w.cancelled, cancelled{orderID: e.OrderID, reason: data.Reason})
		case e.Type == "order.lines_cancelled" && len(data.Lines) > 0:
			w.partial = append(w.partial, cancelled{orderID: e.OrderID, reason: data.Reason, eventID: e.ID, lines: data.Lines})
		}
	}
	return nil
}

// pushArgs are the arguments of the push-back jobs.
type pushArgs struct {
	Channel    string `json:"channel"`
	OrderID    string `json:"order_id,omitempty"`
	ShipmentID string `json:"shipment_id,omitempty"`
	Reason     string `json:"reason,omitempty"`
	// EventID and Lines are a partial cancellation's: its event and units.
	EventID string                    `json:"event_id,omitempty"`
	Lines   []fulfilment.LineQuantity `json:"lines,omitempty"`
}

// withConnectors returns ctx carrying the connector configurations read
// before the transaction (store.IntakeView), which enqueuePushBack then
// uses instead of reading them inside it: capture saves a statement (on
// PostgreSQL a round trip) in its transaction. Configurations change
// rarely, and a push job reads its channel's again when it runs.
func withConnectors(ctx context.Context, cfgs []*store.ChannelConnector) context.Context {
	if cfgs == nil {
		cfgs = []*store.ChannelConnector{} // read, and none: not "unknown"
	}
	return context.WithValue(ctx, connectorsKey{}, cfgs)
}

type connectorsKey struct{}

// enqueuePushBack enqueues, in tx, the jobs of what w recorded.
func (s *Service) enqueuePushBack(ctx context.Context, tx store.Querier, w *watchedTx) error {
	if len(w.skus) == 0 && len(w.shipments) == 0 && len(w.cancelled) == 0 && len(w.partial) == 0 {
		return nil
	}
	cfgs, read := ctx.Value(connectorsKey{}).([]*store.ChannelConnector)
	if !read {
		var err error
		if cfgs, err = tx.ChannelConnectorList(ctx); err != nil {
			return err
		}
	}
	if len(cfgs) == 0 {
		return nil
	}
	now := s.clock.Now()
	// The connectors are opened only to learn what they can do: no
	// credentials needed, no I/O.
	conns := map[string]connector.Connector{}
	for _, cfg := range cfgs {
		if !cfg.Enabled {
			continue
		}
		c, err := s.Connectors.Open(cfg.Kind, connector.Config{Channel: cfg.Channel})
		if err != nil {
			continue // no connector for this kind on this build: nothing to push
		}
		conns[cfg.Channel] = c
	}
	orderChannel := func(id string) (string, connector.Connector, error) {
		o, err := tx.OrderGet(ctx, id)
		if err != nil {
			return "", nil, err
		}
		return o.Channel, conns[o.Channel], nil
	}
	for _, sh := range w.shipments {
		code, c, err := orderChannel(sh.OrderID)
		if err != nil {
			return err
		}
		if _, ok := c.(connector.ShipmentPusher); ok {
			if err := tx.JobInsert(ctx, outbound.NewJob(KindPushShipment,
				pushArgs{Channel: code, OrderID: sh.OrderID, ShipmentID: sh.ID}, now)); err != nil {
				return err
			}
		}
	}
	for _, cn := range w.cancelled {
		code, c, err := orderChannel(cn.orderID)
		if err != nil {
			return err
		}
		if _, ok := c.(connector.CancellationPusher); ok {
			if err := tx.JobInsert(ctx, outbound.NewJob(KindPushCancellation,
				pushArgs{Channel: code, OrderID: cn.orderID, Reason: cn.reason}, now)); err != nil {
				return err
			}
		}
	}
	for _, cn := range w.partial {
		code, c, err := orderChannel(cn.orderID)
		if err != nil {
			return err
		}
		if _, ok := c.(connector.LineCancellationPusher); ok {
			if err := tx.JobInsert(ctx, outbound.NewJob(KindPushLineCancellation,
				pushArgs{Channel: code, OrderID: cn.orderID, Reason: cn.reason, EventID: cn.eventID, Lines: cn.lines}, now)); err != nil {
				return err
			}
		}
	}
	if len(w.skus) == 0 {
		return nil
	}
	for _, cfg := range cfgs {
		if _, ok := conns[cfg.Channel].(connector.StockPusher); !ok {
			continue
		}
		var listed []string
		for _, sku := range w.skus {
			if cfg.Settings[SettingItemPrefix+sku] != "" {
				listed = append(listed, sku)
			}
		}
		if len(listed) == 0 {
			continue
		}
		if err := s.markStock(ctx, tx, cfg.Channel, listed); err != nil {
			return err
		}
	}
	return nil
}

// markStock records skus as pending for the channel and makes sure one
// stock-push job is pending: the one in the channel's slot if it is still
// to run, else a new one swapped in.
func (s *Service) markStock(ctx context.Context, tx store.Querier, channelCode string, skus []string) error {
	now := s.clock.Now()
	slot, err := tx.StockPushMark(ctx, channelCode, skus, now)
	if err != nil {
		return err
	}
	if slot != "" {
		j, err := tx.JobGet(ctx, slot)
		if err == nil && (j.State == store.JobAvailable || j.State == store.JobRunning) {
			return nil // coalesced: that job reads the pending SKUs when it runs
		} else if err != nil && orderly.KindOf(err) != orderly.KindNotFound {
			return err
		}
	}
	return s.swapInJob(ctx, tx, channelCode, store.SlotStock, slot, KindPushStock, now)
}

// swapInJob enqueues a job of kind for the channel, due at runAt, if the
// channel's slot still holds expect, and puts it in the slot.
func (s *Service) swapInJob(ctx context.Context, tx store.Querier, channelCode string, slot store.JobSlot, expect, kind string, runAt time.Time) error {
	j := outbound.NewJob(kind, pushArgs{Channel: channelCode}, s.clock.Now())
	j.RunAt = runAt
	won, err := tx.ChannelJobSwap(ctx, channelCode, slot, expect, j.ID)
	if err != nil || !won {
		return err
	}
	return tx.JobInsert(ctx, j)
}

// ChannelJobHandlers returns the handlers of the channel jobs, for the
// job runner.
func (s *Service) ChannelJobHandlers() map[string]outbound.Handler {
	return map[string]outbound.Handler{
		KindChannelPoll:          s.channelJob(KindChannelPoll, s.runPoll),
		KindPushShipment:         s.channelJob(KindPushShipment, s.pushShipment),
		KindPushCancellation:     s.channelJob(KindPushCancellation, s.pushCancellation),
		KindPushStock:            s.channelJob(KindPushStock, s.pushStock),
		KindPushLineCancellation: s.channelJob(KindPushLineCancellation, s.pushLineCancellation),
	}
}

// channelJob wraps a channel job's work: it decodes the arguments, records
// the attempt's outcome for /api/v1/integrations, and turns an error the
// platform will answer the same way next time (a 4xx other than 429:
// credentials, validation, not found, conflict) into a permanent one, which
// dead-letters the job at once.
func (s *Service) channelJob(kind string, fn func(ctx context.Context, j *store.Job, a pushArgs) error) outbound.Handler {
	return func(ctx context.Context, j *store.Job) error {
		var a pushArgs
		if err := json.Unmarshal(j.Args, &a); err != nil || a.Channel == "" {
			return outbound.Permanent(fmt.Errorf("%s job %s: bad arguments", kind, j.ID))
		}
		err := fn(ctx, j, a)
		run := &store.IntegrationRun{ID: orderly.NewID(), Channel: a.Channel, Kind: kind, OK: err == nil, At: s.clock.Now()}
		if err != nil {
			run.Error = truncateText(err.Error(), 1000)
		}
		if rerr := s.store.IntegrationRunInsert(context.WithoutCancel(ctx), run); rerr != nil {
			s.log.WarnContext(ctx, "record channel job outcome", "kind", kind, "channel", a.Channel, "err", rerr)
		}
		if err != nil && permanentKind(err) {
			return outbound.Permanent(err)
		}
		return err
	}
}

// permanentKind reports whether retrying err cannot help.
func permanentKind(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	switch orderly.KindOf(err) {
	case orderly.KindInvalid, orderly.KindUnauthorized, orderly.KindForbidden, orderly.KindNotFound, orderly.KindConflict:
		return true
	}
	return false
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// pushShipment tells the channel about one shipment: its lines in the
// channel's line ids, carrier, tracking, its number among the order's
// shipments, and whether the order is now complete.
func (s *Service) pushShipment(ctx context.Context, _ *store.Job, a pushArgs) error {
	c, cfg, err := s.openChannelConnector(ctx, a.Channel)
	if err != nil {
		return err
	}
	pusher, ok := c.(connector.ShipmentPusher)
	if !ok {
		return nil
	}
	sh, err := s.store.ShipmentGet(ctx, a.ShipmentID)
	if err != nil {
		return err
	}
	o, err := s.store.OrderGet(ctx, sh.OrderID)
	if err != nil {
		return err
	}
	all, err := s.store.ShipmentListByOrder(ctx, o.ID)
	if err != nil {
		return err
	}
	seq := 1
	for i, x := range all {
		if x.ID == sh.ID {
			seq = i + 1
		}
	}
	refs, err := s.store.ChannelOrderLinesGet(ctx, o.Channel, o.ExternalID)
	if err != nil && orderly.KindOf(err) != orderly.KindNotFound {
		return err
	}
	ids := lineExternalIDs(o, refs)
	out := connector.Shipment{OrderExternalID: o.ExternalID, Carrier: sh.Carrier, Service: sh.Service,
		TrackingNumber: sh.TrackingNumber, ShippedAt: sh.CreatedAt, Sequence: seq,
		NotifyCustomer: cfg.Settings[SettingNotifyCustomer] == "true", Complete: true}
	for _, l := range o.Lines {
		if l.Open() > 0 {
			out.Complete = false
		}
	}
	for _, l := range sh.Lines {
		out.Lines = append(out.Lines, connector.ShipmentLine{LineExternalID: ids[l.LineID], SKU: l.SKU, Quantity: l.Quantity})
	}
	return pusher.PushShipment(ctx, out)
}

// lineExternalIDs maps the order's line ids to the channel's: the k-th
// line of a SKU to the k-th channel line of that SKU (capture keeps the
// channel's line order).
func lineExternalIDs(o *order.Order, refs []store.ChannelLine) map[string]string {
	out := map[string]string{}
	used := make([]bool, len(refs))
	for _, l := range o.Lines {
		for i, r := range refs {
			if !used[i] && r.SKU == l.SKU {
				used[i] = true
				out[l.ID] = r.ExternalID
				break
			}
		}
	}
	return out
}

// pushCancellation asks the channel to cancel an order Orderly cancelled.
func (s *Service) pushCancellation(ctx context.Context, _ *store.Job, a pushArgs) error {
	c, cfg, err := s.openChannelConnector(ctx, a.Channel)
	if err != nil {
		return err
	}
	pusher, ok := c.(connector.CancellationPusher)
	if !ok {
		return nil
	}
	o, err := s.store.OrderGet(ctx, a.OrderID)
	if err != nil {
		return err
	}
	return pusher.PushCancellation(ctx, connector.CancelRequest{OrderExternalID: o.ExternalID, Reason: a.Reason,
		NotifyCustomer: cfg.Settings[SettingNotifyCustomer] == "true"})
}

// pushLineCancellation asks the channel to cancel the units of an order
// Orderly cancelled while the rest of the order goes on.
func (s *Service) pushLineCancellation(ctx context.Context, _ *store.Job, a pushArgs) error {
	c, cfg, err := s.openChannelConnector(ctx, a.Channel)
	if err != nil {
		return err
	}
	pusher, ok := c.(connector.LineCancellationPusher)
	if !ok {
		return nil
	}
	o, err := s.store.OrderGet(ctx, a.OrderID)
	if err != nil {
		return err
	}
	refs, err := s.store.ChannelOrderLinesGet(ctx, o.Channel, o.ExternalID)
	if err != nil && orderly.KindOf(err) != orderly.KindNotFound {
		return err
	}
	ids := lineExternalIDs(o, refs)
	req := connector.LineCancelRequest{OrderExternalID: o.ExternalID, Reason: a.Reason, Ref: a.EventID,
		NotifyCustomer: cfg.Settings[SettingNotifyCustomer] == "true", LocationRef: cfg.Settings[SettingStockLocation]}
	for _, l := range a.Lines {
		sku := ""
		for _, ol := range o.Lines {
			if ol.ID == l.LineID {
				sku = ol.SKU
			}
		}
		if ids[l.LineID] == "" {
			return orderly.Errorf(orderly.KindConflict, "order %d: line %s has no id on channel %s to cancel units of", o.Number, l.LineID, a.Channel)
		}
		req.Lines = append(req.Lines, connector.CancelLine{LineExternalID: ids[l.LineID], SKU: sku, Quantity: l.Quantity})
	}
	return pusher.PushLineCancellation(ctx, req)
}

// systemPrincipal reads on behalf of background jobs.
var systemPrincipal = auth.Principal{Name: "system:jobs", Role: auth.RoleAdmin}

// pushStock publishes the availability of the channel's pending SKUs and
// then, in one transaction, forgets what it pushed, frees the channel's
// stock slot and, if SKUs were marked meanwhile, enqueues the next push.
func (s *Service) pushStock(ctx context.Context, j *store.Job, a pushArgs) error {
	c, cfg, err := s.openChannelConnector(ctx, a.Channel)
	if err != nil {
		return err
	}
	pusher, ok := c.(connector.StockPusher)
	if !ok {
		return nil
	}
	pending, err := s.store.StockPushPending(ctx, a.Channel)
	if err != nil {
		return err
	}
	var levels []connector.StockLevel
	for chunk := range slices.Chunk(pending, MaxAvailabilitySKUs) {
		var skus []string
		for _, p := range chunk {
			if cfg.Settings[SettingItemPrefix+p.SKU] != "" {
				skus = append(skus, p.SKU)
			}
		}
		if len(skus) == 0 {
			continue
		}
		avail, err := s.Availability(ctx, systemPrincipal, skus, a.Channel)
		if err != nil {
			return err
		}
		for _, av := range avail {
			levels = append(levels, connector.StockLevel{SKU: av.SKU, ItemRef: cfg.Settings[SettingItemPrefix+av.SKU],
				LocationRef: cfg.Settings[SettingStockLocation], Available: max(av.Available, 0)})
		}
	}
	if len(levels) > 0 {
		if err := pusher.PushStock(ctx, levels); err != nil {
			return err
		}
	}
	return s.store.InTx(ctx, func(tx store.Querier) error {
		// Free the slot first: it locks the channel's row, so a mark made
		// meanwhile is either visible below or sees the slot empty.
		freed, err := tx.ChannelJobSwap(ctx, a.Channel, store.SlotStock, j.ID, "")
		if err != nil {
			return err
		}
		if err := tx.StockPushDone(ctx, a.Channel, pending); err != nil {
			return err
		}
		if !freed {
			return nil
		}
		left, err := tx.StockPushPending(ctx, a.Channel)
		if err != nil || len(left) == 0 {
			return err
		}
		return s.swapInJob(ctx, tx, a.Channel, store.SlotStock, "", KindPushStock, s.clock.Now())
	})
}
