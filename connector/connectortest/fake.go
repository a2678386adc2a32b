package connectortest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// Fake is an httptest server standing in for a platform's API. Tests
// register handlers with Go's ServeMux patterns ("GET /orders/{id}"); every
// request is recorded, and a request no pattern matches fails the test.
type Fake struct {
	// URL is the server's base URL, to put in connector.Config.BaseURL.
	URL string
	// Client talks to the server.
	Client *http.Client

	t    testing.TB
	mux  *http.ServeMux
	mu   sync.Mutex
	reqs []Request
}

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// NewFake starts a fake platform, closed when the test ends.
func NewFake(t testing.TB) *Fake {
	f := &Fake{t: t, mux: http.NewServeMux()}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL, f.Client = srv.URL, srv.Client()
	return f
}

// Handle registers h for a ServeMux pattern.
func (f *Fake) Handle(pattern string, h http.HandlerFunc) { f.mux.HandleFunc(pattern, h) }

// Requests returns the requests received so far, in order.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.reqs...)
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
	f.mu.Unlock()
	if _, pattern := f.mux.Handler(r); pattern == "" {
		f.t.Errorf("fake: unexpected request %s %s", r.Method, r.URL)
		http.NotFound(w, r)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	f.mux.ServeHTTP(w, r)
}

// JSON writes v as a JSON response with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Raw writes a JSON document (e.g. a testdata file) with status.
func Raw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}
