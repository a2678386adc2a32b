package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/store"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		h := b.get(t, "", "/healthz").want(t, 200).json(t)
		if h["status"] != "ok" || h["version"] != "test" {
			t.Errorf("healthz %v", h)
		}
		r := b.get(t, "", "/readyz").want(t, 200).json(t)
		if r["backend"] != b.store.Backend() {
			t.Errorf("readyz %v", r)
		}
	})
}

// downStore is a store whose database does not answer.
type downStore struct{ store.Store }

func (downStore) Ping(context.Context) error {
	return errors.New("dial tcp 10.0.0.1:5432: connection refused")
}

func TestReadyzDown(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, s store.Store) {
		b := setup(t, downStore{s})
		p := b.get(t, "", "/readyz").wantProblem(t, 503, "")
		if strings.Contains(jsonString(p), "10.0.0.1") {
			t.Errorf("readyz leaks the cause: %v", p)
		}
		b.get(t, "", "/healthz").want(t, 200)
	})
}

func TestUnmatched(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.get(t, "admin", "/api/v1/nothing").wantProblem(t, 404, "")
		b.get(t, "", "/").wantProblem(t, 404, "")
		res := b.do(t, req{method: "DELETE", path: "/api/v1/orders", key: "admin"})
		res.wantProblem(t, 405, "")
		if allow := res.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
			t.Errorf("Allow %q", allow)
		}
		b.do(t, req{method: "PUT", path: "/api/v1/skus/SKU-1", key: "admin", body: "{}"}).wantProblem(t, 405, "")
	})
}

func TestMetricsAndLogs(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.post(t, "agent", "/api/v1/orders", orderBody(chWeb, "MT-1")).want(t, 201)
		b.post(t, "agent", "/api/v1/orders", orderBody(chWeb, "MT-1")).want(t, 200) // a repeat is not counted
		b.post(t, "agent", "/api/v1/orders", orderBody(chMarket, "MT-2")).want(t, 201)
		b.get(t, "viewer", "/api/v1/orders/1001").want(t, 200)
		b.get(t, "viewer", "/api/v1/orders/1002").want(t, 200)
		b.get(t, "", "/api/v1/secret-path").want(t, 404)

		res := b.get(t, "", "/metrics").want(t, 200)
		text := string(res.body)
		for _, want := range []string{
			`orderly_http_requests_total{route="POST /api/v1/orders",status="201"} 2`,
			`orderly_http_requests_total{route="POST /api/v1/orders",status="200"} 1`,
			`orderly_http_requests_total{route="GET /api/v1/orders/{id}",status="200"} 2`,
			`orderly_http_requests_total{route="unmatched",status="404"} 1`,
			`orderly_http_request_duration_seconds_count{route="GET /api/v1/orders/{id}"} 2`,
			`orderly_orders_created_total{channel="web"} 1`,
			`orderly_orders_created_total{channel="market"} 1`,
			`orderly_db_pool_open_connections{backend="` + b.store.Backend() + `"}`,
			`orderly_db_pool_waits_total{backend=`,
			`orderly_build_info{version="test"} 1`,
			`go_goroutines`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		// The order number must not become a label: as a value, "1001"
		// can appear in any sample (0.01001 s), so look for it quoted or
		// in a path.
		for _, leak := range []string{"ada@example.com", "Lovelace", "secret-path", `"1001"`, "/1001"} {
			if strings.Contains(text, leak) {
				t.Errorf("metrics contain %q", leak)
			}
		}

		// One log line per request, with the route pattern, status and
		// request id, and nothing of the body, the customer or the key.
		logs := b.logs.String()
		var requests int
		for line := range strings.Lines(logs) {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line is not JSON: %q", line)
			}
			if rec["msg"] != "request" {
				continue
			}
			requests++
			for _, k := range []string{"method", "route", "status", "duration_ms", "request_id"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("log line lacks %s: %s", k, line)
				}
			}
		}
		if requests < 6 { // the /metrics line may still be on its way
			t.Errorf("%d request log lines, want at least 6", requests)
		}
		for _, leak := range []string{"ada@example.com", "Lovelace", "Analytical", b.keys["agent"], b.keys["viewer"]} {
			if strings.Contains(logs, leak) {
				t.Errorf("logs contain %q", leak)
			}
		}
	})
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		res := b.do(t, req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": "abc-123"}})
		if res.header.Get("X-Request-Id") != "abc-123" {
			t.Errorf("X-Request-Id %q, want the caller's", res.header.Get("X-Request-Id"))
		}
		res = b.do(t, req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": "not a token!"}})
		if id := res.header.Get("X-Request-Id"); id == "" || strings.Contains(id, " ") {
			t.Errorf("X-Request-Id %q, want a fresh one", id)
		}
	})
}

// TestPanicRecovery checks that a panicking handler answers a bare 500
// problem, is logged with its route, and does not take the server down.
func TestPanicRecovery(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	a := &api{log: slog.New(slog.NewJSONHandler(logs, nil)), metrics: newHTTPMetrics(prometheus.NewRegistry(), nil, "test")}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("customer ada@example.com broke it") })
	rec := httptest.NewRecorder()
	a.observe(mux).ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"detail":"internal error"`) || strings.Contains(rec.Body.String(), "ada@") {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), `"route":"GET /boom"`) || !strings.Contains(logs.String(), "panic serving request") {
		t.Errorf("logs: %s", logs)
	}
}
