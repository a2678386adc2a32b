package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/carrier"
	"github.com/orderly-oms/orderly/carrier/tablerate"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/internal/clocktest"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// bundle is one test's world: a store on one backend, the service over it,
// the API served by a real HTTP server, and a key for every role.
type bundle struct {
	store store.Store
	svc   *service.Service
	clock *clocktest.Clock
	api   *api
	srv   *httptest.Server
	reg   *prometheus.Registry
	logs  *syncBuffer
	// keys maps a role name (and "channel2", a channel key of the other
	// channel) to an API key secret.
	keys map[string]string
}

// The fixtures every bundle starts with.
const (
	chWeb    = "web"    // the channel of the "channel" key
	chMarket = "market" // the channel of the "channel2" key
	locLeeds = "leeds"
	sku1     = "SKU-1"
	sku2     = "SKU-2"
	// fixtureStock units of each fixture SKU are on hand at leeds.
	fixtureStock = 1000
)

// roleNames lists the keys of bundle.keys that are roles, in order.
var roleNames = []string{"admin", "agent", "warehouse", "finance", "viewer", "channel"}

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// setup builds a bundle over s.
func setup(t testing.TB, s store.Store) *bundle {
	t.Helper()
	ctx := context.Background()
	clock := clocktest.New(t0)
	svc := service.New(s, clock, nil)
	reg := prometheus.NewRegistry()
	svc.OnOrderCreated = OrderCreatedHook(reg)
	svc.Connectors = testConnectors()
	tr, err := tablerate.New(tablerate.Default(), svc.NextTrackingNumber, clock)
	if err != nil {
		t.Fatal(err)
	}
	svc.Carriers = map[string]carrier.Carrier{inventory.CarrierTableRate: tr} // no easypost: no API key
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := newAPI(svc, Config{Registry: reg, Version: "test", Logger: log})
	a.idem.wait = 500 * time.Millisecond
	a.idem.poll = 10 * time.Millisecond
	srv := httptest.NewServer(a.handler())
	t.Cleanup(func() {
		srv.Close()
		a.pending.Wait() // before the store closes
	})
	b := &bundle{store: s, svc: svc, clock: clock, api: a, srv: srv, reg: reg, logs: logs, keys: map[string]string{}}

	admin := auth.Principal{Name: "key:setup", Role: auth.RoleAdmin}
	for _, code := range []string{chWeb, chMarket} {
		if _, err := svc.CreateChannel(ctx, admin, &channel.Channel{Code: code, Kind: channel.KindAPI, Name: code, Policy: channel.DefaultPolicy()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.CreateLocation(ctx, admin, &inventory.Location{Code: locLeeds, Name: "Leeds", Kind: inventory.LocationWarehouse, Active: true}); err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{sku1, sku2} {
		if _, err := svc.CreateSKU(ctx, admin, &inventory.SKU{SKU: code, Name: "Item " + code}); err != nil {
			t.Fatal(err)
		}
		// Enough stock that orders are reserved in full and stay open;
		// the inventory tests make their own shortages.
		if _, _, err := svc.AdjustStock(ctx, admin, service.Adjustment{Location: locLeeds, SKU: code, Delta: fixtureStock,
			Reason: inventory.ReasonReceive, Reference: "setup"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, role := range roleNames {
		var ch, loc string
		switch role {
		case "channel":
			ch = chWeb
		case "warehouse":
			loc = locLeeds
		}
		_, secret, err := svc.CreateAPIKey(ctx, role+"-key", auth.Role(role), ch, loc)
		if err != nil {
			t.Fatal(err)
		}
		b.keys[role] = secret
	}
	_, secret, err := svc.CreateAPIKey(ctx, "channel2-key", auth.RoleChannel, chMarket, "")
	if err != nil {
		t.Fatal(err)
	}
	b.keys["channel2"] = secret
	return b
}

// each runs fn on a fresh bundle for every backend.
func each(t *testing.T, fn func(t *testing.T, b *bundle)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, s store.Store) {
		fn(t, setup(t, s))
	})
}

// response is what a test request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r *response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("response body is not a JSON object: %v\n%s", err, r.body)
	}
	return v
}

// req describes a test request.
type req struct {
	method string
	path   string
	key    string // role name from bundle.keys, a literal secret, or "" for none
	body   string
	// header adds or overrides request headers; Content-Type defaults to
	// application/json when there is a body.
	header map[string]string
}

// do sends rq over real HTTP and checks the response against the OpenAPI
// document: its status must be documented for the operation, and its body
// must match the documented schema.
func (b *bundle) do(t *testing.T, rq req) *response {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	r, err := http.NewRequestWithContext(context.Background(), rq.method, b.srv.URL+rq.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if rq.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if rq.key != "" {
		secret, ok := b.keys[rq.key]
		if !ok {
			secret = rq.key
		}
		r.Header.Set("Authorization", "Bearer "+secret)
	}
	for k, v := range rq.header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	res, err := b.srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &response{status: res.StatusCode, header: res.Header, body: data}
	checkAgainstSchema(t, b.api.openapi, rq.method, rq.path, out)
	return out
}

// post, get and patch are shorthands for do.
func (b *bundle) post(t *testing.T, key, path, body string) *response {
	t.Helper()
	return b.do(t, req{method: "POST", path: path, key: key, body: body})
}

func (b *bundle) get(t *testing.T, key, path string) *response {
	t.Helper()
	return b.do(t, req{method: "GET", path: path, key: key})
}

func (b *bundle) patch(t *testing.T, key, path, body string) *response {
	t.Helper()
	return b.do(t, req{method: "PATCH", path: path, key: key, body: body})
}

// want fails the test unless the response has the status.
func (r *response) want(t *testing.T, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// wantProblem fails the test unless the response is a problem with the
// status that names field (when field is not "").
func (r *response) wantProblem(t *testing.T, status int, field string) map[string]any {
	t.Helper()
	r.want(t, status)
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	p := r.json(t)
	if int(p["status"].(float64)) != status {
		t.Fatalf("problem status %v, want %d", p["status"], status)
	}
	if field != "" && !problemNames(p, field) {
		t.Fatalf("problem does not name field %q: %s", field, r.body)
	}
	return p
}

func problemNames(p map[string]any, field string) bool {
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if e.(map[string]any)["field"] == field {
			return true
		}
	}
	return false
}

// orderBody returns a valid order request for channel with external id
// ext, over the two fixture SKUs.
func orderBody(channel, ext string) string {
	return `{"channel":"` + channel + `","external_id":"` + ext + `","placed_at":"2025-02-28T10:00:00Z","currency":"EUR",
		"customer":{"name":"Ada Lovelace","email":"ada@example.com","phone":"+44 20 7946 0000"},
		"shipping_address":{"name":"Ada Lovelace","line1":"1 Analytical St","city":"London","postal_code":"N1 1AA","country":"GB","lat":51.5,"lon":-0.1},
		"billing_address":{"name":"Ada Lovelace","country":"GB"},
		"lines":[{"sku":"SKU-1","quantity":2,"unit_price":1999,"discount":100,"tax":380,"name":"Widget"},
		         {"sku":"SKU-2","quantity":1,"unit_price":500}],
		"shipping_lines":[{"code":"std","name":"Standard","price":495}],
		"note":"leave at the door","tags":["vip"]}`
}

// createOrder captures an order as admin and returns its id and number.
func (b *bundle) createOrder(t *testing.T, channel, ext string) (id string, number string) {
	t.Helper()
	o := b.post(t, "admin", "/api/v1/orders", orderBody(channel, ext)).want(t, http.StatusCreated).json(t)
	return o["id"].(string), jsonNumber(o["number"])
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// openapiDocs caches parsed OpenAPI documents by their bytes: every bundle
// generates the same document.
var openapiDocs sync.Map // string → *openapi3.T

func loadOpenAPI(t *testing.T, raw []byte) *openapi3.T {
	t.Helper()
	if d, ok := openapiDocs.Load(string(raw)); ok {
		return d.(*openapi3.T)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	openapiDocs.Store(string(raw), doc)
	return doc
}

// checkAgainstSchema fails the test if the response's status is not
// documented for the operation, or its JSON body does not match the
// documented schema.
func checkAgainstSchema(t *testing.T, raw []byte, method, rawPath string, res *response) {
	t.Helper()
	doc := loadOpenAPI(t, raw)
	path, _, _ := strings.Cut(rawPath, "?")
	// The most specific template wins, as in the mux: the one with the
	// fewest wildcards.
	var op *openapi3.Operation
	best := -1
	for tmpl, item := range doc.Paths.Map() {
		if pathMatches(tmpl, path) {
			if lit := strings.Count(tmpl, "/") - strings.Count(tmpl, "{"); lit > best {
				op, best = item.GetOperation(method), lit
			}
		}
	}
	if op == nil {
		if res.status != http.StatusNotFound && res.status != http.StatusMethodNotAllowed {
			t.Fatalf("%s %s: undocumented operation answered %d", method, path, res.status)
		}
		return
	}
	ref := op.Responses.Status(res.status)
	if ref == nil || ref.Value == nil {
		t.Fatalf("%s %s: status %d is not documented; body: %s", method, path, res.status, res.body)
	}
	ct := res.header.Get("Content-Type")
	mt := ref.Value.Content.Get(ct)
	if mt == nil {
		t.Fatalf("%s %s: status %d with Content-Type %q is not documented", method, path, res.status, ct)
	}
	if !strings.Contains(ct, "json") || mt.Schema == nil {
		return
	}
	var v any
	if err := json.Unmarshal(res.body, &v); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", method, path, err)
	}
	if err := mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		t.Fatalf("%s %s: %d body does not match its schema: %v\n%s", method, path, res.status, err, res.body)
	}
}

// pathMatches reports whether a request path matches an OpenAPI path
// template, segment by segment.
func pathMatches(tmpl, path string) bool {
	ts, ps := strings.Split(tmpl, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if strings.HasPrefix(ts[i], "{") || ts[i] == ps[i] {
			continue
		}
		return false
	}
	return true
}

// countOrders lists every order as admin and returns how many there are.
func (b *bundle) countOrders(t *testing.T) int {
	t.Helper()
	items, _, err := b.svc.ListOrders(context.Background(), auth.Principal{Name: "key:t", Role: auth.RoleAdmin},
		store.OrderListParams{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(items)
}

var _ orderly.Clock = (*clocktest.Clock)(nil)

// syncBuffer is a bytes.Buffer safe for concurrent writers: the handler
// logs from every request's goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
