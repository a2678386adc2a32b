package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/outbound"
	"github.com/orderly-oms/orderly/store"
)

// Polling: each channel whose connector is an OrderPuller and is
// configured has one poll job at a time (its poll slot), which pulls the
// orders changed since the channel's watermark page by page, captures each
// through CaptureChannelOrder (the webhooks' path), saves its progress
// after every page and, when done, enqueues the next poll after the
// channel's interval (docs/decisions/0010-channel-jobs.md).

// Polling limits.
const (
	// pollLease is how long one poll holds the channel's poll lease
	// between saves; within the job runner's 5-minute lease.
	pollLease = 4 * time.Minute
	// pollMaxPages and pollBudget bound one run (Amazon allows about one
	// getOrders a minute); the rest is pulled by the next run, due at once.
	pollMaxPages = 20
	pollBudget   = 2 * time.Minute
	// pollOverlap re-reads a little before the watermark, for orders
	// changed in the same second or on a platform clock slightly behind;
	// what was already applied is a duplicate delivery and skipped.
	pollOverlap = time.Minute
	// pollSettle keeps the query window at least this far behind now:
	// Amazon refuses a LastUpdatedAfter later than two minutes ago, and a
	// platform's search index may lag its writes.
	pollSettle = 2 * time.Minute
	// pollLookback is where a channel's first poll starts.
	pollLookback = 24 * time.Hour
	// DefaultPollInterval is the interval of a channel configured without one.
	DefaultPollInterval = 5 * time.Minute
)

// connectorConfig builds the connector.Config of a channel.
func (s *Service) connectorConfig(code, secret string, cfg *store.ChannelConnector) connector.Config {
	s.connectorHTTPOnce.Do(func() {
		s.connectorHTTP = outbound.NewHTTPClient(connectorTimeout, s.AllowPrivateWebhooks)
	})
	return connector.Config{Channel: code, Secret: secret, BaseURL: cfg.BaseURL, Settings: cfg.Settings, HTTPClient: s.connectorHTTP}
}

// connectorTimeout bounds one request to a channel's platform.
const connectorTimeout = 30 * time.Second

// openChannelConnector returns a channel's configured connector and its
// configuration. A channel without configuration is KindNotFound; a
// disabled one KindUnavailable (its jobs wait to be retried).
func (s *Service) openChannelConnector(ctx context.Context, code string) (connector.Connector, *store.ChannelConnector, error) {
	if s.Connectors == nil {
		return nil, nil, orderly.Errorf(orderly.KindUnavailable, "this node has no channel connectors")
	}
	ch, err := s.store.ChannelGet(ctx, code)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := s.store.ChannelConnectorGet(ctx, code)
	if err != nil {
		return nil, nil, err
	}
	if !cfg.Enabled {
		return nil, nil, orderly.Errorf(orderly.KindUnavailable, "the connector of channel %s is disabled", code)
	}
	c, err := s.Connectors.Open(ch.Kind, s.connectorConfig(ch.Code, ch.Secret, cfg))
	return c, cfg, err
}

// recordChannelIntake runs in the transaction that applies a channel's
// order (webhook or poll): it records the delivery (a replay is
// ErrDuplicateDelivery) and keeps the channel's line ids, which shipments
// pushed back name.
func (s *Service) recordChannelIntake(ctx context.Context, tx store.Querier, code string, d connector.Delivery, in *connector.Inbound) error {
	if err := s.recordDelivery(ctx, tx, code, d); err != nil {
		return err
	}
	if len(in.LineExternalIDs) == 0 {
		return nil
	}
	lines := make([]store.ChannelLine, 0, len(in.Order.Lines))
	for i, l := range in.Order.Lines {
		ref := store.ChannelLine{SKU: l.SKU, Quantity: l.Quantity}
		if i < len(in.LineExternalIDs) {
			ref.ExternalID = in.LineExternalIDs[i]
		}
		lines = append(lines, ref)
	}
	return tx.ChannelOrderLinesPut(ctx, code, in.Order.ExternalID, lines, s.clock.Now())
}

