package web_test

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/httpapi"
	"github.com/orderly-oms/orderly/internal/clocktest"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
	"github.com/orderly-oms/orderly/web"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// password is every fixture user's password.
const password = "correct horse battery staple"

// t0 is the fixture clock's time.
var t0 = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

var seeder = auth.Principal{Name: "system:test", Role: auth.RoleAdmin}

// fixture is a console over a store with a small, fixed business: two
// locations, two channels, three SKUs, four orders and five users.
type fixture struct {
	svc   *service.Service
	st    store.Store
	clock *clocktest.Clock
	srv   *httptest.Server
}

func newFixture(t testing.TB, st store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := clocktest.New(t0)
	svc := service.New(st, clock, nil)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []*inventory.Location{
		{Code: "wh-a", Name: "Leeds warehouse", Kind: inventory.LocationWarehouse, Active: true,
			Address: orderly.Address{Line1: "1 Kirkstall Rd", City: "Leeds", Country: "GB"}},
		{Code: "wh-b", Name: "London warehouse", Kind: inventory.LocationWarehouse, Active: true,
			Address: orderly.Address{Line1: "2 Dock St", City: "London", Country: "GB"}},
	} {
		_, err := svc.CreateLocation(ctx, seeder, l)
		must(err)
	}
	for _, c := range []*channel.Channel{
		{Code: "web", Kind: channel.KindAPI, Name: "Web shop", Policy: channel.Policy{ReturnWindowDays: 30, PartialCancellation: true}},
		{Code: "pos", Kind: channel.KindPOS, Name: "Till", Policy: channel.Policy{ReturnWindowDays: 14}},
	} {
		_, err := svc.CreateChannel(ctx, seeder, c)
		must(err)
	}
	for _, s := range []struct {
		sku, name string
		a, b      int64
	}{{"TEE", "Organic tee", 10, 3}, {"MUG", "Mug", 5, 0}, {"CAP", "Wool cap", 1, 0}} {
		_, err := svc.CreateSKU(ctx, seeder, &inventory.SKU{SKU: s.sku, Name: s.name})
		must(err)
		_, _, err = svc.AdjustStock(ctx, seeder, service.Adjustment{Location: "wh-a", SKU: s.sku, Delta: s.a, Reason: inventory.ReasonReceive, Reference: "PO-1"})
		must(err)
		if s.b > 0 {
			_, _, err = svc.AdjustStock(ctx, seeder, service.Adjustment{Location: "wh-b", SKU: s.sku, Delta: s.b, Reason: inventory.ReasonReceive, Reference: "PO-2"})
			must(err)
		}
	}
	orders := []*order.Order{
		newOrder("web", "W-1", "Ada Lovelace", "ada@example.com", order.Line{SKU: "TEE", Name: "Organic tee", Quantity: 2, UnitPrice: 2500, Tax: 1000},
			order.Line{SKU: "MUG", Name: "Mug", Quantity: 1, UnitPrice: 899}),
		newOrder("web", "W-2", `<script>alert("x")</script>`, "mallory@example.com", order.Line{SKU: "TEE", Name: `Tee <b>bold</b>`, Quantity: 1, UnitPrice: 2500}),
		newOrder("pos", "P-1", "Grace Hopper", "grace@example.com", order.Line{SKU: "MUG", Name: "Mug", Quantity: 1, UnitPrice: 899}),
		newOrder("web", "W-3", "Alan Turing", "alan@example.com", order.Line{SKU: "CAP", Name: "Wool cap", Quantity: 3, UnitPrice: 2200}),
	}
	for _, o := range orders {
		clock.Advance(time.Minute)
		_, _, err := svc.CreateOrder(ctx, seeder, o, false)
		must(err)
	}
	clock.Advance(time.Minute)
	_, err := svc.HoldOrder(ctx, seeder, "1003", "address check")
	must(err)
	counted := t0
	_, err = svc.SubmitSnapshot(ctx, seeder, service.Snapshot{Location: "wh-a", Mode: inventory.SnapshotPartial, CountedAt: &counted,
		Items: []service.SnapshotItem{{SKU: "TEE", OnHand: 9}, {SKU: "MUG", OnHand: 5}}})
	must(err)
	for _, u := range []struct {
		email string
		role  auth.Role
		loc   string
	}{{"admin@example.com", auth.RoleAdmin, ""}, {"agent@example.com", auth.RoleAgent, ""}, {"viewer@example.com", auth.RoleViewer, ""},
		{"wh-a@example.com", auth.RoleWarehouse, "wh-a"}, {"wh-b@example.com", auth.RoleWarehouse, "wh-b"}} {
		_, _, err := svc.CreateUser(ctx, u.email, u.role, u.loc, password)
		must(err)
	}
	clock.Advance(time.Minute)
	handler := web.Mount(httpapi.NewHandler(svc, httpapi.Config{}), web.New(svc, web.Config{}))
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &fixture{svc: svc, st: st, clock: clock, srv: srv}
}

