package shopify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/connector"
)

// The Admin REST API calls Orderly makes to push back. Fulfilments go
// through fulfillment orders (the order-centric fulfilment endpoints were
// removed in API version 2023-01): read the order's fulfillment orders,
// match the shipped lines to their line items, then create one fulfilment
// with the tracking.

func (c *Connector) endpoint(path string) (string, error) {
	if c.baseURL == "" || c.token == "" {
		return "", orderly.Errorf(orderly.KindInvalid, "shopify: the channel needs a base URL and an %s setting to push back", SettingAccessToken)
	}
	return c.baseURL + "/admin/api/" + url.PathEscape(c.apiVersion) + path, nil
}

func (c *Connector) do(ctx context.Context, method, path string, in, out any) error {
	u, err := c.endpoint(path)
	if err != nil {
		return err
	}
	h := http.Header{"X-Shopify-Access-Token": {c.token}}
	_, err = connector.DoJSON(ctx, c.client, method, u, h, in, out)
	return err
}

type fulfillmentOrder struct {
	ID                 json.Number `json:"id"`
	Status             string      `json:"status"`
	AssignedLocationID json.Number `json:"assigned_location_id"`
	LineItems          []struct {
		ID                  json.Number `json:"id"`
		LineItemID          json.Number `json:"line_item_id"`
		FulfillableQuantity int64       `json:"fulfillable_quantity"`
	} `json:"line_items"`
}

type foLineItem struct {
	ID       json.Number `json:"id"`
	Quantity int64       `json:"quantity"`
}

type foLines struct {
	FulfillmentOrderID        json.Number  `json:"fulfillment_order_id"`
	FulfillmentOrderLineItems []foLineItem `json:"fulfillment_order_line_items,omitempty"`
}

type trackingInfo struct {
	Company string `json:"company,omitempty"`
	Number  string `json:"number,omitempty"`
	URL     string `json:"url,omitempty"`
}

type fulfillmentRequest struct {
	Fulfillment struct {
		LineItemsByFulfillmentOrder []foLines    `json:"line_items_by_fulfillment_order"`
		TrackingInfo                trackingInfo `json:"tracking_info"`
		NotifyCustomer              bool         `json:"notify_customer"`
	} `json:"fulfillment"`
}

// PushShipment creates a fulfilment with tracking for the shipped lines.
// Lines are matched to the order's open fulfillment orders by line item id;
// a line that cannot be matched for its whole quantity is a KindConflict
// error and nothing is created.
func (c *Connector) PushShipment(ctx context.Context, s connector.Shipment) error {
	id, err := numericID("order", s.OrderExternalID)
	if err != nil {
		return err
	}
	var fos struct {
		FulfillmentOrders []fulfillmentOrder `json:"fulfillment_orders"`
	}
	if err := c.do(ctx, http.MethodGet, "/orders/"+id+"/fulfillment_orders.json", nil, &fos); err != nil {
		return err
	}
	var req fulfillmentRequest
	req.Fulfillment.TrackingInfo = trackingInfo{Company: s.Carrier, Number: s.TrackingNumber, URL: s.TrackingURL}
	req.Fulfillment.NotifyCustomer = s.NotifyCustomer
	want := map[string]int64{}
	for _, l := range s.Lines {
		if l.Quantity < 1 {
			return orderly.Invalid("lines", "quantity of line %s must be at least 1", l.LineExternalID)
		}
		want[l.LineExternalID] += l.Quantity
	}
	for _, fo := range fos.FulfillmentOrders {
		if fo.Status != "open" && fo.Status != "in_progress" {
			continue
		}
		group := foLines{FulfillmentOrderID: fo.ID}
		for _, li := range fo.LineItems {
			q := li.FulfillableQuantity
			if len(s.Lines) > 0 {
				q = min(q, want[li.LineItemID.String()])
				want[li.LineItemID.String()] -= q
			}
			if q > 0 {
				group.FulfillmentOrderLineItems = append(group.FulfillmentOrderLineItems, foLineItem{ID: li.ID, Quantity: q})
			}
		}
		if len(group.FulfillmentOrderLineItems) > 0 {
			req.Fulfillment.LineItemsByFulfillmentOrder = append(req.Fulfillment.LineItemsByFulfillmentOrder, group)
		}
	}
	for line, q := range want {
		if q > 0 {
			return c.alreadyFulfilled(ctx, id, s.TrackingNumber,
				orderly.Errorf(orderly.KindConflict, "shopify order %s: line %s has %d more units shipped than open to fulfil", id, line, q))
		}
	}
	if len(req.Fulfillment.LineItemsByFulfillmentOrder) == 0 {
		return c.alreadyFulfilled(ctx, id, s.TrackingNumber,
			orderly.Errorf(orderly.KindConflict, "shopify order %s has nothing open to fulfil", id))
	}
	return c.do(ctx, http.MethodPost, "/fulfillments.json", req, nil)
}

// alreadyFulfilled makes a repeated push idempotent: when the lines are no
// longer open because this very shipment was pushed before (a retry after
// the answer was lost), the order has a fulfilment with its tracking
// number, and that is success. Otherwise it returns conflict.
func (c *Connector) alreadyFulfilled(ctx context.Context, id, trackingNumber string, conflict error) error {
	if trackingNumber == "" {
		return conflict
	}
	var res struct {
		Fulfillments []struct {
			Status          string   `json:"status"`
			TrackingNumber  string   `json:"tracking_number"`
			TrackingNumbers []string `json:"tracking_numbers"`
		} `json:"fulfillments"`
	}
	if err := c.do(ctx, http.MethodGet, "/orders/"+id+"/fulfillments.json", nil, &res); err != nil {
		return err
	}
	for _, f := range res.Fulfillments {
		if f.Status != "cancelled" && (f.TrackingNumber == trackingNumber || slices.Contains(f.TrackingNumbers, trackingNumber)) {
			return nil
		}
	}
	return conflict
}

