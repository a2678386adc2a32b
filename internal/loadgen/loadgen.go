// Package loadgen drives an Orderly server over its public HTTP API the way
// a busy set of sales channels would, and checks afterwards that nothing
// was lost or oversold. It is the engine of `orderly bench` and is meant to
// be reused by other load and crash-safety tests.
//
// A run has three steps, each a function here:
//
//   - Seed creates a uniquely prefixed channel, locations, SKUs and stock
//     through the API, so that runs against a shared server never collide.
//   - Run drives POST /api/v1/orders (or GET /api/v1/availability) from
//     Config.Clients concurrent clients and records every request's latency
//     and outcome.
//   - Verify fetches every order answered 201 and the affected balances
//     back, and checks the invariants: the orders are there with their
//     lines, no SKU is oversold, reservations match allocations.
//
// Seeding needs an admin API key; Run and Verify need a key that may
// capture orders and read stock.
package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// Mode is what a run exercises.
type Mode string

// The modes.
const (
	// ModeUniform captures orders of 1–5 lines spread over many SKUs.
	ModeUniform Mode = "uniform"
	// ModeHotSKU captures orders that all want one unit of one SKU whose
	// stock is limited: contention on a single balance.
	ModeHotSKU Mode = "hot-sku"
	// ModeAvailability asks for the availability of 20 random SKUs at a
	// time.
	ModeAvailability Mode = "availability"
)

// Modes lists every mode.
var Modes = []Mode{ModeUniform, ModeHotSKU, ModeAvailability}

// Config describes a run.
type Config struct {
	Mode Mode
	// Clients is the number of concurrent clients (at least 1).
	Clients int
	// Duration stops the run after this long; 0 means no time limit
	// (then Requests must be set).
	Duration time.Duration
	// Requests stops the run after this many requests (orders or
	// lookups); 0 means no limit (then Duration must be set). Requests
	// of the warm-up count.
	Requests int
	// Warmup drives the same load for this long before the measured
	// run (see Run).
	Warmup time.Duration
	// SKUs and Locations size the seeded catalogue (uniform and
	// availability modes; hot-sku seeds one SKU).
	SKUs      int
	Locations int
	// HotStock is the hot SKU's total stock, spread over the locations
	// (hot-sku mode).
	HotStock int64
	// Seed makes payloads reproducible; 0 picks one from the clock.
	Seed uint64
	// Progress, if set, receives a line now and then while seeding and
	// verifying a large data set.
	Progress func(format string, args ...any)
	// OnMeasure, if set, is called as the measured run starts (after the
	// warm-up): where a caller takes its own readings, such as CPU time.
	OnMeasure func()
}

// Validate reports a configuration that cannot run.
func (c Config) Validate() error {
	switch {
	case c.Mode != ModeUniform && c.Mode != ModeHotSKU && c.Mode != ModeAvailability:
		return fmt.Errorf("mode %q: want uniform, hot-sku or availability", c.Mode)
	case c.Warmup < 0:
		return errors.New("warmup must not be negative")
	case c.Clients < 1:
		return errors.New("clients must be at least 1")
	case c.Duration < 0 || c.Requests < 0:
		return errors.New("duration and orders must not be negative")
	case c.Duration == 0 && c.Requests == 0:
		return errors.New("give a duration, a number of orders, or both")
	case c.Locations < 1 || c.Locations > 999:
		return errors.New("locations must be between 1 and 999")
	case c.Mode != ModeHotSKU && c.SKUs < 1:
		return errors.New("skus must be at least 1")
	case c.Mode == ModeAvailability && c.SKUs < MaxAvailabilitySKUs:
		return fmt.Errorf("availability mode needs at least %d SKUs", MaxAvailabilitySKUs)
	case c.Mode == ModeHotSKU && c.HotStock < 0:
		return errors.New("hot-stock must not be negative")
	}
	return nil
}

func (c Config) progress(format string, args ...any) {
	if c.Progress != nil {
		c.Progress(format, args...)
	}
}

// NewPrefix returns a fresh code prefix such as "bench-k3f9q2ab": lower
// case, valid in channel, location and SKU codes, and unique enough that
// repeated runs against one server never collide.
func NewPrefix() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "bench-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// Client is an HTTP client for one Orderly server and API key, with a
// connection pool sized for the run's concurrency (keep-alive on).
type Client struct {
	base string
	key  string
	tr   *http.Transport
	http *http.Client
}

// NewClient returns a client for the server at base (http://host:port)
// using key, keeping up to conns idle connections open.
func NewClient(base, key string, conns int) *Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns + 8,
		MaxIdleConnsPerHost: conns + 8,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &Client{
		base: strings.TrimRight(base, "/"), key: key, tr: tr,
		http: &http.Client{Transport: tr, Timeout: time.Minute},
	}
}

// Close closes the client's idle connections.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

// Do sends one request — body as JSON when not nil, with an
// Idempotency-Key when idemKey is not empty — and reads the whole answer.
// A non-nil error is a transport error: no HTTP answer was read.
func (c *Client) Do(ctx context.Context, method, path string, body []byte, idemKey string) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	// Read into a buffer of the announced length: io.ReadAll grows its
	// buffer from 512 bytes, which for a 40 KB availability answer was
	// several copies and a tenth of the generator's time.
	buf := bytes.NewBuffer(make([]byte, 0, max(512, min(resp.ContentLength+1, 1<<20))))
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, buf.Bytes(), nil
}

// TransportErrorClass names a transport error for the error table:
// "transport: timeout", "transport: connection refused", and so on.
func TransportErrorClass(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "transport: timeout"
	case errors.Is(err, context.Canceled):
		return "transport: cancelled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "transport: connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "transport: connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "transport: connection closed"
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EMFILE):
		return "transport: out of sockets"
	}
	return "transport: other"
}

// apiError is a non-2xx answer while seeding or verifying.
func apiError(what string, status int, body []byte) error {
	const max = 300
	s := strings.TrimSpace(string(body))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Errorf("%s: HTTP %d: %s", what, status, s)
}
