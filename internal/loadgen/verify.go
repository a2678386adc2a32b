package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Invariants is what Verify found. Details holds one line per check,
// starting with "ok:", "FAIL:" or "skipped:".
type Invariants struct {
	OK      bool     `json:"ok"`
	Details []string `json:"details"`
	// OrdersFetched counts the 201 orders fetched back; OnHold those of
	// them on hold for missing stock (backorders).
	OrdersFetched int `json:"orders_fetched"`
	OnHold        int `json:"orders_on_hold"`
	// Allocated is the number of units allocated over every order.
	Allocated int64 `json:"units_allocated"`
	// VerifyTime is how long verification took.
	VerifyTime time.Duration `json:"-"`
}

// Pass records a check that held.
func (inv *Invariants) Pass(format string, args ...any) {
	inv.Details = append(inv.Details, "ok: "+fmt.Sprintf(format, args...))
}

// Fail records a check that did not hold and clears OK.
func (inv *Invariants) Fail(format string, args ...any) {
	inv.OK = false
	inv.Details = append(inv.Details, "FAIL: "+fmt.Sprintf(format, args...))
}

// Skip records a check that could not be made.
func (inv *Invariants) Skip(format string, args ...any) {
	inv.Details = append(inv.Details, "skipped: "+fmt.Sprintf(format, args...))
}

// maxFailures caps how many failures of one kind are listed.
const maxFailures = 10

// failures collects failures of one kind, keeping the first few.
type failures struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (f *failures) add(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if len(f.first) < maxFailures {
		f.first = append(f.first, fmt.Sprintf(format, args...))
	}
}

func (f *failures) report(inv *Invariants, what string) bool {
	if f.n == 0 {
		return true
	}
	inv.Fail("%s: %d failures", what, f.n)
	for _, s := range f.first {
		inv.Details = append(inv.Details, "FAIL:   "+s)
	}
	return false
}

// orderDetail is GET /api/v1/orders/{id}'s answer, in part.
type orderDetail struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Hold   *struct {
		Reason string `json:"reason"`
	} `json:"hold"`
	Lines []struct {
		ID          string `json:"id"`
		SKU         string `json:"sku"`
		Quantity    int64  `json:"quantity"`
		Allocated   int64  `json:"allocated"`
		Backordered int64  `json:"backordered"`
		Cancelled   int64  `json:"cancelled"`
	} `json:"lines"`
	Allocations []struct {
		LineID   string `json:"line_id"`
		SKU      string `json:"sku"`
		Location string `json:"location"`
		Quantity int64  `json:"quantity"`
	} `json:"allocations"`
}

