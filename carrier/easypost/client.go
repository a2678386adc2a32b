// Package easypost is the carrier adapter for EasyPost's REST API v2:
// rates (create a shipment), labels (buy one of its rates), tracking
// (trackers), and the pure functions that verify and read its
// tracker.created / tracker.updated webhooks.
//
// It imports the orderly and carrier packages and golang.org/x/text (for
// the NFKD normalisation EasyPost applies to webhook secrets).
package easypost

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/carrier"
)

// DefaultBaseURL is EasyPost's API root.
const DefaultBaseURL = "https://api.easypost.com/v2"

// Config configures a Client.
type Config struct {
	// APIKey authenticates every request (HTTP basic auth, the key as user
	// name and an empty password).
	APIKey string
	// BaseURL is the API root; default DefaultBaseURL.
	BaseURL string
	// HTTPClient makes the requests; default a client with Timeout.
	HTTPClient *http.Client
	// Timeout bounds each attempt; default 20 s.
	Timeout time.Duration
	// MaxAttempts bounds tries of one call (default 3); BaseDelay is the
	// first wait between them (default 500 ms), doubled each time and
	// capped at MaxDelay (default 5 s), or the server's Retry-After within
	// that cap.
	MaxAttempts int
	BaseDelay   time.Duration
	MaxDelay    time.Duration
	// Carrier is the name Orderly records for EasyPost labels when the
	// rate names none; default "easypost".
	Carrier string
}

// Client talks to EasyPost. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
}

var _ carrier.Carrier = (*Client)(nil)

// New returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("easypost: an API key is required")
	}
	cfg.BaseURL = strings.TrimRight(cmp.Or(cfg.BaseURL, DefaultBaseURL), "/")
	if _, err := url.Parse(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("easypost: base URL: %w", err)
	}
	cfg.Timeout = cmp.Or(cfg.Timeout, 20*time.Second)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, 3)
	cfg.BaseDelay = cmp.Or(cfg.BaseDelay, 500*time.Millisecond)
	cfg.MaxDelay = cmp.Or(cfg.MaxDelay, 5*time.Second)
	cfg.Carrier = cmp.Or(cfg.Carrier, "easypost")
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: cfg.Timeout}
	}
	return &Client{cfg: cfg, http: hc}, nil
}

// retryOn says which failures a call may be retried after.
type retryOn int

const (
	// retrySafe: any 429, 5xx or transport failure. For reads, and for
	// creates whose duplicate is harmless (an unbought shipment, a tracker,
	// which EasyPost deduplicates).
	retrySafe retryOn = iota
	// retryUnprocessed: only 429 and 503, which say the request was not
	// processed. For buying, where a retry after a lost answer could pay twice.
	retryUnprocessed
)

// apiError is EasyPost's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Errors  []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"error"`
}

// do sends one call, with retries, and decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, method, path string, body any, out any, retry retryOn) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("easypost: encode request: %w", err)
		}
	}
	var lastErr error
	for attempt := 1; ; attempt++ {
		wait, err := c.once(ctx, method, path, payload, out, retry)
		if err == nil {
			return nil
		}
		lastErr = err
		if wait < 0 || attempt >= c.cfg.MaxAttempts {
			return lastErr
		}
		delay := min(c.cfg.MaxDelay, c.cfg.BaseDelay<<(attempt-1))
		if wait > 0 {
			delay = min(c.cfg.MaxDelay, wait)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return carrier.Unavailable("easypost", "%s %s: %v (after %d attempts; last: %v)", method, path, ctx.Err(), attempt, lastErr)
		case <-t.C:
		}
	}
}

// once makes one attempt. wait < 0 means do not retry; 0 means retry after
// the backoff; > 0 is the server's Retry-After.
func (c *Client) once(ctx context.Context, method, path string, payload []byte, out any, retry retryOn) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.BaseURL+path, rd)
	if err != nil {
		return -1, fmt.Errorf("easypost: %w", err)
	}
	req.SetBasicAuth(c.cfg.APIKey, "")
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		wait := time.Duration(0)
		if retry == retryUnprocessed {
			wait = -1
		}
		return wait, carrier.Unavailable("easypost", "%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return -1, carrier.Unavailable("easypost", "%s %s: reading the answer: %v", method, path, err)
	}
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(data, out); err != nil {
			return -1, carrier.Unavailable("easypost", "%s %s: unexpected answer: %v", method, path, err)
		}
		return 0, nil
	}
	return c.failure(method, path, resp, data, retry)
}

