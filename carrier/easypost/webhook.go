package easypost

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/carrier"
)

// epTracker is EasyPost's Tracker object.
type epTracker struct {
	ID              string     `json:"id"`
	TrackingCode    string     `json:"tracking_code"`
	Carrier         string     `json:"carrier"`
	Status          string     `json:"status"`
	StatusDetail    string     `json:"status_detail"`
	EstDeliveryDate *time.Time `json:"est_delivery_date"`
	ShipmentID      string     `json:"shipment_id"`
	PublicURL       string     `json:"public_url"`
	TrackingDetails []struct {
		Status           string    `json:"status"`
		StatusDetail     string    `json:"status_detail"`
		Message          string    `json:"message"`
		Description      string    `json:"description"`
		Datetime         time.Time `json:"datetime"`
		TrackingLocation *struct {
			City    *string `json:"city"`
			State   *string `json:"state"`
			Zip     *string `json:"zip"`
			Country *string `json:"country"`
		} `json:"tracking_location"`
	} `json:"tracking_details"`
}

// MapStatus maps an EasyPost tracker status onto Orderly's tracking
// statuses. ok is false for a status that says nothing: "unknown" (EasyPost
// has no information yet) and "" — the shipment keeps its status. The
// mapping:
//
//	pre_transit → pre_transit          in_transit → in_transit
//	out_for_delivery → out_for_delivery
//	available_for_pickup → out_for_delivery (at a pickup point: the last step)
//	delivered → delivered              return_to_sender → returned_to_sender
//	failure, cancelled, error → exception
//	anything else → exception
//
// Statuses EasyPost adds later become exception rather than being dropped:
// a person then looks at a parcel whose news Orderly could not read, which
// is safer than missing a lost parcel; the event's detail names the raw
// status.
func MapStatus(s string) (carrier.TrackingStatus, bool) {
	switch s {
	case "", "unknown":
		return "", false
	case "pre_transit":
		return carrier.StatusPreTransit, true
	case "in_transit":
		return carrier.StatusInTransit, true
	case "out_for_delivery", "available_for_pickup":
		return carrier.StatusOutForDelivery, true
	case "delivered":
		return carrier.StatusDelivered, true
	case "return_to_sender":
		return carrier.StatusReturnedToSender, true
	default:
		return carrier.StatusException, true
	}
}

func known(s string) bool {
	return slices.Contains([]string{"pre_transit", "in_transit", "out_for_delivery", "available_for_pickup",
		"delivered", "return_to_sender", "failure", "cancelled", "error"}, s)
}

// tracking converts a tracker; events come oldest first, and details whose
// status says nothing are left out.
func (t *epTracker) tracking() *carrier.Tracking {
	out := &carrier.Tracking{TrackingNumber: t.TrackingCode, Carrier: t.Carrier, PublicURL: t.PublicURL,
		CarrierRef: t.ID, EstimatedDelivery: t.EstDeliveryDate, Events: []carrier.Event{}}
	out.Status, _ = MapStatus(t.Status)
	for _, d := range t.TrackingDetails {
		st, ok := MapStatus(d.Status)
		if !ok || d.Datetime.IsZero() {
			continue
		}
		detail := strings.TrimSpace(d.Message)
		if d.Description != "" && d.Description != d.Message {
			detail = strings.TrimSpace(detail + " — " + d.Description)
		}
		if !known(d.Status) {
			detail = strings.TrimSpace("[" + d.Status + "] " + detail)
		}
		ev := carrier.Event{Status: st, At: d.Datetime.UTC(), Detail: truncate(detail, 1000)}
		if l := d.TrackingLocation; l != nil {
			var parts []string
			for _, p := range []*string{l.City, l.State, l.Zip, l.Country} {
				if p != nil && *p != "" {
					parts = append(parts, *p)
				}
			}
			ev.Location = truncate(strings.Join(parts, " "), 200)
		}
		out.Events = append(out.Events, ev)
	}
	slices.SortStableFunc(out.Events, func(a, b carrier.Event) int { return a.At.Compare(b.At) })
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// SignatureHeader is the header EasyPost signs webhooks in.
const SignatureHeader = "X-Hmac-Signature"

const sigPrefix = "hmac-sha256-hex="

// Sign returns the X-Hmac-Signature value EasyPost sends for body:
// "hmac-sha256-hex=" and the hex HMAC-SHA256 of the raw body, keyed with
// the webhook secret normalised to NFKD (as EasyPost's own client libraries
// do, so a secret with accents or compatibility characters verifies).
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(norm.NFKD.String(secret)))
	m.Write(body)
	return sigPrefix + hex.EncodeToString(m.Sum(nil))
}

