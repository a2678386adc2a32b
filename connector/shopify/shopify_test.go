package shopify_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/connector/shopify"
)

func asError(err error, e **orderly.Error) bool { return errors.As(err, e) }

func TestVerifyWebhook(t *testing.T) {
	body := fixture(t, "orders_create.json")
	sig := connector.SignBase64(secret, body)
	ok := http.Header{shopify.HeaderHMAC: {sig}}
	if err := shopify.VerifyWebhook(secret, ok, body); err != nil {
		t.Errorf("valid signature refused: %v", err)
	}
	for name, tc := range map[string]struct {
		secret string
		h      http.Header
		body   []byte
	}{
		"missing header": {secret, http.Header{}, body},
		"not base64":     {secret, http.Header{shopify.HeaderHMAC: {"%%%"}}, body},
		"short":          {secret, http.Header{shopify.HeaderHMAC: {"AAAA"}}, body},
		"wrong secret":   {"other", ok, body},
		"no secret":      {"", ok, body},
		"tampered":       {secret, ok, append([]byte(" "), body...)},
		"hex not base64": {secret, http.Header{shopify.HeaderHMAC: {"6d8a9ab6a0b6c9d2e0f1"}}, body},
	} {
		if err := shopify.VerifyWebhook(tc.secret, tc.h, tc.body); orderly.KindOf(err) != orderly.KindUnauthorized {
			t.Errorf("%s: err = %v, want unauthorized", name, err)
		}
	}
}

func TestDeliveryOf(t *testing.T) {
	c, _ := shopify.New(connector.Config{Secret: secret})
	body := []byte(`{"id":1}`)
	for topic, isOrder := range map[string]bool{"orders/create": true, "orders/updated": true, "orders/cancelled": true, "refunds/create": false, "": false} {
		h := http.Header{shopify.HeaderHMAC: {connector.SignBase64(secret, body)}, shopify.HeaderTopic: {topic}, shopify.HeaderWebhookID: {"w-1"}}
		d, err := c.VerifyWebhook(h, body)
		if err != nil || d != (connector.Delivery{ID: "w-1", Topic: topic, IsOrder: isOrder}) {
			t.Errorf("%q: %+v, %v", topic, d, err)
		}
	}
}

func FuzzParseOrder(f *testing.F) {
	f.Add(fixture(f, "orders_create.json"))
	f.Add([]byte(`{"id":1,"currency":"JPY","created_at":"2020-01-01T00:00:00Z","line_items":[{"quantity":1,"price":"1.5"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := shopify.ParseOrder(b)
		if err != nil {
			if k := orderly.KindOf(err); k != orderly.KindInvalid {
				t.Fatalf("error kind %s: %v", k, err)
			}
			return
		}
		if len(in.LineExternalIDs) != len(in.Order.Lines) {
			t.Fatal("line ids out of step with lines")
		}
	})
}
