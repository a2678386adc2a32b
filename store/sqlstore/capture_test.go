package sqlstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/orderly-oms/orderly"
)

// withNumberByMap is what the creation event's data used to be given its
// number: the object decoded, "number" set, encoded again.
func withNumberByMap(data []byte, number int64) ([]byte, bool) {
	m := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &m); err != nil || m == nil {
			return nil, false
		}
	}
	m["number"], _ = json.Marshal(number)
	out, err := json.Marshal(m)
	return out, err == nil
}

func TestNumbered(t *testing.T) {
	for _, data := range []string{
		``, ` `, `{}`, `{"channel":"web"}`, `{"a":1,"z":2}`, `{"number":7}`, `{"number":7,"a":[1, 2]}`,
		`{"nu":1,"number0":2,"numbe":3}`, `{"x":"\u003c\"number\":0"}`, "{\n \"items\" : { \"b\": 1, \"a\": 2 } }",
	} {
		n, err := newNumbered([]byte(data))
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		want, _ := withNumberByMap([]byte(data), 1042)
		if got := n.with(1042); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", data, got, want)
		}
	}
	for _, data := range []string{`[]`, `null`, `"x"`, `{`, `{"a":}`, `1`} {
		if _, err := newNumbered([]byte(data)); !errors.Is(err, orderly.ErrInvalid) {
			t.Errorf("%q: got %v, want invalid", data, err)
		}
	}
}

// FuzzNumbered checks newNumbered against decoding and encoding the
// whole object, for any input.
func FuzzNumbered(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"number":2,"z":[3]}`, `{"b":{"c":"number"}}`, `[]`, ``} {
		f.Add([]byte(s), int64(1001))
	}
	f.Fuzz(func(t *testing.T, data []byte, number int64) {
		want, ok := withNumberByMap(data, number)
		n, err := newNumbered(data)
		if !ok {
			if err == nil {
				t.Fatalf("%q: accepted, but it is not a JSON object", data)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		if got := n.with(number); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", data, got, want)
		}
	})
}
