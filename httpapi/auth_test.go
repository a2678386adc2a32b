package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/orderly-oms/orderly/auth"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		cases := []struct {
			name, authorization string
			wantError           bool // WWW-Authenticate says error="invalid_token"
		}{
			{"no key", "", false},
			{"unknown key", "Bearer ork_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true},
			{"short key", "Bearer x", true},
			{"empty bearer", "Bearer ", true},
			{"basic scheme", "Basic " + b.keys["admin"], true},
			{"no scheme", b.keys["admin"], true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				for _, rq := range []req{
					{method: "GET", path: "/api/v1/orders"},
					{method: "POST", path: "/api/v1/orders", body: orderBody(chWeb, "A-1")},
					{method: "PATCH", path: "/api/v1/skus/SKU-1", body: `{}`},
				} {
					rq.header = map[string]string{"Authorization": c.authorization}
					res := b.do(t, rq)
					res.wantProblem(t, http.StatusUnauthorized, "")
					h := res.header.Get("WWW-Authenticate")
					if !strings.HasPrefix(h, "Bearer") || strings.Contains(h, "invalid_token") != c.wantError {
						t.Errorf("%s %s: WWW-Authenticate %q", rq.method, rq.path, h)
					}
				}
			})
		}
		// The scheme is case-insensitive.
		b.do(t, req{method: "GET", path: "/api/v1/orders", header: map[string]string{"Authorization": "bearer " + b.keys["viewer"]}}).want(t, 200)
		if n := b.countOrders(t); n != 0 {
			t.Errorf("%d orders stored by unauthenticated requests", n)
		}
	})
}

