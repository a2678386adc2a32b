package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/internal/dbtest"
)

// TestChannelPollWired: on a running server, configuring a WooCommerce
// channel through the API makes the server poll the store (a fake serving
// the real REST v3 payload) and capture its order, and /integrations
// reports the channel ok.
func TestChannelPollWired(t *testing.T) {
	payload, err := os.ReadFile("../../connector/woocommerce/testdata/order_v3.json")
	if err != nil {
		t.Fatal(err)
	}
	var polls atomic.Int64
	woo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, _ := r.BasicAuth(); r.URL.Path != "/wp-json/wc/v3/orders" || user != "ck_e2e" || pass != "cs_e2e" {
			http.Error(w, `{"code":"woocommerce_rest_cannot_view"}`, http.StatusUnauthorized)
			return
		}
		polls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-WP-TotalPages", "1")
		_, _ = w.Write([]byte("[" + string(payload) + "]"))
	}))
	t.Cleanup(woo.Close)
	backends := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "orderly.db") },
		"postgres": func(t *testing.T) string { return dbtest.PostgresURL(t) },
	}
	for name, dbURL := range backends {
		t.Run(name, func(t *testing.T) {
			// The fake WooCommerce listens on 127.0.0.1, which connector
			// base URLs may only name with this setting.
			s := startEnv(t, map[string]string{"ORDERLY_ALLOW_PRIVATE_WEBHOOKS": "1"}, "--db", dbURL(t), "--demo")
			if code, body := s.do(t, "POST", "/api/v1/channels", s.key, map[string]any{"code": "e2e-woo", "kind": "woocommerce", "name": "Woo"}); code != 201 {
				t.Fatalf("create channel: %d %v", code, body)
			}
			code, body := s.do(t, "PUT", "/api/v1/integrations/e2e-woo", s.key, map[string]any{"base_url": woo.URL,
				"settings": map[string]string{"consumer_key": "ck_e2e", "consumer_secret": "cs_e2e"}})
			if code != 200 {
				t.Fatalf("configure: %d %v", code, body)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				_, list := s.do(t, "GET", "/api/v1/orders?channel=e2e-woo", s.key, nil)
				if items, _ := list["items"].([]any); len(items) == 1 {
					if ext := items[0].(map[string]any)["external_id"]; ext != "727" {
						t.Fatalf("captured %v", ext)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no order polled after 20 s (%d polls)", polls.Load())
				}
				time.Sleep(100 * time.Millisecond)
			}
			// The poll's outcome is recorded just after it captured.
			for {
				_, rep := s.do(t, "GET", "/api/v1/integrations", s.key, nil)
				chs, _ := rep["channels"].([]any)
				if len(chs) == 1 && chs[0].(map[string]any)["status"] == "ok" && chs[0].(map[string]any)["last_success_at"] != nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("integrations: %v", rep)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}
