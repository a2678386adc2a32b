package service

import (
	"context"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/outbound"
	"github.com/orderly-oms/orderly/store"
)

// Channel integrations: configuring how Orderly reaches a channel's
// platform, and the health of what it does there (/api/v1/integrations).

// The statuses of an integration.
const (
	IntegrationOK       = "ok"
	IntegrationDegraded = "degraded"
	IntegrationFailing  = "failing"
	IntegrationDisabled = "disabled"
)

// IntegrationRunRetention is how long attempt outcomes are kept.
const IntegrationRunRetention = 7 * 24 * time.Hour

// ConnectorInput changes a channel's connector configuration; nil fields
// keep what is stored (or the default, for a new one).
type ConnectorInput struct {
	BaseURL *string
	// Settings replace the stored settings as a whole when not nil.
	Settings            map[string]string
	Enabled             *bool
	PollIntervalSeconds *int
}

// Integration is one channel's integration as /api/v1/integrations shows
// it: never a setting's value.
type Integration struct {
	Channel string       `json:"channel"`
	Kind    channel.Kind `json:"kind"`
	Status  string       `json:"status" doc:"ok; degraded (failures in the last hour, the last attempt failed, or polling lags more than three intervals); failing (a dead-lettered job, or every attempt of the last hour failed); disabled."`
	Enabled bool         `json:"enabled"`
	BaseURL string       `json:"base_url"`
	// SettingKeys names the configured settings; values are write-only.
	SettingKeys         []string `json:"setting_keys"`
	PollIntervalSeconds int      `json:"poll_interval_seconds"`
	// Capabilities lists what the channel's connector does: poll,
	// push_shipment, push_stock, push_cancellation, push_line_cancellation,
	// webhooks.
	Capabilities  []string          `json:"capabilities"`
	LastSuccessAt *time.Time        `json:"last_success_at"`
	LastError     *IntegrationError `json:"last_error"`
	// Watermark is how far polling has got: every order changed before it
	// has been captured.
	Watermark *time.Time `json:"watermark"`
	// LagSeconds is now − the watermark (polling channels) or − the oldest
	// pending job, whichever is more.
	LagSeconds int64 `json:"lag_seconds"`
	// Attempts and Failures count the channel's job attempts in the last
	// hour; ErrorRate is Failures/Attempts (0 without attempts).
	Attempts    int     `json:"attempts_last_hour"`
	Failures    int     `json:"failures_last_hour"`
	ErrorRate   float64 `json:"error_rate_last_hour"`
	PendingJobs int     `json:"pending_jobs"`
	DeadLetters int     `json:"dead_letters" doc:"Dead channel jobs: GET /api/v1/jobs?state=dead lists them; POST /api/v1/jobs/{id}/retry replays one."`
}

