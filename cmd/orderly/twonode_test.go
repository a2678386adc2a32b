//go:build long

package main

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/internal/loadgen"
)

// TestTwoNodes runs two `orderly serve` processes on one PostgreSQL
// database behind a round-robin load balancer and sends them a hot-SKU
// drop: 1,000 orders of one unit for 100 units. It checks that exactly
// 100 units are allocated (no oversell, no lost stock), `orderly
// reconcile` is clean, order numbers are unique (gaps are counted and
// bounded: see docs/operations.md), an Idempotency-Key sent to one node
// is honoured by the other, every event after the subscription is
// delivered to the webhook receiver exactly once (one delivery per event,
// each webhook-id received once), and every job ran exactly once.
//
// Run it with `go test -tags long -run TwoNodes ./cmd/orderly/` (make
// test-long); it needs ORDERLY_TEST_POSTGRES_URL and skips without it.
func TestTwoNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	raw := dbtest.PostgresURL(t) // skips without PostgreSQL
	db := postgresServeURL(t, raw, 10)
	key := adminKey(t, db)
	nodes := []*node{newNode(t, "node-a", db), newNode(t, "node-b", db)}
	for _, n := range nodes {
		n.start()
	}
	lb, served := newBalancer(t, nodes[0].base(), nodes[1].base())
	const clients = 32
	c := loadgen.NewClient(lb.URL, key, clients)
	defer c.Close()

	rc := newReceiver(t)
	rc.subscribe(t, c, "*")
	// Let both dispatchers pass the subscription's own commit, so that
	// every event from here on is one the subscription takes.
	time.Sleep(2 * time.Second)
	since := time.Now().UTC()

	cfg := loadgen.Config{Mode: loadgen.ModeHotSKU, Clients: clients, Requests: 1000, Locations: 3, HotStock: 100}
	fx, err := loadgen.Seed(ctx, c, cfg, loadgen.NewPrefix())
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	res, err := loadgen.Run(ctx, c, fx, cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	t.Logf("%d orders answered 201 in %s (%.0f/s); node a served %d requests, node b %d",
		res.Created, res.Elapsed.Round(time.Millisecond), res.Rate(), served[0].Load(), served[1].Load())
	if served[0].Load() == 0 || served[1].Load() == 0 {
		t.Errorf("the balancer sent every request to one node: %d and %d", served[0].Load(), served[1].Load())
	}
	inv := loadgen.Verify(ctx, c, fx, cfg, res)
	for _, d := range inv.Details {
		t.Log(d)
	}
	if !inv.OK {
		t.Error("invariants failed (above)")
	}
	if inv.Allocated != cfg.HotStock || res.Created != int64(cfg.Requests) {
		t.Errorf("%d units allocated over %d orders; want %d over %d", inv.Allocated, res.Created, cfg.HotStock, cfg.Requests)
	}

	// An Idempotency-Key is shared through the database: the same request
	// sent to the other node is a replay of the first answer.
	extra := crossNodeReplay(t, nodes, key, fx)

	// Order numbers: unique; gaps counted.
	orders := listOrders(t, c, fx.Channel)
	if want := int(res.Created) + extra; len(orders) != want {
		t.Errorf("%d orders stored, %d answered 201", len(orders), want)
	}
	gaps, dup := numberGaps(orders)
	if dup != "" {
		t.Error(dup)
	}
	t.Logf("order numbers: %d orders, %d gaps between the first and the last", len(orders), gaps)
	// The sequence only skips a number whose transaction rolled back (a
	// retried conflict); a few, never a run of them.
	if gaps*50 > int64(len(orders)) {
		t.Errorf("%d gaps in %d order numbers: more than 2%%", gaps, len(orders))
	}

	// Events and jobs, each handled once though both nodes dispatch and
	// run jobs.
	eventsAndJobsOnce(t, raw, rc, since)

	for _, n := range nodes {
		n.stop()
	}
	reconcileDB(t, db)
}

// newBalancer returns a round-robin HTTP load balancer over backends and
// counters of the requests each got.
func newBalancer(t *testing.T, backends ...string) (*httptest.Server, []atomic.Int64) {
	t.Helper()
	targets := make([]*url.URL, len(backends))
	for i, b := range backends {
		u, err := url.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		targets[i] = u
	}
	served := make([]atomic.Int64, len(backends))
	var next atomic.Uint64
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			i := int(next.Add(1) % uint64(len(targets)))
			served[i].Add(1)
			r.SetURL(targets[i])
		},
		Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128, IdleConnTimeout: 90 * time.Second},
		// A client that hangs up (the availability monitor at the end of
		// the run) is not worth a log line.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv, served
}

