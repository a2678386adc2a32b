// Package tablerate is Orderly's built-in carrier: rates looked up in a
// configured table (destination zone × weight band × service) and labels
// made here as 4×6 in PDFs with a Code 128 barcode of the tracking number.
// It suits a business that ships with a carrier it has a price list from
// and no API, or wants labels without a carrier account.
//
// It imports the orderly and carrier packages and github.com/go-pdf/fpdf.
package tablerate

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/carrier"
)

// Name is the carrier name table-rate labels and rates carry by default.
const Name = "table-rate"

// Config is the rate table. In JSON:
//
//	{"carrier": "table-rate", "currency": "EUR", "tracking_prefix": "OR",
//	 "zones": [{"name": "domestic", "countries": ["GB"]},
//	           {"name": "europe", "countries": ["DE", "FR", "IE"]},
//	           {"name": "world", "countries": ["*"]}],
//	 "services": [{"code": "standard", "name": "Standard", "estimated_days": 3,
//	               "rates": {"domestic": [{"up_to_grams": 2000, "amount": 450},
//	                                      {"up_to_grams": 10000, "amount": 890}],
//	                         "europe": [{"up_to_grams": 2000, "amount": 1200}]}}]}
//
// A destination belongs to the zone that lists its country, else to the
// zone listing "*" (at most one); with neither it cannot be shipped to. A
// service prices a parcel with the first band of the destination's zone
// whose up_to_grams is at least the parcel's weight; a service without a
// band for the zone or the weight does not offer it.
type Config struct {
	// Carrier is the name rates and labels carry; default "table-rate".
	Carrier string `json:"carrier"`
	// Currency is the ISO 4217 code of every amount.
	Currency string `json:"currency"`
	// TrackingPrefix starts every tracking number: 1–4 capital letters,
	// default "OR".
	TrackingPrefix string    `json:"tracking_prefix"`
	Zones          []Zone    `json:"zones"`
	Services       []Service `json:"services"`
}

// Zone is a named set of destination countries.
type Zone struct {
	Name string `json:"name"`
	// Countries are ISO 3166-1 alpha-2 codes, or "*" for every country no
	// other zone lists.
	Countries []string `json:"countries"`
}

// Service is one level of service and its prices.
type Service struct {
	// Code identifies the service in rates and label requests, e.g. "standard".
	Code string `json:"code"`
	// Name is printed on the label; default Code.
	Name          string `json:"name"`
	EstimatedDays int    `json:"estimated_days"`
	// Rates maps a zone name to its weight bands, lightest first.
	Rates map[string][]Band `json:"rates"`
}

// Band prices parcels up to a weight.
type Band struct {
	UpToGrams int64 `json:"up_to_grams"`
	// Amount is in minor units of the table's currency.
	Amount int64 `json:"amount"`
}

var (
	codeRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	prefixRE = regexp.MustCompile(`^[A-Z]{1,4}$`)
)