// failure maps an error answer to an orderly kind and says whether to retry.
func (c *Client) failure(method, path string, resp *http.Response, data []byte, retry retryOn) (time.Duration, error) {
	var ae apiError
	_ = json.Unmarshal(data, &ae)
	msg := cmp.Or(ae.Error.Message, http.StatusText(resp.StatusCode))
	code := resp.StatusCode
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		return retryAfter(resp.Header.Get("Retry-After")), carrier.Unavailable("easypost", "%s %s: %d %s", method, path, code, msg)
	case code >= 500:
		wait := time.Duration(0)
		if retry == retryUnprocessed {
			wait = -1
		}
		return wait, carrier.Unavailable("easypost", "%s %s: %d %s", method, path, code, msg)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return -1, carrier.Unavailable("easypost", "credentials refused (%d %s): check the API key", code, msg)
	case code == http.StatusNotFound:
		return -1, orderly.Errorf(orderly.KindNotFound, "easypost: %s", msg)
	default:
		e := &orderly.Error{Kind: orderly.KindInvalid, Message: "easypost: " + msg, Code: ae.Error.Code}
		for _, fe := range ae.Error.Errors {
			e.Fields = append(e.Fields, orderly.FieldError{Field: fe.Field, Detail: fe.Message})
		}
		return -1, e
	}
}

// retryAfter reads a Retry-After header in seconds; 0 if absent or unreadable.
func retryAfter(h string) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 0
}

// Wire types: the parts of EasyPost's objects Orderly sends and reads.

type epAddress struct {
	Name    string `json:"name,omitempty"`
	Company string `json:"company,omitempty"`
	Street1 string `json:"street1,omitempty"`
	Street2 string `json:"street2,omitempty"`
	City    string `json:"city,omitempty"`
	State   string `json:"state,omitempty"`
	Zip     string `json:"zip,omitempty"`
	Country string `json:"country,omitempty"`
	Phone   string `json:"phone,omitempty"`
}

type epParcel struct {
	// Weight is in ounces; dimensions in inches.
	Weight float64  `json:"weight"`
	Length *float64 `json:"length,omitempty"`
	Width  *float64 `json:"width,omitempty"`
	Height *float64 `json:"height,omitempty"`
}

type epShipmentRequest struct {
	Shipment struct {
		ToAddress   epAddress `json:"to_address"`
		FromAddress epAddress `json:"from_address"`
		Parcel      epParcel  `json:"parcel"`
		Reference   string    `json:"reference,omitempty"`
	} `json:"shipment"`
}

type epRate struct {
	ID              string `json:"id"`
	Carrier         string `json:"carrier"`
	Service         string `json:"service"`
	Rate            string `json:"rate"`
	Currency        string `json:"currency"`
	DeliveryDays    *int   `json:"delivery_days"`
	EstDeliveryDays *int   `json:"est_delivery_days"`
	ShipmentID      string `json:"shipment_id"`
}

type epShipment struct {
	ID           string     `json:"id"`
	TrackingCode *string    `json:"tracking_code"`
	Rates        []epRate   `json:"rates"`
	SelectedRate *epRate    `json:"selected_rate"`
	Tracker      *epTracker `json:"tracker"`
	PostageLabel *struct {
		LabelURL    *string `json:"label_url"`
		LabelPDFURL *string `json:"label_pdf_url"`
	} `json:"postage_label"`
	Messages []struct {
		Carrier string `json:"carrier"`
		Message string `json:"message"`
	} `json:"messages"`
}

func toEP(a orderly.Address) epAddress {
	return epAddress{Name: a.Name, Company: a.Company, Street1: a.Line1, Street2: a.Line2, City: a.City,
		State: a.Region, Zip: a.PostalCode, Country: a.Country, Phone: a.Phone}
}

// Ounces and inches, which EasyPost speaks, rounded up to a tenth so a
// parcel is never declared lighter or smaller than it is.
const (
	gramsPerOunce = 28.349523125
	mmPerInch     = 25.4
)

func ceilTenth(v float64) float64 { return math.Ceil(v*10-1e-9) / 10 }

func dim(mm int64) *float64 {
	if mm <= 0 {
		return nil
	}
	v := ceilTenth(float64(mm) / mmPerInch)
	return &v
}

func (c *Client) rate(r epRate) (carrier.Rate, error) {
	amount, err := orderly.ParseAmount(r.Rate, r.Currency)
	if err != nil {
		return carrier.Rate{}, carrier.Unavailable("easypost", "rate %s: %v", r.ID, err)
	}
	days := 0
	if d := cmp.Or(r.EstDeliveryDays, r.DeliveryDays); d != nil {
		days = *d
	}
	return carrier.Rate{ID: r.ID, ShipmentID: r.ShipmentID, Carrier: cmp.Or(r.Carrier, c.cfg.Carrier),
		Service: r.Service, Amount: amount, Currency: r.Currency, EstimatedDays: days}, nil
}

// createShipment creates an EasyPost shipment, which returns its rates.
func (c *Client) createShipment(ctx context.Context, p carrier.Parcel) (*epShipment, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var req epShipmentRequest
	req.Shipment.ToAddress = toEP(p.To)
	req.Shipment.FromAddress = toEP(p.From)
	req.Shipment.Parcel = epParcel{Weight: ceilTenth(float64(p.WeightGrams) / gramsPerOunce),
		Length: dim(p.LengthMM), Width: dim(p.WidthMM), Height: dim(p.HeightMM)}
	req.Shipment.Reference = p.Reference
	var s epShipment
	if err := c.do(ctx, http.MethodPost, "/shipments", req, &s, retrySafe); err != nil {
		return nil, err
	}
	return &s, nil
}

