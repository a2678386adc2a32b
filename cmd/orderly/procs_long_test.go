//go:build long

package main

// Helpers of the long tests (crash_test.go, twonode_test.go): real
// `orderly serve` processes that can be killed and restarted, a webhook
// receiver that counts what it is sent, and the checks that need the
// database (reconcile, SQLite's integrity check).

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // PRAGMA integrity_check on the file the server wrote

	"github.com/orderly-oms/orderly/internal/loadgen"
	"github.com/orderly-oms/orderly/outbound"
)

// node is one `orderly serve` process on a fixed address, so that it can
// be killed and started again where clients expect it. The process is the
// test binary itself, running main (see TestMain): the same code as the
// built binary, without a second build.
type node struct {
	t    *testing.T
	name string
	db   string
	addr string // host:port, the same across restarts
	logf *os.File
	cmd  *exec.Cmd
	// starts counts the processes started.
	starts int
}

// newNode returns a node that serves db on a free loopback port; call
// start.
func newNode(t *testing.T, name, db string) *node {
	t.Helper()
	logf, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, name: name, db: db, addr: freeAddr(t), logf: logf}
	t.Cleanup(func() {
		if n.cmd != nil {
			_ = n.cmd.Process.Kill()
			_ = n.cmd.Wait()
		}
		if t.Failed() {
			n.dumpLog()
		}
		_ = logf.Close()
	})
	return n
}

// base returns the node's URL.
func (n *node) base() string { return "http://" + n.addr }

// start starts the process and waits until it listens.
func (n *node) start() {
	t := n.t
	t.Helper()
	if n.cmd != nil {
		t.Fatalf("%s: already running", n.name)
	}
	n.starts++
	fmt.Fprintf(n.logf, "--- start %d at %s\n", n.starts, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(os.Args[0], "serve", "--addr", n.addr, "--db", n.db) // #nosec G204 -- the test binary itself
	cmd.Env = append(os.Environ(), "ORDERLY_TEST_MAIN=1", "ORDERLY_LOG_FORMAT=json", "ORDERLY_LOG_LEVEL=warn",
		"ORDERLY_ALLOW_PRIVATE_WEBHOOKS=1")
	cmd.Stderr = n.logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.cmd = cmd
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				lines <- m[1]
			}
		}
		close(lines)
	}()
	select {
	case got, ok := <-lines:
		if !ok {
			t.Fatalf("%s: orderly serve exited before listening (start %d); see its log", n.name, n.starts)
		}
		if got != n.base() {
			t.Fatalf("%s: listening on %s, want %s", n.name, got, n.base())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: orderly serve did not listen within a minute (start %d)", n.name, n.starts)
	}
}

// kill sends SIGKILL: no shutdown, no flush, in-flight requests cut.
func (n *node) kill() {
	n.t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		n.t.Fatalf("%s: kill: %v", n.name, err)
	}
	_ = n.cmd.Wait() // "signal: killed"
	fmt.Fprintf(n.logf, "--- SIGKILL at %s\n", time.Now().Format(time.RFC3339Nano))
	n.cmd = nil
}

// stop sends SIGTERM and wants exit status 0.
func (n *node) stop() {
	n.t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		n.t.Fatalf("%s: SIGTERM: %v", n.name, err)
	}
	err := n.cmd.Wait()
	n.cmd = nil
	if err != nil {
		n.t.Fatalf("%s: exit after SIGTERM: %v", n.name, err)
	}
}

// dumpLog prints the end of the node's log (warnings and errors only).
func (n *node) dumpLog() {
	raw, err := os.ReadFile(n.logf.Name())
	if err != nil {
		return
	}
	const max = 8000
	if len(raw) > max {
		raw = raw[len(raw)-max:]
	}
	n.t.Logf("%s: end of log:\n%s", n.name, raw)
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// runCmd runs an orderly command in-process and returns its stdout.
func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut strings.Builder
	err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	if err != nil {
		return out.String(), fmt.Errorf("orderly %s: %w (stderr: %s)", args[0], err, errOut.String())
	}
	return out.String(), nil
}

// adminKey migrates db and creates an admin API key in it.
func adminKey(t *testing.T, db string) string {
	t.Helper()
	out, err := runCmd(t, "keys", "create", "--db", db, "--name", "long-test-admin", "--role", "admin")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// reconcileDB runs `orderly reconcile` and fails the test unless it
// exits 0.
func reconcileDB(t *testing.T, db string) {
	t.Helper()
	out, err := runCmd(t, "reconcile", "--db", db)
	if err != nil {
		t.Errorf("orderly reconcile: %v\n%s", err, out)
		return
	}
	t.Logf("orderly reconcile: %s", strings.TrimSpace(out))
}

// integrityCheck runs PRAGMA integrity_check on a SQLite file that no
// process has open, and fails the test unless it says ok.
func integrityCheck(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "ok" {
		t.Errorf("PRAGMA integrity_check: %v", got)
	}
}

// postgresServeURL returns url (a fresh schema's, from dbtest) with a pool
// big enough for a server under load.
func postgresServeURL(t *testing.T, raw string, conns int) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", strconv.Itoa(conns))
	u.RawQuery = q.Encode()
	return u.String()
}

