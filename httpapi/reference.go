package httpapi

import (
	"net/http"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// Reference data — channels, locations, SKUs — has the same four
// endpoints each: create, list, get, patch. In a PATCH body an absent field
// (or null) leaves the field as it is; only a location's lat and lon take
// null to mean "clear".

// channelRequest is the body of POST /api/v1/channels.
type channelRequest struct {
	Code      string         `json:"code" openapi:"required" doc:"Unique and URL-safe: 1-64 of a-z, 0-9, '-' and '_'."`
	Kind      channel.Kind   `json:"kind" openapi:"required"`
	Name      string         `json:"name" openapi:"required"`
	Secret    string         `json:"secret,omitempty" writeOnly:"true" doc:"Verifies the channel's inbound webhooks. Write-only: never returned; has_secret tells whether one is set."`
	Policy    *policyRequest `json:"policy,omitempty" doc:"Fields left out take the default policy's values."`
	Locations []string       `json:"locations,omitempty" doc:"Codes of the locations whose stock the channel sells (availability and reservations). Left out or empty: every active location."`
}

// policyRequest sets some or all of a channel's policy.
type policyRequest struct {
	CancellationWindowMinutes  *int              `json:"cancellation_window_minutes,omitempty" doc:"Minutes after placement an order may still be cancelled; 0 means no limit."`
	ReturnWindowDays           *int              `json:"return_window_days,omitempty" doc:"Days after delivery a return may be requested; 0 means no returns."`
	PartialCancellation        *bool             `json:"partial_cancellation,omitempty" doc:"Whether single lines may be cancelled."`
	Refunds                    *channel.Refunder `json:"refunds,omitempty" doc:"Who refunds the customer: merchant (Orderly's payments) or marketplace (the marketplace refunds its buyer)."`
	ConfirmShipmentWithinHours *int              `json:"confirm_shipment_within_hours,omitempty" doc:"Hours after placement within which shipment must be confirmed to the channel; 0 means no deadline."`
	MayEmailCustomer           *bool             `json:"may_email_customer,omitempty" doc:"Whether Orderly may email the customer directly."`
}

func (p *policyRequest) patch() *service.PolicyPatch {
	if p == nil {
		return nil
	}
	return &service.PolicyPatch{CancellationWindowMinutes: p.CancellationWindowMinutes,
		ReturnWindowDays: p.ReturnWindowDays, PartialCancellation: p.PartialCancellation,
		Refunds: p.Refunds, ConfirmShipmentWithinHours: p.ConfirmShipmentWithinHours, MayEmailCustomer: p.MayEmailCustomer}
}

// channelPatchRequest is the body of PATCH /api/v1/channels/{code}.
type channelPatchRequest struct {
	Kind      *channel.Kind  `json:"kind,omitempty"`
	Name      *string        `json:"name,omitempty"`
	Secret    *string        `json:"secret,omitempty" writeOnly:"true" doc:"A new webhook secret; \"\" removes it. Write-only."`
	Policy    *policyRequest `json:"policy,omitempty" doc:"Only the fields given change."`
	Locations *[]string      `json:"locations,omitempty" doc:"Replaces the whole list of feeding locations; [] means every active location. Left out or null: unchanged."`
}

// channelView returns c as the API shows it: lists are arrays, never null.
func channelView(c *channel.Channel) *channel.Channel {
	if c == nil || c.Locations != nil {
		return c
	}
	cp := *c
	cp.Locations = []string{}
	return &cp
}

// channelList is a page of channels.
type channelList struct {
	Items      []*channel.Channel `json:"items"`
	NextCursor *string            `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

func (a *api) createChannel(w http.ResponseWriter, r *http.Request) error {
	var req channelRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	c := &channel.Channel{Code: req.Code, Kind: req.Kind, Name: req.Name, Secret: req.Secret, Policy: channel.DefaultPolicy(),
		Locations: req.Locations}
	if pp := req.Policy.patch(); pp != nil {
		setIf(&c.Policy.CancellationWindowMinutes, pp.CancellationWindowMinutes)
		setIf(&c.Policy.ReturnWindowDays, pp.ReturnWindowDays)
		setIf(&c.Policy.PartialCancellation, pp.PartialCancellation)
		setIf(&c.Policy.Refunds, pp.Refunds)
		setIf(&c.Policy.ConfirmShipmentWithinHours, pp.ConfirmShipmentWithinHours)
		setIf(&c.Policy.MayEmailCustomer, pp.MayEmailCustomer)
	}
	out, err := a.svc.CreateChannel(r.Context(), principal(r), c)
	if err != nil {
		return err
	}
	w.Header().Set("Location", resourcePath(r.URL.Path, out.Code))
	return writeJSON(w, http.StatusCreated, channelView(out))
}

func (a *api) listChannels(w http.ResponseWriter, r *http.Request) error {
	lp, err := listParams(r, "channels")
	if err != nil {
		return err
	}
	items, next, err := a.svc.ListChannels(r.Context(), principal(r), lp)
	if err != nil {
		return err
	}
	for i, c := range items {
		items[i] = channelView(c)
	}
	return writeJSON(w, http.StatusOK, channelList{Items: nonNil(items), NextCursor: encodeCursor("channels", next)})
}

func (a *api) getChannel(w http.ResponseWriter, r *http.Request) error {
	c, err := a.svc.GetChannel(r.Context(), principal(r), r.PathValue("code"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, channelView(c))
}

func (a *api) patchChannel(w http.ResponseWriter, r *http.Request) error {
	var req channelPatchRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	c, err := a.svc.UpdateChannel(r.Context(), principal(r), r.PathValue("code"), service.ChannelPatch{
		Name: req.Name, Kind: req.Kind, Secret: req.Secret, Policy: req.Policy.patch(), Locations: req.Locations,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, channelView(c))
}

// locationRequest is the body of POST /api/v1/locations.
type locationRequest struct {
	Code    string                 `json:"code" openapi:"required" doc:"Unique and URL-safe: 1-64 of a-z, 0-9, '-' and '_'."`
	Name    string                 `json:"name" openapi:"required"`
	Kind    inventory.LocationKind `json:"kind" openapi:"required"`
	Address orderly.Address        `json:"address"`
	Lat     *float64               `json:"lat,omitempty" doc:"Latitude, for distance-based routing."`
	Lon     *float64               `json:"lon,omitempty" doc:"Longitude, for distance-based routing."`
	Active  *bool                  `json:"active,omitempty" doc:"Whether the location may be routed to. Defaults to true."`
	locationRoutingRequest
}

// locationRoutingRequest holds a location's routing attributes, in both
// its create and patch bodies.
type locationRoutingRequest struct {
	Priority        *int      `json:"priority,omitempty" doc:"Routing rank, lower first: 1 to 1000000. Left out or 0: 100."`
	ShipsTo         *[]string `json:"ships_to,omitempty" doc:"ISO 3166-1 alpha-2 countries the location ships to; empty: anywhere."`
	Modes           *[]string `json:"modes,omitempty" doc:"Fulfilment modes offered: ship, pickup, ship_from_store. Empty: [ship] for a warehouse or dropship, [ship, ship_from_store, pickup] for a store."`
	DailyCapacity   *int      `json:"daily_capacity,omitempty" doc:"Orders per UTC day routing may send here; 0: no limit."`
	CostPerShipment *int64    `json:"cost_per_shipment,omitempty" doc:"Cost of one shipment from here, in minor units, for the cost ranker."`
	Carrier         *string   `json:"carrier,omitempty" doc:"The carrier that rates and labels this location's parcels: table-rate (built in) or easypost (needs ORDERLY_EASYPOST_API_KEY). Left out or empty: table-rate."`
}

// locationPatchRequest is the body of PATCH /api/v1/locations/{code}.
type locationPatchRequest struct {
	Name    *string                 `json:"name,omitempty"`
	Kind    *inventory.LocationKind `json:"kind,omitempty"`
	Address *orderly.Address        `json:"address,omitempty" doc:"Replaces the whole address."`
	Lat     nullable[float64]       `json:"lat" doc:"null clears the latitude."`
	Lon     nullable[float64]       `json:"lon" doc:"null clears the longitude."`
	Active  *bool                   `json:"active,omitempty"`
	locationRoutingRequest
}

// locationList is a page of locations.
type locationList struct {
	Items      []*inventory.Location `json:"items"`
	NextCursor *string               `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

func (a *api) createLocation(w http.ResponseWriter, r *http.Request) error {
	var req locationRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	l := &inventory.Location{Code: req.Code, Name: req.Name, Kind: req.Kind, Address: req.Address,
		Lat: req.Lat, Lon: req.Lon, Active: true}
	setIf(&l.Active, req.Active)
	setIf(&l.Priority, req.Priority)
	setIf(&l.ShipsTo, req.ShipsTo)
	setIf(&l.Modes, req.Modes)
	setIf(&l.DailyCapacity, req.DailyCapacity)
	setIf(&l.CostPerShipment, req.CostPerShipment)
	setIf(&l.Carrier, req.Carrier)
	out, err := a.svc.CreateLocation(r.Context(), principal(r), l)
	if err != nil {
		return err
	}
	w.Header().Set("Location", resourcePath(r.URL.Path, out.Code))
	return writeJSON(w, http.StatusCreated, out)
}

func (a *api) listLocations(w http.ResponseWriter, r *http.Request) error {
	lp, err := listParams(r, "locations")
	if err != nil {
		return err
	}
	items, next, err := a.svc.ListLocations(r.Context(), principal(r), lp)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, locationList{Items: nonNil(items), NextCursor: encodeCursor("locations", next)})
}

func (a *api) getLocation(w http.ResponseWriter, r *http.Request) error {
	l, err := a.svc.GetLocation(r.Context(), principal(r), r.PathValue("code"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}

func (a *api) patchLocation(w http.ResponseWriter, r *http.Request) error {
	var req locationPatchRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	l, err := a.svc.UpdateLocation(r.Context(), principal(r), r.PathValue("code"), service.LocationPatch{
		Name: req.Name, Kind: req.Kind, Address: req.Address, Lat: req.Lat.patch(), Lon: req.Lon.patch(), Active: req.Active,
		Priority: req.Priority, ShipsTo: req.ShipsTo, Modes: req.Modes, DailyCapacity: req.DailyCapacity,
		CostPerShipment: req.CostPerShipment, Carrier: req.Carrier,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}

// skuRequest is the body of POST /api/v1/skus.
type skuRequest struct {
	SKU         string `json:"sku" openapi:"required" doc:"The SKU code: 1-100 bytes, no control characters or surrounding spaces. Percent-encode it in URLs."`
	Name        string `json:"name" openapi:"required"`
	Barcode     string `json:"barcode,omitempty"`
	WeightGrams int64  `json:"weight_grams,omitempty"`
}

// skuPatchRequest is the body of PATCH /api/v1/skus/{sku}.
type skuPatchRequest struct {
	Name        *string `json:"name,omitempty"`
	Barcode     *string `json:"barcode,omitempty"`
	WeightGrams *int64  `json:"weight_grams,omitempty"`
}

// skuList is a page of SKUs.
type skuList struct {
	Items      []*inventory.SKU `json:"items"`
	NextCursor *string          `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

func (a *api) createSKU(w http.ResponseWriter, r *http.Request) error {
	var req skuRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	out, err := a.svc.CreateSKU(r.Context(), principal(r), &inventory.SKU{
		SKU: req.SKU, Name: req.Name, Barcode: req.Barcode, WeightGrams: req.WeightGrams,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", resourcePath(r.URL.Path, out.SKU))
	return writeJSON(w, http.StatusCreated, out)
}

func (a *api) listSKUs(w http.ResponseWriter, r *http.Request) error {
	lp, err := listParams(r, "skus")
	if err != nil {
		return err
	}
	items, next, err := a.svc.ListSKUs(r.Context(), principal(r), lp)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, skuList{Items: nonNil(items), NextCursor: encodeCursor("skus", next)})
}

func (a *api) getSKU(w http.ResponseWriter, r *http.Request) error {
	k, err := a.svc.GetSKU(r.Context(), principal(r), r.PathValue("sku"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, k)
}

func (a *api) patchSKU(w http.ResponseWriter, r *http.Request) error {
	var req skuPatchRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	k, err := a.svc.UpdateSKU(r.Context(), principal(r), r.PathValue("sku"), service.SKUPatch{
		Name: req.Name, Barcode: req.Barcode, WeightGrams: req.WeightGrams,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, k)
}

// listParams reads limit and cursor, the only parameters of the
// code-ordered lists.
func listParams(r *http.Request, list string) (store.ListParams, error) {
	q := r.URL.Query()
	if err := queryParams(q, "limit", "cursor"); err != nil {
		return store.ListParams{}, err
	}
	var p orderly.Problems
	lp := store.ListParams{Limit: limitParam(q, &p), After: decodeCursor(q, list, &p)}
	return lp, p.Err()
}

// setIf overwrites *dst with *src when src is not nil.
func setIf[T any](dst, src *T) {
	if src != nil {
		*dst = *src
	}
}

// nonNil returns s, or an empty slice for nil, so lists encode as [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
