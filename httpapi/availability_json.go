package httpapi

import (
	"net/http"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/orderly-oms/orderly/service"
)

// writeAvailability writes an availability answer: what writeJSON writes
// for availabilityList{items}, appended field by field. A lookup of 20 SKUs
// at 20 locations is ~40 KB of JSON, and encoding/json's reflection took
// 70 µs of it, more than the rest of the lookup once the figures come from
// the stock cache; appending takes 20 µs (docs/benchmarks.md). A string
// that is not valid UTF-8 (which encoding/json would repair) sends the
// answer through writeJSON instead.
func writeAvailability(w http.ResponseWriter, items []service.SKUAvailability) error {
	body, ok := appendAvailability(make([]byte, 0, 64+len(items)*(64+20*112)), items)
	if !ok {
		return writeJSON(w, http.StatusOK, availabilityList{Items: items})
	}
	writeBody(w, http.StatusOK, body)
	return nil
}

// appendAvailability appends the JSON of availabilityList{items} and a
// newline, as encode does; ok is false if a string is not valid UTF-8.
func appendAvailability(b []byte, items []service.SKUAvailability) (_ []byte, ok bool) {
	var err error
	b = append(b, `{"items":[`...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"sku":`...)
		if b, err = jsontext.AppendQuote(b, it.SKU); err != nil {
			return nil, false
		}
		b = append(b, `,"available":`...)
		b = strconv.AppendInt(b, it.Available, 10)
		b = append(b, `,"locations":[`...)
		for j, l := range it.Locations {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"location":`...)
			if b, err = jsontext.AppendQuote(b, l.Location); err != nil {
				return nil, false
			}
			b = append(b, `,"on_hand":`...)
			b = strconv.AppendInt(b, l.OnHand, 10)
			b = append(b, `,"reserved":`...)
			b = strconv.AppendInt(b, l.Reserved, 10)
			b = append(b, `,"safety_stock":`...)
			b = strconv.AppendInt(b, l.SafetyStock, 10)
			b = append(b, `,"available":`...)
			b = strconv.AppendInt(b, l.Available, 10)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}\n"...), true
}
