package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/store"
)

// This file holds the channel jobs' state: connector configuration, poll
// lease and watermark, job slots, attempt outcomes, pending stock pushes
// and the channel's line ids (docs/decisions/0010-channel-jobs.md).

const connectorColumns = `ci.channel, c.kind, ci.base_url, ci.settings, ci.enabled, ci.poll_interval_s, ci.poll_job_id, ci.stock_job_id,
	ci.watermark, ci.poll_cursor, ci.poll_high, ci.poll_owner, ci.poll_locked_until, ci.last_success_at, ci.last_error, ci.last_error_at,
	ci.created_at, ci.updated_at`

// connectorFrom reads a channel's configuration with its kind.
const connectorFrom = ` FROM channel_integrations ci JOIN channels c ON c.code = ci.channel`

func (q *Querier) scanConnector(s scanner) (*store.ChannelConnector, error) {
	var c store.ChannelConnector
	var settings []byte
	var interval int64
	var kind string
	if err := s.Scan(&c.Channel, &kind, &c.BaseURL, &settings, &c.Enabled, &interval, &c.PollJobID, &c.StockJobID, &c.Watermark,
		&c.Cursor, &c.High, &c.PollOwner, &c.PollLockedUntil, &c.LastSuccessAt, &c.LastError, &c.LastErrorAt,
		&c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, err
	}
	c.PollInterval = time.Duration(interval) * time.Second
	c.Kind = channel.Kind(kind)
	var err error
	if c.Settings, err = q.openSettings(c.Channel, settings); err != nil {
		return nil, err
	}
	if c.Settings == nil {
		c.Settings = map[string]string{}
	}
	return &c, nil
}

// ChannelConnectorPut implements store.Querier.
func (q *Querier) ChannelConnectorPut(ctx context.Context, c *store.ChannelConnector) (*store.ChannelConnector, error) {
	settings := c.Settings
	if settings == nil {
		settings = map[string]string{}
	}
	raw, err := q.sealSettings(c.Channel, settings)
	if err != nil {
		return nil, err
	}
	var out *store.ChannelConnector
	err = q.inTx(ctx, func(cn conn) error {
		cn.touch(configKey) // intake reads the connectors
		if _, err := cn.exec(ctx, `INSERT INTO channel_integrations (channel, base_url, settings, enabled, poll_interval_s, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (channel) DO UPDATE SET base_url = excluded.base_url, settings = excluded.settings,
				enabled = excluded.enabled, poll_interval_s = excluded.poll_interval_s, updated_at = excluded.updated_at`,
			c.Channel, c.BaseURL, raw, c.Enabled, int64(c.PollInterval/time.Second), c.UpdatedAt, c.UpdatedAt); err != nil {
			return err
		}
		out, err = q.scanConnector(cn.queryRow(ctx, `SELECT `+connectorColumns+connectorFrom+` WHERE ci.channel = ?`, c.Channel))
		return err
	})
	return out, err
}

// ChannelConnectorGet implements store.Querier.
func (q *Querier) ChannelConnectorGet(ctx context.Context, channel string) (*store.ChannelConnector, error) {
	c, err := q.scanConnector(q.write.queryRow(ctx, `SELECT `+connectorColumns+connectorFrom+` WHERE ci.channel = ?`, channel))
	if err != nil {
		return nil, renotFound(err, "channel %s has no connector configured", channel)
	}
	return c, nil
}

// allConnectors reads every channel's connector configuration, in
// channel order (ChannelConnectorList, IntakeRead).
const allConnectors = `SELECT ` + connectorColumns + connectorFrom + ` ORDER BY ci.channel`

// ChannelConnectorList implements store.Querier.
func (q *Querier) ChannelConnectorList(ctx context.Context) ([]*store.ChannelConnector, error) {
	rs, err := q.write.query(ctx, allConnectors)
	if err != nil {
		return nil, err
	}
	return collect(rs, q.scanConnector)
}

// ChannelJobSwap implements store.Querier: one guarded UPDATE. On
// PostgreSQL a concurrent swap of the same row waits for the first to end
// and then re-checks the guard against the row it left.
func (q *Querier) ChannelJobSwap(ctx context.Context, channel string, slot store.JobSlot, expect, newID string) (bool, error) {
	col := ""
	switch slot {
	case store.SlotPoll:
		col = "poll_job_id"
	case store.SlotStock:
		col = "stock_job_id"
	default:
		return false, orderly.Invalid("slot", "unknown job slot %q", slot)
	}
	n, err := q.write.exec(ctx, `UPDATE channel_integrations SET `+col+` = ? WHERE channel = ? AND `+col+` = ?`, newID, channel, expect)
	return n == 1, err
}