// ParseConfig decodes a rate table strictly (unknown fields are refused)
// and validates it.
func ParseConfig(data []byte) (*Config, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, orderly.Errorf(orderly.KindInvalid, "rate table: %v", err)
	}
	if dec.More() {
		return nil, orderly.Errorf(orderly.KindInvalid, "rate table: trailing data after the JSON object")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks the table and names every bad field.
func (c *Config) Validate() error {
	var p orderly.Problems
	orderly.CheckText(&p, "carrier", c.Carrier, 100)
	if !orderly.ValidCurrency(c.Currency) {
		p.Add("currency", "%q is not an ISO 4217 currency code", c.Currency)
	}
	if c.TrackingPrefix != "" && !prefixRE.MatchString(c.TrackingPrefix) {
		p.Add("tracking_prefix", "must be 1-4 capital letters")
	}
	if len(c.Zones) == 0 {
		p.Add("zones", "must have at least one zone")
	}
	zones := map[string]bool{}
	owner := map[string]string{} // country → zone
	for i, z := range c.Zones {
		f := fmt.Sprintf("zones[%d]", i)
		switch {
		case !codeRE.MatchString(z.Name):
			p.Add(f+".name", "must be 1-64 characters of a-z, 0-9, '-' or '_'")
		case zones[z.Name]:
			p.Add(f+".name", "%q appears twice", z.Name)
		}
		zones[z.Name] = true
		if len(z.Countries) == 0 {
			p.Add(f+".countries", "must list at least one country")
		}
		for j, cc := range z.Countries {
			ff := fmt.Sprintf("%s.countries[%d]", f, j)
			if cc != "*" && !orderly.ValidCountry(cc) {
				p.Add(ff, "%q is not an ISO 3166-1 alpha-2 country code or \"*\"", cc)
			} else if prev, dup := owner[cc]; dup {
				p.Add(ff, "%s is already in zone %q", cc, prev)
			} else {
				owner[cc] = z.Name
			}
		}
	}
	if len(c.Services) == 0 {
		p.Add("services", "must have at least one service")
	}
	codes := map[string]bool{}
	for i, s := range c.Services {
		f := fmt.Sprintf("services[%d]", i)
		switch {
		case !codeRE.MatchString(s.Code):
			p.Add(f+".code", "must be 1-64 characters of a-z, 0-9, '-' or '_'")
		case codes[s.Code]:
			p.Add(f+".code", "%q appears twice", s.Code)
		}
		codes[s.Code] = true
		orderly.CheckText(&p, f+".name", s.Name, 100)
		if s.EstimatedDays < 0 || s.EstimatedDays > 365 {
			p.Add(f+".estimated_days", "must be between 0 and 365")
		}
		if len(s.Rates) == 0 {
			p.Add(f+".rates", "must price at least one zone")
		}
		for _, zone := range sortedKeys(s.Rates) {
			zf := f + ".rates." + zone
			if !zones[zone] {
				p.Add(zf, "%q is not a zone", zone)
			}
			bands := s.Rates[zone]
			if len(bands) == 0 {
				p.Add(zf, "must have at least one weight band")
			}
			var last int64
			for k, b := range bands {
				bf := fmt.Sprintf("%s[%d]", zf, k)
				if b.UpToGrams <= last || b.UpToGrams > carrier.MaxWeightGrams {
					p.Add(bf+".up_to_grams", "must be above the previous band's and at most %d", carrier.MaxWeightGrams)
				}
				last = b.UpToGrams
				if b.Amount < 0 || b.Amount > orderly.MaxAmount {
					p.Add(bf+".amount", "must be between 0 and %d", orderly.MaxAmount)
				}
			}
		}
	}
	return p.Err()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (c *Config) carrierName() string { return cmp.Or(c.Carrier, Name) }

// Zone returns the name of the zone a country belongs to, or "" if none.
func (c *Config) Zone(country string) string {
	wild := ""
	for _, z := range c.Zones {
		for _, cc := range z.Countries {
			if cc == country {
				return z.Name
			}
			if cc == "*" {
				wild = z.Name
			}
		}
	}
	return wild
}

// rate prices the parcel with one service, or reports that it cannot.
func (c *Config) rate(s Service, zone string, grams int64) (carrier.Rate, bool) {
	for _, b := range s.Rates[zone] {
		if grams <= b.UpToGrams {
			return carrier.Rate{Carrier: c.carrierName(), Service: s.Code, Amount: b.Amount,
				Currency: c.Currency, EstimatedDays: s.EstimatedDays}, true
		}
	}
	return carrier.Rate{}, false
}

// Rates prices the parcel with every service that serves its destination
// zone and weight, cheapest first (ties in the table's order).
func (c *Config) Rates(p carrier.Parcel) ([]carrier.Rate, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	zone := c.Zone(p.To.Country)
	out := []carrier.Rate{}
	if zone == "" {
		return out, nil
	}
	for _, s := range c.Services {
		if r, ok := c.rate(s, zone, p.WeightGrams); ok {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b carrier.Rate) int { return cmp.Compare(a.Amount, b.Amount) })
	return out, nil
}

// Sequence hands out the numbers tracking numbers are made from: each call
// a new positive number, never the same twice (the service backs it with a
// database sequence; tests with a counter).
type Sequence func(ctx context.Context) (int64, error)

// Carrier is the table-rate carrier: a validated table, a sequence for
// tracking numbers and a clock for the label date.
type Carrier struct {
	cfg   *Config
	next  Sequence
	clock orderly.Clock
}

var _ carrier.Carrier = (*Carrier)(nil)

// New returns the carrier for a table, which it validates.
func New(cfg *Config, next Sequence, clock orderly.Clock) (*Carrier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if next == nil || clock == nil {
		return nil, fmt.Errorf("tablerate: a sequence and a clock are required")
	}
	return &Carrier{cfg: cfg, next: next, clock: clock}, nil
}

// Rates prices the parcel (see Config.Rates).
func (c *Carrier) Rates(_ context.Context, p carrier.Parcel) ([]carrier.Rate, error) {
	return c.cfg.Rates(p)
}

// MaxTrackingSequence is the largest sequence number a tracking number can
// hold (ten digits).
const MaxTrackingSequence = 9_999_999_999

// TrackingNumber formats a tracking number: the prefix, the sequence
// number in ten digits, and a Luhn check digit over those digits, e.g.
// OR00000000422 for 42 — short, unique per sequence number, and checkable
// when typed in by hand.
func TrackingNumber(prefix string, seq int64) (string, error) {
	if seq < 1 || seq > MaxTrackingSequence {
		return "", fmt.Errorf("tracking sequence %d is outside 1…%d", seq, MaxTrackingSequence)
	}
	digits := fmt.Sprintf("%010d", seq)
	return cmp.Or(prefix, "OR") + digits + string(rune('0'+luhn(digits))), nil
}

// luhn returns the check digit that makes digits+check pass the Luhn test.
func luhn(digits string) int {
	sum := 0
	double := true // from the right, the digit next to the check digit is doubled
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return (10 - sum%10) % 10
}

// CreateLabel prices the parcel with the requested service, takes the next
// tracking number and draws the label. An unknown service, or one that does
// not serve the destination or weight, is KindInvalid.
func (c *Carrier) CreateLabel(ctx context.Context, r carrier.LabelRequest) (*carrier.Label, error) {
	if err := r.Parcel.Validate(); err != nil {
		return nil, err
	}
	i := slices.IndexFunc(c.cfg.Services, func(s Service) bool { return s.Code == r.Service })
	if i < 0 {
		return nil, orderly.Invalid("service", "%q is not a service of %s", r.Service, c.cfg.carrierName())
	}
	svc := c.cfg.Services[i]
	rate, ok := c.cfg.rate(svc, c.cfg.Zone(r.Parcel.To.Country), r.Parcel.WeightGrams)
	if !ok {
		return nil, orderly.Invalid("service", "%s does not ship %d g to %s", r.Service, r.Parcel.WeightGrams, r.Parcel.To.Country)
	}
	seq, err := c.next(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracking sequence: %w", err)
	}
	tn, err := TrackingNumber(c.cfg.TrackingPrefix, seq)
	if err != nil {
		return nil, err
	}
	l := &carrier.Label{Carrier: c.cfg.carrierName(), Service: svc.Code, TrackingNumber: tn,
		Amount: rate.Amount, Currency: rate.Currency}
	pdf, err := renderLabel(labelData{
		Carrier: l.Carrier, Service: cmp.Or(svc.Name, svc.Code), TrackingNumber: tn,
		From: r.Parcel.From, To: r.Parcel.To, WeightGrams: r.Parcel.WeightGrams,
		Reference: r.Parcel.Reference, Date: c.clock.Now(),
	}, true)
	if err != nil {
		return nil, err
	}
	l.PDF = pdf
	return l, nil
}

// Track reports what the table-rate carrier knows of a parcel: nothing
// beyond the number, since it has no network to ask. Tracking events for
// its parcels are recorded by people or by the carrier that carries them,
// through Orderly's shipment events. A number that is not one of this
// table's (wrong prefix or check digit) is KindNotFound.
func (c *Carrier) Track(_ context.Context, trackingNumber string) (*carrier.Tracking, error) {
	prefix := cmp.Or(c.cfg.TrackingPrefix, "OR")
	digits, ok := strings.CutPrefix(trackingNumber, prefix)
	if !ok || len(digits) != 11 || digitRun(digits, 0) != 11 || luhn(digits[:10]) != int(digits[10]-'0') {
		return nil, orderly.Errorf(orderly.KindNotFound, "%q is not a %s tracking number", trackingNumber, c.cfg.carrierName())
	}
	return &carrier.Tracking{TrackingNumber: trackingNumber, Carrier: c.cfg.carrierName(), Events: []carrier.Event{}}, nil
}
