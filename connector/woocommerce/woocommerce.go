// Package woocommerce connects Orderly to a WooCommerce store: it verifies
// the store's webhooks (X-WC-Webhook-Signature), maps REST API v3 orders
// (also the order.created and order.updated webhook bodies) into
// connector.Inbound, polls the orders endpoint, and pushes shipments
// (an order note with tracking, then status completed) and cancellations
// back.
//
// It imports orderly, the domain packages and connector; never storage,
// services or the HTTP API.
package woocommerce

import (
	"net/http"
	"strings"

	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/connector"
)

// The settings (connector.Config.Settings) a WooCommerce channel reads: the
// REST API key pair, sent with HTTP basic authentication (the store must be
// served over HTTPS).
const (
	SettingConsumerKey    = "consumer_key"
	SettingConsumerSecret = "consumer_secret"
)

// The webhook headers WooCommerce sends.
const (
	HeaderSignature  = "X-WC-Webhook-Signature"
	HeaderTopic      = "X-WC-Webhook-Topic"
	HeaderDeliveryID = "X-WC-Webhook-Delivery-ID"
	HeaderWebhookID  = "X-WC-Webhook-ID"
)

// OrderTopics are the webhook topics whose body is an order ParseOrder maps.
var OrderTopics = []string{"order.created", "order.updated"}

// PerPage is the page size of PullOrders (WooCommerce allows up to 100).
const PerPage = 100

// Connector is a WooCommerce store. It implements connector.Connector,
// WebhookVerifier, OrderPuller, ShipmentPusher and CancellationPusher.
type Connector struct {
	secret         string
	baseURL        string
	consumerKey    string
	consumerSecret string
	client         *http.Client
}

// New returns the connector for one store.
func New(cfg connector.Config) (*Connector, error) {
	return &Connector{
		secret:         cfg.Secret,
		baseURL:        strings.TrimRight(cfg.BaseURL, "/"),
		consumerKey:    cfg.Settings[SettingConsumerKey],
		consumerSecret: cfg.Settings[SettingConsumerSecret],
		client:         cfg.Client(),
	}, nil
}

// Factory is New as a connector.Factory, for connector.Registry.
func Factory(cfg connector.Config) (connector.Connector, error) { return New(cfg) }

// Kind returns channel.KindWooCommerce.
func (*Connector) Kind() channel.Kind { return channel.KindWooCommerce }

// ParseOrder maps a REST v3 order into an Inbound; see mapping.go.
func (*Connector) ParseOrder(payload []byte) (*connector.Inbound, error) {
	return ParseOrder(payload)
}

// VerifyWebhook checks X-WC-Webhook-Signature (the base64 HMAC-SHA256 of
// the raw body keyed with the webhook's secret, in constant time) and
// returns the delivery's topic and id. A missing or bad signature is a
// KindUnauthorized error.
func (c *Connector) VerifyWebhook(header http.Header, body []byte) (connector.Delivery, error) {
	if err := VerifyWebhook(c.secret, header, body); err != nil {
		return connector.Delivery{}, err
	}
	d := connector.Delivery{ID: header.Get(HeaderDeliveryID), Topic: header.Get(HeaderTopic)}
	for _, t := range OrderTopics {
		if d.Topic == t {
			d.IsOrder = true
		}
	}
	return d, nil
}

// VerifyWebhook checks a delivery's X-WC-Webhook-Signature with secret.
func VerifyWebhook(secret string, header http.Header, body []byte) error {
	return connector.VerifyBase64(secret, HeaderSignature, header.Get(HeaderSignature), body)
}

var (
	_ connector.WebhookVerifier    = (*Connector)(nil)
	_ connector.OrderPuller        = (*Connector)(nil)
	_ connector.ShipmentPusher     = (*Connector)(nil)
	_ connector.CancellationPusher = (*Connector)(nil)
)
