package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/routing"
	"github.com/orderly-oms/orderly/store"
)

// ordersData is the order list page.
type ordersData struct {
	Orders   []*order.Order
	Channels []*channel.Channel
	Statuses []order.Status
	// The filters as given, to fill the form and the next-page link.
	Channel, Status, Query, From, To string
	OnHold, Backordered              bool
	// Next is the BeforeNumber of the next page (0: none), NextURL the
	// link to it.
	Next    int64
	NextURL string
}

// pageSize is how many orders a list page shows.
const pageSize = 50

// orders lists orders across every channel, newest first, filtered and
// searched, a page at a time (cursor: the last number shown).
func (c *console) orders(w http.ResponseWriter, r *http.Request, v *viewer) {
	q := r.URL.Query()
	d := ordersData{Statuses: order.Statuses, Channel: q.Get("channel"), Status: q.Get("status"),
		Query: strings.TrimSpace(q.Get("q")), From: q.Get("from"), To: q.Get("to"),
		OnHold: q.Get("on_hold") != "", Backordered: q.Get("backordered") != ""}
	p := store.OrderListParams{Channel: d.Channel, Status: order.Status(d.Status), Query: d.Query,
		Backordered: d.Backordered, Limit: pageSize}
	if d.OnHold {
		p.Status = order.StatusOnHold
	}
	var pr orderly.Problems
	if d.From != "" {
		if t, err := time.ParseInLocation("2006-01-02", d.From, v.TZ); err != nil {
			pr.Add("from", "is not a date (YYYY-MM-DD)")
		} else {
			t = t.UTC()
			p.PlacedAfter = &t
		}
	}
	if d.To != "" {
		if t, err := time.ParseInLocation("2006-01-02", d.To, v.TZ); err != nil {
			pr.Add("to", "is not a date (YYYY-MM-DD)")
		} else {
			t = t.AddDate(0, 0, 1).UTC() // the whole day "to" is included
			p.PlacedBefore = &t
		}
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			pr.Add("before", "is not an order number")
		}
		p.BeforeNumber = n
	}
	if err := pr.Err(); err != nil {
		c.fail(w, r, v, err)
		return
	}
	var err error
	if d.Orders, d.Next, err = c.svc.ListOrders(r.Context(), v.Principal, p); err != nil {
		c.fail(w, r, v, err)
		return
	}
	if d.Next > 0 {
		d.NextURL = "/orders" + queryString("q", d.Query, "channel", d.Channel, "status", d.Status, "from", d.From, "to", d.To,
			"on_hold", boolParam(d.OnHold), "backordered", boolParam(d.Backordered), "before", strconv.FormatInt(d.Next, 10))
	}
	if d.Channels, _, err = c.svc.ListChannels(r.Context(), v.Principal, store.ListParams{Limit: store.MaxLimit}); err != nil && orderly.KindOf(err) != orderly.KindForbidden {
		c.fail(w, r, v, err)
		return
	}
	c.render(w, r, http.StatusOK, "orders", view{V: v, Title: "Orders", Nav: "orders", Data: d})
}

// orderData is the order page: the whole story of one order.
type orderData struct {
	Order      *order.Order
	Fulfilment order.FulfilmentStatus
	Payment    order.PaymentStatus
	Channel    *channel.Channel
	// Policy is the channel policy in force for the order: the copy taken
	// at capture (PolicyCopied), or for older orders the channel's current
	// one.
	Policy       *channel.Policy
	PolicyCopied bool
	Allocations  []*inventory.Allocation
	// Locations are where the order has stock reserved now (re-route
	// choices).
	Locations          []string
	Decisions          []decision
	FulfilmentOrders   []*fulfilment.FulfilmentOrder
	Shipments          []*fulfilment.Shipment
	Timeline           []timelineEntry
	LineSKU            map[string]string
	Cancellable        bool
	CancellableLines   bool
	Holdable, OnHold   bool
	ReroutableAnyWhere bool
}

// decision is one routing receipt, decoded for display.
type decision struct {
	At             time.Time
	RuleSetVersion int
	Explanation    routing.Explanation
}

