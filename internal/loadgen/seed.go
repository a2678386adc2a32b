package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Product is one seeded SKU.
type Product struct {
	SKU   string
	Name  string
	Price int64 // unit price in minor units
}

// Fixture is what Seed created: every code starts with Prefix, so it
// shares nothing with other data on the server.
type Fixture struct {
	Prefix string
	// Channel is the code of the channel orders are captured for; it is
	// fed by Locations only.
	Channel   string
	Locations []string
	// SKUs is the catalogue. In hot-sku mode it holds the hot SKU alone.
	SKUs []Product
	// HotSKU is the hot SKU's code (hot-sku mode).
	HotSKU string
	// Stock is what was received: Stock[sku][i] units at Locations[i].
	Stock map[string][]int64
	// SeedTime is how long seeding took.
	SeedTime time.Duration
	// Balances is the number of stock adjustments seeded.
	Balances int
}

// Received returns the units of sku received over every location.
func (fx *Fixture) Received(sku string) int64 {
	var n int64
	for _, q := range fx.Stock[sku] {
		n += q
	}
	return n
}

// snapshotChunk is how many SKUs one seeding stock count carries: well
// inside the API's 10,000-item and 1 MiB limits.
const snapshotChunk = 5000

// seedConcurrency is how many seeding requests run at once at least.
const seedConcurrency = 16

// Seed creates, through the API, a channel, cfg.Locations locations, the
// SKUs and their stock, every code starting with prefix (see NewPrefix).
// Uniform and availability modes get cfg.SKUs SKUs with 20–80 units at
// every location; hot-sku mode one SKU with cfg.HotStock units spread over
// the locations. Requests run concurrently; the key must be an admin's.
func Seed(ctx context.Context, c *Client, cfg Config, prefix string) (*Fixture, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	started := time.Now()
	conc := max(seedConcurrency, cfg.Clients)
	fx := &Fixture{Prefix: prefix, Channel: prefix, Stock: map[string][]int64{}}
	for i := range cfg.Locations {
		fx.Locations = append(fx.Locations, fmt.Sprintf("%s-loc%03d", prefix, i+1))
	}
	// Locations first: the channel names them.
	err := parallel(ctx, len(fx.Locations), conc, func(ctx context.Context, i int) error {
		ci := cities[i%len(cities)]
		lat, lon := ci.lat, ci.lon
		return post(ctx, c, "/api/v1/locations", map[string]any{
			"code": fx.Locations[i], "name": fmt.Sprintf("Bench warehouse %d (%s)", i+1, ci.name), "kind": "warehouse",
			"address": map[string]any{"line1": fmt.Sprintf("%d Dock Road", i+1), "city": ci.name, "postal_code": ci.postal, "country": ci.country},
			"lat":     lat, "lon": lon,
		})
	})
	if err != nil {
		return nil, err
	}
	err = post(ctx, c, "/api/v1/channels", map[string]any{
		"code": fx.Channel, "kind": "api", "name": "orderly bench " + prefix, "locations": fx.Locations,
	})
	if err != nil {
		return nil, err
	}

	rng := rand.New(rand.NewPCG(uint64(len(prefix)), 42))
	if cfg.Mode == ModeHotSKU {
		fx.HotSKU = prefix + "-HOT"
		fx.SKUs = []Product{{SKU: fx.HotSKU, Name: "Limited edition trainers, hot drop", Price: 14900}}
		stock := make([]int64, len(fx.Locations))
		for i := range stock {
			stock[i] = cfg.HotStock / int64(len(stock))
			if int64(i) < cfg.HotStock%int64(len(stock)) {
				stock[i]++
			}
		}
		fx.Stock[fx.HotSKU] = stock
	} else {
		fx.SKUs = make([]Product, cfg.SKUs)
		for i := range fx.SKUs {
			fx.SKUs[i] = Product{SKU: fmt.Sprintf("%s-SKU%06d", prefix, i+1), Name: productName(i), Price: productPrice(i)}
			stock := make([]int64, len(fx.Locations))
			for j := range stock {
				stock[j] = 20 + rng.Int64N(61)
			}
			fx.Stock[fx.SKUs[i].SKU] = stock
		}
	}
	var done atomic.Int64
	tick := newTicker(cfg, "seeding", &done)
	err = parallel(ctx, len(fx.SKUs), conc, func(ctx context.Context, i int) error {
		p := fx.SKUs[i]
		err := post(ctx, c, "/api/v1/skus", map[string]any{"sku": p.SKU, "name": p.Name, "weight_grams": 100 + i%900})
		done.Add(1)
		return err
	})
	if err != nil {
		tick.stop()
		return nil, err
	}
	// Stock arrives as partial stock counts (snapshots applied), up to
	// snapshotChunk SKUs per request: two million balances (100,000 SKUs
	// at 20 locations) take 200 requests instead of two million
	// adjustments. The ledger records them as count movements.
	type chunk struct {
		loc      int
		from, to int
	}
	var chunks []chunk
	for j := range fx.Locations {
		for from := 0; from < len(fx.SKUs); from += snapshotChunk {
			chunks = append(chunks, chunk{j, from, min(from+snapshotChunk, len(fx.SKUs))})
		}
	}
	for _, p := range fx.SKUs {
		for _, q := range fx.Stock[p.SKU] {
			if q > 0 {
				fx.Balances++
			}
		}
	}
	// Snapshots of one location queue behind each other's row locks, so
	// more requests at once than locations buy nothing.
	err = parallel(ctx, len(chunks), min(conc, len(fx.Locations)), func(ctx context.Context, i int) error {
		ch := chunks[i]
		items := make([]map[string]any, 0, ch.to-ch.from)
		for _, p := range fx.SKUs[ch.from:ch.to] {
			if q := fx.Stock[p.SKU][ch.loc]; q > 0 {
				items = append(items, map[string]any{"sku": p.SKU, "on_hand": q})
			}
		}
		err := post(ctx, c, "/api/v1/inventory/snapshots", map[string]any{
			"location": fx.Locations[ch.loc], "mode": "partial", "apply": true, "items": items,
		})
		done.Add(int64(len(items)))
		return err
	})
	tick.stop()
	if err != nil {
		return nil, err
	}
	fx.SeedTime = time.Since(started)
	return fx, nil
}

// post sends one seeding request and wants a 201.
func post(ctx context.Context, c *Client, path string, body any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	status, resp, err := c.Do(ctx, http.MethodPost, path, raw, "")
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	if status != http.StatusCreated {
		return apiError("POST "+path, status, resp)
	}
	return nil
}

// parallel runs fn(0) … fn(n-1) on conc goroutines and returns the first
// error, after which no new call starts.
func parallel(ctx context.Context, n, conc int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx) // nil unless a call failed or ctx ended
}

// ticker reports progress every few seconds while a long step runs.
type ticker struct {
	stopc chan struct{}
	wg    sync.WaitGroup
}

func newTicker(cfg Config, what string, done *atomic.Int64) *ticker {
	t := &ticker{stopc: make(chan struct{})}
	if cfg.Progress == nil {
		return t
	}
	t.wg.Go(func() {
		tk := time.NewTicker(5 * time.Second)
		defer tk.Stop()
		started := time.Now()
		for {
			select {
			case <-t.stopc:
				return
			case <-tk.C:
				cfg.progress("%s: %d SKUs and balances in %s", what, done.Load(), time.Since(started).Round(time.Second))
			}
		}
	})
	return t
}

func (t *ticker) stop() {
	close(t.stopc)
	t.wg.Wait()
}
