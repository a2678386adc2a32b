//go:build long

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/internal/loadgen"
)

// The crash-safety test: `orderly serve` under intake load is killed with
// SIGKILL ten times at random moments and started again, while clients
// retry every unanswered request with its Idempotency-Key, as a channel
// would. Afterwards:
//
//   - every order answered 201 (or 200 to a retry) is there with all its
//     lines, its stock reserved, nothing oversold (loadgen.Verify), and
//     every balance's reserved equals the allocations of those orders;
//   - the channel holds exactly one order per external id sent, the one
//     the answers named: no retry created a second order, none was lost;
//   - a request sent again with its key gets the same order back;
//   - every stock receipt sent alongside (an adjustment: no natural key,
//     so only its Idempotency-Key guards it) is in the ledger exactly
//     once, including those answered 409 idempotency_response_lost;
//   - order numbers are unique (and, on SQLite, without gaps);
//   - each order.created event got exactly one delivery (the outbox
//     dispatcher neither lost nor repeated one across the kills);
//   - `orderly reconcile` exits 0, and SQLite's PRAGMA integrity_check says
//     ok, after every kill and at the end.
//
// Run it with `go test -tags long -run Crash ./cmd/orderly/` (make
// test-long). On PostgreSQL it needs ORDERLY_TEST_POSTGRES_URL.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			crashTest(t, backend)
		})
	}
}

const (
	crashKills   = 10
	crashClients = 8
)

// sent is one order request: its body is kept to be sent again, byte for
// byte, with the same Idempotency-Key.
type sent struct {
	ext string
	// path is where it is POSTed: /api/v1/orders, or
	// /api/v1/inventory/adjustments for the stock adjustments sent
	// alongside (their answer names no order).
	path  string
	body  []byte
	lines []loadgen.PlacedLine
	tries int
	// id is the order the server named in a 201 (or 200) answer; "" while
	// unanswered.
	id     string
	status int
	next   time.Time // not retried before
}

func (s *sent) key() string { return "crash-" + s.ext }

// intake is the clients' shared record of what they sent.
type intake struct {
	mu      sync.Mutex
	all     []*sent
	pending []*sent
	answers map[string]int // answer kind → count, for the log
	fails   []string       // answers that should never happen
}

func (in *intake) note(kind string) {
	in.mu.Lock()
	in.answers[kind]++
	in.mu.Unlock()
}

func (in *intake) fail(format string, args ...any) {
	in.mu.Lock()
	if len(in.fails) < 20 {
		in.fails = append(in.fails, fmt.Sprintf(format, args...))
	}
	in.mu.Unlock()
}

// due returns an unanswered request whose retry is due, or nil.
func (in *intake) due(now time.Time) *sent {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, s := range in.pending {
		if !s.next.After(now) {
			in.pending = slices.Delete(in.pending, i, i+1)
			return s
		}
	}
	return nil
}

// retryLater puts s back among the unanswered.
func (in *intake) retryLater(s *sent, after time.Duration) {
	in.mu.Lock()
	s.next = time.Now().Add(after)
	in.pending = append(in.pending, s)
	in.mu.Unlock()
}

func (in *intake) unanswered() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.pending)
}

// send sends s once and files the answer. It returns how long the client
// should pause: a while when the server did not answer (it is down), so
// that clients do not pile up new orders against a closed port.
func (in *intake) send(ctx context.Context, c *loadgen.Client, s *sent) (pause time.Duration) {
	s.tries++
	status, raw, err := c.Do(ctx, http.MethodPost, s.path, s.body, s.key())
	if err != nil {
		if ctx.Err() != nil {
			return 0
		}
		in.note(loadgen.TransportErrorClass(err))
		in.retryLater(s, 100*time.Millisecond)
		return 50 * time.Millisecond
	}
	var a struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	}
	_ = json.Unmarshal(raw, &a)
	switch {
	case s.path != adjustPath && (status == http.StatusCreated || status == http.StatusOK):
		if a.ID == "" {
			in.fail("order %s: %d without an id: %.200s", s.ext, status, raw)
			return 0
		}
		if status == http.StatusOK && s.tries == 1 {
			in.fail("order %s: a new external id answered 200 (already stored)", s.ext)
		}
		in.note(strconv.Itoa(status))
		in.mu.Lock()
		s.id, s.status = a.ID, status
		in.mu.Unlock()
	case status == http.StatusConflict && a.Code == "idempotency_in_progress":
		// The first attempt's claim outlived a killed process: it is
		// taken over once stale (a minute; on SQLite, released when
		// serve starts again). Until then, try again.
		// Each such answer takes the server's 2 s wait: back off, as a
		// channel would, rather than hold a client on it.
		in.note("409 idempotency_in_progress")
		in.retryLater(s, 15*time.Second)
	case status == http.StatusServiceUnavailable:
		in.note("503")
		in.retryLater(s, 200*time.Millisecond)
	case s.path == adjustPath && status == http.StatusCreated:
		in.note("201 adjustment")
		in.mu.Lock()
		s.status = status
		in.mu.Unlock()
	case s.path == adjustPath && status == http.StatusConflict && a.Code == "idempotency_response_lost":
		// Carried out before a kill, its response never recorded: a
		// final answer (adjustmentCheck wants it in the ledger once).
		in.note("409 idempotency_response_lost")
		in.mu.Lock()
		s.status = status
		in.mu.Unlock()
	case s.path == adjustPath:
		in.fail("adjustment %s (try %d): HTTP %d: %.300s", s.ext, s.tries, status, raw)
	default:
		in.fail("order %s (try %d): HTTP %d: %.300s", s.ext, s.tries, status, raw)
	}
	return 0
}