func newOrder(ch, ext, name, email string, lines ...order.Line) *order.Order {
	return &order.Order{Channel: ch, ExternalID: ext, Currency: "GBP",
		Customer:        order.Customer{Name: name, Email: email},
		ShippingAddress: orderly.Address{Name: name, Line1: "12 St James's Square", City: "London", PostalCode: "SW1Y 4JH", Country: "GB"},
		Lines:           lines, ShippingLines: []order.ShippingLine{{Code: "std", Name: "Standard", Price: 495}}}
}

// client is a browser without JavaScript: a cookie jar and no redirects
// followed, so tests see each 303.
type client struct {
	t    testing.TB
	base string
	http *http.Client
	csrf string
}

func (f *fixture) anonymous(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: f.srv.URL, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login signs in as email and reads the session's CSRF token.
func (f *fixture) login(t testing.TB, email string) *client {
	t.Helper()
	c := f.anonymous(t)
	status, body := c.get("/login")
	m := csrfRE.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("GET /login: %d, no form token", status)
	}
	resp := c.do(http.MethodPost, "/login", url.Values{"csrf": {m[1]}, "email": {email}, "password": {password}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", email, resp.StatusCode)
	}
	_, body = c.get("/account")
	m = csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on /account for %s", email)
	}
	c.csrf = m[1]
	return c
}

func (c *client) do(method, path string, form url.Values) *http.Response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	resp := c.do(http.MethodGet, path, nil)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post sends a form with the session's CSRF token.
func (c *client) post(path string, form url.Values) (int, string) {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", c.csrf)
	resp := c.do(http.MethodPost, path, form)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var (
	uuidRE    = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	shortRE   = regexp.MustCompile(`…[0-9a-f]{8}\b`)
	anyCSRFRE = regexp.MustCompile(`(name="csrf" value=")[^"]+"`)
	headerRE  = regexp.MustCompile(`("X-CSRF-Token":")[^"]+`)
)

// normalise replaces what differs from run to run — ids and tokens — by
// placeholders numbered in order of appearance, so that a page renders
// the same on every run and on both backends.
func normalise(body string) string {
	ids := map[string]string{}
	body = uuidRE.ReplaceAllStringFunc(body, func(id string) string {
		if _, ok := ids[id]; !ok {
			ids[id] = "{id-" + strconv.Itoa(len(ids)+1) + "}"
		}
		return ids[id]
	})
	shorts := map[string]string{}
	body = shortRE.ReplaceAllStringFunc(body, func(s string) string {
		if _, ok := shorts[s]; !ok {
			shorts[s] = "…{short-" + strconv.Itoa(len(shorts)+1) + "}"
		}
		return shorts[s]
	})
	body = anyCSRFRE.ReplaceAllString(body, `${1}{csrf}"`)
	return headerRE.ReplaceAllString(body, `${1}{csrf}`)
}

// golden compares a page with testdata/name.golden; with -update the
// SQLite run rewrites it (both backends must render the same page).
func golden(t *testing.T, backend, name, body string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	got := normalise(body)
	if *update && backend == "sqlite" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./web -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run go test ./web -update if the change is intended):\n%s", name, path, diff(string(want), got))
	}
}

// diff shows the first lines that differ.
func diff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(wl), len(gl)) && shown < 8; i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n- " + w + "\n+ " + g + "\n")
			shown++
		}
	}
	return b.String()
}

// eachBackend runs fn on a fixture per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, backend string, f *fixture)) {
	for _, b := range dbtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.Name, newFixture(t, b.Open(t)))
		})
	}
}
