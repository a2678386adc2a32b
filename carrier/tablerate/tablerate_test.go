package tablerate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/carrier"
)

const table = `{"carrier": "Orderly Post", "currency": "EUR", "tracking_prefix": "OR",
 "zones": [{"name": "domestic", "countries": ["GB"]},
           {"name": "europe", "countries": ["DE", "FR", "IE"]},
           {"name": "world", "countries": ["*"]}],
 "services": [
   {"code": "standard", "name": "Standard", "estimated_days": 3,
    "rates": {"domestic": [{"up_to_grams": 2000, "amount": 450}, {"up_to_grams": 10000, "amount": 890}],
              "europe": [{"up_to_grams": 2000, "amount": 1200}],
              "world": [{"up_to_grams": 2000, "amount": 2500}]}},
   {"code": "express", "name": "Express 24", "estimated_days": 1,
    "rates": {"domestic": [{"up_to_grams": 5000, "amount": 399}]}}]}`

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func newCarrier(t *testing.T) *Carrier {
	t.Helper()
	cfg, err := ParseConfig([]byte(table))
	if err != nil {
		t.Fatal(err)
	}
	var n int64 = 41
	c, err := New(cfg, func(context.Context) (int64, error) { n++; return n, nil },
		fixedClock{time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	from = orderly.Address{Name: "Orderly Warehouse", Line1: "1 Dock Road", City: "Leeds", PostalCode: "LS1 1AA", Country: "GB"}
	to   = orderly.Address{Name: "Zoë Müller", Line1: "Hauptstraße 5", City: "Berlin", PostalCode: "10115", Country: "DE"}
)

func TestRates(t *testing.T) {
	t.Parallel()
	c := newCarrier(t)
	cases := []struct {
		country string
		grams   int64
		want    string // service:amount, cheapest first
	}{
		{"GB", 1500, "express:399 standard:450"},
		{"GB", 2000, "express:399 standard:450"}, // bands are inclusive
		{"GB", 2001, "express:399 standard:890"},
		{"GB", 6000, "standard:890"},
		{"GB", 10001, ""},
		{"DE", 500, "standard:1200"},
		{"US", 500, "standard:2500"}, // the "*" zone
		{"US", 2500, ""},
	}
	for _, tc := range cases {
		p := carrier.Parcel{From: from, To: orderly.Address{Country: tc.country}, WeightGrams: tc.grams}
		rates, err := c.Rates(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rates {
			if r.Currency != "EUR" || r.Carrier != "Orderly Post" {
				t.Fatalf("rate %+v", r)
			}
			got = append(got, r.Service+":"+strconv.FormatInt(r.Amount, 10))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s %dg: got %q, want %q", tc.country, tc.grams, strings.Join(got, " "), tc.want)
		}
	}
	_, err := c.Rates(context.Background(), carrier.Parcel{From: from, To: to})
	if !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("no weight: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	bad := `{"currency": "XXX", "tracking_prefix": "or",
	 "zones": [{"name": "a", "countries": ["GB", "ZZ"]}, {"name": "a", "countries": ["GB"]}],
	 "services": [{"code": "s", "rates": {"nowhere": [{"up_to_grams": 10, "amount": 1}],
	              "a": [{"up_to_grams": 10, "amount": 1}, {"up_to_grams": 10, "amount": -1}]}}]}`
	_, err := ParseConfig([]byte(bad))
	var oe *orderly.Error
	if !errors.As(err, &oe) || oe.Kind != orderly.KindInvalid {
		t.Fatalf("got %v", err)
	}
	var fields []string
	for _, f := range oe.Fields {
		fields = append(fields, f.Field)
	}
	want := "currency tracking_prefix zones[0].countries[1] zones[1].name zones[1].countries[0] " +
		"services[0].rates.a[1].up_to_grams services[0].rates.a[1].amount services[0].rates.nowhere"
	if strings.Join(fields, " ") != want {
		t.Fatalf("fields\n got %s\nwant %s", strings.Join(fields, " "), want)
	}
	if _, err := ParseConfig([]byte(`{"currency": "EUR", "colour": "red"}`)); !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("unknown field: %v", err)
	}
}

func TestTrackingNumber(t *testing.T) {
	t.Parallel()
	// 0000000042: Luhn check digit 2 (4·2=8, 2 → 8+2=10).
	if tn, _ := TrackingNumber("OR", 42); tn != "OR00000000422" {
		t.Fatalf("got %s", tn)
	}
	// 7992739871 is the textbook Luhn example, check digit 3.
	if tn, _ := TrackingNumber("X", 7992739871); tn != "X79927398713" {
		t.Fatalf("got %s", tn)
	}
	if _, err := TrackingNumber("OR", 0); err == nil {
		t.Fatal("sequence 0 accepted")
	}
	c := newCarrier(t)
	if _, err := c.Track(context.Background(), "OR00000000422"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Track(context.Background(), "OR00000000423"); !errors.Is(err, orderly.ErrNotFound) {
		t.Fatalf("bad check digit: %v", err)
	}
}

func TestCode128Vectors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want []int
	}{
		// Set B throughout; check = (104 + 48·1 + 42·2 + 42·3 + 17·4 + 18·5 + 19·6 + 35·7) mod 103 = 55.
		{"PJJ123C", []int{104, 48, 42, 42, 17, 18, 19, 35, 55, 106}},
		// Even digits only: set C, check = (105 + 12 + 34·2) mod 103 = 82.
		{"1234", []int{105, 12, 34, 82, 106}},
		// Letters then a run of 6 digits at the end: switch to C.
		{"AB123456", []int{104, 33, 34, 99, 12, 34, 56, (104 + 33 + 34*2 + 99*3 + 12*4 + 34*5 + 56*6) % 103, 106}},
		// An odd run at the end leaves its first digit in B.
		{"OR00000000422", []int{104, 47, 50, 16, 99, 0, 0, 0, 4, 22,
			(104 + 47 + 50*2 + 16*3 + 99*4 + 0 + 0 + 0 + 4*8 + 22*9) % 103, 106}},
		// A short digit run in the middle stays in B.
		{"A12B", []int{104, 33, 17, 18, 34, (104 + 33 + 17*2 + 18*3 + 34*4) % 103, 106}},
		// A long one in the middle switches to C and back.
		{"A123456B", []int{104, 33, 99, 12, 34, 56, 100, 34, (104 + 33 + 99*2 + 12*3 + 34*4 + 56*5 + 100*6 + 34*7) % 103, 106}},
	}
	for _, tc := range cases {
		got, err := Code128Values(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if !slicesEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.in, got, tc.want)
		}
	}
	if _, err := Code128Values("é"); err == nil {
		t.Fatal("non-ASCII accepted")
	}
	// Every pattern is 11 modules (Stop 13) of bar, space, … and unique.
	seen := map[string]bool{}
	for v, p := range code128Patterns {
		sum := 0
		for _, w := range p {
			sum += int(w - '0')
		}
		if want := map[bool]int{true: 13, false: 11}[v == 106]; sum != want || seen[p] {
			t.Fatalf("pattern %d %q: %d modules or duplicate", v, p, sum)
		}
		seen[p] = true
	}
	m, _ := Code128Modules("1234")
	// Start C 211232, 12 = 112232, 34 = 131123, check 82 = 121241, Stop 2331112.
	if want := "11010011100" + "10110011100" + "10001011000" + "10010011110" + "1100011101011"; m != want {
		t.Fatalf("modules\n got %s\nwant %s", m, want)
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCreateLabel(t *testing.T) {
	t.Parallel()
	c := newCarrier(t)
	req := carrier.LabelRequest{Parcel: carrier.Parcel{From: from, To: to, WeightGrams: 1250, Reference: "1001"}, Service: "standard"}
	l, err := c.CreateLabel(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if l.TrackingNumber != "OR00000000422" || l.Amount != 1200 || l.Currency != "EUR" || l.Service != "standard" {
		t.Fatalf("label %+v", l)
	}
	if !bytes.HasPrefix(l.PDF, []byte("%PDF-")) || !bytes.Contains(l.PDF[len(l.PDF)-10:], []byte("%%EOF")) {
		t.Fatal("not a PDF")
	}
	if os.Getenv("LABEL_OUT") != "" {
		_ = os.WriteFile(os.Getenv("LABEL_OUT"), l.PDF, 0o600)
	}
	// The next label takes the next number.
	l2, err := c.CreateLabel(context.Background(), req)
	if err != nil || l2.TrackingNumber != "OR00000000430" {
		t.Fatalf("second label %v %v", l2, err)
	}
	for _, bad := range []carrier.LabelRequest{
		{Parcel: req.Parcel, Service: "overnight"},
		{Parcel: carrier.Parcel{From: from, To: to, WeightGrams: 5000}, Service: "standard"},
		{Parcel: carrier.Parcel{From: from, To: to, WeightGrams: 100}, Service: "express"},
	} {
		if _, err := c.CreateLabel(context.Background(), bad); !errors.Is(err, orderly.ErrInvalid) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
}

// TestLabelContent reads the uncompressed PDF: one 4×6 in page holding the
// carrier, service, both addresses, the tracking number and the bars.
func TestLabelContent(t *testing.T) {
	t.Parallel()
	d := labelData{Carrier: "Orderly Post", Service: "Express 24", TrackingNumber: "OR00000000422",
		From: from, To: to, WeightGrams: 1250, Reference: "1001", Date: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	pdf, err := renderLabel(d, false)
	if err != nil {
		t.Fatal(err)
	}
	s := string(pdf)
	if os.Getenv("LABEL_DUMP") != "" {
		t.Log(s)
	}
	if !strings.HasPrefix(s, "%PDF-1.") || !strings.HasSuffix(strings.TrimSpace(s), "%%EOF") {
		t.Fatal("not a PDF")
	}
	if n := strings.Count(s, "/Type /Page\n"); n != 1 {
		t.Fatalf("%d pages", n)
	}
	if !regexp.MustCompile(`/MediaBox \[0 0 288\.00 432\.00\]`).MatchString(s) {
		t.Fatal("page is not 4×6 in (288×432 pt)")
	}
	for _, want := range []string{"(Orderly Post)Tj", "(Express 24)Tj", "(Orderly Warehouse)Tj", "(LS1 1AA Leeds)Tj",
		"(Hauptstra\xdfe 5)Tj", "(Zo\xeb M\xfcller)Tj", "(10115 Berlin)Tj", "(DE)Tj", "(OR00000000422)Tj", "(2025-03-01)Tj"} {
		if !strings.Contains(s, want) {
			t.Errorf("label lacks %q", want)
		}
	}
	// One filled rectangle per bar.
	modules, _ := Code128Modules(d.TrackingNumber)
	bars := len(regexp.MustCompile(`1+`).FindAllString(modules, -1))
	if got := strings.Count(s, " re f"); got != bars {
		t.Fatalf("%d filled rectangles, want %d bars", got, bars)
	}
	// Same input, same bytes.
	again, _ := renderLabel(d, false)
	if !bytes.Equal(pdf, again) {
		t.Fatal("label is not deterministic")
	}
}

func TestDefaultTable(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the built-in table is invalid: %v", err)
	}
	for country, zone := range map[string]string{"GB": "domestic", "DE": "europe", "US": "world"} {
		if got := cfg.Zone(country); got != zone {
			t.Errorf("zone of %s = %q, want %q", country, got, zone)
		}
	}
}
