package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// foAt returns the id of a requested fulfilment order at location,
// re-routing order 1002 there first if there is none.
func (f *fixture) foAt(t *testing.T, location string) string {
	t.Helper()
	ctx := context.Background()
	list := func() []*fulfilment.FulfilmentOrder {
		fos, _, err := f.svc.ListFulfilmentOrders(ctx, seeder, store.FulfilmentOrderListParams{Location: location, Status: fulfilment.StatusRequested})
		if err != nil {
			t.Fatal(err)
		}
		return fos
	}
	if fos := list(); len(fos) > 0 {
		return fos[0].ID
	}
	other := map[string]string{"wh-a": "wh-b", "wh-b": "wh-a"}[location]
	if _, err := f.svc.RerouteOrder(ctx, seeder, "1002", other, "test"); err != nil {
		t.Fatalf("reroute 1002 to %s: %v", location, err)
	}
	fos := list()
	if len(fos) == 0 {
		t.Fatalf("no fulfilment order at %s", location)
	}
	return fos[0].ID
}

func (f *fixture) status(t *testing.T, number string) order.Status {
	t.Helper()
	o, err := f.svc.GetOrder(context.Background(), seeder, number)
	if err != nil {
		t.Fatal(err)
	}
	return o.Status
}

func TestRoles(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ string, f *fixture) {
		atA, atB := f.foAt(t, "wh-a"), f.foAt(t, "wh-b")

		wh := f.login(t, "wh-a@example.com")
		if status, _ := wh.get("/queue/wh-b"); status != http.StatusForbidden {
			t.Errorf("warehouse user opened another location's queue: %d", status)
		}
		resp := wh.do(http.MethodGet, "/", nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/queue/wh-a" {
			t.Errorf("a warehouse user's first page: %d %s, want their queue", resp.StatusCode, resp.Header.Get("Location"))
		}
		for _, action := range []string{"hold", "cancel", "release", "reroute", "cancel-lines"} {
			if status, _ := wh.post("/orders/1001/"+action, url.Values{"reason": {"x"}, "location": {"wh-a"}}); status != http.StatusForbidden {
				t.Errorf("warehouse user may %s an order: %d", action, status)
			}
		}
		// Another location's fulfilment order does not exist for a
		// warehouse user (the service answers not found, as the API does).
		if status, _ := wh.post("/fulfilment/"+atB+"/accept", nil); status != http.StatusNotFound && status != http.StatusForbidden {
			t.Errorf("warehouse user accepted another location's fulfilment order: %d", status)
		}
		if status, _ := wh.post("/fulfilment/"+atA+"/accept", nil); status != http.StatusSeeOther {
			t.Errorf("warehouse user could not accept at their own location: %d", status)
		}
		if got := f.status(t, "1001"); got != order.StatusOpen {
			t.Errorf("order 1001 is %s after a warehouse user's refused actions", got)
		}

		viewer := f.login(t, "viewer@example.com")
		_, body := viewer.get("/orders/1001")
		for _, action := range []string{`action="/orders/`, "Confirm hold", "Confirm cancel", "Confirm re-route"} {
			if strings.Contains(body, action) {
				t.Errorf("the viewer's order page offers %q", action)
			}
		}
		_, body = viewer.get("/queue/wh-a")
		if strings.Contains(body, "/fulfilment/") || strings.Contains(body, "Confirm") {
			t.Error("the viewer's queue offers actions")
		}
		_, body = viewer.get("/inventory/locations/wh-a/TEE")
		if strings.Contains(body, "/inventory/adjustments") {
			t.Error("the viewer's ledger offers the adjustment form")
		}
		for path, form := range map[string]url.Values{
			"/orders/1001/hold":              {"reason": {"x"}},
			"/orders/1001/cancel":            {"reason": {"x"}},
			"/fulfilment/" + atB + "/accept": nil,
			"/fulfilment/" + atB + "/ship":   {"tracking_number": {"T1"}},
			"/inventory/adjustments":         {"location": {"wh-a"}, "sku": {"TEE"}, "delta": {"5"}, "reason": {"receive"}},
		} {
			if status, _ := viewer.post(path, form); status != http.StatusForbidden {
				t.Errorf("viewer POST %s: %d, want 403", path, status)
			}
		}
		if got := f.status(t, "1001"); got != order.StatusOpen {
			t.Errorf("order 1001 is %s after the viewer's refused actions", got)
		}

		agent := f.login(t, "agent@example.com")
		_, body = agent.get("/queue/wh-a")
		if strings.Contains(body, "/fulfilment/") {
			t.Error("an agent's queue offers fulfilment actions")
		}
		_, body = agent.get("/orders/1001")
		if !strings.Contains(body, `action="/orders/1001/hold"`) {
			t.Error("an agent's order page lacks the hold action")
		}
		if status, _ := agent.get("/routing/simulate?version=0&from=2026-03-01&to=2026-03-14"); status != http.StatusForbidden {
			t.Errorf("an agent ran a routing simulation: %d", status)
		}
	})
}