// crossNodeReplay sends 10 new orders, each to one node and then again,
// with the same key and body, to the other, and wants the same order
// back; then 10 more, each to both nodes at the same moment. It returns
// the number of orders it created.
func crossNodeReplay(t *testing.T, nodes []*node, key string, fx *loadgen.Fixture) int {
	t.Helper()
	ctx := context.Background()
	gen := loadgen.NewOrderGen(fx, loadgen.ModeHotSKU, 42)
	const n = 10
	for i := range n {
		first, second := nodes[i%2], nodes[(i+1)%2]
		ext := fx.Prefix + "-replay-" + string(rune('a'+i))
		body, _ := gen.Order(ext)
		var ids [2]string
		for k, nd := range []*node{first, second} {
			c := loadgen.NewClient(nd.base(), key, 1)
			status, raw, err := c.Do(ctx, http.MethodPost, "/api/v1/orders", body, "twonode-"+ext)
			c.Close()
			var a struct {
				ID string `json:"id"`
			}
			if err != nil || status != http.StatusCreated || json.Unmarshal(raw, &a) != nil {
				t.Fatalf("order %s to %s: %d %v %.300s", ext, nd.name, status, err, raw)
			}
			ids[k] = a.ID
		}
		if ids[0] != ids[1] {
			t.Errorf("order %s: %s answered %s, %s answered %s", ext, first.name, ids[0], second.name, ids[1])
		}
	}
	// The same request to both nodes at once: one runs it, the other
	// waits for its answer (or, past the wait, says 409 in progress);
	// never two orders.
	for i := range n {
		ext := fx.Prefix + "-concurrent-" + string(rune('a'+i))
		body, _ := gen.Order(ext)
		var wg sync.WaitGroup
		var got [2]string
		for k, nd := range nodes {
			wg.Go(func() {
				c := loadgen.NewClient(nd.base(), key, 1)
				defer c.Close()
				for try := 0; ; try++ {
					status, raw, err := c.Do(ctx, http.MethodPost, "/api/v1/orders", body, "twonode-"+ext)
					var a struct {
						ID   string `json:"id"`
						Code string `json:"code"`
					}
					_ = json.Unmarshal(raw, &a)
					switch {
					case err == nil && status == http.StatusConflict && a.Code == "idempotency_in_progress" && try < 10:
						time.Sleep(500 * time.Millisecond)
						continue
					case err != nil || (status != http.StatusCreated && status != http.StatusOK):
						t.Errorf("order %s to %s at once: %d %v %.300s", ext, nd.name, status, err, raw)
					}
					got[k] = a.ID
					return
				}
			})
		}
		wg.Wait()
		if got[0] != got[1] {
			t.Errorf("order %s sent to both nodes at once: %s and %s", ext, got[0], got[1])
		}
	}
	return 2 * n
}

// eventsAndJobsOnce waits until the job queue is drained and checks, in
// the database and at the receiver, that every event since since has
// exactly one delivery, that each was received once, and that each job
// ran once.
func eventsAndJobsOnce(t *testing.T, dbURL string, rc *receiver, since time.Time) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, withoutPoolParams(t, dbURL))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()

	var events, undispatched, twice, jobs, unfinished, rerun int64
	deadline := time.Now().Add(90 * time.Second)
	for {
		err := conn.QueryRow(ctx, `SELECT
				(SELECT count(*) FROM events WHERE at >= $1),
				(SELECT count(*) FROM events e WHERE at >= $1
					AND NOT EXISTS (SELECT 1 FROM outbound_deliveries d WHERE d.event_id = e.id)),
				(SELECT count(*) FROM (SELECT event_id FROM outbound_deliveries GROUP BY event_id HAVING count(*) > 1) x),
				(SELECT count(*) FROM jobs),
				(SELECT count(*) FROM jobs WHERE state <> 'succeeded'),
				(SELECT count(*) FROM jobs WHERE attempt <> 1)`, since).
			Scan(&events, &undispatched, &twice, &jobs, &unfinished, &rerun)
		if err != nil {
			t.Fatal(err)
		}
		if (undispatched == 0 && unfinished == 0) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	distinct, redelivered, eventsTwice := rc.counts()
	t.Logf("%d events since the subscription; %d jobs; the receiver got %d deliveries", events, jobs, distinct)
	if undispatched > 0 || unfinished > 0 {
		t.Errorf("after 90 s: %d events not dispatched, %d jobs not succeeded", undispatched, unfinished)
	}
	if twice > 0 {
		t.Errorf("%d events dispatched more than once", twice)
	}
	if rerun > 0 {
		t.Errorf("%d jobs ran more than once (attempt ≠ 1) with no failure to cause it", rerun)
	}
	if redelivered > 0 || eventsTwice > 0 {
		t.Errorf("the receiver got %d webhook-ids more than once and %d events in more than one delivery", redelivered, eventsTwice)
	}
	if int64(distinct) < events {
		t.Errorf("the receiver got %d deliveries for %d events", distinct, events)
	}
	rc.mu.Lock()
	for _, b := range rc.bad {
		t.Error(b)
	}
	rc.mu.Unlock()
}

// withoutPoolParams drops pgxpool's own parameters from a URL, for a
// single connection.
func withoutPoolParams(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
