// Package connectortest is the contract suite every connector runs (Run)
// and an httptest fake of a platform's API (Fake) for testing the
// connectors' HTTP clients. It is imported by tests only.
package connectortest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/order"
)

// Suite describes a connector and the real payloads it must map.
type Suite struct {
	// Connector is the connector under test.
	Connector connector.Connector
	// Cases are real payloads (from testdata/) and what they must map to.
	Cases []Case
	// Sign returns the headers of a correctly signed webhook delivery of
	// body. It is required when Connector implements
	// connector.WebhookVerifier.
	Sign func(body []byte) http.Header
}

// Case is one payload and the facts it must yield.
type Case struct {
	Name    string
	Payload []byte
	Want    Want
}

// Want lists what the suite checks on the Inbound of a Case.
type Want struct {
	// ExternalID is the channel's order id, exactly (no float rounding).
	ExternalID string
	Currency   string
	// PlacedAt is the instant the order was placed (compared with Equal).
	PlacedAt time.Time
	Status   order.Status
	// Lines are compared on SKU, Quantity, UnitPrice, Discount and Tax.
	Lines []order.Line
	// LineExternalIDs are the channel's line ids, exactly.
	LineExternalIDs []string
	// Reported is the channel's reported totals (nil: none reported).
	Reported *order.Totals
	// Problems is how many problems the mapping must flag.
	Problems int
}

// malformed are payloads every connector must refuse with KindInvalid.
var malformed = []string{"", "   ", "null", "[]", `"order"`, "{", `{"id":`, "{}", `{} {}`, "42"}

// Run runs the contract suite on s.
func Run(t *testing.T, s Suite) {
	t.Helper()
	if !s.Connector.Kind().Valid() {
		t.Fatalf("Kind() = %q, not a valid channel kind", s.Connector.Kind())
	}
	if len(s.Cases) == 0 {
		t.Fatal("the suite needs at least one real payload")
	}
	for _, c := range s.Cases {
		t.Run(c.Name, func(t *testing.T) { runCase(t, s.Connector, c) })
	}
	t.Run("malformed", func(t *testing.T) {
		for _, p := range malformed {
			checkInvalid(t, s.Connector, []byte(p))
		}
		// Every truncation of a real payload is refused, never a panic.
		for _, c := range s.Cases {
			for n := 0; n < len(c.Payload)-1; n += 1 + len(c.Payload)/97 {
				checkInvalid(t, s.Connector, c.Payload[:n])
			}
		}
	})
	if v, ok := s.Connector.(connector.WebhookVerifier); ok {
		t.Run("webhook", func(t *testing.T) { runWebhook(t, v, s) })
	}
}

func checkInvalid(t *testing.T, c connector.Connector, p []byte) {
	t.Helper()
	in, err := c.ParseOrder(p)
	if err == nil {
		t.Errorf("ParseOrder(%.40q) = %+v, want an error", p, in)
		return
	}
	if k := orderly.KindOf(err); k != orderly.KindInvalid {
		t.Errorf("ParseOrder(%.40q): error kind %s (%v), want invalid", p, k, err)
	}
	var e *orderly.Error
	if errors.As(err, &e) && len(e.Fields) == 0 {
		t.Errorf("ParseOrder(%.40q): %v names no field", p, err)
	}
}

