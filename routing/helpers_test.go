package routing

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/orderly-oms/orderly"
)

var update = flag.Bool("update", false, "rewrite routing/testdata/*.golden")

func f64(v float64) *float64 { return &v }

// opt changes a test candidate.
type opt func(*Candidate)

// cand returns an active GB warehouse allowed for the channel, offering
// ship, priority 1, with the given options applied.
func cand(code string, opts ...opt) Candidate {
	c := Candidate{Location: code, Kind: "warehouse", Active: true, Country: "GB", Priority: 1,
		Modes: []Mode{ModeShip}, ChannelAllowed: true, Available: map[string]int64{}}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func stock(sku string, n int64) opt { return func(c *Candidate) { c.Available[sku] = n } }
func at(lat, lon float64) opt {
	return func(c *Candidate) { c.Lat, c.Lon = f64(lat), f64(lon) }
}
func priority(n int) opt       { return func(c *Candidate) { c.Priority = n } }
func cost(n int64) opt         { return func(c *Candidate) { c.CostPerShipment = n } }
func country(cc string) opt    { return func(c *Candidate) { c.Country = cc } }
func modes(ms ...Mode) opt     { return func(c *Candidate) { c.Modes = ms } }
func shipsTo(cc ...string) opt { return func(c *Candidate) { c.ShipsTo = cc } }
func capacity(limit, used int) opt {
	return func(c *Candidate) { c.DailyCapacity, c.UsedToday = limit, used }
}
func inactive(c *Candidate)      { c.Active = false }
func notForChannel(c *Candidate) { c.ChannelAllowed = false }

// line returns a ship line.
func line(id, sku string, q int64) Line {
	return Line{LineID: id, SKU: sku, Quantity: q, Mode: ModeShip}
}

// pickup returns a pickup line at store.
func pickup(id, sku string, q int64, store string) Line {
	return Line{LineID: id, SKU: sku, Quantity: q, Mode: ModePickup, PickupLocation: store}
}

// request returns an order from channel "web" to London with the lines.
func request(lines ...Line) Request {
	return Request{OrderID: "order-1", Channel: "web",
		ShipTo: orderly.Address{Country: "GB", City: "London", Lat: f64(51.5074), Lon: f64(-0.1278)}, Lines: lines}
}

// noCoords strips the coordinates from a request's address.
func noCoords(r Request) Request {
	r.ShipTo.Lat, r.ShipTo.Lon = nil, nil
	return r
}

// explanationFor finds a candidate's line of an explanation.
func explanationFor(t *testing.T, e Explanation, code string) CandidateExplanation {
	t.Helper()
	for _, c := range e.Candidates {
		if c.Location == code {
			return c
		}
	}
	t.Fatalf("no candidate %q in explanation", code)
	return CandidateExplanation{}
}

// checkGolden compares v, as indented JSON, with testdata/name.golden, or
// rewrites the file under -update.
func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./routing -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test ./routing -update if the change is intended)\ngot:\n%s", path, got)
	}
}
