package fulfilment

import (
	"slices"
	"time"

	"github.com/orderly-oms/orderly"
)

// TrackingStatus is where a shipment is, as its carrier reports it: a
// closed set every carrier's statuses are mapped onto.
type TrackingStatus string

// The tracking statuses. Delivered is terminal.
const (
	TrackingPreTransit       TrackingStatus = "pre_transit" // label made, not yet with the carrier
	TrackingInTransit        TrackingStatus = "in_transit"
	TrackingOutForDelivery   TrackingStatus = "out_for_delivery"
	TrackingDelivered        TrackingStatus = "delivered"
	TrackingException        TrackingStatus = "exception" // delayed, failed attempt, lost, carrier error
	TrackingReturnedToSender TrackingStatus = "returned_to_sender"
)

// TrackingStatuses lists every tracking status.
var TrackingStatuses = []TrackingStatus{TrackingPreTransit, TrackingInTransit, TrackingOutForDelivery,
	TrackingDelivered, TrackingException, TrackingReturnedToSender}

// Valid reports whether s is one of the tracking statuses.
func (s TrackingStatus) Valid() bool { return slices.Contains(TrackingStatuses, s) }

// EventStatuses are the statuses a tracking event may report through the
// API: every status but pre_transit, which only a new shipment has.
var EventStatuses = []TrackingStatus{TrackingInTransit, TrackingOutForDelivery, TrackingDelivered,
	TrackingException, TrackingReturnedToSender}

// TrackingEvent is one report from the carrier (or a person) about where a
// shipment is.
type TrackingEvent struct {
	Status TrackingStatus `json:"status"`
	// At is when it happened, by the carrier's account (not when Orderly
	// heard of it).
	At     time.Time `json:"at"`
	Detail string    `json:"detail,omitempty"`
}

// MaxEvents bounds how many tracking events one shipment keeps.
const MaxEvents = 500

// Shipment is one parcel: what left which location, with which carrier and
// tracking number, and where it is now.
type Shipment struct {
	ID                string `json:"id"`
	FulfilmentOrderID string `json:"fulfilment_order_id"`
	OrderID           string `json:"order_id"`
	Location          string `json:"location"`
	Carrier           string `json:"carrier"`
	Service           string `json:"service"`
	TrackingNumber    string `json:"tracking_number"`
	// Label is where the label is: a URL (a carrier's) or a reference to a
	// stored file ("label:<id>"); empty when the label was made elsewhere.
	Label string         `json:"label,omitempty"`
	Lines []ShipmentLine `json:"lines"`
	// Status is the status of the latest event by event time, except that
	// once delivered it stays delivered (see Record).
	Status TrackingStatus `json:"status"`
	// Events are the tracking events, oldest first by At.
	Events []TrackingEvent `json:"events"`
	// DeliveredAt is the time of the delivered event, once there is one.
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	// Version increases by one with every stored change (the store bumps it).
	Version int64 `json:"version"`
}

// NewShipment builds the shipment for lines that f.Ship returned, in
// pre_transit. It checks the carrier fields.
func NewShipment(f *FulfilmentOrder, lines []ShipmentLine, carrier, service, trackingNumber, label string, now time.Time) (*Shipment, error) {
	s := &Shipment{
		ID: orderly.NewID(), FulfilmentOrderID: f.ID, OrderID: f.OrderID, Location: f.Location,
		Carrier: carrier, Service: service, TrackingNumber: trackingNumber, Label: label,
		Lines: slices.Clone(lines), Status: TrackingPreTransit, Events: []TrackingEvent{},
		CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Validate checks the shipment's carrier fields and lines.
func (s *Shipment) Validate() error {
	var p orderly.Problems
	if s.Carrier == "" {
		p.Add("carrier", "is required")
	}
	orderly.CheckText(&p, "carrier", s.Carrier, 100)
	orderly.CheckText(&p, "service", s.Service, 100)
	if s.TrackingNumber == "" {
		p.Add("tracking_number", "is required")
	}
	orderly.CheckText(&p, "tracking_number", s.TrackingNumber, 100)
	orderly.CheckText(&p, "label", s.Label, 2000)
	if len(s.Lines) == 0 {
		p.Add("lines", "must have at least one line")
	}
	for i, l := range s.Lines {
		if l.LineID == "" {
			p.Add(field(i, "line_id"), "is required")
		}
		if l.Quantity < 1 {
			p.Add(field(i, "quantity"), "must be at least 1")
		}
	}
	if !s.Status.Valid() {
		p.Add("status", "%q is not a tracking status", s.Status)
	}
	return p.Err()
}

// Record adds a tracking event and reports whether the shipment's status
// changed. Carriers resend and reorder events, so:
//
//   - an event equal to one already recorded (status, time and detail) is
//     ignored: redelivered webhooks are harmless;
//   - events are kept in order of their time, wherever they arrive; the
//     status is that of the latest event by time (of equal times, the one
//     recorded last), so a late-arriving older event is kept in the history
//     but does not move the status back;
//   - delivered is terminal: once a delivered event is recorded the status
//     stays delivered, whatever arrives after it (later events are kept in
//     the history: the carrier said them).
//
// An unknown status, a zero time or a too-long detail is KindInvalid; a
// shipment already holding MaxEvents events refuses more with KindConflict.
func (s *Shipment) Record(ev TrackingEvent, now time.Time) (bool, error) {
	var p orderly.Problems
	if !ev.Status.Valid() {
		p.Add("status", "%q is not a tracking status", ev.Status)
	}
	if ev.At.IsZero() {
		p.Add("at", "is required")
	}
	orderly.CheckText(&p, "detail", ev.Detail, 1000)
	if err := p.Err(); err != nil {
		return false, err
	}
	ev.At = ev.At.UTC()
	for _, e := range s.Events {
		if e.Status == ev.Status && e.At.Equal(ev.At) && e.Detail == ev.Detail {
			return false, nil
		}
	}
	if len(s.Events) >= MaxEvents {
		return false, orderly.Errorf(orderly.KindConflict, "shipment %s already has %d tracking events", s.ID, MaxEvents)
	}
	// Insert after every event at or before ev.At.
	i, _ := slices.BinarySearchFunc(s.Events, ev.At, func(e TrackingEvent, t time.Time) int {
		if e.At.After(t) {
			return 1
		}
		return -1
	})
	s.Events = slices.Insert(s.Events, i, ev)
	s.UpdatedAt = now
	before := s.Status
	if before == TrackingDelivered {
		return false, nil
	}
	if ev.Status == TrackingDelivered {
		at := ev.At
		s.DeliveredAt = &at
		s.Status = TrackingDelivered
	} else {
		s.Status = s.Events[len(s.Events)-1].Status
	}
	return s.Status != before, nil
}
