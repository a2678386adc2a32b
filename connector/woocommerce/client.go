package woocommerce

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/connector"
)

func (c *Connector) endpoint(path string) (string, error) {
	if c.baseURL == "" || c.consumerKey == "" || c.consumerSecret == "" {
		return "", orderly.Errorf(orderly.KindInvalid, "woocommerce: the channel needs a base URL, %s and %s", SettingConsumerKey, SettingConsumerSecret)
	}
	return c.baseURL + "/wp-json/wc/v3" + path, nil
}

func (c *Connector) do(ctx context.Context, method, path string, in, out any) (connector.Reply, error) {
	u, err := c.endpoint(path)
	if err != nil {
		return connector.Reply{}, err
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(c.consumerKey+":"+c.consumerSecret))
	return connector.DoJSON(ctx, c.client, method, u, http.Header{"Authorization": {auth}}, in, out)
}

// PullOrders fetches one page of orders modified after q.UpdatedAfter,
// oldest modification first: GET /wp-json/wc/v3/orders?modified_after=…
// &dates_are_gmt=true&orderby=modified&order=asc&page=…&per_page=100.
//
// Pages are read by keyset, not by offset: the next page asks again from
// one second before the last change seen (modified_after is exclusive, and
// orders changed in the same second may straddle the page break; what is
// read twice the caller deduplicates). Offset pages would skip an order
// when one read before it is modified meanwhile and moves to the end of
// the list. Only when a whole page shares one second does the page number
// advance. The cursor is "<modified_after RFC 3339>|<page>", or a bare page
// number (modified_after from q). More pages are known from
// X-WP-TotalPages, else a Link rel="next", else a full page.
func (c *Connector) PullOrders(ctx context.Context, q connector.PullQuery) (*connector.PullPage, error) {
	page, after := 1, q.UpdatedAfter
	if q.Cursor != "" {
		at, num, keyed := strings.Cut(q.Cursor, "|")
		if !keyed {
			num = at
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 {
			return nil, orderly.Invalid("cursor", "%q is not a page cursor", q.Cursor)
		}
		page = n
		if keyed {
			if after, err = time.Parse(time.RFC3339, at); err != nil {
				return nil, orderly.Invalid("cursor", "%q is not a page cursor", q.Cursor)
			}
		}
	}
	v := url.Values{
		"page":          {strconv.Itoa(page)},
		"per_page":      {strconv.Itoa(PerPage)},
		"orderby":       {"modified"},
		"order":         {"asc"},
		"dates_are_gmt": {"true"},
	}
	if !after.IsZero() {
		v.Set("modified_after", after.UTC().Format(time.RFC3339))
	}
	var raw []json.RawMessage
	resp, err := c.do(ctx, http.MethodGet, "/orders?"+v.Encode(), nil, &raw)
	if err != nil {
		return nil, err
	}
	out := &connector.PullPage{}
	for _, r := range raw {
		out.Payloads = append(out.Payloads, []byte(r))
		var m struct {
			Modified string `json:"date_modified_gmt"`
		}
		if json.Unmarshal(r, &m) == nil {
			if t, err := gmt("date_modified_gmt", m.Modified); err == nil && t.After(out.LastUpdated) {
				out.LastUpdated = t
			}
		}
	}
	more := len(raw) == PerPage
	if tp, err := strconv.Atoi(resp.Header.Get("X-WP-TotalPages")); err == nil {
		more = page < tp
	} else if link := resp.Header.Get("Link"); link != "" {
		more = strings.Contains(link, `rel="next"`)
	}
	switch {
	case !more:
	case !out.LastUpdated.IsZero() && out.LastUpdated.Truncate(time.Second).Add(-time.Second).After(after):
		out.NextCursor = out.LastUpdated.Truncate(time.Second).Add(-time.Second).UTC().Format(time.RFC3339) + "|1"
	case after.IsZero():
		out.NextCursor = strconv.Itoa(page + 1)
	default:
		out.NextCursor = after.UTC().Format(time.RFC3339) + "|" + strconv.Itoa(page+1)
	}
	return out, nil
}

// orderNote is the part of a WooCommerce order note (GET
// /orders/{id}/notes) that PushShipment compares.
type orderNote struct {
	Note string `json:"note"`
}

// PushShipment records the tracking as an order note (a customer note when
// s.NotifyCustomer, which WooCommerce e-mails) and, when the shipment
// completes the order, sets the status to completed. WooCommerce has no
// fulfilment object; the note comes first so a retry after a failed status
// change repeats only the note.
func (c *Connector) PushShipment(ctx context.Context, s connector.Shipment) error {
	id, err := orderID(s.OrderExternalID)
	if err != nil {
		return err
	}
	note := "Shipped"
	if s.Carrier != "" {
		note += " with " + s.Carrier
		if s.Service != "" {
			note += " (" + s.Service + ")"
		}
	}
	if s.TrackingNumber != "" {
		note += ", tracking number " + s.TrackingNumber
	}
	if s.TrackingURL != "" {
		note += ": " + s.TrackingURL
	}
	note += "."
	// A retry (the answer to an earlier attempt was lost, or the status
	// change after the note failed) must not add the note twice — a
	// customer note is an e-mail to the buyer. WooCommerce has no
	// idempotency key, so look for the note first.
	var existing []orderNote
	if _, err := c.do(ctx, http.MethodGet, "/orders/"+id+"/notes", nil, &existing); err != nil {
		return fmt.Errorf("woocommerce order %s: read notes: %w", id, err)
	}
	if !slices.ContainsFunc(existing, func(n orderNote) bool { return n.Note == note }) {
		if _, err := c.do(ctx, http.MethodPost, "/orders/"+id+"/notes", map[string]any{"note": note, "customer_note": s.NotifyCustomer}, nil); err != nil {
			return fmt.Errorf("woocommerce order %s: add note: %w", id, err)
		}
	}
	if !s.Complete {
		return nil
	}
	if _, err := c.do(ctx, http.MethodPut, "/orders/"+id, map[string]any{"status": "completed"}, nil); err != nil {
		return fmt.Errorf("woocommerce order %s: complete: %w", id, err)
	}
	return nil
}

// PushCancellation sets the order's status to cancelled.
func (c *Connector) PushCancellation(ctx context.Context, r connector.CancelRequest) error {
	id, err := orderID(r.OrderExternalID)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodPut, "/orders/"+id, map[string]any{"status": "cancelled"}, nil)
	return err
}