// receiver is a webhook endpoint that checks each delivery's Standard
// Webhooks signature and counts deliveries per webhook-id and per event.
type receiver struct {
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	byID   map[string]int    // webhook-id → times received
	event  map[string]string // webhook-id → event id
	events map[string]int    // event id → times received
	bad    []string
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{secret: outbound.NewSecret(), byID: map[string]int{}, event: map[string]string{}, events: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
	sec, _ := strconv.ParseInt(ts, 10, 64)
	want, err := outbound.Sign(rc.secret, id, time.Unix(sec, 0), body)
	var p outbound.Payload
	rc.mu.Lock()
	defer rc.mu.Unlock()
	switch {
	case err != nil || r.Header.Get("webhook-signature") != want:
		rc.bad = append(rc.bad, "bad signature on delivery "+id)
	case json.Unmarshal(body, &p) != nil || p.Data.ID == "":
		rc.bad = append(rc.bad, "delivery "+id+": not a payload")
	default:
		rc.byID[id]++
		if prev, ok := rc.event[id]; ok && prev != p.Data.ID {
			rc.bad = append(rc.bad, fmt.Sprintf("delivery %s carried event %s, then %s", id, prev, p.Data.ID))
		}
		if rc.byID[id] == 1 {
			rc.events[p.Data.ID]++
		}
		rc.event[id] = p.Data.ID
	}
	w.WriteHeader(http.StatusNoContent)
}

// counts returns how many distinct deliveries arrived, how many arrived
// more than once, and how many events arrived in more than one delivery.
func (rc *receiver) counts() (distinct, redelivered, eventsTwice int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, n := range rc.byID {
		if n > 1 {
			redelivered++
		}
	}
	for _, n := range rc.events {
		if n > 1 {
			eventsTwice++
		}
	}
	return len(rc.byID), redelivered, eventsTwice
}

// subscribe subscribes the receiver to events on the server behind c.
func (rc *receiver) subscribe(t *testing.T, c *loadgen.Client, events ...string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"url": rc.srv.URL + "/hook", "events": events, "secret": rc.secret})
	status, raw, err := c.Do(context.Background(), http.MethodPost, "/api/v1/webhooks", body, "")
	if err != nil || status != http.StatusCreated {
		t.Fatalf("subscribe: %d %v %s", status, err, raw)
	}
	var sub struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &sub); err != nil {
		t.Fatal(err)
	}
	return sub.ID
}

// listedOrder is an order as GET /api/v1/orders lists it, in part.
type listedOrder struct {
	ID         string `json:"id"`
	Number     int64  `json:"number"`
	ExternalID string `json:"external_id"`
	Status     string `json:"status"`
}

// listOrders returns every order of channel, through the API.
func listOrders(t *testing.T, c *loadgen.Client, channel string) []listedOrder {
	t.Helper()
	return listAll[listedOrder](t, c, "/api/v1/orders", url.Values{"channel": {channel}}, "list orders")
}

// listAll pages through a list endpoint at path with the query q and
// returns every item; what names the list in failures.
func listAll[T any](t *testing.T, c *loadgen.Client, path string, q url.Values, what string) []T {
	t.Helper()
	var all []T
	q.Set("limit", "200")
	for {
		status, raw, err := c.Do(context.Background(), http.MethodGet, path+"?"+q.Encode(), nil, "")
		if err != nil || status != http.StatusOK {
			t.Fatalf("%s: %d %v %.300s", what, status, err, raw)
		}
		var page struct {
			Items      []T     `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Items...)
		if page.NextCursor == nil {
			return all
		}
		q.Set("cursor", *page.NextCursor)
	}
}

// listedDelivery is a delivery as the delivery log lists it, in part.
type listedDelivery struct {
	ID        string `json:"id"`
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	Status    string `json:"status"`
	Attempts  int    `json:"attempts"`
}

// listDeliveries returns a subscription's whole delivery log.
func listDeliveries(t *testing.T, c *loadgen.Client, sub string) []listedDelivery {
	t.Helper()
	return listAll[listedDelivery](t, c, "/api/v1/webhooks/"+sub+"/deliveries", url.Values{}, "list deliveries")
}

// numberGaps returns how many numbers between the smallest and the
// largest of orders no order has, and whether any number repeats.
func numberGaps(orders []listedOrder) (gaps int64, dup string) {
	if len(orders) == 0 {
		return 0, ""
	}
	seen := map[int64]string{}
	lo, hi := orders[0].Number, orders[0].Number
	for _, o := range orders {
		if prev, ok := seen[o.Number]; ok && dup == "" {
			dup = fmt.Sprintf("number %d is on orders %s and %s", o.Number, prev, o.ID)
		}
		seen[o.Number] = o.ID
		lo, hi = min(lo, o.Number), max(hi, o.Number)
	}
	return hi - lo + 1 - int64(len(seen)), dup
}