// IntegrationError is the last error of an integration.
type IntegrationError struct {
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// IntegrationsReport is the health of every configured channel and of the
// outbound dispatcher.
type IntegrationsReport struct {
	Channels []Integration `json:"channels"`
	Outbound OutboundLag   `json:"outbound"`
}

// OutboundLag is how far behind the event dispatcher is.
type OutboundLag struct {
	// OldestPendingEventAt is when the oldest event not yet dispatched
	// was written; null when none waits.
	OldestPendingEventAt *time.Time `json:"oldest_pending_event_at"`
	LagSeconds           int64      `json:"lag_seconds"`
}

// limits on connector configuration.
const (
	maxSettings       = 200
	maxSettingKey     = 200
	maxSettingValue   = 4000
	minPollInterval   = 10
	maxPollInterval   = 7 * 24 * 3600
	maxJobsInspected  = 5000
	integrationWindow = time.Hour
)

// PutChannelConnector creates or changes a channel's connector
// configuration, with a channel.connector_updated event (setting names,
// never values) and, for a channel whose connector polls, a poll due now
// if none is pending. Admin only.
func (s *Service) PutChannelConnector(ctx context.Context, p auth.Principal, code string, in ConnectorInput) (*Integration, error) {
	if err := require(p, auth.PermIntegrationsManage); err != nil {
		return nil, err
	}
	ch, err := s.store.ChannelGet(ctx, code)
	if err != nil {
		return nil, err
	}
	if s.Connectors == nil {
		return nil, orderly.Invalid("channel", "this server has no channel connectors")
	}
	if _, err := s.Connectors.Open(ch.Kind, connector.Config{Channel: ch.Code}); err != nil {
		return nil, orderly.Invalid("channel", "channel %s is of kind %s, which has no connector", code, ch.Kind)
	}
	var pr orderly.Problems
	if in.BaseURL != nil && *in.BaseURL != "" {
		u, err := url.Parse(*in.BaseURL)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil:
			pr.Add("base_url", "must be an absolute http or https URL without credentials")
		case outbound.CheckURL(ctx, *in.BaseURL, s.AllowPrivateWebhooks) != nil:
			// As for webhook targets: the platform must be on the public
			// internet, not this host or the network behind it (SSRF). The
			// connector's client checks again on every connection.
			pr.Add("base_url", "must resolve only to public addresses (ORDERLY_ALLOW_PRIVATE_WEBHOOKS=1 allows private ones)")
		}
		orderly.CheckText(&pr, "base_url", *in.BaseURL, 500)
	}
	if len(in.Settings) > maxSettings {
		pr.Add("settings", "has more than %d entries", maxSettings)
	}
	for _, k := range slices.Sorted(maps.Keys(in.Settings)) {
		if k == "" || len(k) > maxSettingKey {
			pr.Add("settings", "keys must be 1-%d characters", maxSettingKey)
		} else if len(in.Settings[k]) > maxSettingValue {
			pr.Add("settings."+k, "is longer than %d characters", maxSettingValue)
		}
	}
	if in.PollIntervalSeconds != nil && (*in.PollIntervalSeconds < minPollInterval || *in.PollIntervalSeconds > maxPollInterval) {
		pr.Add("poll_interval_seconds", "must be between %d and %d", minPollInterval, maxPollInterval)
	}
	if err := pr.Err(); err != nil {
		return nil, err
	}
	var out *store.ChannelConnector
	err = s.store.InTx(ctx, func(tx store.Querier) error {
		cfg, err := tx.ChannelConnectorGet(ctx, code)
		if orderly.KindOf(err) == orderly.KindNotFound {
			cfg, err = &store.ChannelConnector{Channel: code, Enabled: true, PollInterval: DefaultPollInterval, Settings: map[string]string{}}, nil
		}
		if err != nil {
			return err
		}
		if in.BaseURL != nil {
			cfg.BaseURL = *in.BaseURL
		}
		if in.Settings != nil {
			cfg.Settings = maps.Clone(in.Settings)
		}
		if in.Enabled != nil {
			cfg.Enabled = *in.Enabled
		}
		if in.PollIntervalSeconds != nil {
			cfg.PollInterval = time.Duration(*in.PollIntervalSeconds) * time.Second
		}
		cfg.UpdatedAt = s.clock.Now()
		if out, err = tx.ChannelConnectorPut(ctx, cfg); err != nil {
			return err
		}
		if err := tx.EventInsert(ctx, s.event("channel.connector_updated", "channel", code, "", p.Actor(), map[string]any{
			"base_url": out.BaseURL, "setting_keys": slices.Sorted(maps.Keys(out.Settings)), "enabled": out.Enabled,
			"poll_interval_seconds": int(out.PollInterval / time.Second)})); err != nil {
			return err
		}
		return s.ensurePoll(ctx, tx, out)
	})
	if err != nil {
		return nil, err
	}
	rep, err := s.integrations(ctx, code)
	if err != nil || len(rep.Channels) == 0 {
		return nil, err
	}
	return &rep.Channels[0], nil
}

// Integrations reports the health of every configured channel and of the
// outbound dispatcher. Admin only.
func (s *Service) Integrations(ctx context.Context, p auth.Principal) (*IntegrationsReport, error) {
	if err := require(p, auth.PermIntegrationsManage); err != nil {
		return nil, err
	}
	return s.integrations(ctx, "")
}

