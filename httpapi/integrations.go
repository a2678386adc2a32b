package httpapi

import (
	"net/http"

	"github.com/orderly-oms/orderly/service"
)

// Channel integrations: how Orderly reaches each channel's platform
// (connector configuration, credentials write-only) and the health of the
// channel jobs and the outbound dispatcher. Admin only
// (integrations:manage). See docs/decisions/0010-channel-jobs.md.

// connectorRequest is the body of PUT /api/v1/integrations/{channel}.
type connectorRequest struct {
	BaseURL *string `json:"base_url,omitempty" doc:"The platform's API root for this channel: https://shop.example (WooCommerce), https://x.myshopify.com (Shopify), https://sellingpartnerapi-eu.amazon.com (Amazon). Left out: unchanged."`
	// Settings are credentials: accepted, never returned.
	Settings            map[string]string `json:"settings,omitempty" writeOnly:"true" doc:"The connector's settings and credentials, replacing those stored (left out: unchanged). Shopify access_token, api_version, stock_location and item.<SKU> (inventory item id of each SKU whose availability is published); WooCommerce consumer_key, consumer_secret; Amazon refresh_token, client_id, client_secret, marketplace_ids, token_url; any: notify_customer=true. Write-only: only the names are shown."`
	Enabled             *bool             `json:"enabled,omitempty" doc:"false stops polling and pushing (pending pushes wait and retry). Default true."`
	PollIntervalSeconds *int              `json:"poll_interval_seconds,omitempty" doc:"Seconds between polls of a connector that polls (WooCommerce, Amazon), 10 to 604800. Default 300."`
}

func (a *api) listIntegrations(w http.ResponseWriter, r *http.Request) error {
	rep, err := a.svc.Integrations(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

func (a *api) putIntegration(w http.ResponseWriter, r *http.Request) error {
	var req connectorRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	it, err := a.svc.PutChannelConnector(r.Context(), principal(r), r.PathValue("channel"), service.ConnectorInput{
		BaseURL: req.BaseURL, Settings: req.Settings, Enabled: req.Enabled, PollIntervalSeconds: req.PollIntervalSeconds})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, it)
}