// PollBegin implements store.Querier.
func (q *Querier) PollBegin(ctx context.Context, channel, owner string, now time.Time, lease time.Duration) (*store.ChannelConnector, bool, error) {
	var out *store.ChannelConnector
	took := false
	err := q.inTx(ctx, func(cn conn) error {
		n, err := cn.exec(ctx, `UPDATE channel_integrations SET poll_owner = ?, poll_locked_until = ?
			WHERE channel = ? AND (poll_owner = '' OR poll_owner = ? OR poll_locked_until IS NULL OR poll_locked_until < ?)`,
			owner, now.Add(lease), channel, owner, now)
		if err != nil {
			return err
		}
		took = n == 1
		out, err = q.scanConnector(cn.queryRow(ctx, `SELECT `+connectorColumns+connectorFrom+` WHERE ci.channel = ?`, channel))
		return renotFound(err, "channel %s has no connector configured", channel)
	})
	if err != nil {
		return nil, false, err
	}
	return out, took, nil
}

// PollSave implements store.Querier.
func (q *Querier) PollSave(ctx context.Context, channel, owner string, p store.PollState, now time.Time, lease time.Duration) error {
	n, err := q.write.exec(ctx, `UPDATE channel_integrations SET watermark = ?, poll_cursor = ?, poll_high = ?, poll_locked_until = ?
		WHERE channel = ? AND poll_owner = ?`, p.Watermark, p.Cursor, p.High, now.Add(lease), channel, owner)
	if err != nil {
		return err
	}
	if n == 0 {
		return orderly.Errorf(orderly.KindConflict, "the poll of channel %s is no longer %s's", channel, owner)
	}
	return nil
}

// PollRelease implements store.Querier.
func (q *Querier) PollRelease(ctx context.Context, channel, owner string) error {
	_, err := q.write.exec(ctx, `UPDATE channel_integrations SET poll_owner = '', poll_locked_until = NULL
		WHERE channel = ? AND poll_owner = ?`, channel, owner)
	return err
}

// IntegrationRunInsert implements store.Querier.
func (q *Querier) IntegrationRunInsert(ctx context.Context, r *store.IntegrationRun) error {
	return q.inTx(ctx, func(cn conn) error {
		if _, err := cn.exec(ctx, `INSERT INTO integration_runs (id, channel, kind, ok, error, at) VALUES (?, ?, ?, ?, ?, ?)`,
			r.ID, r.Channel, r.Kind, r.OK, r.Error, r.At); err != nil {
			return err
		}
		if r.OK {
			_, err := cn.exec(ctx, `UPDATE channel_integrations SET last_success_at = ? WHERE channel = ?`, r.At, r.Channel)
			return err
		}
		_, err := cn.exec(ctx, `UPDATE channel_integrations SET last_error = ?, last_error_at = ? WHERE channel = ?`, r.Error, r.At, r.Channel)
		return err
	})
}

// IntegrationRunStats implements store.Querier.
func (q *Querier) IntegrationRunStats(ctx context.Context, since time.Time) ([]store.IntegrationRunStat, error) {
	rs, err := q.read.query(ctx, `SELECT channel, kind, count(*), COALESCE(sum(CASE WHEN ok THEN 0 ELSE 1 END), 0)
		FROM integration_runs WHERE at >= ? GROUP BY channel, kind ORDER BY channel, kind`, since)
	if err != nil {
		return nil, err
	}
	return collect(rs, func(s scanner) (store.IntegrationRunStat, error) {
		var st store.IntegrationRunStat
		return st, s.Scan(&st.Channel, &st.Kind, &st.Attempts, &st.Failures)
	})
}

// IntegrationRunPurge implements store.Querier.
func (q *Querier) IntegrationRunPurge(ctx context.Context, before time.Time) (int64, error) {
	return q.write.exec(ctx, `DELETE FROM integration_runs WHERE at < ?`, before)
}

