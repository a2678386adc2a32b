package store

import (
	"context"
	"time"

	"github.com/orderly-oms/orderly/channel"
)

// This file is the part of the seam that the channel jobs use: each
// channel's connector configuration and job state, the outcomes of their
// attempts, the stock changes a channel has not been told of, and the
// channel's own line ids (docs/decisions/0010-channel-jobs.md).

// IntegrationQuerier is embedded in Querier.
type IntegrationQuerier interface {
	// ChannelConnectorPut creates or replaces a channel's connector
	// configuration (BaseURL, Settings, Enabled, PollInterval, UpdatedAt;
	// CreatedAt on creation) and returns it with its job state, which a
	// replacement keeps. An unknown channel is KindInvalid.
	ChannelConnectorPut(ctx context.Context, c *ChannelConnector) (*ChannelConnector, error)
	// ChannelConnectorGet returns a channel's configuration and state, or
	// KindNotFound.
	ChannelConnectorGet(ctx context.Context, channel string) (*ChannelConnector, error)
	// ChannelConnectorList returns every configured channel, by code.
	ChannelConnectorList(ctx context.Context) ([]*ChannelConnector, error)
	// ChannelJobSwap sets the channel's job slot to newID if it holds
	// expect ("" for none), and reports whether it did: a compare-and-set
	// that two nodes scheduling the same job cannot both win. Inside a
	// transaction the row stays locked until it ends.
	ChannelJobSwap(ctx context.Context, channel string, slot JobSlot, expect, newID string) (bool, error)

	// PollBegin takes the poll lease of a channel for owner until
	// now+lease, unless another owner holds an unexpired one (ok false),
	// and returns the channel's state.
	PollBegin(ctx context.Context, channel, owner string, now time.Time, lease time.Duration) (c *ChannelConnector, ok bool, err error)
	// PollSave records how far owner's poll has got (Watermark, Cursor,
	// High) and extends its lease to now+lease. An owner who lost the
	// lease is KindConflict and nothing changes.
	PollSave(ctx context.Context, channel, owner string, p PollState, now time.Time, lease time.Duration) error
	// PollRelease ends owner's lease (nothing if it no longer holds it).
	PollRelease(ctx context.Context, channel, owner string) error

	// IntegrationRunInsert records the outcome of one attempt of a channel
	// job, and the channel's last success or last error with it.
	IntegrationRunInsert(ctx context.Context, r *IntegrationRun) error
	// IntegrationRunStats counts attempts and failures per (channel, kind)
	// since a time.
	IntegrationRunStats(ctx context.Context, since time.Time) ([]IntegrationRunStat, error)
	// IntegrationRunPurge deletes outcomes before t and returns how many.
	IntegrationRunPurge(ctx context.Context, before time.Time) (int64, error)

	// StockPushMark records that the availability of skus changed, for a
	// channel to be told, and returns the channel's stock job slot. Inside
	// a transaction it locks the channel's row until the transaction ends,
	// so a stock-push job that finishes meanwhile (ChannelJobSwap on the
	// same row) is ordered before or after it, never beside it.
	StockPushMark(ctx context.Context, channel string, skus []string, at time.Time) (stockJobID string, err error)
	// StockPushPending returns a channel's pending SKUs, by SKU.
	StockPushPending(ctx context.Context, channel string) ([]StockPending, error)
	// StockPushDone forgets pending SKUs that were pushed: those not
	// marked again since the mark that was read.
	StockPushDone(ctx context.Context, channel string, pushed []StockPending) error

	// ChannelOrderLinesPut stores the channel's line ids of one of its
	// orders (replacing what was stored).
	ChannelOrderLinesPut(ctx context.Context, channel, externalID string, lines []ChannelLine, at time.Time) error
	// ChannelOrderLinesGet returns them, or KindNotFound.
	ChannelOrderLinesGet(ctx context.Context, channel, externalID string) ([]ChannelLine, error)

	// JobsOfKinds returns the jobs of the given kinds in the given states,
	// oldest first, at most limit.
	JobsOfKinds(ctx context.Context, kinds []string, states []JobState, limit int) ([]*Job, error)
	// OutboxOldestPending returns the time of the oldest event after the
	// named cursor, or nil when it has passed every event.
	OutboxOldestPending(ctx context.Context, name string) (*time.Time, error)
}

// JobSlot names one of a channel's job slots.
type JobSlot string

// The job slots of a channel.
const (
	SlotPoll  JobSlot = "poll"
	SlotStock JobSlot = "stock"
)

// ChannelConnector is how Orderly reaches one channel's platform, and the
// state of the channel's jobs.
type ChannelConnector struct {
	Channel string
	// Kind is the channel's kind (read from the channel; not stored here).
	Kind    channel.Kind
	BaseURL string
	// Settings are the connector's settings and credentials
	// (connector.Config.Settings); never shown or logged.
	Settings     map[string]string
	Enabled      bool
	PollInterval time.Duration

	PollJobID  string
	StockJobID string
	PollState
	PollOwner       string
	PollLockedUntil *time.Time

	LastSuccessAt *time.Time
	LastError     string
	LastErrorAt   *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// PollState is how far a channel's polling has got.
type PollState struct {
	// Watermark: every order changed before it has been captured.
	Watermark *time.Time
	// Cursor is the next page of the poll in progress ("" between polls).
	Cursor string
	// High is the latest change seen by the poll in progress: the next
	// watermark once its last page is done.
	High *time.Time
}

// IntegrationRun is the outcome of one attempt of a channel job.
type IntegrationRun struct {
	ID      string
	Channel string
	Kind    string
	OK      bool
	Error   string
	At      time.Time
}

// IntegrationRunStat counts a channel's attempts of one job kind.
type IntegrationRunStat struct {
	Channel  string
	Kind     string
	Attempts int
	Failures int
}

// StockPending is one SKU a channel has not been told the availability of.
type StockPending struct {
	SKU      string
	MarkedAt time.Time
}

// ChannelLine is one line of a channel order as the channel knows it.
type ChannelLine struct {
	SKU        string `json:"sku"`
	Quantity   int64  `json:"quantity"`
	ExternalID string `json:"external_id"`
}
