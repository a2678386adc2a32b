package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/carrier"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// Fulfilment: the fulfilment orders routing creates per (order, location)
// and the shipments that leave them. Who may act where is the service's
// rule: admin anywhere, a warehouse key at its own location only.

// lineQuantityRequest is a quantity of one order line.
type lineQuantityRequest struct {
	LineID   string `json:"line_id" openapi:"required" doc:"The order line (lines[].id)."`
	Quantity number `json:"quantity" openapi:"required" doc:"Units, at least 1 and at most what is left."`
}

// lineQuantities converts a request's lines, naming bad quantities
// lines[i].quantity.
func lineQuantities(in []lineQuantityRequest, p *orderly.Problems) []fulfilment.LineQuantity {
	if len(in) == 0 {
		return nil
	}
	out := make([]fulfilment.LineQuantity, len(in))
	for i, l := range in {
		out[i] = fulfilment.LineQuantity{LineID: l.LineID,
			Quantity: l.Quantity.int64(p, "lines["+strconv.Itoa(i)+"].quantity", "units")}
	}
	return out
}

// rejectRequest is the body of POST /api/v1/fulfilment-orders/{id}/reject.
type rejectRequest struct {
	Reason fulfilment.RejectReason `json:"reason" openapi:"required" doc:"not_found: the stock is not there (its count at the location becomes 0); damaged: it is not sellable (moved out of on hand); no_capacity or other: the stock stays sellable."`
	Lines  []lineQuantityRequest   `json:"lines,omitempty" doc:"The units refused; left out: everything still open."`
}

// shipRequest is the body of POST /api/v1/fulfilment-orders/{id}/ship.
type shipRequest struct {
	Carrier        string                `json:"carrier" openapi:"required" doc:"The carrier's name or code, at most 100 bytes."`
	Service        string                `json:"service" doc:"The carrier's service, at most 100 bytes."`
	TrackingNumber string                `json:"tracking_number" openapi:"required" doc:"At most 100 bytes."`
	Label          string                `json:"label,omitempty" doc:"Where the label is: a URL or your reference, at most 2000 bytes."`
	Lines          []lineQuantityRequest `json:"lines,omitempty" doc:"The units in the parcel; left out: everything still open. Fewer is a partial shipment that leaves the rest open."`
}

// trackingEventRequest is the body of POST /api/v1/shipments/{id}/events.
type trackingEventRequest struct {
	Status fulfilment.TrackingStatus `json:"status" openapi:"required" doc:"in_transit, out_for_delivery, delivered, exception or returned_to_sender."`
	At     string                    `json:"at" openapi:"required" format:"date-time" doc:"When it happened, by the carrier's account, RFC 3339."`
	Detail string                    `json:"detail,omitempty" doc:"The carrier's words, at most 1000 bytes."`
}

// cancelRequest is the body of POST /api/v1/orders/{id}/cancel.
type cancelRequest struct {
	Reason string                `json:"reason" openapi:"required" doc:"Why; shown in the order's timeline. At most 500 bytes."`
	Lines  []lineQuantityRequest `json:"lines,omitempty" doc:"Cancel only these unshipped units (partial cancellation, if the channel's policy allows it and within its window); left out: the whole order."`
}