// timelineEntry is one event of the order, with its data as sorted pairs.
type timelineEntry struct {
	Event  *orderly.Event
	Fields []field
}

type field struct{ Key, Value string }

// order shows one order by number or id.
func (c *console) order(w http.ResponseWriter, r *http.Request, v *viewer) {
	vw := view{V: v, Nav: "orders", Flash: flash(r.URL.Query().Get("done"))}
	c.showOrder(w, r, v, r.PathValue("ref"), http.StatusOK, vw)
}

// flashes are the messages a redirect after an action may ask for; the
// query parameter names one, so no user text is ever reflected.
var flashes = map[string]string{
	"hold": "The order is on hold.", "release": "The hold is released.", "cancel": "The order is cancelled.",
	"cancel-lines": "The lines are cancelled.", "reroute": "The order is re-routed.",
	"accept": "Accepted.", "pick": "Picking started.", "pack": "Packed.", "ship": "Shipped.", "reject": "Rejected.",
	"adjust": "Stock adjusted.", "account": "Saved.", "sla": "SLA saved.", "revoke-key": "The key is revoked.",
}

func flash(key string) string { return flashes[key] }

func (c *console) showOrder(w http.ResponseWriter, r *http.Request, v *viewer, ref string, status int, vw view) {
	d, err := c.loadOrder(r.Context(), v, ref)
	if err != nil {
		c.fail(w, r, v, err)
		return
	}
	vw.Title = "Order " + strconv.FormatInt(d.Order.Number, 10)
	vw.Data = d
	c.render(w, r, status, "order", vw)
}

func (c *console) loadOrder(ctx context.Context, v *viewer, ref string) (*orderData, error) {
	o, err := c.svc.GetOrder(ctx, v.Principal, ref)
	if err != nil {
		return nil, err
	}
	d := &orderData{Order: o, Fulfilment: o.FulfilmentStatus(), Payment: o.PaymentStatus(), LineSKU: map[string]string{}}
	for _, l := range o.Lines {
		d.LineSKU[l.ID] = l.SKU
	}
	if d.Channel, err = c.svc.GetChannel(ctx, v.Principal, o.Channel); err != nil && orderly.KindOf(err) != orderly.KindForbidden {
		return nil, err
	}
	switch {
	case o.Policy != nil:
		d.Policy, d.PolicyCopied = o.Policy, true
	case d.Channel != nil:
		d.Policy = &d.Channel.Policy
	}
	if d.Allocations, err = c.svc.OrderAllocations(ctx, v.Principal, o.ID); err != nil && orderly.KindOf(err) != orderly.KindForbidden {
		return nil, err
	}
	for _, a := range d.Allocations {
		if !slices.Contains(d.Locations, a.Location) {
			d.Locations = append(d.Locations, a.Location)
		}
	}
	slices.Sort(d.Locations)
	decisions, err := c.svc.RoutingDecisions(ctx, v.Principal, o.ID)
	if err != nil && orderly.KindOf(err) != orderly.KindForbidden {
		return nil, err
	}
	for _, rd := range decisions {
		dd := decision{At: rd.CreatedAt, RuleSetVersion: rd.RuleSetVersion}
		if err := json.Unmarshal(rd.Explanation, &dd.Explanation); err != nil {
			return nil, fmt.Errorf("order %s: decode routing explanation: %w", o.ID, err)
		}
		d.Decisions = append(d.Decisions, dd)
	}
	if d.FulfilmentOrders, d.Shipments, err = c.svc.OrderFulfilment(ctx, v.Principal, o.ID); err != nil {
		return nil, err
	}
	events, err := c.svc.Timeline(ctx, v.Principal, o.ID)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		d.Timeline = append(d.Timeline, timelineEntry{Event: e, Fields: eventFields(e.Data)})
	}
	switch o.Status {
	case order.StatusPending, order.StatusOpen, order.StatusOnHold:
		d.Cancellable = true
	}
	switch o.Status {
	case order.StatusPending, order.StatusOpen, order.StatusOnHold, order.StatusPartiallyShipped:
		d.CancellableLines = d.Channel == nil || d.Channel.Policy.PartialCancellation
	}
	switch o.Status {
	case order.StatusPending, order.StatusOpen, order.StatusPartiallyShipped:
		d.Holdable = true
	}
	d.OnHold = o.Status == order.StatusOnHold
	return d, nil
}

