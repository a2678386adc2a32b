package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// queueStatuses are the fulfilment orders a location works on, in the
// order the queue shows its sections.
var queueStatuses = []fulfilment.Status{fulfilment.StatusRequested, fulfilment.StatusAccepted,
	fulfilment.StatusPicking, fulfilment.StatusPacked}

// queueItem is one fulfilment order of a queue with its order.
type queueItem struct {
	F     *fulfilment.FulfilmentOrder
	Order *order.Order
	// Names are the order lines' names by line id.
	Names map[string]string
	// Open is true while something is left to ship.
	OnHold bool
}

type queueData struct {
	Location *inventory.Location
	Items    []queueItem
	SLA      string
	Reasons  []fulfilment.RejectReason
}

type queueIndexData struct {
	Locations []*inventory.Location
}

// queueIndex sends a warehouse user to their location's queue and lets
// everyone else pick a location.
func (c *console) queueIndex(w http.ResponseWriter, r *http.Request, v *viewer) {
	if v.Principal.Role == auth.RoleWarehouse {
		http.Redirect(w, r, "/queue/"+v.Principal.Location, http.StatusSeeOther)
		return
	}
	ls, _, err := c.svc.ListLocations(r.Context(), v.Principal, store.ListParams{Limit: store.MaxLimit})
	if err != nil {
		c.fail(w, r, v, err)
		return
	}
	c.render(w, r, http.StatusOK, "queues", view{V: v, Title: "Fulfilment queues", Nav: "queue", Data: queueIndexData{Locations: ls}})
}

// queue shows a location's open fulfilment orders, oldest first: what to
// accept, pick, pack and ship. A warehouse user sees only their own.
func (c *console) queue(w http.ResponseWriter, r *http.Request, v *viewer) {
	c.showQueue(w, r, v, r.PathValue("location"), http.StatusOK, view{V: v, Nav: "queue", Flash: flash(r.URL.Query().Get("done"))})
}

func (c *console) showQueue(w http.ResponseWriter, r *http.Request, v *viewer, location string, status int, vw view) {
	if !v.Principal.WorksAt(location) {
		c.fail(w, r, v, orderly.Errorf(orderly.KindForbidden, "you work at %q: open your own location's queue", v.Principal.Location))
		return
	}
	d, err := c.loadQueue(r.Context(), v, location)
	if err != nil {
		c.fail(w, r, v, err)
		return
	}
	vw.Title = "Queue · " + d.Location.Name
	vw.Data = d
	c.render(w, r, status, "queue", vw)
}

// maxQueue bounds the fulfilment orders of each status a queue shows.
const maxQueue = 200

func (c *console) loadQueue(ctx context.Context, v *viewer, location string) (*queueData, error) {
	loc, err := c.svc.GetLocation(ctx, v.Principal, location)
	if err != nil {
		return nil, err
	}
	d := &queueData{Location: loc, Reasons: fulfilment.RejectReasons}
	if slas, err := c.svc.LocationSLAs(ctx, v.Principal); err == nil {
		d.SLA = formatDuration(slas[location])
	}
	var fos []*fulfilment.FulfilmentOrder
	for _, st := range queueStatuses {
		items, _, err := c.svc.ListFulfilmentOrders(ctx, v.Principal, store.FulfilmentOrderListParams{Location: location, Status: st, Limit: maxQueue})
		if err != nil {
			return nil, err
		}
		fos = append(fos, items...)
	}
	// Oldest first across statuses: ids are UUIDv7, ordered by creation.
	slices.SortFunc(fos, func(a, b *fulfilment.FulfilmentOrder) int { return strings.Compare(a.ID, b.ID) })
	orders := map[string]*order.Order{}
	for _, f := range fos {
		o := orders[f.OrderID]
		if o == nil {
			if o, err = c.svc.GetOrder(ctx, v.Principal, f.OrderID); err != nil {
				return nil, err
			}
			orders[f.OrderID] = o
		}
		it := queueItem{F: f, Order: o, Names: map[string]string{}, OnHold: o.Status == order.StatusOnHold}
		for _, l := range o.Lines {
			it.Names[l.ID] = l.Name
		}
		d.Items = append(d.Items, it)
	}
	return d, nil
}

// fulfilmentAction runs one step of a fulfilment order and shows its
// queue again.
func (c *console) fulfilmentAction(w http.ResponseWriter, r *http.Request, v *viewer) {
	id, action := r.PathValue("id"), r.PathValue("action")
	ctx := r.Context()
	f, err := c.svc.GetFulfilmentOrder(ctx, v.Principal, id)
	if err != nil {
		c.fail(w, r, v, err)
		return
	}
	switch action {
	case "accept":
		_, err = c.svc.AcceptFulfilment(ctx, v.Principal, id)
	case "pick":
		_, err = c.svc.StartPicking(ctx, v.Principal, id)
	case "pack":
		_, err = c.svc.PackFulfilment(ctx, v.Principal, id)
	case "ship":
		var lines []fulfilment.LineQuantity
		if lines, err = lineQuantities(r); err == nil {
			_, err = c.svc.ShipFulfilment(ctx, v.Principal, id, service.Parcel{
				Carrier: strings.TrimSpace(r.PostFormValue("carrier")), Service: strings.TrimSpace(r.PostFormValue("service")),
				TrackingNumber: strings.TrimSpace(r.PostFormValue("tracking_number")), Lines: lines})
		}
	case "reject":
		_, err = c.svc.RejectFulfilment(ctx, v.Principal, id, fulfilment.RejectReason(r.PostFormValue("reason")), nil)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		status := statusOf(err)
		if status == http.StatusInternalServerError || status == http.StatusNotFound {
			c.fail(w, r, v, err)
			return
		}
		if status == http.StatusForbidden {
			c.fail(w, r, v, err)
			return
		}
		c.showQueue(w, r, v, f.Location, status, view{V: v, Nav: "queue", Error: message(err)})
		return
	}
	http.Redirect(w, r, "/queue/"+url.PathEscape(f.Location)+"?done="+action, http.StatusSeeOther) //nolint:gosec // a path on this site; action is one of the cases above
}

// maxSLAHours is the longest SLA the form takes: the service's 30 days.
const maxSLAHours = 30 * 24

// setSLA sets how long a fulfilment order may wait at the location before
// the dashboard calls it late (admins: reference:manage).
func (c *console) setSLA(w http.ResponseWriter, r *http.Request, v *viewer) {
	location := r.PathValue("location")
	hours, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("hours")))
	if err != nil || hours < 1 || hours > maxSLAHours {
		c.fail(w, r, v, orderly.Invalid("hours", "must be a whole number of hours from 1 to %d", maxSLAHours))
		return
	}
	if err := c.svc.SetLocationSLA(r.Context(), v.Principal, location, time.Duration(hours)*time.Hour); err != nil {
		c.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/queue/"+url.PathEscape(location)+"?done=sla", http.StatusSeeOther)
}