// VerifyWebhook checks the X-Hmac-Signature header against the raw body,
// in constant time, before anything is parsed. A missing secret, a missing
// or malformed header, or a mismatch is KindUnauthorized.
func VerifyWebhook(secret, header string, body []byte) error {
	if secret == "" {
		return orderly.Errorf(orderly.KindUnauthorized, "easypost webhook: no secret is configured")
	}
	h := strings.TrimSpace(header)
	if len(h) < len(sigPrefix) || !strings.EqualFold(h[:len(sigPrefix)], sigPrefix) {
		return orderly.Errorf(orderly.KindUnauthorized, "easypost webhook: missing or malformed %s", SignatureHeader)
	}
	got := []byte(strings.ToLower(h[len(sigPrefix):]))
	want := []byte(Sign(secret, body)[len(sigPrefix):])
	if !hmac.Equal(got, want) {
		return orderly.Errorf(orderly.KindUnauthorized, "easypost webhook: signature does not match")
	}
	return nil
}

// Event is a webhook event Orderly reads.
type Event struct {
	// ID is EasyPost's event id (evt_…), the key to deduplicate on.
	ID string `json:"id"`
	// Description is the event type, e.g. "tracker.updated".
	Description string `json:"description"`
	// Mode is "test" or "production".
	Mode string `json:"mode"`
	// Tracking is the tracker's state, for tracker.* events; nil otherwise
	// (the caller acknowledges and ignores those).
	Tracking *carrier.Tracking `json:"tracking,omitempty"`
	// ShipmentRef is EasyPost's shipment id (shp_…) the tracker belongs
	// to, when it has one.
	ShipmentRef string `json:"shipment_ref,omitempty"`
	// PreviousStatus is the tracker's status before this update, mapped,
	// from previous_attributes; "" when not given.
	PreviousStatus carrier.TrackingStatus `json:"previous_status,omitempty"`
}

// MaxWebhookBody bounds the webhook bodies ParseEvent reads (1 MiB).
const MaxWebhookBody = 1 << 20

// ParseEvent reads a webhook body: an Event object whose result, for
// tracker.created and tracker.updated, is a Tracker. A body that is not
// an event is KindInvalid; other event types return an Event without
// Tracking.
func ParseEvent(body []byte) (*Event, error) {
	if len(body) > MaxWebhookBody {
		return nil, orderly.Errorf(orderly.KindInvalid, "easypost webhook: body larger than %d bytes", MaxWebhookBody)
	}
	var raw struct {
		ID                 string          `json:"id"`
		Object             string          `json:"object"`
		Description        string          `json:"description"`
		Mode               string          `json:"mode"`
		Result             json.RawMessage `json:"result"`
		PreviousAttributes struct {
			Status string `json:"status"`
		} `json:"previous_attributes"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, orderly.Errorf(orderly.KindInvalid, "easypost webhook: %v", err)
	}
	if raw.Object != "Event" || raw.ID == "" || raw.Description == "" {
		return nil, orderly.Errorf(orderly.KindInvalid, "easypost webhook: not an Event object")
	}
	ev := &Event{ID: raw.ID, Description: raw.Description, Mode: raw.Mode}
	if !strings.HasPrefix(raw.Description, "tracker.") {
		return ev, nil
	}
	var t epTracker
	if err := json.Unmarshal(raw.Result, &t); err != nil {
		return nil, orderly.Errorf(orderly.KindInvalid, "easypost webhook: tracker: %v", err)
	}
	if t.TrackingCode == "" {
		return nil, orderly.Errorf(orderly.KindInvalid, "easypost webhook: tracker without a tracking_code")
	}
	ev.Tracking = t.tracking()
	ev.ShipmentRef = t.ShipmentID
	ev.PreviousStatus, _ = MapStatus(raw.PreviousAttributes.Status)
	return ev, nil
}