// TestRoleMatrix sends every /api/v1 route with every role's key and checks
// it is allowed (with its success status) or refused with 403.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	const (
		Y = true
		N = false
	)
	// allowed lists, per route, admin agent warehouse finance viewer channel.
	type row struct {
		method, path, body string
		status             int // on success
		allowed            [6]bool
	}
	rows := func(role, orderRef, reportID string) []row {
		return []row{
			{"POST", "/api/v1/orders", orderBody(chWeb, "RM-"+role), 201, [6]bool{Y, Y, N, N, N, Y}},
			{"GET", "/api/v1/orders", "", 200, [6]bool{Y, Y, Y, Y, Y, Y}},
			{"GET", "/api/v1/orders/" + orderRef, "", 200, [6]bool{Y, Y, Y, Y, Y, Y}},
			{"POST", "/api/v1/orders/" + orderRef + "/hold", `{"reason":"check"}`, 200, [6]bool{Y, Y, N, N, N, N}},
			{"POST", "/api/v1/orders/" + orderRef + "/release", ``, 200, [6]bool{Y, Y, N, N, N, N}},
			{"POST", "/api/v1/orders/" + orderRef + "/cancel", `{"reason":"test"}`, 200, [6]bool{Y, Y, N, N, N, N}},
			{"POST", "/api/v1/channels", `{"code":"ch-` + role + `","kind":"api","name":"x"}`, 201, [6]bool{Y, N, N, N, N, N}},
			{"GET", "/api/v1/channels", "", 200, [6]bool{Y, Y, Y, Y, Y, N}},
			{"GET", "/api/v1/channels/web", "", 200, [6]bool{Y, Y, Y, Y, Y, N}},
			{"PATCH", "/api/v1/channels/web", `{"name":"Web ` + role + `"}`, 200, [6]bool{Y, N, N, N, N, N}},
			{"POST", "/api/v1/locations", `{"code":"loc-` + role + `","kind":"store","name":"x"}`, 201, [6]bool{Y, N, N, N, N, N}},
			{"GET", "/api/v1/locations", "", 200, [6]bool{Y, Y, Y, Y, Y, N}},
			{"GET", "/api/v1/locations/leeds", "", 200, [6]bool{Y, Y, Y, Y, Y, N}},
			{"PATCH", "/api/v1/locations/leeds", `{"name":"Leeds ` + role + `"}`, 200, [6]bool{Y, N, N, N, N, N}},
			{"GET", "/api/v1/locations/leeds/sla", "", 200, [6]bool{Y, Y, Y, Y, Y, N}},
			{"PUT", "/api/v1/locations/leeds/sla", `{"minutes":240}`, 200, [6]bool{Y, N, N, N, N, N}},
			{"POST", "/api/v1/skus", `{"sku":"SKU-` + role + `","name":"x"}`, 201, [6]bool{Y, N, N, N, N, N}},
			{"GET", "/api/v1/skus", "", 200, [6]bool{Y, Y, Y, Y, Y, N}},
			{"GET", "/api/v1/skus/SKU-1", "", 200, [6]bool{Y, Y, Y, Y, Y, N}},
			{"PATCH", "/api/v1/skus/SKU-1", `{"name":"SKU ` + role + `"}`, 200, [6]bool{Y, N, N, N, N, N}},
			// Stock is written by admin anywhere and by the warehouse key at
			// its own location (leeds) only; every other role only reads.
			{"POST", "/api/v1/inventory/adjustments", `{"location":"leeds","sku":"SKU-1","delta":1,"reason":"receive"}`, 201, [6]bool{Y, N, Y, N, N, N}},
			{"POST", "/api/v1/inventory/adjustments", `{"location":"york","sku":"SKU-1","delta":1,"reason":"receive"}`, 201, [6]bool{Y, N, N, N, N, N}},
			{"PUT", "/api/v1/inventory/leeds/SKU-2", `{"on_hand":1000}`, 200, [6]bool{Y, N, Y, N, N, N}},
			{"PUT", "/api/v1/inventory/york/SKU-2", `{"on_hand":5,"safety_stock":1}`, 200, [6]bool{Y, N, N, N, N, N}},
			{"POST", "/api/v1/inventory/snapshots", `{"location":"leeds","mode":"partial","items":[{"sku":"SKU-1","on_hand":3}]}`, 201, [6]bool{Y, N, Y, N, N, N}},
			{"POST", "/api/v1/inventory/snapshots", `{"location":"york","mode":"partial","items":[{"sku":"SKU-1","on_hand":3}]}`, 201, [6]bool{Y, N, N, N, N, N}},
			{"GET", "/api/v1/inventory", "", 200, [6]bool{Y, Y, Y, Y, Y, Y}},
			{"GET", "/api/v1/inventory/leeds/SKU-1/ledger", "", 200, [6]bool{Y, Y, Y, Y, Y, Y}},
			{"GET", "/api/v1/availability?sku=SKU-1", "", 200, [6]bool{Y, Y, Y, Y, Y, Y}},
			{"GET", "/api/v1/reconciliation/reports", "", 200, [6]bool{Y, Y, Y, Y, Y, Y}},
			{"GET", "/api/v1/reconciliation/reports/" + reportID, "", 200, [6]bool{Y, Y, Y, Y, Y, Y}},
			// Rule sets: everyone who reads orders reads them; admin writes.
			{"POST", "/api/v1/routing/rule-sets", ruleSetBody, 201, [6]bool{Y, N, N, N, N, N}},
			{"GET", "/api/v1/routing/rule-sets", "", 200, [6]bool{Y, Y, Y, Y, Y, Y}},
			{"GET", "/api/v1/routing/rule-sets/0", "", 200, [6]bool{Y, Y, Y, Y, Y, Y}},
			{"POST", "/api/v1/routing/rule-sets/1/activate", "", 200, [6]bool{Y, N, N, N, N, N}},
			// API keys: admin only.
			{"POST", "/api/v1/keys", `{"name":"rm-` + role + `","role":"viewer"}`, 201, [6]bool{Y, N, N, N, N, N}},
			{"GET", "/api/v1/keys", "", 200, [6]bool{Y, N, N, N, N, N}},
			{"GET", "/api/v1/keys/rm-" + role, "", 200, [6]bool{Y, N, N, N, N, N}},
			{"POST", "/api/v1/keys/rm-" + role + "/revoke", "", 200, [6]bool{Y, N, N, N, N, N}},
			{"POST", "/api/v1/routing/simulate", `{"version":0,"placed_after":"2020-01-01T00:00:00Z","placed_before":"2030-01-01T00:00:00Z"}`, 200, [6]bool{Y, N, N, N, N, N}},
		}
	}
	each(t, func(t *testing.T, b *bundle) {
		// Every route of the table is in the matrix.
		for _, rt := range b.api.routes() {
			found := rt.public || slices.Contains(fulfilmentMatrixRoutes, rt.pattern()) || // TestFulfilmentRoleMatrix
				slices.Contains(integrationsMatrixRoutes, rt.pattern()) || // TestIntegrationsRoleMatrix
				slices.Contains(importsMatrixRoutes, rt.pattern()) // TestImportsRoleMatrix
			for _, r := range rows("x", "1001", "x") {
				path, _, _ := strings.Cut(r.path, "?")
				found = found || r.method == rt.method && pathMatches(rt.path, path)
			}
			if !found {
				t.Errorf("%s is missing from the role matrix", rt.pattern())
			}
		}

		// A second location, not the warehouse key's.
		b.post(t, "admin", "/api/v1/locations", `{"code":"york","name":"York","kind":"store"}`).want(t, 201)
		report := b.post(t, "admin", "/api/v1/inventory/snapshots", `{"location":"leeds","mode":"partial","items":[]}`).want(t, 201).json(t)
		for i, role := range roleNames {
			_, number := b.createOrder(t, chWeb, "matrix-"+role) // an order of the channel key's channel
			for _, r := range rows(role, number, report["id"].(string)) {
				res := b.do(t, req{method: r.method, path: r.path, key: role, body: r.body})
				if r.allowed[i] {
					res.want(t, r.status)
				} else {
					res.wantProblem(t, http.StatusForbidden, "")
				}
			}
		}
	})
}

