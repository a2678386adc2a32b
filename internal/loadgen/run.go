package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

// Placed is an order the server answered 201 for: its id and the lines
// sent.
type Placed struct {
	ID    string
	Lines []PlacedLine
	// Status is the status the 201 answer gave (open, or on_hold when
	// something was backordered).
	Status string
}

// Result is what a run measured.
type Result struct {
	Mode Mode
	// Requests counts the requests sent (orders or lookups); Created the
	// successful ones: orders answered 201, lookups answered 200.
	Requests int64
	Created  int64
	// Elapsed runs from the first request to the last answer.
	Elapsed time.Duration
	// Latency holds every request's latency, failures included.
	Latency Latencies
	// Errors counts unexpected answers by status code ("409", "503") and
	// transport errors by class ("transport: timeout").
	Errors map[string]int
	// ErrorSamples holds the first answer or error of each kind.
	ErrorSamples map[string]string
	// Orders lists every order answered 201.
	Orders []Placed
	// Problems lists what the run itself saw go wrong: an availability
	// answer that does not match the stock, a balance with more reserved
	// than on hand while orders were running.
	Problems []string
}

// TransportErrors returns how many requests got no HTTP answer.
func (r *Result) TransportErrors() int {
	n := 0
	for k, v := range r.Errors {
		if _, err := strconv.Atoi(k); err != nil {
			n += v
		}
	}
	return n
}

// Rate returns successful orders (or, in availability mode, lookups
// answered 200) per second.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Created) / r.Elapsed.Seconds()
}

// RequestRate returns requests per second, whatever their answer.
func (r *Result) RequestRate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// worker is one client's share of a run.
type worker struct {
	lat      Latencies
	errors   map[string]int
	samples  map[string]string
	orders   []Placed
	ok       int64
	problems []string
}

func (w *worker) problem(p string) {
	if len(w.problems) < 20 {
		w.problems = append(w.problems, p)
	}
}

func (w *worker) fail(kind, sample string) {
	w.errors[kind]++
	if _, ok := w.samples[kind]; !ok {
		w.samples[kind] = sample
	}
}

// Run drives the server with cfg.Clients concurrent clients until
// cfg.Duration has passed or cfg.Requests requests have been sent,
// whichever comes first; requests in flight at the deadline are waited
// for. Orders carry unique external ids and an Idempotency-Key each. In
// hot-sku mode a monitor polls the hot SKU's availability throughout and
// records any moment where more is reserved than is on hand. With
// cfg.Warmup, the clients first drive the same load for that long; its
// answers are checked and its orders verified, but its latencies and
// rate are not reported.
func Run(ctx context.Context, c *Client, fx *Fixture, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	gens := make([]*OrderGen, cfg.Clients)
	for i := range gens {
		gens[i] = NewOrderGen(fx, cfg.Mode, seed+uint64(i)*1_000_003)
	}
	var mon *monitor
	if cfg.Mode == ModeHotSKU {
		mon = startMonitor(ctx, c, fx)
	}
	var next atomic.Int64
	var warm []*worker
	if cfg.Warmup > 0 {
		warm, _ = runPhase(ctx, c, fx, cfg.Mode, gens, &next, time.Now().Add(cfg.Warmup), 0)
	}
	if cfg.OnMeasure != nil {
		cfg.OnMeasure()
	}
	workers, elapsed := runPhase(ctx, c, fx, cfg.Mode, gens, &next, deadlineAfter(cfg.Duration), int64(cfg.Requests))
	res := &Result{Mode: cfg.Mode, Elapsed: elapsed, Errors: map[string]int{}, ErrorSamples: map[string]string{}}
	if mon != nil {
		res.Problems = append(res.Problems, mon.stop()...)
	}
	for _, w := range workers {
		res.Latency.Merge(&w.lat)
		res.Requests += int64(w.lat.Count())
		res.Created += w.ok
	}
	for _, w := range append(warm, workers...) {
		res.Orders = append(res.Orders, w.orders...)
		for k, v := range w.errors {
			res.Errors[k] += v
			if _, ok := res.ErrorSamples[k]; !ok {
				res.ErrorSamples[k] = w.samples[k]
			}
		}
		res.Problems = append(res.Problems, w.problems...)
	}
	const maxProblems = 20
	if len(res.Problems) > maxProblems {
		res.Problems = append(res.Problems[:maxProblems], fmt.Sprintf("… and %d more", len(res.Problems)-maxProblems))
	}
	return res, ctx.Err()
}

func deadlineAfter(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}

// runPhase drives load with one client per generator until deadline (if
// not zero) or until next passes limit (if not zero), and returns the
// clients' records and how long it took.
func runPhase(ctx context.Context, c *Client, fx *Fixture, mode Mode, gens []*OrderGen, next *atomic.Int64, deadline time.Time, limit int64) ([]*worker, time.Duration) {
	started := time.Now()
	more := func() (int64, bool) {
		if ctx.Err() != nil || (!deadline.IsZero() && !time.Now().Before(deadline)) {
			return 0, false
		}
		n := next.Add(1)
		return n, limit == 0 || n <= limit
	}
	workers := make([]*worker, len(gens))
	var wg sync.WaitGroup
	for i, gen := range gens {
		w := &worker{errors: map[string]int{}, samples: map[string]string{}}
		workers[i] = w
		wg.Go(func() {
			for {
				n, ok := more()
				if !ok {
					return
				}
				if mode == ModeAvailability {
					w.lookup(ctx, c, fx, gen)
				} else {
					w.order(ctx, c, fx, gen, n)
				}
			}
		})
	}
	wg.Wait()
	return workers, time.Since(started)
}

