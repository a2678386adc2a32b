package httpapi

import (
	"errors"
	"reflect"
	"testing"
)

func TestJSONErrorPaths(t *testing.T) {
	t.Parallel()
	cases := []struct {
		body, field string
	}{
		{`{"lines":[{"sku":"a"},{"sku":"b","name":5}]}`, "lines[1].name"},
		{`{"lines":[{"sku":"a"},{"sku":"b"},{"sku":7}]}`, "lines[2].sku"},
		{`{"tags":["a",{"b":1}]}`, "tags[1]"},
		{`{"customer":{"name":["x"]}}`, "customer.name"},
		{`{"lines":[5]}`, "lines[0]"},
		{`{"note":{"a":[1,{"b":2}]}, "channel":1}`, "note"},
		{`{"shipping_address":{"lat":"north"}}`, "shipping_address.lat"},
		{`{"lines":[{"sku":"a"},{"sku":"b","qty":1}]}`, "lines[1].qty"},
		{`{"shipping_lines":[{"code":"x","Price":1,"cost":2}]}`, "shipping_lines[0].cost"},
		{`{"Channel":"web","extra":{"x":1}}`, "extra"},
		{`{"billing_address":{"country":"GB","zip":"x"}}`, "billing_address.zip"},
	}
	for _, c := range cases {
		_, _, err := decodeOrderRequest([]byte(c.body), t0)
		var re *requestError
		if !errors.As(err, &re) || len(re.fields) != 1 || re.fields[0].Field != c.field {
			t.Errorf("%s: %v, want a 400 naming %s", c.body, err, c.field)
		}
	}
	// A nullable reports an offset inside its own value: the path falls
	// back to the decoder's.
	err := decodeJSON([]byte(`{"name":"x","lat":"north"}`), &locationPatchRequest{})
	if re := (*requestError)(nil); !errors.As(err, &re) || re.fields[0].Field != "lat" {
		t.Errorf("nullable: %v", err)
	}
	if p := unknownFieldPath([]byte(`{"a":1}`), reflect.TypeFor[emptyRequest](), "a"); p != "a" {
		t.Errorf("empty request: %q", p)
	}
}
