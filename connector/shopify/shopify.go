// Package shopify connects Orderly to a Shopify store: it verifies the
// store's webhooks (X-Shopify-Hmac-Sha256), maps its order payloads
// (orders/create, orders/updated, orders/cancelled) into connector.Inbound,
// and pushes fulfilments, availability and cancellations back through the
// Admin REST API.
//
// It imports orderly, the domain packages and connector; never storage,
// services or the HTTP API.
package shopify

import (
	"net/http"
	"strings"

	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/connector"
)

// The settings (connector.Config.Settings) a Shopify channel reads.
const (
	// SettingAccessToken is the Admin API access token (X-Shopify-Access-Token).
	SettingAccessToken = "access_token"
	// SettingAPIVersion is the Admin API version, e.g. "2025-01".
	SettingAPIVersion = "api_version"
)

// DefaultAPIVersion is the Admin API version used when none is configured.
const DefaultAPIVersion = "2025-01"

// The webhook headers Shopify sends.
const (
	HeaderHMAC      = "X-Shopify-Hmac-Sha256"
	HeaderTopic     = "X-Shopify-Topic"
	HeaderWebhookID = "X-Shopify-Webhook-Id"
	HeaderShop      = "X-Shopify-Shop-Domain"
)

// OrderTopics are the webhook topics whose body is an order ParseOrder maps.
var OrderTopics = []string{"orders/create", "orders/updated", "orders/cancelled"}

// Connector is a Shopify store. It implements connector.Connector,
// WebhookVerifier, ShipmentPusher, StockPusher and CancellationPusher.
type Connector struct {
	secret     string
	baseURL    string
	token      string
	apiVersion string
	client     *http.Client
}

// New returns the connector for one store. The secret and base URL are
// optional for parsing; pushing back needs BaseURL and the access token.
func New(cfg connector.Config) (*Connector, error) {
	v := cfg.Settings[SettingAPIVersion]
	if v == "" {
		v = DefaultAPIVersion
	}
	return &Connector{
		secret:     cfg.Secret,
		baseURL:    strings.TrimRight(cfg.BaseURL, "/"),
		token:      cfg.Settings[SettingAccessToken],
		apiVersion: v,
		client:     cfg.Client(),
	}, nil
}

// Factory is New as a connector.Factory, for connector.Registry.
func Factory(cfg connector.Config) (connector.Connector, error) { return New(cfg) }

// Kind returns channel.KindShopify.
func (*Connector) Kind() channel.Kind { return channel.KindShopify }

// VerifyWebhook verifies a delivery with the channel's secret (see the
// package function) and returns its topic and webhook id.
func (c *Connector) VerifyWebhook(header http.Header, body []byte) (connector.Delivery, error) {
	if err := VerifyWebhook(c.secret, header, body); err != nil {
		return connector.Delivery{}, err
	}
	return DeliveryOf(header), nil
}

// ParseOrder maps an order payload (the body of an orders/* webhook, or an
// order of the REST API) into an Inbound; see mapping.go.
func (*Connector) ParseOrder(payload []byte) (*connector.Inbound, error) {
	return ParseOrder(payload)
}

// VerifyWebhook checks X-Shopify-Hmac-Sha256: the base64 HMAC-SHA256 of the
// raw body keyed with the app's client secret, compared in constant time.
// A missing or bad signature is a KindUnauthorized error.
func VerifyWebhook(secret string, header http.Header, body []byte) error {
	return connector.VerifyBase64(secret, HeaderHMAC, header.Get(HeaderHMAC), body)
}

// DeliveryOf reads the topic and webhook id of a delivery from its headers.
// The webhook id is the same across Shopify's retries: deduplicate on it.
func DeliveryOf(header http.Header) connector.Delivery {
	d := connector.Delivery{ID: header.Get(HeaderWebhookID), Topic: header.Get(HeaderTopic)}
	for _, t := range OrderTopics {
		if d.Topic == t {
			d.IsOrder = true
		}
	}
	return d
}

var (
	_ connector.WebhookVerifier    = (*Connector)(nil)
	_ connector.ShipmentPusher     = (*Connector)(nil)
	_ connector.StockPusher        = (*Connector)(nil)
	_ connector.CancellationPusher = (*Connector)(nil)
)