// adjustPath is where stock adjustments are POSTed.
const adjustPath = "/api/v1/inventory/adjustments"

func crashTest(t *testing.T, backend string) {
	ctx := context.Background()
	var db, sqlitePath string
	switch backend {
	case "sqlite":
		sqlitePath = filepath.Join(t.TempDir(), "crash.db")
		db = "sqlite:" + sqlitePath
	case "postgres":
		db = postgresServeURL(t, dbtest.PostgresURL(t), 8)
	}
	key := adminKey(t, db)
	n := newNode(t, "serve-"+backend, db)
	n.start()
	c := loadgen.NewClient(n.base(), key, 2*crashClients)
	defer c.Close()

	rc := newReceiver(t)
	sub := rc.subscribe(t, c, "order.created")
	cfg := loadgen.Config{Mode: loadgen.ModeUniform, Clients: crashClients, Requests: 1, SKUs: 40, Locations: 3}
	fx, err := loadgen.Seed(ctx, c, cfg, loadgen.NewPrefix())
	if err != nil {
		t.Fatalf("seed: %v", err)
	}

	// Clients: new orders until told to stop, retrying what went
	// unanswered, then only retries until every request has an answer.
	in := &intake{answers: map[string]int{}}
	var next atomic.Int64
	var stopNew, newDone atomic.Bool
	retryCtx, cancelRetries := context.WithTimeout(ctx, 4*time.Minute)
	defer cancelRetries()
	var wgNew, wgRetry sync.WaitGroup
	// New orders and retries have clients of their own, as a channel's
	// live traffic and its retry queue would: a retry answered 409 holds
	// its client for the server's 2 s wait, and must not starve intake.
	for w := range crashClients {
		gen := loadgen.NewOrderGen(fx, loadgen.ModeUniform, uint64(w+1)*7919)
		wgNew.Go(func() {
			for retryCtx.Err() == nil && !stopNew.Load() {
				s := &sent{ext: fx.Prefix + "-" + strconv.FormatInt(next.Add(1), 10), path: "/api/v1/orders"}
				s.body, s.lines = gen.Order(s.ext)
				in.mu.Lock()
				in.all = append(in.all, s)
				in.mu.Unlock()
				time.Sleep(in.send(retryCtx, c, s))
			}
		})
		wgRetry.Go(func() {
			for retryCtx.Err() == nil {
				if s := in.due(time.Now()); s != nil {
					time.Sleep(in.send(retryCtx, c, s))
					continue
				}
				if newDone.Load() && in.unanswered() == 0 {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}

	// Two clients receive stock, one unit per request, each with its own
	// key, into a SKU of its own: unlike an order, an adjustment has no
	// natural key, so only the Idempotency-Key stands between a retry and
	// a second unit.
	adjSKU, adjLoc := fx.Prefix+"-ADJ", fx.Locations[0]
	if status, raw, err := c.Do(ctx, http.MethodPost, "/api/v1/skus", []byte(`{"sku":"`+adjSKU+`","name":"Crash-test receipts"}`), ""); err != nil || status != http.StatusCreated {
		t.Fatalf("create SKU: %d %v %s", status, err, raw)
	}
	var adjusts []*sent
	var nextAdj atomic.Int64
	for range 2 {
		wgNew.Go(func() {
			for retryCtx.Err() == nil && !stopNew.Load() {
				s := &sent{ext: "adj-" + strconv.FormatInt(nextAdj.Add(1), 10), path: adjustPath}
				s.body, _ = json.Marshal(map[string]any{"location": adjLoc, "sku": adjSKU, "delta": 1, "reason": "receive", "reference": s.key()})
				in.mu.Lock()
				adjusts = append(adjusts, s)
				in.mu.Unlock()
				time.Sleep(in.send(retryCtx, c, s))
			}
		})
	}

	// The killer, on the test goroutine: SIGKILL, check the file, start
	// again on the same address.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for i := range crashKills {
		time.Sleep(time.Duration(1000+rng.IntN(2500)) * time.Millisecond)
		n.kill()
		if sqlitePath != "" {
			integrityCheck(t, sqlitePath)
		}
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond) // clients meet a closed port
		n.start()
		t.Logf("kill %d: %d orders sent so far", i+1, next.Load())
	}
	time.Sleep(2 * time.Second)
	stopNew.Store(true)
	t.Logf("stopped sending new orders; retrying %d unanswered requests (a claim left by a killed process is taken over after a minute on PostgreSQL; on SQLite claims die with the process)", in.unanswered())
	wgNew.Wait()
	newDone.Store(true)
	wgRetry.Wait()
	if left := in.unanswered(); left > 0 {
		t.Fatalf("%d requests still unanswered after retrying for minutes; answers: %v; unexpected: %v", left, in.answers, in.fails)
	}
	t.Logf("%d orders and %d adjustments sent, answers: %v", len(in.all), len(adjusts), in.answers)
	for _, f := range in.fails {
		t.Errorf("unexpected answer: %s", f)
	}
	if n := in.answers["409 idempotency_in_progress"]; sqlitePath != "" && n > 0 {
		// A retry follows a kill, and on SQLite claims live in the
		// process's memory (decision 0015): nothing of the dead one's holds
		// a key.
		t.Errorf("%d retries answered 409 idempotency_in_progress on SQLite: a dead process's claim held a key", n)
	}

	// The same request again, with its key: the same order.
	replayCheck(t, c, in)

	// Every acknowledged order is there with its lines and stock; nothing
	// oversold; reserved equals the allocations of exactly these orders.
	res := &loadgen.Result{Mode: loadgen.ModeUniform, Errors: map[string]int{}}
	for _, s := range in.all {
		res.Orders = append(res.Orders, loadgen.Placed{ID: s.id, Lines: s.lines})
	}
	inv := loadgen.Verify(ctx, c, fx, cfg, res)
	for _, d := range inv.Details {
		t.Log(d)
	}
	if !inv.OK {
		t.Error("invariants failed (above)")
	}

	// One order per external id, the one the answers named; numbers unique.
	orders := listOrders(t, c, fx.Channel)
	byExt := map[string]listedOrder{}
	for _, o := range orders {
		if prev, ok := byExt[o.ExternalID]; ok {
			t.Errorf("external id %s stored twice: orders %s and %s", o.ExternalID, prev.ID, o.ID)
		}
		byExt[o.ExternalID] = o
	}
	for _, s := range in.all {
		o, ok := byExt[s.ext]
		switch {
		case !ok:
			t.Errorf("order %s answered %d (%s) is not listed", s.ext, s.status, s.id)
		case o.ID != s.id:
			t.Errorf("order %s: answered with id %s, stored as %s", s.ext, s.id, o.ID)
		}
	}
	if len(orders) != len(in.all) {
		t.Errorf("%d orders stored for the channel, %d external ids sent", len(orders), len(in.all))
	}
	gaps, dup := numberGaps(orders)
	if dup != "" {
		t.Error(dup)
	}
	t.Logf("order numbers: %d orders, %d gaps", len(orders), gaps)
	if backend == "sqlite" && gaps != 0 {
		// SQLite's counter row moves in the order's transaction: a
		// transaction the kill cut off takes its number with it.
		t.Errorf("SQLite order numbers have %d gaps; they should have none", gaps)
	}

	deliveryCheck(t, c, rc, sub, len(orders))
	adjustmentCheck(t, c, adjLoc, adjSKU, adjusts)

	n.stop()
	reconcileDB(t, db)
	if sqlitePath != "" {
		integrityCheck(t, sqlitePath)
	}
}

// replayCheck sends up to 50 answered requests again with their keys and
// wants the same order back each time.
func replayCheck(t *testing.T, c *loadgen.Client, in *intake) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	step := max(1, len(in.all)/50)
	checked := 0
	for i := 0; i < len(in.all); i += step {
		s := in.all[i]
		for {
			status, raw, err := c.Do(ctx, http.MethodPost, "/api/v1/orders", s.body, s.key())
			var a struct {
				ID   string `json:"id"`
				Code string `json:"code"`
			}
			_ = json.Unmarshal(raw, &a)
			if err == nil && status == http.StatusConflict && a.Code == "idempotency_in_progress" && ctx.Err() == nil {
				time.Sleep(time.Second)
				continue
			}
			switch {
			case err != nil:
				t.Errorf("replay of %s: %v", s.ext, err)
			case (status != http.StatusCreated && status != http.StatusOK) || a.ID != s.id:
				t.Errorf("replay of %s: HTTP %d, id %q; first answer %d with id %s", s.ext, status, a.ID, s.status, s.id)
			}
			break
		}
		checked++
	}
	t.Logf("replayed %d requests with their Idempotency-Key: the same order each time", checked)
}

// deliveryCheck waits for the outbound deliveries of the subscription
// (order.created only) and checks that the dispatcher made exactly one per
// order, and that no event reached the receiver in two deliveries. A
// delivery whose job a killed process had claimed waits for its lease to
// end (5 minutes) and is not waited for; it may also arrive twice (the
// same webhook-id) after it: that is the at-least-once the receiver
// deduplicates by webhook-id.
func deliveryCheck(t *testing.T, c *loadgen.Client, rc *receiver, sub string, orders int) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	var dels []listedDelivery
	var running int
	for {
		dels = listDeliveries(t, c, sub)
		running = countJobs(t, c, "running")
		distinct, _, _ := rc.counts()
		if (len(dels) == orders && distinct+running >= orders) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	events := map[string]string{}
	ids := map[string]bool{}
	for _, d := range dels {
		ids[d.ID] = true
		if prev, ok := events[d.EventID]; ok {
			t.Errorf("event %s dispatched twice: deliveries %s and %s", d.EventID, prev, d.ID)
		}
		events[d.EventID] = d.ID
	}
	if len(dels) != orders {
		t.Errorf("%d deliveries of order.created for %d orders", len(dels), orders)
	}
	distinct, redelivered, eventsTwice := rc.counts()
	rc.mu.Lock()
	for id := range rc.byID {
		if !ids[id] {
			t.Errorf("the receiver got delivery %s, which the log does not hold", id)
		}
	}
	for _, b := range rc.bad {
		t.Error(b)
	}
	rc.mu.Unlock()
	if eventsTwice > 0 {
		t.Errorf("%d events reached the receiver in more than one delivery", eventsTwice)
	}
	if missing := orders - distinct; missing > running || missing > crashKills*8 {
		t.Errorf("%d of %d deliveries never arrived, %d jobs still leased by killed processes", missing, orders, running)
	}
	t.Logf("deliveries: %d dispatched for %d orders, %d received (%d more than once), %d waiting for a dead process's lease",
		len(dels), orders, distinct, redelivered, orders-distinct)
}

// countJobs returns how many jobs are in state.
func countJobs(t *testing.T, c *loadgen.Client, state string) int {
	t.Helper()
	n, cursor := 0, ""
	for {
		path := "/api/v1/jobs?limit=200&state=" + state
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		status, raw, err := c.Do(context.Background(), http.MethodGet, path, nil, "")
		if err != nil || status != http.StatusOK {
			t.Fatalf("list jobs: %d %v %.300s", status, err, raw)
		}
		var page struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor *string           `json:"next_cursor"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		n += len(page.Items)
		if page.NextCursor == nil {
			return n
		}
		cursor = *page.NextCursor
	}
}

// adjustmentCheck reads the SKU's ledger back: every adjustment sent was
// answered 201 or 409 idempotency_response_lost (carried out, response
// lost in a kill), so each reference (its Idempotency-Key) must be there
// exactly once.
func adjustmentCheck(t *testing.T, c *loadgen.Client, loc, sku string, adjusts []*sent) {
	t.Helper()
	refs := map[string]int{}
	cursor := ""
	for {
		path := "/api/v1/inventory/" + loc + "/" + sku + "/ledger?limit=200"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		status, raw, err := c.Do(context.Background(), http.MethodGet, path, nil, "")
		if err != nil || status != http.StatusOK {
			t.Fatalf("ledger: %d %v %.300s", status, err, raw)
		}
		var page struct {
			Items []struct {
				Reference   string `json:"reference"`
				DeltaOnHand int64  `json:"delta_on_hand"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Items {
			refs[m.Reference]++
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	twice := 0
	for _, s := range adjusts {
		switch n := refs[s.key()]; {
		case n == 0:
			t.Errorf("adjustment %s answered %d is not in the ledger", s.key(), s.status)
		case n > 1:
			twice++
			if twice <= 5 {
				t.Errorf("adjustment %s applied %d times: a retry with its Idempotency-Key ran it again", s.key(), n)
			}
		}
	}
	if twice > 0 {
		t.Errorf("%d of %d adjustments were applied more than once", twice, len(adjusts))
	}
	if len(refs) != len(adjusts) {
		t.Errorf("the ledger holds %d references, %d adjustments were sent", len(refs), len(adjusts))
	}
	t.Logf("adjustments: %d sent, %d in the ledger, %d applied twice", len(adjusts), len(refs), twice)
}