// Verify checks a finished run against the server:
//
//   - every order answered 201 is there (GET /api/v1/orders/{id}) with the
//     lines sent, each line's units allocated or backordered, its
//     allocations adding up to its allocated units, and the order open, or
//     on hold for insufficient stock exactly when something is
//     backordered;
//   - no SKU is oversold: per SKU, units allocated ≤ units received, and
//     per balance reserved ≤ on hand and on hand = what was received;
//   - each balance's reserved equals the allocations of the orders
//     answered 201 (when every request got an answer: a request that
//     timed out may have created an order nobody knows of);
//   - hot-sku: exactly min(stock, demand) units allocated, and every
//     answer a 201; availability: nothing moved;
//   - any mode: no 500, and nothing wrong seen during the run.
//
// It does not reconcile the ledger: that needs the database (see
// `orderly reconcile`); the caller adds that check if it can.
func Verify(ctx context.Context, c *Client, fx *Fixture, cfg Config, res *Result) *Invariants {
	started := time.Now()
	inv := &Invariants{OK: true}
	defer func() { inv.VerifyTime = time.Since(started) }()

	if n := res.Errors["500"]; n > 0 {
		inv.Fail("%d answers were 500 internal error: %s", n, res.ErrorSamples["500"])
	}
	if cfg.Mode == ModeHotSKU {
		if len(res.Errors) == 0 {
			inv.Pass("every order was answered 201 (backorders are 201 on hold)")
		} else {
			inv.Fail("answers other than 201: %v", res.Errors)
		}
	}
	for _, p := range res.Problems {
		inv.Fail("%s", p)
	}
	if cfg.Mode == ModeAvailability && len(res.Problems) == 0 {
		inv.Pass("all %d lookups answered 200 named the SKUs asked for, with the stock seeded", res.Created)
	}
	complete := res.TransportErrors() == 0 && res.Errors["500"] == 0 && res.Errors["503"] == 0

	// Every order answered 201, fetched back.
	allocated := map[string]map[string]int64{} // sku → location → units
	allocBySKU := map[string]int64{}
	if cfg.Mode != ModeAvailability {
		var bad failures
		var mu sync.Mutex
		var fetched, onHold atomic.Int64
		var done atomic.Int64
		tick := newTicker(cfg, "verifying orders", &done)
		err := parallel(ctx, len(res.Orders), max(seedConcurrency, cfg.Clients), func(ctx context.Context, i int) error {
			defer done.Add(1)
			p := res.Orders[i]
			status, raw, err := c.Do(ctx, http.MethodGet, "/api/v1/orders/"+url.PathEscape(p.ID), nil, "")
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				bad.add("order %s: %v", p.ID, err)
				return nil
			}
			var o orderDetail
			if status != http.StatusOK || json.Unmarshal(raw, &o) != nil {
				bad.add("order %s: HTTP %d: %.200s", p.ID, status, raw)
				return nil
			}
			fetched.Add(1)
			if len(o.Lines) != len(p.Lines) {
				bad.add("order %s: %d lines, %d were sent", p.ID, len(o.Lines), len(p.Lines))
				return nil
			}
			byLine := map[string]int64{}
			for _, a := range o.Allocations {
				byLine[a.LineID] += a.Quantity
			}
			var back int64
			mu.Lock()
			defer mu.Unlock()
			for k, l := range o.Lines {
				if l.SKU != p.Lines[k].SKU || l.Quantity != p.Lines[k].Quantity {
					bad.add("order %s line %d: %d × %s, sent %d × %s", p.ID, k, l.Quantity, l.SKU, p.Lines[k].Quantity, p.Lines[k].SKU)
				}
				if l.Allocated+l.Backordered+l.Cancelled != l.Quantity {
					bad.add("order %s line %d: %d allocated + %d backordered of %d", p.ID, k, l.Allocated, l.Backordered, l.Quantity)
				}
				if byLine[l.ID] != l.Allocated {
					bad.add("order %s line %d: %d allocated but allocations hold %d", p.ID, k, l.Allocated, byLine[l.ID])
				}
				back += l.Backordered
				allocBySKU[l.SKU] += l.Allocated
			}
			for _, a := range o.Allocations {
				if allocated[a.SKU] == nil {
					allocated[a.SKU] = map[string]int64{}
				}
				allocated[a.SKU][a.Location] += a.Quantity
			}
			switch {
			case back > 0 && (o.Status != "on_hold" || o.Hold == nil || o.Hold.Reason != "insufficient_stock"):
				bad.add("order %s: %d units backordered but status %s", p.ID, back, o.Status)
			case back == 0 && o.Status != "open":
				bad.add("order %s: nothing backordered but status %s", p.ID, o.Status)
			case back > 0:
				onHold.Add(1)
			}
			return nil
		})
		tick.stop()
		if err != nil {
			inv.Fail("verification stopped: %v", err)
			return inv
		}
		inv.OrdersFetched, inv.OnHold = int(fetched.Load()), int(onHold.Load())
		for _, n := range allocBySKU {
			inv.Allocated += n
		}
		if bad.report(inv, "orders answered 201, fetched back") {
			inv.Pass("all %d orders answered 201 are there with their lines (%d on hold for missing stock, %d units allocated)",
				inv.OrdersFetched, inv.OnHold, inv.Allocated)
		}
	}

	// Balances: nothing oversold, reservations match allocations.
	var bad failures
	var oversold failures
	locIndex := make(map[string]int, len(fx.Locations))
	for i, l := range fx.Locations {
		locIndex[l] = i
	}
	const perLookup = 100
	batches := (len(fx.SKUs) + perLookup - 1) / perLookup
	err := parallel(ctx, batches, seedConcurrency, func(ctx context.Context, b int) error {
		q := url.Values{"channel": {fx.Channel}}
		for _, p := range fx.SKUs[b*perLookup : min(len(fx.SKUs), (b+1)*perLookup)] {
			q.Add("sku", p.SKU)
		}
		status, raw, err := c.Do(ctx, http.MethodGet, "/api/v1/availability?"+q.Encode(), nil, "")
		if err != nil {
			return err
		}
		var a availabilityAnswer
		if status != http.StatusOK || json.Unmarshal(raw, &a) != nil {
			return apiError("GET /api/v1/availability", status, raw)
		}
		for _, it := range a.Items {
			stock := fx.Stock[it.SKU]
			var received, reserved int64
			for _, q := range stock {
				received += q
			}
			if allocBySKU[it.SKU] > received {
				oversold.add("%s: %d units allocated, %d received", it.SKU, allocBySKU[it.SKU], received)
			}
			for _, l := range it.Locations {
				i, ok := locIndex[l.Location]
				if !ok {
					bad.add("%s: availability names location %s, which the channel does not sell from", it.SKU, l.Location)
					continue
				}
				reserved += l.Reserved
				ours := allocated[it.SKU][l.Location]
				switch {
				case l.OnHand != stock[i]:
					bad.add("%s at %s: on hand %d, %d received and nothing shipped", it.SKU, l.Location, l.OnHand, stock[i])
				case l.Reserved > l.OnHand || l.Available < 0:
					oversold.add("%s at %s: on hand %d, reserved %d, available %d", it.SKU, l.Location, l.OnHand, l.Reserved, l.Available)
				case complete && l.Reserved != ours:
					bad.add("%s at %s: reserved %d, the orders answered 201 hold %d", it.SKU, l.Location, l.Reserved, ours)
				case l.Reserved < ours:
					bad.add("%s at %s: reserved %d, the orders answered 201 hold %d", it.SKU, l.Location, l.Reserved, ours)
				}
			}
			if it.Available != received-reserved {
				bad.add("%s: available %d, but %d received and %d reserved", it.SKU, it.Available, received, reserved)
			}
		}
		return nil
	})
	if err != nil {
		inv.Fail("reading balances back: %v", err)
		return inv
	}
	if oversold.report(inv, "oversold") {
		inv.Pass("no SKU oversold: on %d SKU(s) × %d location(s), reserved ≤ on hand and allocated ≤ received", len(fx.SKUs), len(fx.Locations))
	}
	if bad.report(inv, "balances") {
		switch {
		case cfg.Mode == ModeAvailability:
			inv.Pass("every balance unchanged: on hand as received, nothing reserved")
		case complete:
			inv.Pass("every balance's reserved equals the allocations of the orders answered 201")
		default:
			inv.Pass("every balance holds at least the allocations of the orders answered 201 (not exactly: some requests got no answer)")
		}
	}

	if cfg.Mode == ModeHotSKU {
		demand := int64(0)
		for _, p := range res.Orders {
			for _, l := range p.Lines {
				demand += l.Quantity
			}
		}
		want := min(fx.Received(fx.HotSKU), demand)
		got := allocBySKU[fx.HotSKU]
		switch {
		case got == want:
			inv.Pass("hot SKU: exactly %d units allocated (stock %d, demand %d)", got, fx.Received(fx.HotSKU), demand)
		case !complete && got < want:
			inv.Skip("hot SKU: %d units allocated to orders answered 201, want %d; some requests got no answer, so orders nobody knows of may hold the rest", got, want)
		default:
			inv.Fail("hot SKU: %d units allocated, want exactly %d (stock %d, demand %d)", got, want, fx.Received(fx.HotSKU), demand)
		}
	}
	if len(inv.Details) > 0 {
		// Failures first, so a reader sees them.
		sort.SliceStable(inv.Details, func(i, j int) bool { return rank(inv.Details[i]) < rank(inv.Details[j]) })
	}
	return inv
}

func rank(detail string) int {
	if len(detail) >= 4 && detail[:4] == "FAIL" {
		return 0
	}
	return 1
}
