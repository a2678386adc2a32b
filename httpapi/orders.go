package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/routing"
	"github.com/orderly-oms/orderly/store"
)

// orderRequest is the body of POST /api/v1/orders.
type orderRequest struct {
	Channel             string                `json:"channel" openapi:"required" doc:"Code of the channel the order comes from. A channel key may only name its own channel."`
	ExternalID          string                `json:"external_id" openapi:"required" doc:"The channel's own id for the order. Sending the same channel and external_id again returns the stored order (200) and stores nothing."`
	PlacedAt            string                `json:"placed_at,omitempty" format:"date-time" doc:"When the customer placed the order, RFC 3339. Defaults to now."`
	Currency            string                `json:"currency" openapi:"required" doc:"ISO 4217 code; every amount of the order is in its minor units."`
	Customer            order.Customer        `json:"customer"`
	ShippingAddress     orderly.Address       `json:"shipping_address"`
	BillingAddress      orderly.Address       `json:"billing_address"`
	Lines               []lineRequest         `json:"lines" openapi:"required" doc:"At least one line."`
	ShippingLines       []shippingLineRequest `json:"shipping_lines"`
	Note                string                `json:"note"`
	Tags                []string              `json:"tags"`
	FulfilledAtLocation string                `json:"fulfilled_at_location,omitempty" doc:"Point of sale only (a channel of kind pos): the code of the store where the sale was paid and handed over. The order is captured already fulfilled: its units leave that store's stock directly (a ship movement, no reservation or routing), it gets a shipped fulfilment order and a shipment (carrier in_store) delivered at placed_at, financial_status paid, and ends delivered. An unknown or inactive location is a 422 naming this field. Units sold beyond what the ledger shows on hand are recorded all the same (see inventory.shortage)."`
	Strict              bool                  `json:"strict,omitempty" doc:"Refuse the order (409, code insufficient_stock, errors naming lines[i].quantity) when its stock cannot be reserved in full, and store nothing. By default a short order is stored on hold (hold.reason insufficient_stock) with the missing units backordered."`
}

// lineRequest is one line of an orderRequest.
type lineRequest struct {
	SKU       string `json:"sku" openapi:"required" doc:"A SKU in the catalogue (GET /api/v1/skus)."`
	Quantity  number `json:"quantity" openapi:"required" doc:"Units ordered, at least 1."`
	UnitPrice number `json:"unit_price" doc:"Price of one unit before discount and tax, in minor units of the order's currency (1999 is 19.99 EUR)."`
	Discount  number `json:"discount" doc:"Discount on the whole line, in minor units."`
	Tax       number `json:"tax" doc:"Tax on the whole line, in minor units, on top of the price."`
	Name      string `json:"name" doc:"The product's name as the channel showed it."`
}

// shippingLineRequest is one shipping charge of an orderRequest.
type shippingLineRequest struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Price number `json:"price" doc:"In minor units."`
}

// decodeOrderRequest turns a POST /api/v1/orders body into an order input
// that passes order.Validate and the request's strict flag, or returns a
// 400 *requestError (the body is not the JSON we take) or a KindInvalid
// *orderly.Error listing every bad field. A missing placed_at becomes now.
func decodeOrderRequest(body []byte, now time.Time) (*order.Order, bool, error) {
	o, req, err := decodeOrderRequestFull(body, now)
	if err != nil {
		return nil, false, err
	}
	return o, req.Strict, nil
}

// decodeOrderRequestFull is decodeOrderRequest returning the whole request.
func decodeOrderRequestFull(body []byte, now time.Time) (*order.Order, *orderRequest, error) {
	var req orderRequest
	if err := decodeJSON(body, &req); err != nil {
		return nil, nil, err
	}
	o, err := req.order(now)
	return o, &req, err
}