// confirmPending completes, in tx, a channel order captured pending (an
// Amazon Pending order has no prices yet) that its channel now reports
// open: the lines take the channel's amounts, the totals follow, the order
// is confirmed (order.confirmed) and what is reserved goes to fulfilment.
// Anything else is left to the caller.
func (s *Service) confirmPending(ctx context.Context, tx store.Querier, o *order.Order, in *connector.Inbound, actor string) error {
	pending := o.Status == order.StatusPending || o.Status == order.StatusOnHold && o.Hold != nil && o.Hold.Previous == order.StatusPending
	if !pending || in.Status != order.StatusOpen {
		return nil
	}
	now := s.clock.Now()
	used := make([]bool, len(in.Order.Lines))
	for i := range o.Lines {
		l := &o.Lines[i]
		for k, nl := range in.Order.Lines {
			if !used[k] && nl.SKU == l.SKU && nl.Quantity == l.Quantity {
				used[k] = true
				l.UnitPrice, l.Discount, l.Tax = nl.UnitPrice, nl.Discount, nl.Tax
				if nl.Name != "" {
					l.Name = nl.Name
				}
				break
			}
		}
	}
	o.Totals = o.ComputeTotals()
	if in.Reported != nil {
		o.ReportedTotals = in.Reported
	}
	from := o.Status
	if o.Status == order.StatusOnHold {
		o.Hold.Previous = order.StatusOpen // a release now opens it
		o.UpdatedAt = now
	} else if err := o.Confirm(now); err != nil {
		return err
	}
	if err := tx.EventInsert(ctx, s.event("order.confirmed", "order", o.ID, o.ID, actor,
		map[string]any{"from": from, "to": o.Status, "channel_status": in.ChannelStatus, "total": o.Totals.Total})); err != nil {
		return err
	}
	if err := tx.OrderUpdate(ctx, o); err != nil {
		return err
	}
	return s.requestFulfilment(ctx, tx, o, actor)
}

// runPoll is one run of a channel's poll job.
func (s *Service) runPoll(ctx context.Context, j *store.Job, a pushArgs) error {
	now := s.clock.Now()
	owner := fmt.Sprintf("%s#%d", j.ID, j.Attempt)
	cfg, took, err := s.store.PollBegin(ctx, a.Channel, owner, now, pollLease)
	if err != nil {
		return err
	}
	if !took {
		return orderly.Errorf(orderly.KindUnavailable, "another node is polling channel %s", a.Channel)
	}
	defer func() {
		if err := s.store.PollRelease(context.WithoutCancel(ctx), a.Channel, owner); err != nil {
			s.log.WarnContext(ctx, "release poll lease", "channel", a.Channel, "err", err)
		}
	}()
	if cfg.PollJobID != j.ID {
		return nil // replaced (the configuration changed): the new job polls
	}
	ch, err := s.store.ChannelGet(ctx, a.Channel)
	if err != nil {
		return err
	}
	var puller connector.OrderPuller
	var conn connector.Connector
	if cfg.Enabled && s.Connectors != nil {
		if conn, err = s.Connectors.Open(ch.Kind, s.connectorConfig(ch.Code, ch.Secret, cfg)); err == nil {
			puller, _ = conn.(connector.OrderPuller)
		}
	}
	if puller == nil {
		// Disabled, or nothing to poll: free the slot; configuring the
		// channel again schedules a poll.
		_, err := s.store.ChannelJobSwap(ctx, a.Channel, store.SlotPoll, j.ID, "")
		return err
	}

	state := cfg.PollState
	begun := s.clock.Now()
	for range pollMaxPages {
		if s.clock.Now().Sub(begun) > pollBudget {
			break
		}
		q := connector.PullQuery{Cursor: state.Cursor}
		started := s.clock.Now()
		if q.Cursor == "" {
			q.UpdatedAfter = pollSince(state.Watermark, started)
		}
		page, err := puller.PullOrders(ctx, q)
		if err != nil {
			return err
		}
		for _, raw := range page.Payloads {
			if err := s.capturePulled(ctx, ch, conn, raw); err != nil {
				// Our own failure (a busy database, a lost race): worth
				// retrying, whatever its kind.
				return fmt.Errorf("capture a pulled order: %s", err.Error())
			}
		}
		high := later(state.High, page.LastUpdated)
		if q.Cursor == "" {
			// Once every page is read, everything changed before the
			// window's end (pollSettle before this first request) has
			// been seen.
			high = later(high, started.Add(-pollSettle))
		}
		if page.NextCursor != "" {
			state = store.PollState{Watermark: state.Watermark, Cursor: page.NextCursor, High: high}
			if err := s.store.PollSave(ctx, a.Channel, owner, state, s.clock.Now(), pollLease); err != nil {
				return lostLease(err)
			}
			continue
		}
		state = store.PollState{Watermark: later(state.Watermark, derefTime(high))}
		return s.endPoll(ctx, j, a.Channel, owner, state, s.clock.Now().Add(cfg.PollInterval))
	}
	return s.endPoll(ctx, j, a.Channel, owner, state, s.clock.Now())
}

// lostLease ends a poll whose lease another worker took over (this one
// ran past it): that worker carries on from the saved state.
func lostLease(err error) error {
	if orderly.KindOf(err) == orderly.KindConflict {
		return nil
	}
	return err
}

