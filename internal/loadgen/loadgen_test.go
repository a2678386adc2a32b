package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/order"
)

// fixture builds a catalogue without a server, as Seed would.
func fixture(mode Mode, skus int) *Fixture {
	prefix := "bench-test"
	fx := &Fixture{Prefix: prefix, Channel: prefix, Locations: []string{prefix + "-loc001"}, Stock: map[string][]int64{}}
	if mode == ModeHotSKU {
		fx.HotSKU = prefix + "-HOT"
		fx.SKUs = []Product{{SKU: fx.HotSKU, Name: "Hot", Price: 14900}}
		return fx
	}
	for i := range skus {
		p := Product{SKU: fmt.Sprintf("%s-SKU%06d", prefix, i+1), Name: productName(i), Price: productPrice(i)}
		fx.SKUs = append(fx.SKUs, p)
		fx.Stock[p.SKU] = []int64{50}
	}
	return fx
}

// TestOrderPayloadIsValid decodes generated orders as the API does (no
// unknown field) and validates them with the domain's own rules.
func TestOrderPayloadIsValid(t *testing.T) {
	for _, mode := range []Mode{ModeUniform, ModeHotSKU} {
		t.Run(string(mode), func(t *testing.T) {
			fx := fixture(mode, 1000)
			if !channel.ValidCode(fx.Channel) {
				t.Fatalf("channel code %q is not valid", fx.Channel)
			}
			gen := NewOrderGen(fx, mode, 7)
			known := map[string]bool{}
			for _, p := range fx.SKUs {
				known[p.SKU] = true
			}
			const n = 500
			total := 0
			for i := range n {
				body, lines := gen.Order(fmt.Sprintf("EXT-%d", i))
				total += len(body)
				dec := json.NewDecoder(bytes.NewReader(body))
				dec.DisallowUnknownFields()
				var o order.Order
				if err := dec.Decode(&o); err != nil {
					t.Fatalf("order %d does not decode: %v\n%s", i, err, body)
				}
				if err := o.Validate(); err != nil {
					t.Fatalf("order %d is invalid: %v\n%s", i, err, body)
				}
				if o.ExternalID != fmt.Sprintf("EXT-%d", i) || o.Channel != fx.Channel {
					t.Fatalf("order %d: external id %q, channel %q", i, o.ExternalID, o.Channel)
				}
				if o.ShippingAddress.Lat == nil || o.ShippingAddress.Lon == nil || !orderly.ValidCountry(o.ShippingAddress.Country) {
					t.Fatalf("order %d: shipping address without coordinates or country: %+v", i, o.ShippingAddress)
				}
				if len(o.Lines) < 1 || len(o.Lines) > 5 || len(o.Lines) != len(lines) {
					t.Fatalf("order %d: %d lines (reported %d)", i, len(o.Lines), len(lines))
				}
				seen := map[string]bool{}
				for k, l := range o.Lines {
					if !known[l.SKU] || seen[l.SKU] {
						t.Fatalf("order %d: line %d SKU %q unknown or repeated", i, k, l.SKU)
					}
					seen[l.SKU] = true
					if lines[k].SKU != l.SKU || lines[k].Quantity != l.Quantity {
						t.Fatalf("order %d: line %d reported as %+v, sent %d × %s", i, k, lines[k], l.Quantity, l.SKU)
					}
					if mode == ModeHotSKU && (l.SKU != fx.HotSKU || l.Quantity != 1) {
						t.Fatalf("hot-sku order %d: line %d × %s", i, l.Quantity, l.SKU)
					}
				}
			}
			// About 2 KB; a hot-sku order has one line, so less.
			lo, hi := 1600, 2600
			if mode == ModeHotSKU {
				lo, hi = 1200, 2000
			}
			avg := total / n
			t.Logf("average order: %d bytes", avg)
			if avg < lo || avg > hi {
				t.Errorf("average order is %d bytes, want %d–%d", avg, lo, hi)
			}
		})
	}
}

func TestAvailabilityQuery(t *testing.T) {
	fx := fixture(ModeAvailability, 30)
	gen := NewOrderGen(fx, ModeAvailability, 1)
	path, skus := gen.AvailabilityQuery()
	u, err := url.Parse(path)
	if err != nil || u.Path != "/api/v1/availability" {
		t.Fatalf("path %q: %v", path, err)
	}
	got := u.Query()["sku"]
	if len(got) != MaxAvailabilitySKUs || strings.Join(got, ",") != strings.Join(skus, ",") || u.Query().Get("channel") != fx.Channel {
		t.Fatalf("query %q, skus %v", u.RawQuery, skus)
	}
	seen := map[string]bool{}
	for _, s := range got {
		if seen[s] {
			t.Fatalf("SKU %s asked twice", s)
		}
		seen[s] = true
	}
}

