package httpapi

import (
	"errors"
	"testing"

	"github.com/orderly-oms/orderly"
)

// FuzzDecodeOrderRequest checks that the order decoder never panics and
// always answers with either a valid order input or a typed error: a 400
// *requestError (not the JSON we take) or a KindInvalid *orderly.Error
// naming at least one field.
func FuzzDecodeOrderRequest(f *testing.F) {
	for _, seed := range []string{
		orderBody(chWeb, "F-1"),
		`{"channel":"web","external_id":"x","currency":"EUR","lines":[{"sku":"a","quantity":1}]}`,
		`{"channel":"web","external_id":"x","currency":"EUR","lines":[{"sku":"a","quantity":1.5,"unit_price":-1}]}`,
		`{"lines":[{"quantity":1e999999999,"unit_price":"12","tax":null,"discount":true}]}`,
		`{"placed_at":"2025-02-30T25:00:00Z","shipping_address":{"lat":1e400}}`,
		`{"tags":[""],"shipping_lines":[{"price":0.000001}]}`,
		`[]`, `null`, `{}`, `{"channel":1}`, `{"x":1}`, `{} {}`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		o, _, err := decodeOrderRequest(body, t0)
		if err == nil {
			if o == nil {
				t.Fatal("nil order and nil error")
			}
			if verr := o.Validate(); verr != nil {
				t.Fatalf("decoded order does not validate: %v", verr)
			}
			return
		}
		if o != nil {
			t.Fatal("an order and an error")
		}
		var re *requestError
		var oe *orderly.Error
		switch {
		case errors.As(err, &re):
			if re.status != 400 {
				t.Fatalf("request error with status %d", re.status)
			}
		case errors.As(err, &oe):
			if oe.Kind != orderly.KindInvalid || len(oe.Fields) == 0 {
				t.Fatalf("orderly error of kind %v with %d fields: %v", oe.Kind, len(oe.Fields), oe)
			}
		default:
			t.Fatalf("untyped error %T: %v", err, err)
		}
	})
}
