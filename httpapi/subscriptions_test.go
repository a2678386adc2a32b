package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/outbound"
	"github.com/orderly-oms/orderly/store"
)

func TestWebhookSubscriptions(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		var hits atomic.Int64
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hits.Add(1)
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(target.Close)
		body := `{"url": "` + target.URL + `/hook", "events": ["order.*"]}`

		b.post(t, b.keys["agent"], "/api/v1/webhooks", body).wantProblem(t, http.StatusForbidden, "")
		// 127.0.0.1 is refused without the flag.
		b.post(t, b.keys["admin"], "/api/v1/webhooks", body).wantProblem(t, http.StatusUnprocessableEntity, "url")
		b.post(t, b.keys["admin"], "/api/v1/webhooks", `{"url": "https://example.com/", "events": []}`).
			wantProblem(t, http.StatusUnprocessableEntity, "events")

		b.svc.AllowPrivateWebhooks = true
		created := b.post(t, b.keys["admin"], "/api/v1/webhooks", body).want(t, http.StatusCreated).json(t)
		id, _ := created["id"].(string)
		if secret, _ := created["secret"].(string); !strings.HasPrefix(secret, outbound.SecretPrefix) {
			t.Errorf("generated secret %q not shown once", secret)
		}
		given := outbound.NewSecret()
		other := b.post(t, b.keys["admin"], "/api/v1/webhooks",
			`{"url": "`+target.URL+`/other", "events": ["fulfilment.shipped"], "secret": "`+given+`"}`).want(t, http.StatusCreated)
		if strings.Contains(string(other.body), given) {
			t.Error("a given secret is echoed back")
		}
		b.post(t, b.keys["admin"], "/api/v1/webhooks", `{"url": "`+target.URL+`", "events": ["*"], "secret": "nope"}`).
			wantProblem(t, http.StatusUnprocessableEntity, "secret")
		list := b.get(t, b.keys["admin"], "/api/v1/webhooks").want(t, http.StatusOK)
		if strings.Contains(string(list.body), "whsec_") || len(list.json(t)["items"].([]any)) != 2 {
			t.Errorf("list: %s", list.body)
		}
		b.get(t, b.keys["viewer"], "/api/v1/webhooks").wantProblem(t, http.StatusForbidden, "")

		// An order's events reach the subscription.
		b.createOrder(t, "web", "ext-1")
		st := b.store
		clock := orderly.SystemClock{}
		disp := &outbound.Dispatcher{Store: st, Clock: clock}
		runner := &outbound.Runner{Store: st, Clock: clock, Handlers: map[string]outbound.Handler{
			outbound.KindWebhookDelivery: (&outbound.Sender{Store: st, Clock: clock, Client: outbound.NewHTTPClient(5*time.Second, true)}).Handle,
		}}
		deadline := time.Now().Add(20 * time.Second)
		for hits.Load() == 0 && time.Now().Before(deadline) {
			if _, err := disp.DispatchOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := runner.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		ds := b.get(t, b.keys["admin"], "/api/v1/webhooks/"+id+"/deliveries").want(t, http.StatusOK).json(t)["items"].([]any)
		if len(ds) == 0 {
			t.Fatal("no delivery logged")
		}
		d := ds[len(ds)-1].(map[string]any)
		if d["status"] != "succeeded" || !strings.HasPrefix(d["event_type"].(string), "order.") {
			t.Errorf("delivery %v", d)
		}
		replayed := b.post(t, b.keys["admin"], "/api/v1/webhooks/"+id+"/deliveries/"+d["id"].(string)+"/replay", `{}`).
			want(t, http.StatusAccepted).json(t)
		if replayed["status"] != "pending" || replayed["id"] != d["id"] {
			t.Errorf("replay: %v", replayed)
		}
		b.post(t, b.keys["admin"], "/api/v1/webhooks/"+id+"/deliveries/nope/replay", `{}`).wantProblem(t, http.StatusNotFound, "")

		jobs := b.get(t, b.keys["admin"], "/api/v1/jobs?state=available").want(t, http.StatusOK).json(t)["items"].([]any)
		if len(jobs) != 1 {
			t.Fatalf("available jobs after the replay: %v", jobs)
		}
		if dead := b.get(t, b.keys["admin"], "/api/v1/jobs?state=dead").want(t, http.StatusOK).json(t)["items"].([]any); len(dead) != 0 {
			t.Errorf("dead letters: %v", dead)
		}
		b.get(t, b.keys["admin"], "/api/v1/jobs?state=bogus").wantProblem(t, http.StatusUnprocessableEntity, "state")
		jobID := jobs[0].(map[string]any)["id"].(string)
		b.post(t, b.keys["admin"], "/api/v1/jobs/"+jobID+"/retry", ``).wantProblem(t, http.StatusConflict, "")
	})
}

