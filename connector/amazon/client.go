package amazon

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/connector"
)

// HeaderRateLimit is the header in which SP-API states the operation's
// sustained rate, in requests per second (e.g. "0.0167" for getOrders).
const HeaderRateLimit = "x-amzn-RateLimit-Limit"

// accessToken returns a valid LWA access token, refreshing it a minute
// before it expires (or at once when force is set).
func (c *Connector) accessToken(ctx context.Context, force bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !force && c.token != "" && c.opts.Now().Before(c.expires.Add(-time.Minute)) {
		return c.token, nil
	}
	if c.refreshToken == "" || c.clientID == "" || c.clientSecret == "" {
		return "", orderly.Errorf(orderly.KindInvalid, "amazon: the channel needs %s, %s and %s", SettingRefreshToken, SettingClientID, SettingClientSecret)
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {c.refreshToken},
		"client_id":     {c.clientID},
		"client_secret": {c.clientSecret},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.client.Do(req)
	if err != nil {
		return "", orderly.Errorf(orderly.KindUnavailable, "amazon: LWA token: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := connector.StatusError(resp, "amazon: LWA token")
		if resp.StatusCode == http.StatusBadRequest {
			// invalid_grant, invalid_client: the credentials need fixing.
			err = orderly.Errorf(orderly.KindUnauthorized, "%s", err.Error())
		}
		return "", err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", orderly.Errorf(orderly.KindUnavailable, "amazon: LWA token: bad response")
	}
	c.token = tok.AccessToken
	c.expires = c.opts.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	return c.token, nil
}

// call makes one SP-API request with the access token. It retries a 429
// or 5xx with backoff (at least the interval x-amzn-RateLimit-Limit
// implies, doubling from one second, at most Options.MaxAttempts tries)
// and refreshes the token once when Amazon says it is invalid or expired.
func (c *Connector) call(ctx context.Context, method, path string, in, out any) error {
	if c.baseURL == "" {
		return orderly.Errorf(orderly.KindInvalid, "amazon: the channel needs a base URL (the SP-API endpoint)")
	}
	refreshed := false
	for attempt := 1; ; attempt++ {
		tok, err := c.accessToken(ctx, false)
		if err != nil {
			return err
		}
		resp, err := connector.DoJSON(ctx, c.client, method, c.baseURL+path, http.Header{"X-Amz-Access-Token": {tok}}, in, out)
		if err == nil {
			return nil
		}
		if resp.Status == 0 {
			return err // transport failure: the job retries
		}
		switch {
		case !refreshed && (resp.Status == http.StatusUnauthorized ||
			resp.Status == http.StatusForbidden && strings.Contains(strings.ToLower(err.Error()), "expired")):
			refreshed = true
			if _, err := c.accessToken(ctx, true); err != nil {
				return err
			}
			attempt-- // a token refresh is not a rate-limit try
		case (resp.Status == http.StatusTooManyRequests || resp.Status >= 500) && attempt < c.opts.MaxAttempts:
			if err := c.opts.Sleep(ctx, backoff(attempt, resp.Header.Get(HeaderRateLimit))); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// backoff is the wait before try attempt+1: 1 s, 2 s, 4 s, … capped at a
// minute, and never shorter than one request's share of the stated rate.
func backoff(attempt int, rateLimit string) time.Duration {
	d := time.Second << min(attempt-1, 6)
	if rate, err := strconv.ParseFloat(rateLimit, 64); err == nil && rate > 0 && !math.IsInf(rate, 0) {
		if per := time.Duration(float64(time.Second) / rate); per > d {
			d = per
		}
	}
	return min(d, 2*time.Minute)
}

type ordersResponse struct {
	Payload struct {
		Orders    []json.RawMessage `json:"Orders"`
		NextToken string            `json:"NextToken"`
	} `json:"payload"`
}

type itemsResponse struct {
	Payload struct {
		OrderItems []json.RawMessage `json:"OrderItems"`
		NextToken  string            `json:"NextToken"`
	} `json:"payload"`
}

// PullOrders fetches one page of getOrders (orders updated after
// q.UpdatedAfter in the configured marketplaces; the cursor is Amazon's
// NextToken) and, for each order, all pages of getOrderItems. Each payload
// is a Bundle.
func (c *Connector) PullOrders(ctx context.Context, q connector.PullQuery) (*connector.PullPage, error) {
	if len(c.marketplaces) == 0 {
		return nil, orderly.Errorf(orderly.KindInvalid, "amazon: the channel needs %s", SettingMarketplaceIDs)
	}
	v := url.Values{"MarketplaceIds": {strings.Join(c.marketplaces, ",")}}
	if q.Cursor != "" {
		v.Set("NextToken", q.Cursor)
	} else {
		if q.UpdatedAfter.IsZero() {
			return nil, orderly.Invalid("updated_after", "is required by getOrders")
		}
		v.Set("LastUpdatedAfter", q.UpdatedAfter.UTC().Format(time.RFC3339))
	}
	var res ordersResponse
	if err := c.call(ctx, http.MethodGet, "/orders/v0/orders?"+v.Encode(), nil, &res); err != nil {
		return nil, err
	}
	page := &connector.PullPage{NextCursor: res.Payload.NextToken}
	for _, raw := range res.Payload.Orders {
		var head struct {
			AmazonOrderID  string `json:"AmazonOrderId"`
			LastUpdateDate string `json:"LastUpdateDate"`
		}
		if err := json.Unmarshal(raw, &head); err != nil || head.AmazonOrderID == "" {
			return nil, orderly.Errorf(orderly.KindUnavailable, "amazon: getOrders returned an order without AmazonOrderId")
		}
		items, err := c.orderItems(ctx, head.AmazonOrderID)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(Bundle{Order: raw, Items: items})
		if err != nil {
			return nil, err
		}
		page.Payloads = append(page.Payloads, b)
		if t, err := time.Parse(time.RFC3339, head.LastUpdateDate); err == nil && t.After(page.LastUpdated) {
			page.LastUpdated = t
		}
	}
	return page, nil
}

func (c *Connector) orderItems(ctx context.Context, id string) ([]json.RawMessage, error) {
	items := []json.RawMessage{}
	token := ""
	for range 100 {
		path := "/orders/v0/orders/" + url.PathEscape(id) + "/orderItems"
		if token != "" {
			path += "?" + url.Values{"NextToken": {token}}.Encode()
		}
		var res itemsResponse
		if err := c.call(ctx, http.MethodGet, path, nil, &res); err != nil {
			return nil, err
		}
		items = append(items, res.Payload.OrderItems...)
		if token = res.Payload.NextToken; token == "" {
			return items, nil
		}
	}
	return nil, orderly.Errorf(orderly.KindUnavailable, "amazon: getOrderItems for %s did not stop paginating", id)
}

// PushShipment confirms a shipment (confirmShipment): the package's carrier,
// method, tracking number, ship date and the items with their quantities,
// in the first configured marketplace. Amazon needs the items, so a
// shipment without lines is a KindInvalid error.
func (c *Connector) PushShipment(ctx context.Context, s connector.Shipment) error {
	if len(c.marketplaces) == 0 {
		return orderly.Errorf(orderly.KindInvalid, "amazon: the channel needs %s", SettingMarketplaceIDs)
	}
	if s.OrderExternalID == "" {
		return orderly.Invalid("order", "is required")
	}
	if len(s.Lines) == 0 {
		return orderly.Invalid("lines", "confirmShipment needs the shipped items")
	}
	type item struct {
		OrderItemID string `json:"orderItemId"`
		Quantity    int64  `json:"quantity"`
	}
	items := make([]item, 0, len(s.Lines))
	for _, l := range s.Lines {
		if l.LineExternalID == "" || l.Quantity < 1 {
			return orderly.Invalid("lines", "each needs an order item id and a quantity of at least 1")
		}
		items = append(items, item{OrderItemID: l.LineExternalID, Quantity: l.Quantity})
	}
	seq := max(s.Sequence, 1)
	body := map[string]any{
		"marketplaceId": c.marketplaces[0],
		"packageDetail": map[string]any{
			"packageReferenceId": strconv.Itoa(seq),
			"carrierCode":        s.Carrier,
			"shippingMethod":     s.Service,
			"trackingNumber":     s.TrackingNumber,
			"shipDate":           s.ShippedAt.UTC().Format(time.RFC3339),
			"orderItems":         items,
		},
	}
	return c.call(ctx, http.MethodPost, "/orders/v0/orders/"+url.PathEscape(s.OrderExternalID)+"/shipmentConfirmation", body, nil)
}