// StockPushMark implements store.Querier.
func (q *Querier) StockPushMark(ctx context.Context, channel string, skus []string, at time.Time) (string, error) {
	var slot string
	err := q.inTx(ctx, func(cn conn) error {
		// Lock the channel's row first: see the interface.
		err := cn.queryRow(ctx, `UPDATE channel_integrations SET stock_job_id = stock_job_id WHERE channel = ? RETURNING stock_job_id`,
			channel).Scan(&slot)
		if err != nil {
			return renotFound(err, "channel %s has no connector configured", channel)
		}
		if len(skus) == 0 {
			return nil
		}
		var b strings.Builder
		args := make([]any, 0, 3*len(skus))
		for i, sku := range skus {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?)")
			args = append(args, channel, sku, at)
		}
		_, err = cn.exec(ctx, `INSERT INTO stock_push_pending (channel, sku, marked_at) VALUES `+b.String()+`
			ON CONFLICT (channel, sku) DO UPDATE SET marked_at = excluded.marked_at`, args...)
		return err
	})
	return slot, err
}

// StockPushPending implements store.Querier.
func (q *Querier) StockPushPending(ctx context.Context, channel string) ([]store.StockPending, error) {
	rs, err := q.write.query(ctx, `SELECT sku, marked_at FROM stock_push_pending WHERE channel = ? ORDER BY sku`, channel)
	if err != nil {
		return nil, err
	}
	return collect(rs, func(s scanner) (store.StockPending, error) {
		var p store.StockPending
		return p, s.Scan(&p.SKU, &p.MarkedAt)
	})
}

// StockPushDone implements store.Querier.
func (q *Querier) StockPushDone(ctx context.Context, channel string, pushed []store.StockPending) error {
	return q.inTx(ctx, func(cn conn) error {
		for _, p := range pushed {
			if _, err := cn.exec(ctx, `DELETE FROM stock_push_pending WHERE channel = ? AND sku = ? AND marked_at <= ?`,
				channel, p.SKU, p.MarkedAt); err != nil {
				return err
			}
		}
		return nil
	})
}

// ChannelOrderLinesPut implements store.Querier.
func (q *Querier) ChannelOrderLinesPut(ctx context.Context, channel, externalID string, lines []store.ChannelLine, at time.Time) error {
	if lines == nil {
		lines = []store.ChannelLine{}
	}
	raw, err := jsonText(lines)
	if err != nil {
		return err
	}
	_, err = q.write.exec(ctx, `INSERT INTO channel_order_lines (channel, external_id, lines, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (channel, external_id) DO UPDATE SET lines = excluded.lines, updated_at = excluded.updated_at`,
		channel, externalID, raw, at)
	return err
}

// ChannelOrderLinesGet implements store.Querier.
func (q *Querier) ChannelOrderLinesGet(ctx context.Context, channel, externalID string) ([]store.ChannelLine, error) {
	var raw []byte
	err := q.write.queryRow(ctx, `SELECT lines FROM channel_order_lines WHERE channel = ? AND external_id = ?`, channel, externalID).Scan(&raw)
	if err != nil {
		return nil, renotFound(err, "no line ids of order %s of channel %s", externalID, channel)
	}
	var out []store.ChannelLine
	return out, json.Unmarshal(raw, &out)
}

// JobsOfKinds implements store.Querier.
func (q *Querier) JobsOfKinds(ctx context.Context, kinds []string, states []store.JobState, limit int) ([]*store.Job, error) {
	if len(kinds) == 0 || len(states) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(kinds)+len(states)+1)
	for _, k := range kinds {
		args = append(args, k)
	}
	for _, s := range states {
		args = append(args, string(s))
	}
	args = append(args, max(limit, 1))
	rs, err := q.read.query(ctx, `SELECT `+jobColumns+` FROM jobs WHERE kind IN (`+placeholders(len(kinds))+`)
		AND state IN (`+placeholders(len(states))+`) ORDER BY created_at, id LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	return collect(rs, scanJob)
}

// OutboxOldestPending implements store.Querier.
func (q *Querier) OutboxOldestPending(ctx context.Context, name string) (*time.Time, error) {
	rs, err := q.read.query(ctx, `SELECT e.at FROM events e, outbox_cursors c
		WHERE c.name = ? AND `+fmt.Sprintf(q.d.EventsAfter, "c.txid", "c.seq")+` ORDER BY e.txid, e.seq LIMIT 1`, name)
	if err != nil {
		return nil, err
	}
	ts, err := collect(rs, func(s scanner) (time.Time, error) {
		var t time.Time
		return t, s.Scan(&t)
	})
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	return &ts[0], nil
}