// integrationsMatrixRoutes are the routes TestIntegrationsRoleMatrix
// checks (TestRoleMatrix skips them).
var integrationsMatrixRoutes = []string{
	"POST /api/v1/webhooks",
	"GET /api/v1/webhooks",
	"GET /api/v1/webhooks/{id}",
	"GET /api/v1/webhooks/{id}/deliveries",
	"POST /api/v1/webhooks/{id}/deliveries/{delivery}/replay",
	"GET /api/v1/jobs",
	"POST /api/v1/jobs/{id}/retry",
	"GET /api/v1/integrations",           // TestIntegrationsRoles
	"PUT /api/v1/integrations/{channel}", // TestIntegrationsRoles
}

// TestIntegrationsRoleMatrix: outbound webhooks and jobs are admin only.
func TestIntegrationsRoleMatrix(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		// A public IP literal: no DNS lookup, not refused.
		sub := b.post(t, "admin", "/api/v1/webhooks", `{"url": "https://93.184.216.34/hook", "events": ["*"]}`).want(t, 201).json(t)["id"].(string)
		b.createOrder(t, chWeb, "IM-1")
		// On PostgreSQL the dispatcher only passes events once every older
		// transaction on the server has ended — other tests' included — so
		// it may take a few passes.
		disp := &outbound.Dispatcher{Store: b.store, Clock: orderly.SystemClock{}}
		var ds []*store.OutboundDelivery
		var err error
		for deadline := time.Now().Add(20 * time.Second); len(ds) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if _, err := disp.DispatchOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if ds, err = b.store.OutboundDeliveryList(ctx, sub, store.ListParams{}); err != nil {
				t.Fatal(err)
			}
		}
		if len(ds) == 0 {
			t.Fatalf("no deliveries after 20 s: %v", err)
		}
		jobs, err := b.store.JobList(ctx, store.JobListParams{})
		if err != nil || len(jobs) == 0 {
			t.Fatalf("no jobs: %v", err)
		}
		for i, role := range roleNames {
			admin := i == 0
			for _, r := range []struct {
				method, path, body string
				status             int
			}{
				{"POST", "/api/v1/webhooks", `{"url": "https://93.184.216.34/` + role + `", "events": ["order.*"]}`, 201},
				{"GET", "/api/v1/webhooks", "", 200},
				{"GET", "/api/v1/webhooks/" + sub, "", 200},
				{"GET", "/api/v1/webhooks/" + sub + "/deliveries", "", 200},
				{"POST", "/api/v1/webhooks/" + sub + "/deliveries/" + ds[0].ID + "/replay", "", 202},
				{"GET", "/api/v1/jobs?state=dead", "", 200},
				{"POST", "/api/v1/jobs/" + jobs[0].ID + "/retry", "", 409}, // not dead: admin gets past the permission check
			} {
				res := b.do(t, req{method: r.method, path: r.path, key: role, body: r.body})
				if admin {
					res.want(t, r.status)
				} else {
					res.wantProblem(t, http.StatusForbidden, "")
				}
			}
		}
	})
}
