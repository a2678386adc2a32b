package easypost_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/carrier"
	"github.com/orderly-oms/orderly/carrier/easypost"
)

// webhookBody wraps the published tracker in a tracker.updated Event, as
// EasyPost posts it.
func webhookBody(t testing.TB, tracker []byte, previous string) []byte {
	t.Helper()
	ev := map[string]any{
		"id": "evt_1d2b3c", "object": "Event", "description": "tracker.updated", "mode": "test",
		"previous_attributes": map[string]string{"status": previous},
		"result":              json.RawMessage(tracker),
		"created_at":          "2024-01-24T00:07:43Z", "updated_at": "2024-01-24T00:07:43Z",
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"evt_1","object":"Event"}`)
	// Computed outside Go with the NFKD bytes of the secret:
	// printf '%s' "$body" | openssl dgst -sha256 -hmac "$(printf 'se\xcc\x81cret')".
	sig := easypost.Sign("sécret", body)
	if sig != "hmac-sha256-hex=17006b8eff08bd0d7eca5be9af7b35a3eb15dcd6774cb38553822743f11f2deb" {
		t.Fatalf("signature %q", sig)
	}
	if err := easypost.VerifyWebhook("sécret", sig, body); err != nil {
		t.Fatal(err)
	}
	// The secret is NFKD-normalised: the precomposed é (U+00E9) and e +
	// combining acute (U+0065 U+0301) are the same secret.
	if err := easypost.VerifyWebhook("se\u0301cret", sig, body); err != nil {
		t.Fatalf("decomposed secret: %v", err)
	}
	if err := easypost.VerifyWebhook("sécret", strings.ToUpper(sig[:16])+strings.ToUpper(sig[16:]), body); err != nil {
		t.Fatalf("upper-case hex: %v", err)
	}
	for name, c := range map[string]struct{ secret, header, body string }{
		"wrong secret": {"other", sig, string(body)},
		"changed body": {"sécret", sig, string(body) + " "},
		"no header":    {"sécret", "", string(body)},
		"bare hex":     {"sécret", sig[16:], string(body)},
		"no secret":    {"", sig, string(body)},
		"truncated":    {"sécret", sig[:40], string(body)},
	} {
		if err := easypost.VerifyWebhook(c.secret, c.header, []byte(c.body)); !errors.Is(err, orderly.ErrUnauthorized) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSignKnownVector pins the HMAC to a value computed outside Go:
// printf '%s' '{"a":1}' | openssl dgst -sha256 -hmac 'key'.
func TestSignKnownVector(t *testing.T) {
	t.Parallel()
	const want = "hmac-sha256-hex=" + "88a67f24bbcdaed0e6c997404bb79a743baf44c6bab2f4c27328e3009d22e342"
	if got := easypost.Sign("key", []byte(`{"a":1}`)); got != want {
		t.Fatalf("got %s", got)
	}
}

func TestParseEvent(t *testing.T) {
	t.Parallel()
	ev, err := easypost.ParseEvent(webhookBody(t, readFile(t, "testdata/tracker.json"), "unknown"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "evt_1d2b3c" || ev.Description != "tracker.updated" || ev.ShipmentRef != "shp_82d5637d74404d1595eacdc7e5ca9273" || ev.PreviousStatus != "" {
		t.Fatalf("event %+v", ev)
	}
	tr := ev.Tracking
	if tr == nil || tr.TrackingNumber != "9405500207552011812894" || tr.Status != carrier.StatusPreTransit || len(tr.Events) != 2 ||
		tr.Events[0].Detail != "Pre-Shipment Info Sent to USPS" || tr.Events[0].Location != "" {
		t.Fatalf("tracking %+v", tr)
	}
	// Statuses: delivered, an unknown future one, and "unknown" (dropped).
	var m map[string]any
	_ = json.Unmarshal(readFile(t, "testdata/tracker.json"), &m)
	m["status"] = "delivered"
	details := m["tracking_details"].([]any)
	details[0].(map[string]any)["status"] = "teleported"
	details[1].(map[string]any)["status"] = "unknown"
	b, _ := json.Marshal(m)
	ev, err = easypost.ParseEvent(webhookBody(t, b, "in_transit"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Tracking.Status != carrier.StatusDelivered || ev.PreviousStatus != carrier.StatusInTransit || len(ev.Tracking.Events) != 1 ||
		ev.Tracking.Events[0].Status != carrier.StatusException || !strings.HasPrefix(ev.Tracking.Events[0].Detail, "[teleported]") {
		t.Fatalf("mapped %+v / %+v", ev, ev.Tracking.Events)
	}
	// Other event types are read but carry no tracking.
	ev, err = easypost.ParseEvent([]byte(`{"id":"evt_2","object":"Event","description":"batch.updated","result":{}}`))
	if err != nil || ev.Tracking != nil {
		t.Fatalf("batch event: %+v %v", ev, err)
	}
	for _, bad := range []string{``, `[]`, `{"object":"Tracker"}`, `{"id":"evt_3","object":"Event","description":"tracker.updated","result":{"status":"delivered"}}`} {
		if _, err := easypost.ParseEvent([]byte(bad)); !errors.Is(err, orderly.ErrInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestMapStatus(t *testing.T) {
	t.Parallel()
	cases := map[string]carrier.TrackingStatus{
		"pre_transit": carrier.StatusPreTransit, "in_transit": carrier.StatusInTransit,
		"out_for_delivery": carrier.StatusOutForDelivery, "available_for_pickup": carrier.StatusOutForDelivery,
		"delivered": carrier.StatusDelivered, "return_to_sender": carrier.StatusReturnedToSender,
		"failure": carrier.StatusException, "cancelled": carrier.StatusException, "error": carrier.StatusException,
		"something_new": carrier.StatusException, "unknown": "", "": "",
	}
	for in, want := range cases {
		if got, ok := easypost.MapStatus(in); got != want || ok != (want != "") {
			t.Errorf("%q → %q %v, want %q", in, got, ok, want)
		}
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add(webhookBody(f, readFile(f, "testdata/tracker.json"), "pre_transit"))
	f.Add([]byte(`{"id":"e","object":"Event","description":"tracker.created","result":{"tracking_code":"1","tracking_details":[{"status":"x","datetime":"2024-01-01T00:00:00Z","message":"\u00e9"}]}}`))
	f.Add([]byte(`{"id":"e","object":"Event","description":"tracker.updated","result":null}`))
	valid := map[carrier.TrackingStatus]bool{"": true, carrier.StatusPreTransit: true, carrier.StatusInTransit: true,
		carrier.StatusOutForDelivery: true, carrier.StatusDelivered: true, carrier.StatusException: true, carrier.StatusReturnedToSender: true}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := easypost.ParseEvent(body)
		if err != nil {
			if orderly.KindOf(err) != orderly.KindInvalid {
				t.Fatalf("error of kind %s: %v", orderly.KindOf(err), err)
			}
			return
		}
		if ev.ID == "" || !valid[ev.PreviousStatus] {
			t.Fatalf("event %+v", ev)
		}
		if tr := ev.Tracking; tr != nil {
			if tr.TrackingNumber == "" || !valid[tr.Status] {
				t.Fatalf("tracking %+v", tr)
			}
			for i, e := range tr.Events {
				if e.Status == "" || !valid[e.Status] || e.At.IsZero() || len(e.Detail) > 1000 {
					t.Fatalf("event %d: %+v", i, e)
				}
				if i > 0 && e.At.Before(tr.Events[i-1].At) {
					t.Fatal("events out of order")
				}
			}
		}
	})
}