// TestChannelScope checks that a channel key acts only for its channel.
func TestChannelScope(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		webID, webNumber := b.createOrder(t, chWeb, "S-1")
		marketID, marketNumber := b.createOrder(t, chMarket, "S-2")

		// Another channel's order does not exist for it, by id or number,
		// to read or to act on.
		for _, ref := range []string{marketID, marketNumber} {
			b.get(t, "channel", "/api/v1/orders/"+ref).wantProblem(t, 404, "")
		}
		b.get(t, "channel", "/api/v1/orders/"+webNumber).want(t, 200)
		b.get(t, "channel2", "/api/v1/orders/"+webID).wantProblem(t, 404, "")
		b.get(t, "channel2", "/api/v1/orders/"+marketID).want(t, 200)

		// It may create orders for its channel only.
		b.post(t, "channel", "/api/v1/orders", orderBody(chMarket, "S-3")).wantProblem(t, 403, "")
		b.post(t, "channel2", "/api/v1/orders", orderBody(chMarket, "S-3")).want(t, 201)
		if n := b.countOrders(t); n != 3 {
			t.Errorf("%d orders, want 3", n)
		}

		// The service refused it, not just the HTTP layer: the same holds
		// for a principal built by hand.
		p := auth.Principal{Name: "key:x", Role: auth.RoleChannel, Channel: chWeb}
		if _, err := b.svc.GetOrder(context.Background(), p, marketID); err == nil {
			t.Error("service let a channel principal read another channel's order")
		}
	})
}

// ruleSetBody is a valid rule set: the default rules.
const ruleSetBody = `{"filters":["active","channel","capacity","mode","ships_to","stock"],` +
	`"rankers":["single_location","priority","distance","stock","cost"],"max_splits":1,"when_unfillable":"backorder_and_hold"}`