func TestLatencyQuantiles(t *testing.T) {
	var empty Latencies
	if empty.Quantile(0.5) != 0 || empty.Max() != 0 {
		t.Fatal("an empty record has non-zero quantiles")
	}
	// 1 ms … 100 ms, recorded out of order and from two workers.
	var a, b Latencies
	for i := 100; i >= 1; i-- {
		if i%2 == 0 {
			a.Record(time.Duration(i) * time.Millisecond)
		} else {
			b.Record(time.Duration(i) * time.Millisecond)
		}
	}
	a.Merge(&b)
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.95, 95 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.001, time.Millisecond}} {
		if got := a.Quantile(tc.q); got != tc.want {
			t.Errorf("Quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if a.Count() != 100 {
		t.Fatalf("count %d", a.Count())
	}
	s := a.Summary()
	if s.P50 != 50 || s.P95 != 95 || s.P99 != 99 || s.Max != 100 {
		t.Fatalf("summary %+v", s)
	}
	// Nearest rank: with 10 samples p95 and p99 are the largest.
	var c Latencies
	for i := 1; i <= 10; i++ {
		c.Record(time.Duration(i) * time.Microsecond)
	}
	if c.Quantile(0.95) != 10*time.Microsecond || c.Quantile(0.5) != 5*time.Microsecond {
		t.Fatalf("10 samples: p50 %v, p95 %v", c.Quantile(0.5), c.Quantile(0.95))
	}
	c.Record(0) // recording after a quantile re-sorts
	if c.Quantile(0.01) != 0 {
		t.Fatalf("minimum after a late record: %v", c.Quantile(0.01))
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Mode: ModeUniform, Clients: 1, Duration: time.Second, SKUs: 1, Locations: 1}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Config){
		"mode":        func(c *Config) { c.Mode = "chaos" },
		"clients":     func(c *Config) { c.Clients = 0 },
		"no limit":    func(c *Config) { c.Duration = 0 },
		"locations":   func(c *Config) { c.Locations = 0 },
		"skus":        func(c *Config) { c.SKUs = 0 },
		"lookup skus": func(c *Config) { c.Mode, c.SKUs = ModeAvailability, 5 },
		"hot stock":   func(c *Config) { c.Mode, c.HotStock = ModeHotSKU, -1 },
	} {
		c := ok
		mutate(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted %+v", name, c)
		}
	}
}

func TestPrefixIsAValidCode(t *testing.T) {
	a, b := NewPrefix(), NewPrefix()
	if a == b || !channel.ValidCode(a) || !channel.ValidCode(a+"-loc999") {
		t.Fatalf("prefixes %q, %q", a, b)
	}
}

func TestPeakRSS(t *testing.T) {
	n, ok := PeakRSS(0)
	if !ok {
		t.Skip("no /proc/self/status here")
	}
	if n < 1<<20 {
		t.Fatalf("peak RSS of this process: %d bytes", n)
	}
	if _, ok := PeakRSS(1 << 30); ok {
		t.Fatal("read the peak RSS of a process that cannot exist")
	}
}

func TestTransportErrorClass(t *testing.T) {
	for err, want := range map[error]string{
		context.DeadlineExceeded:                     "transport: timeout",
		fmt.Errorf("dial: %w", syscall.ECONNREFUSED): "transport: connection refused",
		fmt.Errorf("read: %w", syscall.ECONNRESET):   "transport: connection reset",
		io.ErrUnexpectedEOF:                          "transport: connection closed",
		errors.New("something else"):                 "transport: other",
	} {
		if got := TransportErrorClass(err); got != want {
			t.Errorf("%v: %q, want %q", err, got, want)
		}
	}
}

// TestProcessCPU reads this process's CPU time, which grows as it works,
// and parses stat lines whose command name holds spaces and parentheses.
func TestProcessCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here (not Linux): ProcessCPU reports ok=false")
	}
	before, ok := ProcessCPU(0)
	if !ok {
		t.Fatal("ProcessCPU(0) not ok")
	}
	for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); {
	}
	if after, ok := ProcessCPU(0); !ok || after <= before {
		t.Errorf("CPU time %v then %v (ok %v); want it to grow", before, after, ok)
	}
	line := "4242 (a) (b c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 123 456 789"
	if got, ok := parseStatCPU(line); !ok || got != 3250*time.Millisecond {
		t.Errorf("parseStatCPU = %v, %v; want 3.25s (250+75 ticks)", got, ok)
	}
	for _, bad := range []string{"", "4242 (x S 1", "4242 (x) S 1 2 3", "4242 (x) S 1 4242 4242 0 -1 4194560 100 0 0 0 -5 75 0"} {
		if got, ok := parseStatCPU(bad); ok {
			t.Errorf("parseStatCPU(%q) = %v, ok; want not ok", bad, got)
		}
	}
}
