package service

import (
	"context"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/carrier"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// This file wires the carriers (docs/decisions/0006, "Done: carriers per
// location"): rates and labels for a fulfilment order's open units, with
// the carrier its location is configured for, and the labels bought.
//
// The carrier is called before any transaction: a carrier's answer takes
// seconds, and no lock is held meanwhile. Only the bought label and its
// event are written, under the order's lock.

// NextTrackingNumber hands out the numbers of table-rate tracking numbers
// from the store's sequence (a tablerate.Sequence).
func (s *Service) NextTrackingNumber(ctx context.Context) (int64, error) {
	return s.store.TrackingNumberNext(ctx)
}

// parcelJob is what rating or labelling a fulfilment order needs.
type parcelJob struct {
	fo      *fulfilment.FulfilmentOrder
	carrier carrier.Carrier
	parcel  carrier.Parcel
	kind    string
}

// prepareParcel reads a fulfilment order p may act on and builds its
// parcel: its open units' weight (SKU weight × quantity, at least 1 g),
// from its location's address to the order's shipping address, with the
// carrier configured for the location.
func (s *Service) prepareParcel(ctx context.Context, p auth.Principal, id string) (*parcelJob, *order.Order, error) {
	if err := require(p, auth.PermFulfilmentManage); err != nil {
		return nil, nil, err
	}
	f, err := s.store.FulfilmentOrderGet(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := requireFulfilment(p, f.Location); err != nil {
		return nil, nil, err
	}
	var grams, open int64
	for _, l := range f.Lines {
		q := l.Open()
		if q <= 0 {
			continue
		}
		open += q
		k, err := s.store.SKUGet(ctx, l.SKU)
		if err != nil {
			return nil, nil, err
		}
		grams += k.WeightGrams * q
	}
	if f.Status.Terminal() || open == 0 {
		return nil, nil, orderly.Errorf(orderly.KindConflict, "fulfilment order %s is %s with nothing open to ship", f.ID, f.Status)
	}
	loc, err := s.store.LocationGet(ctx, f.Location)
	if err != nil {
		return nil, nil, err
	}
	loc.ApplyDefaults()
	c, ok := s.Carriers[loc.Carrier]
	if !ok || c == nil {
		hint := ""
		if loc.Carrier == inventory.CarrierEasyPost {
			hint = " (set ORDERLY_EASYPOST_API_KEY)"
		}
		return nil, nil, orderly.Invalid("carrier", "location %q uses carrier %q, which is not configured on this server%s",
			loc.Code, loc.Carrier, hint)
	}
	o, err := s.store.OrderGet(ctx, f.OrderID)
	if err != nil {
		return nil, nil, err
	}
	return &parcelJob{fo: f, carrier: c, kind: loc.Carrier, parcel: carrier.Parcel{
		From: loc.Address, To: o.ShippingAddress, WeightGrams: max(1, grams),
		Reference: f.ID,
	}}, o, nil
}

// FulfilmentRates asks the carrier of a fulfilment order's location what
// each of its services would charge for the order's open units, cheapest
// first. Who may ask is who may act on the fulfilment order.
func (s *Service) FulfilmentRates(ctx context.Context, p auth.Principal, id string) ([]carrier.Rate, error) {
	job, _, err := s.prepareParcel(ctx, p, id)
	if err != nil {
		return nil, err
	}
	rates, err := job.carrier.Rates(ctx, job.parcel)
	if err != nil {
		return nil, err
	}
	if rates == nil {
		rates = []carrier.Rate{}
	}
	return rates, nil
}

// FulfilmentLabel buys a label for a fulfilment order's open units with
// one service of its location's carrier, stores it and writes
// fulfilment.label_created. The tracking number is then what
// ShipFulfilment is given. An order on hold gets no label.
func (s *Service) FulfilmentLabel(ctx context.Context, p auth.Principal, id, service string) (*fulfilment.Label, error) {
	if service == "" {
		return nil, orderly.Invalid("service", "is required")
	}
	var pr orderly.Problems
	orderly.CheckText(&pr, "service", service, 100)
	if err := pr.Err(); err != nil {
		return nil, err
	}
	job, o, err := s.prepareParcel(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := notOnHold(o); err != nil {
		return nil, err
	}
	bought, err := job.carrier.CreateLabel(ctx, carrier.LabelRequest{Parcel: job.parcel, Service: service})
	if err != nil {
		return nil, err
	}
	l := &fulfilment.Label{ID: orderly.NewID(), FulfilmentOrderID: job.fo.ID, Carrier: bought.Carrier, Service: bought.Service,
		TrackingNumber: bought.TrackingNumber, URL: bought.URL, Amount: bought.Amount, Currency: bought.Currency,
		CarrierRef: bought.CarrierRef, PDF: bought.PDF, CreatedAt: s.clock.Now()}
	// The postage is paid: the label is stored whatever the fulfilment
	// order became meanwhile.
	_, err = s.changeFulfilment(ctx, p, id, func(tx store.Querier, f *fulfilment.FulfilmentOrder, o *order.Order, _ time.Time) (bool, error) {
		if err := tx.LabelInsert(ctx, l); err != nil {
			return false, err
		}
		return false, tx.EventInsert(ctx, s.event("fulfilment.label_created", "fulfilment_order", f.ID, o.ID, p.Actor(),
			map[string]any{"fulfilment_order_id": f.ID, "label_id": l.ID, "location": f.Location, "carrier_kind": job.kind,
				"carrier": l.Carrier, "service": l.Service, "tracking_number": l.TrackingNumber,
				"amount": l.Amount, "currency": l.Currency, "weight_grams": job.parcel.WeightGrams}))
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// GetLabel returns a label with its document. Who may see it is who may
// see its fulfilment order; others get KindNotFound.
func (s *Service) GetLabel(ctx context.Context, p auth.Principal, id string) (*fulfilment.Label, error) {
	if err := require(p, auth.PermOrdersRead); err != nil {
		return nil, err
	}
	l, err := s.store.LabelGet(ctx, id)
	if err != nil {
		return nil, err
	}
	f, err := s.store.FulfilmentOrderGet(ctx, l.FulfilmentOrderID)
	if err != nil {
		return nil, err
	}
	if ok, err := s.seesFulfilment(ctx, p, f.OrderID, f.Location); err != nil {
		return nil, err
	} else if !ok {
		return nil, orderly.Errorf(orderly.KindNotFound, "label %s not found", id)
	}
	return l, nil
}