func orderID(s string) (string, error) {
	if _, err := strconv.ParseUint(s, 10, 64); err != nil {
		return "", orderly.Invalid("order", "%q is not a WooCommerce order id", s)
	}
	return s, nil
}

// refundLine is one line of a WooCommerce refund: quantity units of the
// order's line item id, refund_total the money for them (0 here).
type refundLine struct {
	ID          json.Number `json:"id"`
	Quantity    int64       `json:"quantity"`
	RefundTotal int64       `json:"refund_total"`
}

// PushLineCancellation cancels units of some line items. WooCommerce has no
// unit cancellation; what a merchant does there is a refund of the units
// that moves no money: amount "0", api_refund false (the payment gateway
// is not called), api_restock true (the units go back to WooCommerce's
// stock, which took them when the order was placed). The refund's reason
// starts with "Orderly cancellation <Ref>": a retry whose earlier attempt
// went through finds it and does nothing.
func (c *Connector) PushLineCancellation(ctx context.Context, r connector.LineCancelRequest) error {
	id, err := orderID(r.OrderExternalID)
	if err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	lines := make([]refundLine, 0, len(r.Lines))
	for _, l := range r.Lines {
		if _, err := strconv.ParseUint(l.LineExternalID, 10, 64); err != nil {
			return orderly.Invalid("lines", "%q is not a WooCommerce line item id", l.LineExternalID)
		}
		lines = append(lines, refundLine{ID: json.Number(l.LineExternalID), Quantity: l.Quantity})
	}
	var refunds []struct {
		Reason string `json:"reason"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/orders/"+id+"/refunds?per_page=100", nil, &refunds); err != nil {
		return err
	}
	for _, f := range refunds {
		if connector.IsLineCancelNote(f.Reason, r.Ref) {
			return nil // pushed before
		}
	}
	body := map[string]any{"amount": "0", "reason": connector.LineCancelNote(r), "api_refund": false, "api_restock": true, "line_items": lines}
	_, err = c.do(ctx, http.MethodPost, "/orders/"+id+"/refunds", body, nil)
	return err
}