// PushStock sets the available quantity of each item at its location
// (inventory_levels/set), one call per level. ItemRef is the inventory
// item id and LocationRef the Shopify location id.
func (c *Connector) PushStock(ctx context.Context, levels []connector.StockLevel) error {
	for _, l := range levels {
		item, err := numericID("inventory item of "+l.SKU, l.ItemRef)
		if err != nil {
			return err
		}
		loc, err := numericID("location of "+l.SKU, l.LocationRef)
		if err != nil {
			return err
		}
		body := map[string]any{"location_id": json.Number(loc), "inventory_item_id": json.Number(item), "available": max(l.Available, 0)}
		if err := c.do(ctx, http.MethodPost, "/inventory_levels/set.json", body, nil); err != nil {
			return err
		}
	}
	return nil
}

// PushCancellation cancels the order in Shopify with reason "other" (its
// reasons are a closed list; Orderly's own reason stays in Orderly).
func (c *Connector) PushCancellation(ctx context.Context, r connector.CancelRequest) error {
	id, err := numericID("order", r.OrderExternalID)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, "/orders/"+id+"/cancel.json", map[string]any{"reason": "other", "email": r.NotifyCustomer}, nil)
}

func numericID(what, s string) (string, error) {
	if _, err := strconv.ParseUint(s, 10, 64); err != nil {
		return "", orderly.Invalid(what, "%q is not a Shopify id", s)
	}
	return s, nil
}

// refundLineItem is one line of a refund: restock_type "cancel" takes
// unfulfilled units off the line (its fulfillable quantity falls) and puts
// them back in stock at location_id, which Shopify requires for it.
type refundLineItem struct {
	LineItemID  json.Number `json:"line_item_id"`
	Quantity    int64       `json:"quantity"`
	RestockType string      `json:"restock_type"`
	LocationID  json.Number `json:"location_id"`
}

type refundRequest struct {
	Refund struct {
		Notify          bool             `json:"notify"`
		Note            string           `json:"note"`
		RefundLineItems []refundLineItem `json:"refund_line_items"`
		Transactions    []any            `json:"transactions"`
	} `json:"refund"`
}

// PushLineCancellation cancels units of some line items: Shopify has no
// call for that but a refund whose line items have restock_type "cancel"
// and which carries no transactions, so moves no money (the refund of the
// money stays the merchant's decision). The units go back to the location
// their fulfillment order is assigned to, else r.LocationRef. The refund's
// note starts with "Orderly cancellation <Ref>": a retry whose earlier
// attempt went through (the answer lost) finds it and does nothing.
func (c *Connector) PushLineCancellation(ctx context.Context, r connector.LineCancelRequest) error {
	id, err := numericID("order", r.OrderExternalID)
	if err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	for _, l := range r.Lines {
		if _, err := numericID("line item of "+l.SKU, l.LineExternalID); err != nil {
			return err
		}
	}
	var refunds struct {
		Refunds []struct {
			Note string `json:"note"`
		} `json:"refunds"`
	}
	if err := c.do(ctx, http.MethodGet, "/orders/"+id+"/refunds.json", nil, &refunds); err != nil {
		return err
	}
	for _, f := range refunds.Refunds {
		if connector.IsLineCancelNote(f.Note, r.Ref) {
			return nil // pushed before
		}
	}
	var fos struct {
		FulfillmentOrders []fulfillmentOrder `json:"fulfillment_orders"`
	}
	if err := c.do(ctx, http.MethodGet, "/orders/"+id+"/fulfillment_orders.json", nil, &fos); err != nil {
		return err
	}
	located := map[string]json.Number{}
	for _, fo := range fos.FulfillmentOrders {
		if fo.Status != "open" && fo.Status != "in_progress" && fo.Status != "scheduled" || fo.AssignedLocationID == "" {
			continue
		}
		for _, li := range fo.LineItems {
			if _, ok := located[li.LineItemID.String()]; !ok && li.FulfillableQuantity > 0 {
				located[li.LineItemID.String()] = fo.AssignedLocationID
			}
		}
	}
	var req refundRequest
	req.Refund.Notify = r.NotifyCustomer
	req.Refund.Note = connector.LineCancelNote(r)
	req.Refund.Transactions = []any{}
	for _, l := range r.Lines {
		loc, ok := located[l.LineExternalID]
		if !ok {
			if r.LocationRef == "" {
				return orderly.Errorf(orderly.KindConflict, "shopify order %s: line item %s has no open fulfillment order to say where its units go back, and no location was given",
					id, l.LineExternalID)
			}
			ref, err := numericID("location", r.LocationRef)
			if err != nil {
				return err
			}
			loc = json.Number(ref)
		}
		req.Refund.RefundLineItems = append(req.Refund.RefundLineItems,
			refundLineItem{LineItemID: json.Number(l.LineExternalID), Quantity: l.Quantity, RestockType: "cancel", LocationID: loc})
	}
	return c.do(ctx, http.MethodPost, "/orders/"+id+"/refunds.json", req, nil)
}
