package httpapi

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/connector/connectortest"
	"github.com/orderly-oms/orderly/outbound"
	"github.com/orderly-oms/orderly/service"
)

// TestIntegrations: a Shopify channel is configured through the API
// (credentials never echoed); a stock change makes a push that Shopify
// refuses (401): the job is dead and /integrations shows the channel
// failing with the error and the dead letter; once Shopify accepts, the
// retried job succeeds and the dead letter is gone.
func TestIntegrations(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		fake := connectortest.NewFake(t)
		var accept atomic.Bool
		var sets atomic.Int64
		fake.Handle("POST /admin/api/2025-01/inventory_levels/set.json", func(w http.ResponseWriter, r *http.Request) {
			if !accept.Load() {
				connectortest.JSON(w, 401, map[string]any{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
				return
			}
			sets.Add(1)
			connectortest.JSON(w, 200, map[string]any{"inventory_level": map[string]any{}})
		})
		b.post(t, "admin", "/api/v1/channels", `{"code":"shopx","kind":"shopify","name":"Shop X"}`).want(t, 201)
		put := func(body string) *response {
			return b.do(t, req{method: "PUT", path: "/api/v1/integrations/shopx", key: "admin", body: body})
		}
		// The platform must be on the public internet (SSRF), unless
		// private targets are allowed — as they are below, for the fake.
		for _, target := range []string{fake.URL, "http://10.1.2.3/", "http://169.254.169.254/latest/"} {
			put(`{"base_url": "`+target+`"}`).wantProblem(t, http.StatusUnprocessableEntity, "base_url")
		}
		b.svc.AllowPrivateWebhooks = true
		res := put(`{"base_url": "`+fake.URL+`", "settings": {"access_token": "shpat_secret", "stock_location": "655441491", "item.SKU-1": "808950810"}}`).
			want(t, http.StatusOK)
		if strings.Contains(string(res.body), "shpat_secret") {
			t.Fatalf("a credential is echoed: %s", res.body)
		}
		it := res.json(t)
		if it["status"] != "ok" || it["poll_interval_seconds"] != float64(300) || len(it["setting_keys"].([]any)) != 3 {
			t.Errorf("configured: %v", it)
		}
		put(`{"base_url": "ftp://x"}`).wantProblem(t, http.StatusUnprocessableEntity, "base_url")
		put(`{"poll_interval_seconds": 1}`).wantProblem(t, http.StatusUnprocessableEntity, "poll_interval_seconds")
		put(`{"surprise": 1}`).wantProblem(t, http.StatusBadRequest, "surprise")
		b.do(t, req{method: "PUT", path: "/api/v1/integrations/web", key: "admin", body: `{}`}).wantProblem(t, http.StatusUnprocessableEntity, "channel")
		b.do(t, req{method: "PUT", path: "/api/v1/integrations/nope", key: "admin", body: `{}`}).wantProblem(t, http.StatusNotFound, "")

		b.post(t, "admin", "/api/v1/inventory/adjustments", `{"location":"leeds","sku":"SKU-1","delta":-3,"reason":"damage"}`).want(t, 201)
		runner := &outbound.Runner{Store: b.store, Clock: b.clock, Handlers: b.svc.ChannelJobHandlers(), Backoff: func(int) time.Duration { return 0 }}
		if _, err := runner.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		rep := b.get(t, "admin", "/api/v1/integrations").want(t, http.StatusOK).json(t)
		ch := rep["channels"].([]any)[0].(map[string]any)
		last, _ := ch["last_error"].(map[string]any)
		if ch["status"] != "failing" || ch["dead_letters"] != float64(1) || last == nil || !strings.Contains(last["message"].(string), "401") ||
			ch["error_rate_last_hour"] != float64(1) {
			t.Fatalf("failing channel: %v", ch)
		}
		if _, ok := rep["outbound"].(map[string]any)["lag_seconds"]; !ok {
			t.Errorf("no outbound lag: %v", rep)
		}
		dead := b.get(t, "admin", "/api/v1/jobs?state=dead").want(t, http.StatusOK).json(t)["items"].([]any)
		if len(dead) != 1 || dead[0].(map[string]any)["kind"] != service.KindPushStock {
			t.Fatalf("dead letters: %v", dead)
		}

		accept.Store(true)
		b.post(t, "admin", "/api/v1/jobs/"+dead[0].(map[string]any)["id"].(string)+"/retry", ``).want(t, http.StatusOK)
		if _, err := runner.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if sets.Load() != 1 {
			t.Fatalf("%d inventory levels set after the retry, want 1", sets.Load())
		}
		ch = b.get(t, "admin", "/api/v1/integrations").want(t, http.StatusOK).json(t)["channels"].([]any)[0].(map[string]any)
		if ch["status"] != "degraded" || ch["dead_letters"] != float64(0) || ch["last_success_at"] == nil || ch["error_rate_last_hour"] != 0.5 {
			t.Errorf("after the retry: %v", ch)
		}
	})
}

// TestIntegrationsRoles: only admin reads and configures integrations
// (the routes are in integrationsMatrixRoutes, so TestRoleMatrix leaves
// them to this test).
func TestIntegrationsRoles(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.post(t, "admin", "/api/v1/channels", `{"code":"shopy","kind":"shopify","name":"Shop Y"}`).want(t, 201)
		for i, role := range append(roleNames, "channel2") {
			for _, r := range []req{
				{method: "GET", path: "/api/v1/integrations"},
				{method: "PUT", path: "/api/v1/integrations/shopy", body: `{"enabled": true}`},
			} {
				r.key = role
				res := b.do(t, r)
				if i == 0 {
					res.want(t, http.StatusOK)
				} else {
					res.wantProblem(t, http.StatusForbidden, "")
				}
			}
		}
	})
}
