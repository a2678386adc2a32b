package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/orderly-oms/orderly/store"
)

// TestKeysAPI: admin makes a key over HTTP and sees its secret once; the
// key works with its role at once; lists never show a secret; bad input is
// a 4xx naming the field and makes nothing; a revoked key authenticates
// nothing; the timeline names who did it.
func TestKeysAPI(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		res := b.post(t, "admin", "/api/v1/keys", `{"name":"erp-reader","role":"viewer"}`).want(t, http.StatusCreated)
		v := res.json(t)
		secret, _ := v["secret"].(string)
		if !strings.HasPrefix(secret, "ork_") || v["prefix"] != secret[:10] || v["role"] != "viewer" || v["revoked_at"] != nil {
			t.Fatalf("created %v", v)
		}
		if res.header.Get("Location") != "/api/v1/keys/erp-reader" || res.header.Get("Cache-Control") != "no-store" {
			t.Errorf("Location %q, Cache-Control %q", res.header.Get("Location"), res.header.Get("Cache-Control"))
		}
		got := b.get(t, "admin", res.header.Get("Location")).want(t, http.StatusOK)
		if g := got.json(t); g["name"] != "erp-reader" || g["prefix"] != v["prefix"] || strings.Contains(string(got.body), secret) {
			t.Errorf("GET Location: %s", got.body)
		}
		b.get(t, "admin", "/api/v1/keys/nobody").wantProblem(t, http.StatusNotFound, "")
		// It works at once, as a viewer.
		b.get(t, secret, "/api/v1/orders").want(t, http.StatusOK)
		b.post(t, secret, "/api/v1/keys", `{"name":"mine","role":"admin"}`).wantProblem(t, http.StatusForbidden, "")
		b.get(t, secret, "/api/v1/keys").wantProblem(t, http.StatusForbidden, "")

		// Scoped keys: a warehouse key at leeds, a channel key of web.
		b.post(t, "admin", "/api/v1/keys", `{"name":"leeds-wms","role":"warehouse","location":"leeds"}`).want(t, http.StatusCreated)
		b.post(t, "admin", "/api/v1/keys", `{"name":"web-shop","role":"channel","channel":"web"}`).want(t, http.StatusCreated)

		// Bad input: 4xx naming the field, nothing made.
		before := len(b.get(t, "admin", "/api/v1/keys").want(t, http.StatusOK).json(t)["items"].([]any))
		for _, c := range []struct {
			body   string
			status int
			field  string
		}{
			{`{"name":"erp-reader","role":"viewer"}`, http.StatusConflict, ""},
			{`{"name":"x","role":"owner"}`, http.StatusUnprocessableEntity, "role"},
			{`{"name":"","role":"viewer"}`, http.StatusUnprocessableEntity, "name"},
			{`{"name":"x","role":"channel"}`, http.StatusUnprocessableEntity, "channel"},
			{`{"name":"x","role":"channel","channel":"nope"}`, http.StatusUnprocessableEntity, "channel"},
			{`{"name":"x","role":"warehouse","location":"nowhere"}`, http.StatusUnprocessableEntity, "location"},
			{`{"name":"x","role":"viewer","location":"leeds"}`, http.StatusUnprocessableEntity, "location"},
			{`{"name":"x","role":"viewer","secret":"ork_mine"}`, http.StatusBadRequest, ""},
		} {
			b.post(t, "admin", "/api/v1/keys", c.body).wantProblem(t, c.status, c.field)
		}
		// An Idempotency-Key would keep the secret in its stored answer: refused.
		b.do(t, req{method: "POST", path: "/api/v1/keys", key: "admin", body: `{"name":"retried","role":"viewer"}`,
			header: map[string]string{"Idempotency-Key": "k-1"}}).wantProblem(t, http.StatusBadRequest, "Idempotency-Key")
		list := b.get(t, "admin", "/api/v1/keys").want(t, http.StatusOK)
		items := list.json(t)["items"].([]any)
		if len(items) != before {
			t.Errorf("%d keys after refused requests, want %d", len(items), before)
		}
		if strings.Contains(string(list.body), secret) || strings.Contains(string(list.body), `"secret"`) {
			t.Errorf("the list shows a secret: %s", list.body)
		}

		// Revoked: refused at once; revoking again answers the same; unknown is 404.
		r1 := b.post(t, "admin", "/api/v1/keys/erp-reader/revoke", "").want(t, http.StatusOK).json(t)
		if r1["revoked_at"] == nil || r1["secret"] != nil {
			t.Errorf("revoked %v", r1)
		}
		b.get(t, secret, "/api/v1/orders").wantProblem(t, http.StatusUnauthorized, "")
		r2 := b.post(t, "admin", "/api/v1/keys/erp-reader/revoke", `{}`).want(t, http.StatusOK).json(t)
		if r2["revoked_at"] != r1["revoked_at"] {
			t.Errorf("revoked again at %v, first at %v", r2["revoked_at"], r1["revoked_at"])
		}
		b.post(t, "admin", "/api/v1/keys/nobody/revoke", "").wantProblem(t, http.StatusNotFound, "")

		// The timeline says which key made and revoked it.
		evs, err := b.store.EventList(context.Background(), store.EventListParams{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		for _, e := range evs {
			if e.Type != "api_key.created" && e.Type != "api_key.revoked" {
				continue
			}
			var data map[string]any
			_ = json.Unmarshal(e.Data, &data)
			if data["name"] == "erp-reader" {
				seen = append(seen, e.Type+" by "+e.Actor)
			}
			if strings.Contains(string(e.Data), "ork_") {
				t.Errorf("%s carries a secret: %s", e.Type, e.Data)
			}
		}
		if strings.Join(seen, ", ") != "api_key.created by key:admin-key, api_key.revoked by key:admin-key" {
			t.Errorf("events %v", seen)
		}
	})
}