func TestSecurity(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ string, f *fixture) {
		admin := f.login(t, "admin@example.com")

		// CSRF: no token, another session's token, a cross-site browser.
		resp := admin.do(http.MethodPost, "/orders/1001/hold", url.Values{"reason": {"no token"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST without a CSRF token: %d, want 403", resp.StatusCode)
		}
		other := f.login(t, "agent@example.com")
		resp = admin.do(http.MethodPost, "/orders/1001/hold", url.Values{"reason": {"x"}, "csrf": {other.csrf}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST with another session's token: %d, want 403", resp.StatusCode)
		}
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/orders/1001/hold",
			strings.NewReader(url.Values{"reason": {"x"}, "csrf": {admin.csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := admin.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST: %d, want 403", resp.StatusCode)
		}
		if got := f.status(t, "1001"); got != order.StatusOpen {
			t.Fatalf("order 1001 is %s after refused forged requests", got)
		}
		anon := f.anonymous(t)
		resp = anon.do(http.MethodPost, "/login", url.Values{"email": {"admin@example.com"}, "password": {password}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-in without the form's token: %d, want 403", resp.StatusCode)
		}

		// Session fixation: a session id planted before sign-in is never
		// the one after; every sign-in makes a new one.
		victim := f.anonymous(t)
		base, _ := url.Parse(f.srv.URL)
		victim.http.Jar.SetCookies(base, []*http.Cookie{{Name: "orderly_session", Value: "planted-by-attacker", Path: "/"}})
		_, body := victim.get("/login")
		tok := csrfRE.FindStringSubmatch(body)[1]
		resp = victim.do(http.MethodPost, "/login", url.Values{"csrf": {tok}, "email": {"viewer@example.com"}, "password": {password}})
		resp.Body.Close()
		var sess *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "orderly_session" {
				sess = c
			}
		}
		if sess == nil || sess.Value == "planted-by-attacker" || sess.Value == "" {
			t.Fatalf("sign-in kept or set no session id: %+v", sess)
		}
		if !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure {
			t.Errorf("session cookie attributes: HttpOnly=%v SameSite=%v Secure=%v", sess.HttpOnly, sess.SameSite, sess.Secure)
		}
		again := f.login(t, "viewer@example.com")
		if again.csrf == victim.csrf || again.csrf == "" {
			t.Error("two sign-ins share a session")
		}

		// Behind a TLS proxy the cookie is Secure.
		anon = f.anonymous(t)
		_, body = anon.get("/login")
		tok = csrfRE.FindStringSubmatch(body)[1]
		req, _ = http.NewRequest(http.MethodPost, f.srv.URL+"/login",
			strings.NewReader(url.Values{"csrf": {tok}, "email": {"viewer@example.com"}, "password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-Proto", "https")
		resp, err = anon.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == "orderly_session" && !c.Secure {
				t.Error("session cookie over TLS is not Secure")
			}
		}

		// Every user-supplied string is escaped.
		for _, path := range []string{"/orders/1002", "/orders", "/orders?q=mallory%40example.com", "/queue/wh-a"} {
			_, body := admin.get(path)
			if strings.Contains(body, `<script>alert`) || strings.Contains(body, "<b>bold</b>") {
				t.Errorf("%s renders user input as HTML", path)
			}
		}
		_, body = admin.get("/orders/1002")
		if !strings.Contains(body, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`) {
			t.Error("the customer's name is not shown as text")
		}
		_, body = admin.get("/orders?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
		if strings.Contains(body, "<script>alert(1)") {
			t.Error("the search box reflects its query as HTML")
		}

		// Signed out, pages send to the sign-in page and actions are refused.
		anon = f.anonymous(t)
		resp = anon.do(http.MethodGet, "/orders/1001", nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Forders%2F1001" {
			t.Errorf("signed-out GET: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp = anon.do(http.MethodPost, "/orders/1001/hold", url.Values{"reason": {"x"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("signed-out POST: %d, want 401", resp.StatusCode)
		}

		// No open redirect after sign-in.
		anon = f.anonymous(t)
		_, body = anon.get("/login")
		tok = csrfRE.FindStringSubmatch(body)[1]
		resp = anon.do(http.MethodPost, "/login", url.Values{"csrf": {tok}, "email": {"admin@example.com"}, "password": {password}, "next": {"//evil.example/"}})
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("sign-in redirected to %q", loc)
		}

		// Signing out ends the session in the database.
		if status, _ := admin.post("/logout", nil); status != http.StatusSeeOther {
			t.Errorf("sign out: %d", status)
		}
		resp = admin.do(http.MethodGet, "/orders", nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("after signing out: %d", resp.StatusCode)
		}

		// Security headers.
		resp = anon.do(http.MethodGet, "/login", nil)
		resp.Body.Close()
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("security headers: %v", resp.Header)
		}
	})
}

func TestLoginThrottled(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ string, f *fixture) {
		c := f.anonymous(t)
		try := func(pw string) int {
			_, body := c.get("/login")
			tok := csrfRE.FindStringSubmatch(body)[1]
			resp := c.do(http.MethodPost, "/login", url.Values{"csrf": {tok}, "email": {"agent@example.com"}, "password": {pw}})
			resp.Body.Close()
			return resp.StatusCode
		}
		for i := range 5 {
			if s := try("not the password"); s != http.StatusUnauthorized {
				t.Fatalf("wrong password %d: %d", i, s)
			}
		}
		if s := try(password); s != http.StatusTooManyRequests {
			t.Fatalf("sixth try with the right password: %d, want 429", s)
		}
	})
}

func TestOrderActions(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ string, f *fixture) {
		agent := f.login(t, "agent@example.com")
		if s, body := agent.post("/orders/1001/hold", url.Values{"reason": {""}}); s != http.StatusUnprocessableEntity || !strings.Contains(body, "reason") {
			t.Errorf("hold without a reason: %d", s)
		}
		if s, _ := agent.post("/orders/1001/hold", url.Values{"reason": {"customer called"}}); s != http.StatusSeeOther {
			t.Fatalf("hold: %d", s)
		}
		if got := f.status(t, "1001"); got != order.StatusOnHold {
			t.Fatalf("after hold: %s", got)
		}
		if s, body := agent.post("/orders/1001/hold", url.Values{"reason": {"again"}}); s != http.StatusConflict || !strings.Contains(body, "cannot hold") {
			t.Errorf("second hold: %d", s)
		}
		if s, _ := agent.post("/orders/1001/release", nil); s != http.StatusSeeOther {
			t.Fatalf("release: %d", s)
		}
		o, _ := f.svc.GetOrder(context.Background(), seeder, "1001")
		if s, body := agent.post("/orders/1001/cancel-lines", url.Values{"reason": {"out of mugs"}, "qty_" + o.Lines[1].ID: {"1"}}); s != http.StatusSeeOther {
			t.Fatalf("cancel line: %d %s", s, body)
		}
		o, _ = f.svc.GetOrder(context.Background(), seeder, "1001")
		if o.Lines[1].Cancelled != 1 || o.Lines[0].Cancelled != 0 {
			t.Errorf("line counters after cancelling the mug: %+v", o.Lines)
		}
		if s, _ := agent.post("/orders/1003/cancel-lines", url.Values{"reason": {"x"}}); s != http.StatusConflict && s != http.StatusUnprocessableEntity {
			t.Errorf("partial cancellation on a channel that forbids it: %d", s)
		}
		if s, _ := agent.post("/orders/1003/cancel", url.Values{"reason": {"customer asked"}}); s != http.StatusSeeOther {
			t.Errorf("cancel: %d", s)
		}
		if got := f.status(t, "1003"); got != order.StatusCancelled {
			t.Errorf("after cancel: %s", got)
		}
		if s, _ := agent.post("/orders/9999/hold", url.Values{"reason": {"x"}}); s != http.StatusNotFound {
			t.Errorf("unknown order: %d", s)
		}
		_, body := agent.get("/orders/1001")
		for _, want := range []string{"order.held", "order.released", "order.lines_cancelled"} {
			if !strings.Contains(body, want) {
				t.Errorf("the timeline lacks %s", want)
			}
		}
	})
}

// TestLocationSLAForm: an admin sets a location's SLA from its queue; a
// warehouse user sees no form and is refused if it posts one anyway; a bad
// value is a 422 naming the field and changes nothing.
func TestLocationSLAForm(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ string, f *fixture) {
		admin := f.login(t, "admin@example.com")
		if _, body := admin.get("/queue/wh-a"); !strings.Contains(body, `action="/queue/wh-a/sla"`) {
			t.Error("an admin's queue page has no SLA form")
		}
		if s, body := admin.post("/queue/wh-a/sla", url.Values{"hours": {"0"}}); s != http.StatusUnprocessableEntity || !strings.Contains(body, "hours") {
			t.Errorf("SLA of 0 hours: %d", s)
		}
		if s, _ := admin.post("/queue/wh-a/sla", url.Values{"hours": {"4"}}); s != http.StatusSeeOther {
			t.Fatalf("set SLA: %d", s)
		}
		if _, body := admin.get("/queue/wh-a"); !strings.Contains(body, "SLA: 4h 0m") {
			t.Errorf("the queue does not show the new SLA of 4 hours")
		}

		wh := f.login(t, "wh-a@example.com")
		if _, body := wh.get("/queue/wh-a"); strings.Contains(body, `action="/queue/wh-a/sla"`) {
			t.Error("a warehouse user's queue page offers the SLA form")
		}
		if s, _ := wh.post("/queue/wh-a/sla", url.Values{"hours": {"1"}}); s != http.StatusForbidden {
			t.Errorf("a warehouse user set the SLA: %d", s)
		}
		sla, set, err := f.svc.LocationSLA(context.Background(), seeder, "wh-a")
		if err != nil || !set || sla != 4*time.Hour {
			t.Errorf("stored SLA %v (set %v, err %v), want 4h", sla, set, err)
		}
	})
}
