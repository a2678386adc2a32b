package easypost_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/carrier"
	"github.com/orderly-oms/orderly/carrier/easypost"
)

const apiKey = "EZTK_test_key"

// fake is an httptest EasyPost: it checks authentication, methods, paths
// and request bodies, and answers with EasyPost's published objects.
type fake struct {
	t   *testing.T
	mu  sync.Mutex
	buy []byte // the published buy response
	trk []byte // the published tracker
	// fail, when set, answers the next calls with these statuses first.
	fail  []int
	calls []string
}

func newFake(t *testing.T) (*fake, *easypost.Client) {
	t.Helper()
	f := &fake{t: t, buy: readFile(t, "testdata/shipment_buy.json"), trk: readFile(t, "testdata/tracker.json")}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := easypost.New(easypost.Config{APIKey: apiKey, BaseURL: srv.URL + "/v2", BaseDelay: time.Millisecond, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if len(f.fail) > 0 {
		code := f.fail[0]
		f.fail = f.fail[1:]
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"error": {"code": "INTERNAL_SERVER_ERROR", "message": "try again", "errors": []}}`)
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != apiKey || pass != "" {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error": {"code": "APIKEY.REQUIRED", "message": "No API key provided.", "errors": []}}`)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if r.Method == http.MethodPost && r.Header.Get("Content-Type") != "application/json" {
		f.t.Errorf("%s %s: content type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	decode := func(v any) bool {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			f.t.Errorf("%s %s: bad body %s: %v", r.Method, r.URL.Path, body, err)
			w.WriteHeader(http.StatusUnprocessableEntity)
			return false
		}
		return true
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v2/shipments":
		var req struct {
			Shipment struct {
				ToAddress   map[string]string `json:"to_address"`
				FromAddress map[string]string `json:"from_address"`
				Parcel      struct {
					Weight                float64
					Length, Width, Height *float64
				} `json:"parcel"`
				Reference string `json:"reference"`
			} `json:"shipment"`
		}
		if !decode(&req) {
			return
		}
		s := req.Shipment
		if s.ToAddress["country"] == "" || s.ToAddress["street1"] == "" || s.FromAddress["zip"] == "" || s.Parcel.Weight <= 0 {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = io.WriteString(w, `{"error": {"code": "SHIPMENT.INVALID_PARAMS", "message": "Missing required shipment attribute", "errors": [{"field": "to_address.street1", "message": "is required"}]}}`)
			return
		}
		if s.Parcel.Weight != 44.1 { // 1250 g is 44.09 oz, rounded up
			f.t.Errorf("weight %v oz, want 44.1", s.Parcel.Weight)
		}
		// A created shipment is the bought one without what buying sets.
		var m map[string]any
		_ = json.Unmarshal(f.buy, &m)
		m["postage_label"], m["selected_rate"], m["tracker"], m["tracking_code"] = nil, nil, nil, nil
		_ = json.NewEncoder(w).Encode(m)
	case r.Method == http.MethodPost && r.URL.Path == "/v2/shipments/shp_5948db965e944950b6acc052af7f79a1/buy":
		var req struct {
			Rate struct {
				ID string `json:"id"`
			} `json:"rate"`
		}
		if !decode(&req) {
			return
		}
		if req.Rate.ID != "rate_22ca9cdf88be4b5da8e91b051e673534" {
			f.t.Errorf("bought rate %q", req.Rate.ID)
		}
		_, _ = w.Write(f.buy)
	case r.Method == http.MethodPost && r.URL.Path == "/v2/trackers":
		var req struct {
			Tracker struct {
				TrackingCode string `json:"tracking_code"`
			} `json:"tracker"`
		}
		if !decode(&req) {
			return
		}
		if req.Tracker.TrackingCode != "9405500207552011812894" {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = io.WriteString(w, `{"error": {"code": "TRACKER.TRACKING_CODE.INVALID", "message": "Invalid tracking code.", "errors": []}}`)
			return
		}
		_, _ = w.Write(f.trk)
	case r.Method == http.MethodGet && r.URL.Path == "/v2/trackers/trk_3898303eff624097a516ab324bb133f3":
		_, _ = w.Write(f.trk)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error": {"code": "NOT_FOUND", "message": "The requested resource could not be found.", "errors": []}}`)
	}
}

var parcel = carrier.Parcel{
	From:        orderly.Address{Name: "EasyPost", Line1: "417 Montgomery Street", Line2: "5th Floor", City: "San Francisco", Region: "CA", PostalCode: "94104", Country: "US"},
	To:          orderly.Address{Name: "Dr. Steve Brule", Line1: "179 N Harbor Dr", City: "Redondo Beach", Region: "CA", PostalCode: "90277", Country: "US"},
	WeightGrams: 1250, LengthMM: 200, Reference: "1001",
}

func TestRates(t *testing.T) {
	t.Parallel()
	_, c := newFake(t)
	rates, err := c.Rates(context.Background(), parcel)
	if err != nil {
		t.Fatal(err)
	}
	if len(rates) != 4 {
		t.Fatalf("%d rates", len(rates))
	}
	want := carrier.Rate{ID: "rate_22ca9cdf88be4b5da8e91b051e673534", ShipmentID: "shp_5948db965e944950b6acc052af7f79a1",
		Carrier: "USPS", Service: "Priority", Amount: 747, Currency: "USD", EstimatedDays: 2}
	if rates[0] != want {
		t.Fatalf("cheapest\n got %+v\nwant %+v", rates[0], want)
	}
	if rates[3].Service != "Express" || rates[3].Amount != 4685 || rates[1].EstimatedDays != 0 {
		t.Fatalf("rates %+v", rates)
	}
}

func TestCreateLabel(t *testing.T) {
	t.Parallel()
	f, c := newFake(t)
	l, err := c.CreateLabel(context.Background(), carrier.LabelRequest{Parcel: parcel, Service: "priority"})
	if err != nil {
		t.Fatal(err)
	}
	if l.TrackingNumber != "9405500105440232839154" || l.Carrier != "USPS" || l.Service != "Priority" ||
		l.Amount != 747 || l.Currency != "USD" || l.CarrierRef != "shp_5948db965e944950b6acc052af7f79a1" ||
		!strings.HasSuffix(l.URL, "e6ad0a33bff1634f128c21d0e75e066491.png") {
		t.Fatalf("label %+v", l)
	}
	if got := strings.Join(f.calls, ", "); got != "POST /v2/shipments, POST /v2/shipments/shp_5948db965e944950b6acc052af7f79a1/buy" {
		t.Fatalf("calls: %s", got)
	}
	// Buying a quoted rate goes straight to buy.
	f.calls = nil
	if _, err := c.CreateLabel(context.Background(), carrier.LabelRequest{Parcel: parcel,
		RateID: "rate_22ca9cdf88be4b5da8e91b051e673534", ShipmentID: "shp_5948db965e944950b6acc052af7f79a1"}); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 1 {
		t.Fatalf("calls: %v", f.calls)
	}
	if _, err := c.CreateLabel(context.Background(), carrier.LabelRequest{Parcel: parcel, Service: "Teleport"}); !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("unknown service: %v", err)
	}
}