// fulfilmentOrderList is a page of fulfilment orders.
type fulfilmentOrderList struct {
	Items      []*fulfilment.FulfilmentOrder `json:"items"`
	NextCursor *string                       `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

func (a *api) listFulfilmentOrders(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := queryParams(q, "location", "status", "limit", "cursor"); err != nil {
		return err
	}
	var p orderly.Problems
	params := store.FulfilmentOrderListParams{Location: q.Get("location"), Status: fulfilment.Status(q.Get("status")), Limit: limitParam(q, &p)}
	if params.Status != "" && !params.Status.Valid() {
		p.Add("status", "unknown status %q", params.Status)
	}
	orderly.CheckText(&p, "location", params.Location, 64)
	params.After = decodeCursor(q, "fulfilment-orders", &p)
	if err := p.Err(); err != nil {
		return err
	}
	items, next, err := a.svc.ListFulfilmentOrders(r.Context(), principal(r), params)
	if err != nil {
		return err
	}
	if items == nil {
		items = []*fulfilment.FulfilmentOrder{}
	}
	return writeJSON(w, http.StatusOK, fulfilmentOrderList{Items: items, NextCursor: encodeCursor("fulfilment-orders", next)})
}

func (a *api) getFulfilmentOrder(w http.ResponseWriter, r *http.Request) error {
	f, err := a.svc.GetFulfilmentOrder(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, f)
}

// fulfilmentStep serves accept, start-picking and pack, actions with no
// input, with the service method that takes the step.
func (a *api) fulfilmentStep(step func(*service.Service, context.Context, auth.Principal, string) (*fulfilment.FulfilmentOrder, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if body := bodyOf(r); len(body) > 0 {
			if err := decodeJSON(body, &emptyRequest{}); err != nil {
				return err
			}
		}
		f, err := step(a.svc, r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, f)
	}
}

func (a *api) rejectFulfilment(w http.ResponseWriter, r *http.Request) error {
	var req rejectRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	var p orderly.Problems
	lines := lineQuantities(req.Lines, &p)
	if err := p.Err(); err != nil {
		return err
	}
	f, err := a.svc.RejectFulfilment(r.Context(), principal(r), r.PathValue("id"), req.Reason, lines)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, f)
}

func (a *api) shipFulfilment(w http.ResponseWriter, r *http.Request) error {
	var req shipRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	var p orderly.Problems
	lines := lineQuantities(req.Lines, &p)
	if err := p.Err(); err != nil {
		return err
	}
	sh, err := a.svc.ShipFulfilment(r.Context(), principal(r), r.PathValue("id"), service.Parcel{Carrier: req.Carrier,
		Service: req.Service, TrackingNumber: req.TrackingNumber, Label: req.Label, Lines: lines})
	if err != nil {
		return err
	}
	w.Header().Set("Location", resourcePath(shipmentsPath, sh.ID))
	return writeJSON(w, http.StatusCreated, sh)
}

func (a *api) getShipment(w http.ResponseWriter, r *http.Request) error {
	sh, err := a.svc.GetShipment(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sh)
}

func (a *api) recordShipmentEvent(w http.ResponseWriter, r *http.Request) error {
	var req trackingEventRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	ev := service.TrackingUpdate{Status: req.Status, Detail: req.Detail}
	if req.At != "" {
		at, err := time.Parse(time.RFC3339Nano, req.At)
		if err != nil {
			return orderly.Invalid("at", "must be an RFC 3339 date-time such as 2025-01-31T09:00:00Z")
		}
		ev.At = at.UTC().Truncate(time.Microsecond)
	}
	sh, err := a.svc.RecordShipmentEvent(r.Context(), principal(r), r.PathValue("id"), ev)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sh)
}

// fulfilmentStepNote describes accept, start-picking and pack.
const fulfilmentStepNote = "One step of requested → accepted → picking → packed; any other move is a 409 (invalid_transition), " +
	"and so is an order on hold (order_on_hold). The body may be empty or {}. " + warehouseNote

// shipmentsPath is where shipments live.
const shipmentsPath = "/api/v1/shipments"

// labelsPath is where labels live.
const labelsPath = "/api/v1/labels"

// rateList is what POST /api/v1/fulfilment-orders/{id}/rates answers.
type rateList struct {
	Items []carrier.Rate `json:"items" doc:"Each service's price for the parcel, cheapest first; empty when no service takes it. amount is in minor units of currency."`
}

// labelRequest is the body of POST /api/v1/fulfilment-orders/{id}/label.
type labelRequest struct {
	Service string `json:"service" openapi:"required" doc:"The carrier's service, as rates names it (e.g. standard)."`
}

// labelView is a bought label.
type labelView struct {
	ID                string    `json:"id"`
	FulfilmentOrderID string    `json:"fulfilment_order_id"`
	Carrier           string    `json:"carrier"`
	Service           string    `json:"service"`
	TrackingNumber    string    `json:"tracking_number" doc:"Give it to POST /api/v1/fulfilment-orders/{id}/ship."`
	URL               string    `json:"url" doc:"The label's PDF: GET /api/v1/labels/{id} when Orderly keeps it (table-rate), else the carrier's URL."`
	Amount            int64     `json:"amount" doc:"What the postage cost, in minor units of currency; 0 when the carrier did not say."`
	Currency          string    `json:"currency,omitempty"`
	CarrierRef        string    `json:"carrier_ref,omitempty" doc:"The carrier's id for the shipment (EasyPost's shp_…)."`
	CreatedAt         time.Time `json:"created_at"`
}

func newLabelView(l *fulfilment.Label) labelView {
	url := l.URL
	if len(l.PDF) > 0 {
		url = resourcePath(labelsPath, l.ID)
	}
	return labelView{ID: l.ID, FulfilmentOrderID: l.FulfilmentOrderID, Carrier: l.Carrier, Service: l.Service,
		TrackingNumber: l.TrackingNumber, URL: url, Amount: l.Amount, Currency: l.Currency, CarrierRef: l.CarrierRef,
		CreatedAt: l.CreatedAt}
}

func (a *api) fulfilmentRates(w http.ResponseWriter, r *http.Request) error {
	if body := bodyOf(r); len(body) > 0 {
		if err := decodeJSON(body, &emptyRequest{}); err != nil {
			return err
		}
	}
	rates, err := a.svc.FulfilmentRates(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rateList{Items: rates})
}

func (a *api) createLabel(w http.ResponseWriter, r *http.Request) error {
	var req labelRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	l, err := a.svc.FulfilmentLabel(r.Context(), principal(r), r.PathValue("id"), req.Service)
	if err != nil {
		return err
	}
	w.Header().Set("Location", resourcePath(labelsPath, l.ID))
	return writeJSON(w, http.StatusCreated, newLabelView(l))
}

func (a *api) getLabel(w http.ResponseWriter, r *http.Request) error {
	l, err := a.svc.GetLabel(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	if len(l.PDF) == 0 {
		return orderly.Errorf(orderly.KindNotFound, "label %s is kept by the carrier, at %s", l.ID, l.URL)
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Length", strconv.Itoa(len(l.PDF)))
	h.Set("Content-Disposition", `inline; filename="label-`+l.TrackingNumber+`.pdf"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(l.PDF)
	return nil
}
