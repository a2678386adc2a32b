package loadgen

import (
	"slices"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
)

func TestScanLookup(t *testing.T) {
	answer := `{"items":[{"sku":"A \"quoted\" \u00e9","available":5,"locations":[{"location":"{\"sku\":","on_hand":5,"reserved":0,"safety_stock":0,"available":5}]},` +
		`{"sku":"B","available":-0,"locations":[]},{"sku":"C","available":12345678901,"locations":[]}]}` + "\n"
	got, ok := scanLookup([]byte(answer))
	want := []lookupItem{{`A "quoted" é`, 5}, {"B", 0}, {"C", 12345678901}}
	if !ok || !slices.Equal(got, want) {
		t.Fatalf("scan: %+v %v, want %+v", got, ok, want)
	}
	if got, ok := scanLookup([]byte(`{"items":[]}`)); !ok || len(got) != 0 {
		t.Errorf("no items: %+v %v", got, ok)
	}
	for _, bad := range []string{
		`{"items":[{"sku":"A","locations":[],"available":5}]}`, // another order
		`{"items":[{"sku":"A`,                   // cut short
		`{"items":[{"sku":5,"available":5}]}`,   // not a string
		`{"items":[{"sku":"A","available":x}]}`, // not a number
		`{"error":"nope"}`,                      // no items at all
	} {
		if got, ok := scanLookup([]byte(bad)); ok {
			t.Errorf("scan of %s: %+v, want a failure", bad, got)
		}
	}
}

// FuzzScanLookup: where the scan reads items from an answer that is JSON
// of the answer's shape, they are the decoded ones.
func FuzzScanLookup(f *testing.F) {
	f.Add(`{"items":[{"sku":"A","available":5,"locations":[]}]}`)
	f.Add(`{"items":[{"sku":"A\\\"","available":-1,"locations":[{"location":"x"}]},{"sku":"","available":0,"locations":[]}]}`)
	f.Fuzz(func(t *testing.T, answer string) {
		got, ok := scanLookup([]byte(answer))
		var a lookupAnswer
		if !ok || jsonv2.Unmarshal([]byte(answer), &a, jsonv2.RejectUnknownMembers(false)) != nil {
			return
		}
		if len(a.Items) == len(got) && !slices.Equal(a.Items, got) {
			t.Errorf("scanned %+v, decoded %+v", got, a.Items)
		}
	})
}