// endPoll saves the poll's state and enqueues the channel's next poll at
// next, in one transaction.
func (s *Service) endPoll(ctx context.Context, j *store.Job, code, owner string, state store.PollState, next time.Time) error {
	return lostLease(s.store.InTx(ctx, func(tx store.Querier) error {
		if err := tx.PollSave(ctx, code, owner, state, s.clock.Now(), pollLease); err != nil {
			return err
		}
		return s.swapInJob(ctx, tx, code, store.SlotPoll, j.ID, KindChannelPoll, next)
	}))
}

// pollSince is the start of a poll's window: a little before the
// watermark, never later than pollSettle ago.
func pollSince(wm *time.Time, now time.Time) time.Time {
	since := now.Add(-pollLookback)
	if wm != nil {
		since = wm.Add(-pollOverlap)
	}
	if limit := now.Add(-pollSettle); since.After(limit) {
		since = limit
	}
	return since.UTC().Truncate(time.Second)
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// later returns the later of a (nil: none) and b (zero: none).
func later(a *time.Time, b time.Time) *time.Time {
	if b.IsZero() || a != nil && !b.After(*a) {
		return a
	}
	b = b.UTC()
	return &b
}

// capturePulled captures one pulled order as a delivery whose id is the
// order's id and change time: the same version pulled again is a duplicate
// delivery and changes nothing; a newer one is an update. An order that
// cannot be mapped or is invalid is skipped and recorded as a failed
// attempt (retrying the poll would not change it).
func (s *Service) capturePulled(ctx context.Context, ch *channel.Channel, c connector.Connector, raw []byte) error {
	in, err := c.ParseOrder(raw)
	if err == nil {
		d := connector.Delivery{Topic: "poll", IsOrder: true}
		if !in.UpdatedAt.IsZero() {
			d.ID = "poll:" + in.Order.ExternalID + "@" + in.UpdatedAt.UTC().Format(time.RFC3339Nano)
		}
		_, _, err = s.CaptureChannelOrder(ctx, ch.Code, d, in)
		if errors.Is(err, ErrDuplicateDelivery) {
			return nil
		}
	}
	if err == nil || orderly.KindOf(err) != orderly.KindInvalid {
		return err
	}
	ref := ""
	if in != nil {
		ref = " " + in.Order.ExternalID
	}
	s.log.WarnContext(ctx, "pulled order skipped", "channel", ch.Code, "order", ref, "err", err)
	if rerr := s.store.IntegrationRunInsert(ctx, &store.IntegrationRun{ID: orderly.NewID(), Channel: ch.Code, Kind: KindChannelPoll,
		Error: truncateText("order"+ref+" skipped: "+err.Error(), 1000), At: s.clock.Now()}); rerr != nil {
		return rerr
	}
	return nil
}

// EnsureChannelPolls gives every enabled channel whose connector pulls
// orders a poll job, if its slot holds none that is still to run: the
// safety net for a poll chain broken by a lost job. A dead poll job is left
// for an operator to retry (it shows on /api/v1/integrations). Every node
// may run it: the slot is swapped compare-and-set.
func (s *Service) EnsureChannelPolls(ctx context.Context) error {
	if s.Connectors == nil {
		return nil
	}
	cfgs, err := s.store.ChannelConnectorList(ctx)
	if err != nil {
		return err
	}
	for _, cfg := range cfgs {
		if err := s.store.InTx(ctx, func(tx store.Querier) error { return s.ensurePoll(ctx, tx, cfg) }); err != nil {
			return err
		}
	}
	return nil
}

// ensurePoll enqueues a poll of the channel in tx q, due now, unless one
// is pending, running or dead.
func (s *Service) ensurePoll(ctx context.Context, q store.Querier, cfg *store.ChannelConnector) error {
	if !cfg.Enabled {
		return nil
	}
	ch, err := q.ChannelGet(ctx, cfg.Channel)
	if err != nil {
		return err
	}
	c, err := s.Connectors.Open(ch.Kind, s.connectorConfig(ch.Code, ch.Secret, cfg))
	if err != nil {
		return nil //nolint:nilerr // no connector for this kind here: nothing to poll
	}
	if _, ok := c.(connector.OrderPuller); !ok {
		return nil
	}
	if cfg.PollJobID != "" {
		j, err := q.JobGet(ctx, cfg.PollJobID)
		if err == nil && j.State != store.JobSucceeded {
			return nil
		} else if err != nil && orderly.KindOf(err) != orderly.KindNotFound {
			return err
		}
	}
	return s.swapInJob(ctx, q, cfg.Channel, store.SlotPoll, cfg.PollJobID, KindChannelPoll, s.clock.Now())
}
