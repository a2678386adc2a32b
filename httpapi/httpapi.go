// Package httpapi is Orderly's JSON API: the /api/v1 resources, the health,
// readiness and metrics endpoints, and the OpenAPI document that describes
// them, generated from the same route table that registers them (routes.go).
//
// It translates HTTP to service calls and service errors to RFC 9457
// problems; every rule about who may do what lives in the service. It
// imports the service, the store seam and the domain packages, never a
// storage backend.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// Config holds what the handler needs besides the service.
type Config struct {
	// Logger receives one line per request and the causes of 500s. Nil
	// discards.
	Logger *slog.Logger
	// Registry is where the handler registers its metrics and which
	// /metrics serves. Nil means a new registry, never the global default,
	// so that tests can build many handlers in one process. To count
	// created orders, pass the same registry to OrderCreatedHook.
	Registry *prometheus.Registry
	// Version is the build's version, reported by /healthz and in the
	// OpenAPI document.
	Version string
	// Pending counts work a request leaves running after it has answered
	// (recording an Idempotency-Key response, idempotency.go). Wait on it
	// after the server has shut down and before the store closes. Nil: the
	// handler keeps its own count.
	Pending *sync.WaitGroup
}

// api holds the handler's dependencies; its methods are the endpoints.
type api struct {
	svc     *service.Service
	log     *slog.Logger
	metrics *httpMetrics
	version string
	openapi []byte
	// idem tunes the Idempotency-Key middleware; tests shorten it.
	idem idempotencyConfig
	// claims are the Idempotency-Keys held in memory (idem.local).
	claims localClaims
	// pending counts responses still being recorded after their answer.
	pending *sync.WaitGroup
}

// NewHandler returns the HTTP handler of the whole API: every route in
// routes.go, wrapped in request ids, panic recovery, logging and metrics.
// Unknown paths and wrong methods get problem responses too.
func NewHandler(svc *service.Service, cfg Config) http.Handler {
	a := newAPI(svc, cfg)
	return a.handler()
}

func newAPI(svc *service.Service, cfg Config) *api {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	version := cfg.Version
	if version == "" {
		version = "dev"
	}
	a := &api{svc: svc, log: log, version: version, idem: defaultIdempotency}
	a.idem.local = store.SingleProcess(svc.Store())
	a.pending = cfg.Pending
	if a.pending == nil {
		a.pending = &sync.WaitGroup{}
	}
	a.metrics = newHTTPMetrics(reg, svc.Store(), version)
	return a
}

func (a *api) handler() http.Handler {
	mux := http.NewServeMux()
	rts := a.routes()
	for _, rt := range rts {
		mux.Handle(rt.pattern(), a.endpoint(rt))
	}
	// Generated once: the document depends only on the route table and the
	// Go types, which cannot change while the process runs.
	a.openapi = mustMarshalOpenAPI(rts, a.version)
	return a.observe(a.fallback(mux))
}

// fallback answers requests no route matches with a problem instead of the
// mux's plain-text 404 and 405, keeping the mux's Allow header.
func (a *api) fallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// The mux's own handler for an unmatched request only sets
		// headers and a status; run it against a recorder to learn which.
		rec := &headerRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", rec.header.Get("Allow"))
			writeProblem(w, &Problem{Type: problemType("method_not_allowed"), Title: "Method not allowed",
				Status: http.StatusMethodNotAllowed, Detail: r.Method + " is not allowed here; allowed: " + rec.header.Get("Allow")})
			return
		}
		writeProblem(w, &Problem{Type: problemType("not_found"), Title: "Not found",
			Status: http.StatusNotFound, Detail: "no such resource"})
	})
}

// headerRecorder is a ResponseWriter that keeps the headers and the status
// and throws the body away.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(status int)      { h.status = status }

// requestInfo is filled in as a request travels inward and read by the
// outermost middleware when it logs the request. It is a pointer in the
// context so that inner layers, which work on copies of the request, can
// still report to it.
type requestInfo struct {
	id   string
	role auth.Role
}

type requestInfoKey struct{}

func info(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// observe is the outermost middleware: it assigns the request id, recovers
// panics, and records each request once in the log and the metrics, labelled
// by the route pattern the mux matched (never the raw path, which would
// carry ids and blow up the metrics' cardinality).
func (a *api) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{id: requestID(r)}
		w.Header().Set("X-Request-Id", ri.id)
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, ri))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { //nolint:errorlint // the sentinel is panicked as is
					panic(v)
				}
				a.log.ErrorContext(r.Context(), "panic serving request", "request_id", ri.id,
					"route", r.Pattern, "panic", v, "stack", string(debug.Stack()))
				if !sw.wrote {
					writeProblem(sw, internalProblem())
				}
			}
			route := r.Pattern // set by the mux on this very request
			if route == "" {
				route = "unmatched"
			}
			status := sw.statusCode()
			elapsed := time.Since(start)
			a.metrics.observe(route, status, elapsed)
			attrs := []any{"method", r.Method, "route", route, "status", status,
				"duration_ms", float64(elapsed.Microseconds()) / 1000, "request_id", ri.id}
			if ri.role != "" {
				attrs = append(attrs, "role", string(ri.role))
			}
			a.log.InfoContext(r.Context(), "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}

// requestID returns the caller's X-Request-Id when it is a short token, so
// that a request can be followed across a proxy, or a new random one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 && isToken(id) {
		return id
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// isToken reports whether s holds only characters safe to echo in a header
// and a log line.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.wrote {
		w.status, w.wrote = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) statusCode() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