// eventFields flattens an event's JSON object into sorted key, value
// pairs: scalars as they are, anything else as compact JSON.
func eventFields(raw []byte) []field {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]field, 0, len(keys))
	for _, k := range keys {
		var s string
		switch x := m[k].(type) {
		case string:
			s = x
		case nil:
			continue
		case float64, bool:
			s = fmt.Sprint(x)
		case []any:
			s = formatList(x)
		default:
			b, _ := json.Marshal(x)
			s = string(b)
		}
		if len(s) > 300 {
			s = s[:300] + "…"
		}
		out = append(out, field{k, s})
	}
	return out
}

// formatList writes a list of an event's line quantities (allocations,
// released picks, shipped lines) as "SKU ×2 at wh-1, …"; other lists as
// compact JSON.
func formatList(items []any) string {
	var parts []string
	for _, it := range items {
		m, ok := it.(map[string]any)
		sku, hasSKU := m["sku"].(string)
		if !ok || !hasSKU {
			b, _ := json.Marshal(items)
			return string(b)
		}
		p := sku
		if q, ok := m["quantity"].(float64); ok {
			p += " ×" + strconv.FormatFloat(q, 'f', -1, 64)
		}
		if loc, ok := m["location"].(string); ok && loc != "" {
			p += " at " + loc
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// orderAction runs one action on an order, then shows the order again:
// a redirect on success, the page with the error otherwise.
func (c *console) orderAction(w http.ResponseWriter, r *http.Request, v *viewer) {
	ref, action := r.PathValue("ref"), r.PathValue("action")
	ctx := r.Context()
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	var (
		o   *order.Order
		err error
	)
	switch action {
	case "hold":
		o, err = c.svc.HoldOrder(ctx, v.Principal, ref, reason)
	case "release":
		o, err = c.svc.ReleaseOrder(ctx, v.Principal, ref)
	case "cancel":
		o, err = c.svc.CancelOrder(ctx, v.Principal, ref, reason)
	case "cancel-lines":
		var lines []fulfilment.LineQuantity
		if lines, err = lineQuantities(r); err == nil {
			o, err = c.svc.CancelLines(ctx, v.Principal, ref, lines, reason)
		}
	case "reroute":
		o, err = c.svc.RerouteOrder(ctx, v.Principal, ref, r.PostFormValue("location"), reason)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		status := statusOf(err)
		if status == http.StatusNotFound || status == http.StatusInternalServerError {
			c.fail(w, r, v, err)
			return
		}
		c.showOrder(w, r, v, ref, status, view{V: v, Nav: "orders", Error: message(err)})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/orders/%d?done=%s", o.Number, action), http.StatusSeeOther) //nolint:gosec // a path on this site; action is one of the cases above
}

// lineQuantities reads the form fields qty_<line id> with a positive
// quantity.
func lineQuantities(r *http.Request) ([]fulfilment.LineQuantity, error) {
	var out []fulfilment.LineQuantity
	var pr orderly.Problems
	keys := make([]string, 0, len(r.PostForm))
	for k := range r.PostForm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		id, ok := strings.CutPrefix(k, "qty_")
		if !ok {
			continue
		}
		s := strings.TrimSpace(r.PostForm.Get(k))
		if s == "" || s == "0" {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			pr.Add(k, "must be a whole number of units")
			continue
		}
		out = append(out, fulfilment.LineQuantity{LineID: id, Quantity: n})
	}
	return out, pr.Err()
}

// canManageOrders is what the order page asks before showing actions.
var _ = auth.PermOrdersManage

func boolParam(b bool) string {
	if b {
		return "1"
	}
	return ""
}