func (s *Service) integrations(ctx context.Context, only string) (*IntegrationsReport, error) {
	now := s.clock.Now()
	cfgs, err := s.store.ChannelConnectorList(ctx)
	if err != nil {
		return nil, err
	}
	stats, err := s.store.IntegrationRunStats(ctx, now.Add(-integrationWindow))
	if err != nil {
		return nil, err
	}
	pending, err := s.store.JobsOfKinds(ctx, ChannelJobKinds, []store.JobState{store.JobAvailable, store.JobRunning}, maxJobsInspected)
	if err != nil {
		return nil, err
	}
	dead, err := s.store.JobsOfKinds(ctx, ChannelJobKinds, []store.JobState{store.JobDead}, maxJobsInspected)
	if err != nil {
		return nil, err
	}
	oldestPending := map[string]time.Time{}
	pendingN, deadN := map[string]int{}, map[string]int{}
	for _, j := range pending {
		c := jobChannel(j)
		pendingN[c]++
		// A poll waiting for its interval is not late; only work due.
		if j.RunAt.After(now) {
			continue
		}
		if t, ok := oldestPending[c]; !ok || j.RunAt.Before(t) {
			oldestPending[c] = j.RunAt
		}
	}
	for _, j := range dead {
		deadN[jobChannel(j)]++
	}
	rep := &IntegrationsReport{Channels: []Integration{}}
	for _, cfg := range cfgs {
		if only != "" && cfg.Channel != only {
			continue
		}
		it := Integration{Channel: cfg.Channel, Kind: cfg.Kind, Enabled: cfg.Enabled, BaseURL: cfg.BaseURL,
			SettingKeys: slices.Sorted(maps.Keys(cfg.Settings)), PollIntervalSeconds: int(cfg.PollInterval / time.Second),
			Capabilities: []string{}, LastSuccessAt: cfg.LastSuccessAt, Watermark: cfg.Watermark,
			PendingJobs: pendingN[cfg.Channel], DeadLetters: deadN[cfg.Channel]}
		if it.SettingKeys == nil {
			it.SettingKeys = []string{}
		}
		if cfg.LastErrorAt != nil {
			it.LastError = &IntegrationError{Message: cfg.LastError, At: *cfg.LastErrorAt}
		}
		polls := false
		if s.Connectors != nil {
			if c, err := s.Connectors.Open(cfg.Kind, connector.Config{Channel: cfg.Channel}); err == nil {
				it.Capabilities = capabilities(c)
				polls = slices.Contains(it.Capabilities, "poll")
			}
		}
		for _, st := range stats {
			if st.Channel == cfg.Channel {
				it.Attempts += st.Attempts
				it.Failures += st.Failures
			}
		}
		if it.Attempts > 0 {
			it.ErrorRate = float64(it.Failures) / float64(it.Attempts)
		}
		var lag time.Duration
		if polls {
			from := cfg.CreatedAt
			if cfg.Watermark != nil {
				from = *cfg.Watermark
			}
			lag = now.Sub(from)
		}
		if t, ok := oldestPending[cfg.Channel]; ok {
			lag = max(lag, now.Sub(t))
		}
		it.LagSeconds = int64(max(lag, 0) / time.Second)
		lastFailed := cfg.LastErrorAt != nil && (cfg.LastSuccessAt == nil || cfg.LastErrorAt.After(*cfg.LastSuccessAt))
		switch {
		case !cfg.Enabled:
			it.Status = IntegrationDisabled
		case it.DeadLetters > 0 || it.Attempts > 0 && it.Failures == it.Attempts:
			it.Status = IntegrationFailing
		case it.Failures > 0 || lastFailed || polls && lag > 3*cfg.PollInterval+pollSettle+pollOverlap:
			it.Status = IntegrationDegraded
		default:
			it.Status = IntegrationOK
		}
		rep.Channels = append(rep.Channels, it)
	}
	oldest, err := s.store.OutboxOldestPending(ctx, "dispatcher")
	if err != nil {
		return nil, err
	}
	if oldest != nil {
		rep.Outbound = OutboundLag{OldestPendingEventAt: oldest, LagSeconds: int64(max(now.Sub(*oldest), 0) / time.Second)}
	}
	return rep, nil
}

// capabilities names what a connector can do.
func capabilities(c connector.Connector) []string {
	out := []string{}
	if _, ok := c.(connector.OrderPuller); ok {
		out = append(out, "poll")
	}
	if _, ok := c.(connector.ShipmentPusher); ok {
		out = append(out, "push_shipment")
	}
	if _, ok := c.(connector.StockPusher); ok {
		out = append(out, "push_stock")
	}
	if _, ok := c.(connector.CancellationPusher); ok {
		out = append(out, "push_cancellation")
	}
	if _, ok := c.(connector.LineCancellationPusher); ok {
		out = append(out, "push_line_cancellation")
	}
	if _, ok := c.(connector.WebhookVerifier); ok {
		out = append(out, "webhooks")
	}
	return out
}

// jobChannel is the channel a channel job is for.
func jobChannel(j *store.Job) string {
	var a pushArgs
	_ = json.Unmarshal(j.Args, &a)
	return a.Channel
}

// PurgeIntegrationRuns forgets attempt outcomes older than
// IntegrationRunRetention and returns how many.
func (s *Service) PurgeIntegrationRuns(ctx context.Context) (int64, error) {
	return s.store.IntegrationRunPurge(ctx, s.clock.Now().Add(-IntegrationRunRetention))
}