// order converts the request into an order input.
func (req *orderRequest) order(now time.Time) (*order.Order, error) {
	var p orderly.Problems
	o := &order.Order{
		Channel: req.Channel, ExternalID: req.ExternalID, Currency: req.Currency, Customer: req.Customer,
		ShippingAddress: req.ShippingAddress, BillingAddress: req.BillingAddress, Note: req.Note, Tags: req.Tags,
	}
	if req.PlacedAt == "" {
		o.PlacedAt = now
	} else if t, err := time.Parse(time.RFC3339Nano, req.PlacedAt); err != nil {
		p.Add("placed_at", "must be an RFC 3339 date-time such as 2025-01-31T09:00:00Z")
		o.PlacedAt = now
	} else {
		o.PlacedAt = t.UTC().Truncate(time.Microsecond)
	}
	// Refuse absurd sizes before converting anything: a 1 MiB body can
	// hold tens of thousands of lines, and a problem for each would help
	// nobody.
	if len(req.Lines) > order.MaxLines {
		return nil, orderly.Invalid("lines", "has more than %d lines", order.MaxLines)
	}
	if len(req.ShippingLines) > order.MaxShippingLines {
		return nil, orderly.Invalid("shipping_lines", "has more than %d lines", order.MaxShippingLines)
	}
	o.Lines = make([]order.Line, len(req.Lines))
	for i, l := range req.Lines {
		f := "lines[" + strconv.Itoa(i) + "]."
		o.Lines[i] = order.Line{
			SKU: l.SKU, Name: l.Name,
			Quantity:  l.Quantity.int64(&p, f+"quantity", "units"),
			UnitPrice: l.UnitPrice.int64(&p, f+"unit_price", "minor units"),
			Discount:  l.Discount.int64(&p, f+"discount", "minor units"),
			Tax:       l.Tax.int64(&p, f+"tax", "minor units"),
		}
	}
	o.ShippingLines = make([]order.ShippingLine, len(req.ShippingLines))
	for i, s := range req.ShippingLines {
		o.ShippingLines[i] = order.ShippingLine{Code: s.Code, Name: s.Name,
			Price: s.Price.int64(&p, "shipping_lines["+strconv.Itoa(i)+"].price", "minor units")}
	}
	// Report every problem at once. A number that did not convert is 0
	// here, so Validate may complain about the same field again ("must be
	// at least 1"); the conversion's message is the one that helps.
	if err := o.Validate(); err != nil {
		var oe *orderly.Error
		if !errors.As(err, &oe) {
			return nil, err
		}
		seen := make(map[string]bool, len(p.Fields))
		for _, f := range p.Fields {
			seen[f.Field] = true
		}
		for _, f := range oe.Fields {
			if !seen[f.Field] {
				p.Fields = append(p.Fields, f)
			}
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return o, nil
}

// orderView is an order as the API shows it: the stored order plus the
// statuses derived from its lines and payments.
type orderView struct {
	*order.Order
	FulfilmentStatus order.FulfilmentStatus `json:"fulfilment_status" doc:"Derived from the lines' counters."`
	PaymentStatus    order.PaymentStatus    `json:"payment_status" doc:"Derived from the order's payment records."`
}

func newOrderView(o *order.Order) orderView {
	c := *o
	// Lists are always arrays in the API, never null.
	if c.Lines == nil {
		c.Lines = []order.Line{}
	}
	if c.ShippingLines == nil {
		c.ShippingLines = []order.ShippingLine{}
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	return orderView{Order: &c, FulfilmentStatus: o.FulfilmentStatus(), PaymentStatus: o.PaymentStatus()}
}

// orderDetailView is one order with its reservations and timeline.
type orderDetailView struct {
	orderView
	Allocations []allocationView `json:"allocations" doc:"The order's open reservations: where its allocated units sit. Empty when nothing is reserved."`
	Timeline    []*orderly.Event `json:"timeline" doc:"The order's events, oldest first: who did what, when and why."`
	Routing     *routingView     `json:"routing" doc:"The receipt of the order's latest routing (at capture, or when a release reserved again): where its lines were placed and why. null if it was never routed."`
	// FulfilmentOrders and Shipments are the order's fulfilment, oldest first.
	FulfilmentOrders []*fulfilment.FulfilmentOrder `json:"fulfilment_orders" doc:"What each location was asked to ship, oldest first; empty while the order has not been released to fulfilment."`
	Shipments        []*fulfilment.Shipment        `json:"shipments" doc:"The parcels that left, oldest first, with their tracking."`
}

// routingView is one routing decision of an order.
type routingView struct {
	RuleSetVersion int                 `json:"rule_set_version" doc:"The rule set used; 0 is the built-in default that applies while no version is active."`
	RoutedAt       time.Time           `json:"routed_at"`
	Explanation    routing.Explanation `json:"explanation" doc:"Every candidate location with the filter that dropped it or the scores that ranked it, the plan and a summary."`
	Decisions      int                 `json:"decisions" doc:"How many times the order was routed; this is the latest."`
}

// allocationView is the part of an order line reserved at one location.
type allocationView struct {
	ID        string    `json:"id"`
	LineID    string    `json:"line_id" doc:"The order line (lines[].id) the units are reserved for."`
	SKU       string    `json:"sku"`
	Location  string    `json:"location" doc:"The location holding the reserved units."`
	Quantity  int64     `json:"quantity" doc:"Units still reserved there."`
	CreatedAt time.Time `json:"created_at"`
	// Explanation is the receipt of the routing that placed these units.
	Explanation *routing.Explanation `json:"explanation" doc:"Why the units sit at this location: the explanation of the routing decision that placed them (every candidate, the filter that dropped it or its scores, the plan). null for units reserved before routing was recorded."`
}

// decidedRouting is one stored routing decision, decoded.
type decidedRouting struct {
	at          time.Time
	explanation *routing.Explanation
}

// newAllocationViews renders allocations, each with the explanation of the
// decision that placed it: a decision is stored in the transaction that
// reserves, after the allocations, so it is the first decision made at or
// after the allocation's creation.
func newAllocationViews(allocs []*inventory.Allocation, decided []decidedRouting) []allocationView {
	out := make([]allocationView, len(allocs))
	for i, a := range allocs {
		v := allocationView{ID: a.ID, LineID: a.LineID, SKU: a.SKU, Location: a.Location, Quantity: a.Quantity, CreatedAt: a.CreatedAt}
		for _, d := range decided {
			if !d.at.Before(a.CreatedAt) {
				v.Explanation = d.explanation
				break
			}
		}
		out[i] = v
	}
	return out
}

// orderList is a page of orders.
type orderList struct {
	Items      []orderView `json:"items"`
	NextCursor *string     `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

// reasonRequest is the body of the hold and cancel actions.
type reasonRequest struct {
	Reason string `json:"reason" openapi:"required" doc:"Why; shown in the order's timeline. At most 500 bytes."`
}

// emptyRequest is the body of actions that take no input: nothing, or {}.
type emptyRequest struct{}

func (a *api) createOrder(w http.ResponseWriter, r *http.Request) error {
	o, req, err := decodeOrderRequestFull(bodyOf(r), a.svc.Now().Now())
	if err != nil {
		return err
	}
	var out *order.Order
	var created bool
	if req.FulfilledAtLocation != "" {
		if req.Strict {
			return orderly.Invalid("strict", "does not apply to an order fulfilled at a location: nothing is reserved")
		}
		out, created, err = a.svc.CreateFulfilledOrder(r.Context(), principal(r), o, req.FulfilledAtLocation)
	} else {
		out, created, err = a.svc.CreateOrder(r.Context(), principal(r), o, req.Strict)
	}
	if err != nil {
		return err
	}
	if !created {
		// The channel's order is already stored: say so with 200 and the
		// stored order, so a retried delivery is harmless.
		return writeJSON(w, http.StatusOK, newOrderView(out))
	}
	w.Header().Set("Location", resourcePath(r.URL.Path, out.ID))
	return writeJSON(w, http.StatusCreated, newOrderView(out))
}

func (a *api) listOrders(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := queryParams(q, "channel", "status", "q", "placed_after", "placed_before", "limit", "cursor"); err != nil {
		return err
	}
	var p orderly.Problems
	params := store.OrderListParams{
		Channel:      q.Get("channel"),
		Status:       order.Status(q.Get("status")),
		Query:        q.Get("q"),
		PlacedAfter:  timeParam(q, "placed_after", &p),
		PlacedBefore: timeParam(q, "placed_before", &p),
		Limit:        limitParam(q, &p),
	}
	if params.Status != "" && !params.Status.Valid() {
		p.Add("status", "unknown status %q", params.Status)
	}
	orderly.CheckText(&p, "q", params.Query, 200)
	orderly.CheckText(&p, "channel", params.Channel, 64)
	if c := decodeCursor(q, "orders", &p); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n <= 0 {
			p.Add("cursor", "is not a cursor of this list; pass next_cursor from the previous page unchanged")
		}
		params.BeforeNumber = n
	}
	if err := p.Err(); err != nil {
		return err
	}
	items, next, err := a.svc.ListOrders(r.Context(), principal(r), params)
	if err != nil {
		return err
	}
	out := orderList{Items: make([]orderView, len(items))}
	for i, o := range items {
		out.Items[i] = newOrderView(o)
	}
	if next > 0 {
		out.NextCursor = encodeCursor("orders", strconv.FormatInt(next, 10))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *api) getOrder(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	o, err := a.svc.GetOrder(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	allocs, err := a.svc.OrderAllocations(r.Context(), p, o.ID)
	if err != nil {
		return err
	}
	events, err := a.svc.Timeline(r.Context(), p, o.ID)
	if err != nil {
		return err
	}
	if events == nil {
		events = []*orderly.Event{}
	}
	decisions, err := a.svc.RoutingDecisions(r.Context(), p, o.ID)
	if err != nil {
		return err
	}
	var rv *routingView
	decided := make([]decidedRouting, len(decisions))
	for i, d := range decisions {
		var e routing.Explanation
		if err := json.Unmarshal(d.Explanation, &e); err != nil {
			return fmt.Errorf("order %s: decode routing explanation: %w", o.ID, err)
		}
		decided[i] = decidedRouting{at: d.CreatedAt, explanation: &e}
	}
	if n := len(decisions); n > 0 {
		d := decisions[n-1]
		rv = &routingView{RuleSetVersion: d.RuleSetVersion, RoutedAt: d.CreatedAt, Decisions: n, Explanation: *decided[n-1].explanation}
	}
	fos, shs, err := a.svc.OrderFulfilment(r.Context(), p, o.ID)
	if err != nil {
		return err
	}
	if fos == nil {
		fos = []*fulfilment.FulfilmentOrder{}
	}
	if shs == nil {
		shs = []*fulfilment.Shipment{}
	}
	return writeJSON(w, http.StatusOK, orderDetailView{orderView: newOrderView(o),
		Allocations: newAllocationViews(allocs, decided), Timeline: events, Routing: rv, FulfilmentOrders: fos, Shipments: shs})
}

func (a *api) holdOrder(w http.ResponseWriter, r *http.Request) error {
	var req reasonRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	o, err := a.svc.HoldOrder(r.Context(), principal(r), r.PathValue("id"), req.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newOrderView(o))
}

func (a *api) releaseOrder(w http.ResponseWriter, r *http.Request) error {
	if body := bodyOf(r); len(body) > 0 {
		if err := decodeJSON(body, &emptyRequest{}); err != nil {
			return err
		}
	}
	o, err := a.svc.ReleaseOrder(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newOrderView(o))
}

func (a *api) cancelOrder(w http.ResponseWriter, r *http.Request) error {
	var req cancelRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	var (
		o   *order.Order
		err error
	)
	if req.Lines == nil {
		o, err = a.svc.CancelOrder(r.Context(), principal(r), r.PathValue("id"), req.Reason)
	} else {
		var p orderly.Problems
		lines := lineQuantities(req.Lines, &p)
		if err := p.Err(); err != nil {
			return err
		}
		o, err = a.svc.CancelLines(r.Context(), principal(r), r.PathValue("id"), lines, req.Reason)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newOrderView(o))
}

// resourcePath is the URL path of a new resource: its collection's path
// and its key, escaped. A key of "." or ".." (a SKU code may be either) is
// escaped too, or clients and the router would read it as a dot segment.
func resourcePath(collection, key string) string {
	if strings.Trim(key, ".") == "" {
		return collection + "/" + strings.Repeat("%2E", len(key))
	}
	return collection + "/" + url.PathEscape(key)
}