// Rates creates an EasyPost shipment for the parcel and returns its rates,
// cheapest first. Each rate carries the rate and shipment ids CreateLabel
// buys with.
func (c *Client) Rates(ctx context.Context, p carrier.Parcel) ([]carrier.Rate, error) {
	s, err := c.createShipment(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]carrier.Rate, 0, len(s.Rates))
	for _, r := range s.Rates {
		cr, err := c.rate(r)
		if err != nil {
			return nil, err
		}
		if cr.ShipmentID == "" {
			cr.ShipmentID = s.ID
		}
		out = append(out, cr)
	}
	slices.SortStableFunc(out, func(a, b carrier.Rate) int { return cmp.Compare(a.Amount, b.Amount) })
	return out, nil
}

// CreateLabel buys a label. With RateID and ShipmentID (from Rates) it buys
// that rate; otherwise it creates a shipment and buys its cheapest rate
// for Service (KindInvalid if none is offered). The label is EasyPost's
// URL (the PDF one when there is one).
func (c *Client) CreateLabel(ctx context.Context, r carrier.LabelRequest) (*carrier.Label, error) {
	shipmentID, rateID := r.ShipmentID, r.RateID
	if shipmentID == "" || rateID == "" {
		if shipmentID != "" || rateID != "" {
			return nil, orderly.Invalid("rate_id", "rate_id and shipment_id go together")
		}
		if r.Service == "" {
			return nil, orderly.Invalid("service", "is required")
		}
		s, err := c.createShipment(ctx, r.Parcel)
		if err != nil {
			return nil, err
		}
		var best *carrier.Rate
		for _, er := range s.Rates {
			if !strings.EqualFold(er.Service, r.Service) {
				continue
			}
			cr, err := c.rate(er)
			if err != nil {
				return nil, err
			}
			if best == nil || cr.Amount < best.Amount {
				best = &cr
			}
		}
		if best == nil {
			return nil, orderly.Invalid("service", "EasyPost offers no %q rate for this parcel", r.Service)
		}
		shipmentID, rateID = s.ID, best.ID
	}
	var body struct {
		Rate struct {
			ID string `json:"id"`
		} `json:"rate"`
	}
	body.Rate.ID = rateID
	var s epShipment
	if err := c.do(ctx, http.MethodPost, "/shipments/"+url.PathEscape(shipmentID)+"/buy", body, &s, retryUnprocessed); err != nil {
		return nil, err
	}
	if s.TrackingCode == nil || *s.TrackingCode == "" || s.PostageLabel == nil {
		return nil, carrier.Unavailable("easypost", "shipment %s was bought but has no label or tracking code yet", s.ID)
	}
	l := &carrier.Label{Carrier: c.cfg.Carrier, Service: r.Service, TrackingNumber: *s.TrackingCode, CarrierRef: s.ID}
	if u := s.PostageLabel.LabelPDFURL; u != nil && *u != "" {
		l.URL = *u
	} else if u := s.PostageLabel.LabelURL; u != nil {
		l.URL = *u
	}
	if s.SelectedRate != nil {
		cr, err := c.rate(*s.SelectedRate)
		if err != nil {
			return nil, err
		}
		l.Carrier, l.Service, l.Amount, l.Currency = cr.Carrier, cr.Service, cr.Amount, cr.Currency
	}
	return l, nil
}

// Track creates (or, as EasyPost deduplicates them, finds) the tracker for
// a tracking number and returns what it knows. EasyPost detects the
// carrier from the number.
func (c *Client) Track(ctx context.Context, trackingNumber string) (*carrier.Tracking, error) {
	if trackingNumber == "" || len(trackingNumber) > 100 {
		return nil, orderly.Invalid("tracking_number", "must be 1-100 characters")
	}
	var body struct {
		Tracker struct {
			TrackingCode string `json:"tracking_code"`
		} `json:"tracker"`
	}
	body.Tracker.TrackingCode = trackingNumber
	var t epTracker
	if err := c.do(ctx, http.MethodPost, "/trackers", body, &t, retrySafe); err != nil {
		return nil, err
	}
	return t.tracking(), nil
}

// Tracker fetches a tracker by its EasyPost id (trk_…).
func (c *Client) Tracker(ctx context.Context, id string) (*carrier.Tracking, error) {
	if id == "" {
		return nil, orderly.Invalid("id", "is required")
	}
	var t epTracker
	if err := c.do(ctx, http.MethodGet, "/trackers/"+url.PathEscape(id), nil, &t, retrySafe); err != nil {
		return nil, err
	}
	return t.tracking(), nil
}