func runCase(t *testing.T, c connector.Connector, tc Case) {
	in, err := c.ParseOrder(tc.Payload)
	if err != nil {
		t.Fatalf("ParseOrder: %v", err)
	}
	o := in.Order
	w := tc.Want
	if o.Channel != "" {
		t.Errorf("Channel = %q; the caller sets it", o.Channel)
	}
	if o.ExternalID != w.ExternalID {
		t.Errorf("ExternalID = %q, want %q", o.ExternalID, w.ExternalID)
	}
	if o.Currency != w.Currency {
		t.Errorf("Currency = %q, want %q", o.Currency, w.Currency)
	}
	if !o.PlacedAt.Equal(w.PlacedAt) {
		t.Errorf("PlacedAt = %v, want the instant %v", o.PlacedAt, w.PlacedAt)
	}
	if in.Status != w.Status {
		t.Errorf("Status = %q, want %q", in.Status, w.Status)
	}
	if in.Status == order.StatusCancelled && in.Cancellation == nil {
		t.Error("cancelled without a Cancellation")
	}
	if len(in.LineExternalIDs) != len(o.Lines) {
		t.Errorf("%d LineExternalIDs for %d lines", len(in.LineExternalIDs), len(o.Lines))
	}
	if !reflect.DeepEqual(in.LineExternalIDs, w.LineExternalIDs) {
		t.Errorf("LineExternalIDs = %q, want %q", in.LineExternalIDs, w.LineExternalIDs)
	}
	if len(o.Lines) != len(w.Lines) {
		t.Errorf("%d lines, want %d", len(o.Lines), len(w.Lines))
	} else {
		for i, l := range o.Lines {
			wl := w.Lines[i]
			got := [5]any{l.SKU, l.Quantity, l.UnitPrice, l.Discount, l.Tax}
			want := [5]any{wl.SKU, wl.Quantity, wl.UnitPrice, wl.Discount, wl.Tax}
			if got != want {
				t.Errorf("lines[%d] (sku, qty, unit, discount, tax) = %v, want %v", i, got, want)
			}
		}
	}
	if !reflect.DeepEqual(in.Reported, w.Reported) {
		t.Errorf("Reported = %+v, want %+v", in.Reported, w.Reported)
	}
	if len(in.Problems) != w.Problems {
		t.Errorf("%d problems, want %d: %q", len(in.Problems), w.Problems, in.Problems)
	}
	for _, p := range in.Problems {
		if p == "" {
			t.Error("an empty problem")
		}
	}
	for _, a := range in.Adjustments {
		if !orderly.ValidCurrency(a.Currency) || a.Kind == "" {
			t.Errorf("adjustment %+v lacks a kind or a currency", a)
		}
	}

	// The mapped order is one Orderly accepts once the caller sets the channel.
	o.Channel = "test-channel"
	if err := o.Validate(); err != nil {
		t.Errorf("order.Validate: %v", err)
	}

	// Parsing is deterministic, and the Inbound survives JSON (the form a
	// job stores) with its instants.
	again, err := c.ParseOrder(bytes.Clone(tc.Payload))
	if err != nil || !reflect.DeepEqual(in, again) {
		t.Errorf("re-parsing gave a different result (err %v)", err)
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var back connector.Inbound
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Order.PlacedAt.Equal(o.PlacedAt) || back.Order.ExternalID != o.ExternalID {
		t.Errorf("JSON round trip lost the instant or the id: %v %q", back.Order.PlacedAt, back.Order.ExternalID)
	}
}

func runWebhook(t *testing.T, v connector.WebhookVerifier, s Suite) {
	if s.Sign == nil {
		t.Fatal("the connector verifies webhooks: the suite needs Sign")
	}
	body := s.Cases[0].Payload
	h := s.Sign(body)
	if _, err := v.VerifyWebhook(h, body); err != nil {
		t.Errorf("a correctly signed delivery was refused: %v", err)
	}
	tampered := bytes.Clone(body)
	tampered[len(tampered)/2] ^= 1
	unauthorized := func(name string, h http.Header, body []byte) {
		t.Helper()
		_, err := v.VerifyWebhook(h, body)
		if k := orderly.KindOf(err); err == nil || k != orderly.KindUnauthorized {
			t.Errorf("%s: VerifyWebhook = %v (kind %v), want unauthorized", name, err, k)
		}
	}
	unauthorized("tampered body", h, tampered)
	unauthorized("no headers", http.Header{}, body)
	unauthorized("signature of another body", s.Sign([]byte(`{"id":1}`)), body)
	unauthorized("empty body", h, nil)
}
