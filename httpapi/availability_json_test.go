package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/orderly-oms/orderly/service"
)

// FuzzAppendAvailability: the appended answer decodes to what encode
// writes for the same items, whatever the strings hold; invalid UTF-8 is
// left to encode.
func FuzzAppendAvailability(f *testing.F) {
	f.Add("SKU-1", "leeds", int64(5), int64(2), int64(1), 2)
	f.Add(`quo"te\back`, "<&>\u2028", int64(-1), int64(0), int64(1<<62), 0)
	f.Add("bad\xff", "ok", int64(0), int64(0), int64(0), 1)
	f.Fuzz(func(t *testing.T, sku, loc string, onHand, reserved, safety int64, n int) {
		items := []service.SKUAvailability{{SKU: sku, Available: onHand, Locations: []service.LocationAvailability{}}}
		for range n % 4 {
			items[0].Locations = append(items[0].Locations, service.LocationAvailability{Location: loc,
				OnHand: onHand, Reserved: reserved, SafetyStock: safety, Available: onHand - reserved})
		}
		items = append(items, service.SKUAvailability{SKU: loc, Locations: []service.LocationAvailability{}})
		want, err := encode(availabilityList{Items: items})
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendAvailability(nil, items)
		if !ok {
			if utf8.ValidString(sku) && utf8.ValidString(loc) {
				t.Fatalf("refused valid UTF-8: %q %q", sku, loc)
			}
			return // writeAvailability falls back to encode
		}
		if got[len(got)-1] != '\n' {
			t.Errorf("no newline at the end: %q", got)
		}
		decode := func(b []byte) (v any) {
			d := json.NewDecoder(bytes.NewReader(b))
			d.UseNumber() // int64 figures exactly
			if err := d.Decode(&v); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, b)
			}
			return v
		}
		g, w := decode(got), decode(want)
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		if !bytes.Equal(gb, wb) {
			t.Errorf("appended %s\nencoded  %s", got, want)
		}
	})
}
