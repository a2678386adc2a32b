// Package amazon connects Orderly to an Amazon seller account through the
// Selling Partner API, Orders v0: it polls orders (getOrders with
// LastUpdatedAfter and NextToken pagination, getOrderItems per order),
// maps them into connector.Inbound, and confirms shipments back. Amazon has
// no order webhooks here, so the connector does not verify any.
//
// Requests carry a Login with Amazon (LWA) access token, refreshed from the
// seller's refresh token before it expires and again when Amazon says it
// has; rate limits are honoured (429, x-amzn-RateLimit-Limit, bounded
// retries with backoff).
//
// It imports orderly, the domain packages and connector; never storage,
// services or the HTTP API.
package amazon

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/connector"
)

// The settings (connector.Config.Settings) an Amazon channel reads.
// connector.Config.BaseURL is the SP-API endpoint of the seller's region,
// e.g. "https://sellingpartnerapi-eu.amazon.com".
const (
	SettingRefreshToken   = "refresh_token"
	SettingClientID       = "client_id"
	SettingClientSecret   = "client_secret"
	SettingMarketplaceIDs = "marketplace_ids" // comma-separated, e.g. "A1F83G8C2ARO7P"
	SettingTokenURL       = "token_url"       // default DefaultTokenURL
)

// DefaultTokenURL is Login with Amazon's token endpoint.
const DefaultTokenURL = "https://api.amazon.com/auth/o2/token" //nolint:gosec // a public URL, not a credential

// Options tune the client; the zero value is production behaviour.
type Options struct {
	// MaxAttempts bounds the tries of one request that keeps getting 429
	// or 5xx (default 5).
	MaxAttempts int
	// Sleep waits between tries (default: a timer that honours ctx).
	Sleep func(ctx context.Context, d time.Duration) error
	// Now tells the time, for token expiry (default time.Now).
	Now func() time.Time
}

// Connector is one Amazon seller account. It implements
// connector.Connector, OrderPuller, ShipmentPusher and Hinter.
type Connector struct {
	baseURL      string
	tokenURL     string
	refreshToken string
	clientID     string
	clientSecret string
	marketplaces []string
	client       *http.Client
	opts         Options

	mu      sync.Mutex
	token   string
	expires time.Time
}

// New returns the connector for one seller account.
func New(cfg connector.Config) (*Connector, error) { return NewWithOptions(cfg, Options{}) }

// NewWithOptions is New with client options (tests use a fake clock and
// sleep).
func NewWithOptions(cfg connector.Config, opts Options) (*Connector, error) {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Connector{
		baseURL:      strings.TrimRight(cfg.BaseURL, "/"),
		tokenURL:     cfg.Settings[SettingTokenURL],
		refreshToken: cfg.Settings[SettingRefreshToken],
		clientID:     cfg.Settings[SettingClientID],
		clientSecret: cfg.Settings[SettingClientSecret],
		client:       cfg.Client(),
		opts:         opts,
	}
	if c.tokenURL == "" {
		c.tokenURL = DefaultTokenURL
	}
	for _, m := range strings.Split(cfg.Settings[SettingMarketplaceIDs], ",") {
		if m = strings.TrimSpace(m); m != "" {
			c.marketplaces = append(c.marketplaces, m)
		}
	}
	return c, nil
}

// Factory is New as a connector.Factory, for connector.Registry.
func Factory(cfg connector.Config) (connector.Connector, error) { return New(cfg) }

// Kind returns channel.KindAmazon.
func (*Connector) Kind() channel.Kind { return channel.KindAmazon }

// ParseOrder maps a Bundle (an order and its items) into an Inbound; see
// mapping.go.
func (*Connector) ParseOrder(payload []byte) (*connector.Inbound, error) {
	return ParseOrder(payload)
}

// Hints are Amazon's rules: the buyer's e-mail is an anonymised relay
// address, marketing messages to buyers are forbidden, and every shipment
// must be confirmed.
func (*Connector) Hints() connector.Hints {
	return connector.Hints{BuyerEmailIsRelay: true, NoMarketing: true, ShipmentConfirmationRequired: true}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var (
	_ connector.OrderPuller    = (*Connector)(nil)
	_ connector.ShipmentPusher = (*Connector)(nil)
	_ connector.Hinter         = (*Connector)(nil)
)