// orderAnswer is the part of a created order the run keeps.
type orderAnswer struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func (w *worker) order(ctx context.Context, c *Client, fx *Fixture, gen *OrderGen, n int64) {
	ext := fx.Prefix + "-" + strconv.FormatInt(n, 10)
	body, lines := gen.Order(ext)
	t0 := time.Now()
	status, resp, err := c.Do(ctx, http.MethodPost, "/api/v1/orders", body, "idem-"+ext)
	w.lat.Record(time.Since(t0))
	switch {
	case err != nil:
		w.fail(TransportErrorClass(err), err.Error())
	case status != http.StatusCreated:
		w.fail(strconv.Itoa(status), truncate(string(resp), 300))
	default:
		var a orderAnswer
		if err := json.Unmarshal(resp, &a); err != nil || a.ID == "" {
			w.problem(fmt.Sprintf("order %s: 201 without an id: %.200s", ext, resp))
			return
		}
		w.ok++
		w.orders = append(w.orders, Placed{ID: a.ID, Lines: lines, Status: a.Status})
	}
}

// availabilityAnswer is GET /api/v1/availability's answer.
type availabilityAnswer struct {
	Items []struct {
		SKU       string `json:"sku"`
		Available int64  `json:"available"`
		Locations []struct {
			Location    string `json:"location"`
			OnHand      int64  `json:"on_hand"`
			Reserved    int64  `json:"reserved"`
			SafetyStock int64  `json:"safety_stock"`
			Available   int64  `json:"available"`
		} `json:"locations"`
	} `json:"items"`
}

// lookupAnswer is the part of GET /api/v1/availability's answer that a
// lookup checks.
type lookupAnswer struct {
	Items []lookupItem `json:"items"`
}

type lookupItem struct {
	SKU       string `json:"sku"`
	Available int64  `json:"available"`
}

// fullDecodeEvery is how often (in answers) a lookup decodes the whole
// answer as JSON besides scanning it (scanLookup): often enough to notice
// an answer whose shape the scan would misread.
const fullDecodeEvery = 16

// lookup asks for 20 SKUs and checks the answer against the seeded stock:
// nothing else moves it in availability mode.
func (w *worker) lookup(ctx context.Context, c *Client, fx *Fixture, gen *OrderGen) {
	path, skus := gen.AvailabilityQuery()
	t0 := time.Now()
	status, resp, err := c.Do(ctx, http.MethodGet, path, nil, "")
	w.lat.Record(time.Since(t0))
	switch {
	case err != nil:
		w.fail(TransportErrorClass(err), err.Error())
		return
	case status != http.StatusOK:
		w.fail(strconv.Itoa(status), truncate(string(resp), 300))
		return
	}
	w.ok++
	items, ok := scanLookup(resp)
	if ok && w.ok%fullDecodeEvery == 0 {
		var a lookupAnswer
		ok = jsonv2.Unmarshal(resp, &a) == nil && slices.Equal(a.Items, items)
	}
	if !ok || len(items) != len(skus) {
		w.problem(fmt.Sprintf("availability of %d SKUs: unexpected answer %.200s", len(skus), resp))
		return
	}
	for i, it := range items {
		if it.SKU != skus[i] || it.Available != fx.Received(skus[i]) {
			w.problem(fmt.Sprintf("availability of %s: %d available, want %d (seeded, no orders)",
				skus[i], it.Available, fx.Received(skus[i])))
		}
	}
}

// monitor polls the hot SKU's availability while a hot-sku run goes on.
type monitor struct {
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	problems []string
}

func startMonitor(ctx context.Context, c *Client, fx *Fixture) *monitor {
	ctx, cancel := context.WithCancel(ctx)
	m := &monitor{cancel: cancel}
	path := "/api/v1/availability?channel=" + fx.Channel + "&sku=" + fx.HotSKU
	m.wg.Go(func() {
		last := fx.Received(fx.HotSKU)
		for ctx.Err() == nil {
			status, resp, err := c.Do(ctx, http.MethodGet, path, nil, "")
			if err == nil && status == http.StatusOK {
				var a availabilityAnswer
				if json.Unmarshal(resp, &a) == nil && len(a.Items) == 1 {
					it := a.Items[0]
					if it.Available < 0 || it.Available > last {
						m.add(fmt.Sprintf("hot SKU available went from %d to %d during the run (nothing was cancelled)", last, it.Available))
					}
					last = it.Available
					for _, l := range it.Locations {
						if l.Reserved > l.OnHand || l.Available < 0 {
							m.add(fmt.Sprintf("hot SKU at %s during the run: on hand %d, reserved %d, available %d", l.Location, l.OnHand, l.Reserved, l.Available))
						}
					}
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(25 * time.Millisecond):
			}
		}
	})
	return m
}

func (m *monitor) add(p string) {
	if len(m.problems) < 20 {
		m.problems = append(m.problems, p)
	}
}

func (m *monitor) stop() []string {
	m.cancel()
	m.wg.Wait()
	return m.problems
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