func TestTrack(t *testing.T) {
	t.Parallel()
	_, c := newFake(t)
	tr, err := c.Track(context.Background(), "9405500207552011812894")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status != carrier.StatusPreTransit || tr.Carrier != "USPS" || len(tr.Events) != 2 || tr.CarrierRef != "trk_3898303eff624097a516ab324bb133f3" {
		t.Fatalf("tracking %+v", tr)
	}
	if e := tr.Events[1]; e.Detail != "Shipping Label Created" || e.Location != "HOUSTON TX 77063" || !e.At.Equal(time.Date(2023, 12, 24, 12, 44, 43, 0, time.UTC)) {
		t.Fatalf("event %+v", e)
	}
	if _, err := c.Tracker(context.Background(), "trk_3898303eff624097a516ab324bb133f3"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Track(context.Background(), "bogus")
	var oe *orderly.Error
	if !errors.As(err, &oe) || oe.Kind != orderly.KindInvalid || oe.Code != "TRACKER.TRACKING_CODE.INVALID" {
		t.Fatalf("bad code: %v", err)
	}
	if _, err := c.Tracker(context.Background(), "trk_nope"); !errors.Is(err, orderly.ErrNotFound) {
		t.Fatalf("unknown tracker: %v", err)
	}
}

func TestErrorsAndRetries(t *testing.T) {
	t.Parallel()
	// 429 and 5xx are retried, up to MaxAttempts.
	f, c := newFake(t)
	f.fail = []int{429, 502}
	if _, err := c.Rates(context.Background(), parcel); err != nil || len(f.calls) != 3 {
		t.Fatalf("after 429, 502: %v, %d calls", err, len(f.calls))
	}
	f.calls, f.fail = nil, []int{500, 500, 500, 500}
	if _, err := c.Rates(context.Background(), parcel); !errors.Is(err, orderly.ErrUnavailable) || len(f.calls) != 3 {
		t.Fatalf("5xx throughout: %v, %d calls", err, len(f.calls))
	}
	// A buy is not retried after a 500 (it may have been processed) …
	f.calls, f.fail = nil, []int{500}
	req := carrier.LabelRequest{Parcel: parcel, RateID: "rate_22ca9cdf88be4b5da8e91b051e673534", ShipmentID: "shp_5948db965e944950b6acc052af7f79a1"}
	if _, err := c.CreateLabel(context.Background(), req); !errors.Is(err, orderly.ErrUnavailable) || len(f.calls) != 1 {
		t.Fatalf("buy after 500: %v, %d calls", err, len(f.calls))
	}
	// … but is after a 503 (it was not).
	f.calls, f.fail = nil, []int{503}
	if _, err := c.CreateLabel(context.Background(), req); err != nil || len(f.calls) != 2 {
		t.Fatalf("buy after 503: %v, %d calls", err, len(f.calls))
	}
	// Bad input is KindInvalid with EasyPost's field errors; nothing is sent
	// for input Orderly can check itself.
	bad := parcel
	bad.To.Line1 = ""
	_, err := c.Rates(context.Background(), bad)
	var oe *orderly.Error
	if !errors.As(err, &oe) || oe.Kind != orderly.KindInvalid || len(oe.Fields) != 1 || oe.Fields[0].Field != "to_address.street1" {
		t.Fatalf("422: %v", err)
	}
	f.calls = nil
	if _, err := c.Rates(context.Background(), carrier.Parcel{}); !errors.Is(err, orderly.ErrInvalid) || len(f.calls) != 0 {
		t.Fatalf("empty parcel: %v, %d calls", err, len(f.calls))
	}
}

// TestWrongKeyAndDownServer: a refused key makes the carrier unusable (not
// the API caller's fault), as do a server that is down or too slow.
func TestWrongKeyAndDownServer(t *testing.T) {
	t.Parallel()
	f := &fake{t: t, buy: readFile(t, "testdata/shipment_buy.json"), trk: readFile(t, "testdata/tracker.json")}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, _ := easypost.New(easypost.Config{APIKey: "wrong", BaseURL: srv.URL + "/v2", BaseDelay: time.Millisecond})
	if _, err := c.Rates(context.Background(), parcel); !errors.Is(err, orderly.ErrUnavailable) || len(f.calls) != 1 {
		t.Fatalf("wrong key: %v, %d calls", err, len(f.calls))
	}
	srv.Close()
	if _, err := c.Track(context.Background(), "x"); !errors.Is(err, orderly.ErrUnavailable) {
		t.Fatalf("server down: %v", err)
	}
	// A slow server times out as unavailable.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(300 * time.Millisecond):
		}
	}))
	defer slow.Close()
	c, _ = easypost.New(easypost.Config{APIKey: apiKey, BaseURL: slow.URL, Timeout: 50 * time.Millisecond, MaxAttempts: 2, BaseDelay: time.Millisecond})
	start := time.Now()
	if _, err := c.Track(context.Background(), "x"); !errors.Is(err, orderly.ErrUnavailable) || time.Since(start) > time.Second {
		t.Fatalf("slow server: %v after %v", err, time.Since(start))
	}
}
