package service

import (
	"context"
	"slices"
	"strings"

	"github.com/orderly-oms/orderly/carrier"
	"github.com/orderly-oms/orderly/fulfilment"
)

// CarrierActor is the actor of the tracking events a carrier's webhook
// records, e.g. "carrier:easypost/acct_1".
func CarrierActor(name, account string) string { return "carrier:" + name + "/" + account }

// RecordCarrierTracking records what a carrier's webhook reports of a
// parcel on the shipment with its tracking number, through the same path
// as RecordShipmentEvent: each event with a status an API caller could send
// (pre_transit is left out), a repeated event changing nothing. The caller
// has verified the webhook's signature; there is no principal. An unknown
// tracking number is KindNotFound. It returns the shipment and how many
// events were new.
func (s *Service) RecordCarrierTracking(ctx context.Context, actor string, t *carrier.Tracking) (*fulfilment.Shipment, int, error) {
	sh, err := s.store.ShipmentGetByTracking(ctx, t.TrackingNumber)
	if err != nil {
		return nil, 0, err
	}
	added := 0
	for _, e := range t.Events {
		st := fulfilment.TrackingStatus(e.Status)
		if !slices.Contains(fulfilment.EventStatuses, st) {
			continue
		}
		detail := e.Detail
		if e.Location != "" {
			detail = strings.TrimSpace(detail + " (" + e.Location + ")")
		}
		if len(detail) > 1000 {
			detail = e.Detail
		}
		before := len(sh.Events)
		out, err := s.recordShipmentEvent(ctx, actor, sh.ID, TrackingUpdate{Status: st, At: e.At, Detail: detail},
			func(*fulfilment.Shipment) error { return nil })
		if err != nil {
			return nil, added, err
		}
		if len(out.Events) > before {
			added++
		}
		sh = out
	}
	return sh, added, nil
}
