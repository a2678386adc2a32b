// Package web is Orderly's console: the server-rendered pages operations
// and warehouse staff work in, at / beside the JSON API. Pages are Go
// html/template, progressively enhanced with htmx; every asset is embedded
// in the binary and every page reads without JavaScript.
//
// It authenticates people (users with a role, sessions stored in the
// database), protects every form against cross-site request forgery, and
// translates service calls to pages. Every rule about who may do what
// lives in the service: the console only hides the buttons a role may not
// use. It imports the service, the store seam and the domain packages,
// never a storage backend.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/service"
)

// Config holds what the console needs besides the service.
type Config struct {
	// Logger receives the causes of 500s. Nil discards.
	Logger *slog.Logger
	// SecureCookies forces the Secure attribute on cookies even when the
	// request did not arrive over TLS (behind a TLS-terminating proxy).
	// Requests over TLS always get it.
	SecureCookies bool
}

// console holds the handler's dependencies; its methods are the pages.
type console struct {
	svc    *service.Service
	log    *slog.Logger
	secure bool
	pages  map[string]*page
}

// New returns the console's handler. Mount it at / beside the API (see
// Mount).
func New(svc *service.Service, cfg Config) http.Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &console{svc: svc, log: log, secure: cfg.SecureCookies, pages: mustParsePages()}
	return c.handler()
}

// Mount returns a handler that sends the API's paths (/api/, /webhooks/,
// /metrics, /healthz, /readyz) to api and everything else to console.
func Mount(api, console http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/api/"), p == "/api", strings.HasPrefix(p, "/webhooks/"),
			p == "/metrics", p == "/healthz", p == "/readyz":
			api.ServeHTTP(w, r)
		default:
			console.ServeHTTP(w, r)
		}
	})
}

// handler is the route table of the console. Reads are GET, changes are
// POST with a CSRF token; each handler states whether it needs a user.
func (c *console) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", staticHandler())
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.login)
	mux.Handle("POST /logout", c.user(c.logout))

	mux.Handle("GET /{$}", c.user(c.dashboard))
	mux.Handle("GET /account", c.user(c.account))
	mux.Handle("POST /account", c.user(c.saveAccount))

	mux.Handle("GET /orders", c.user(c.orders))
	mux.Handle("GET /orders/{ref}", c.user(c.order))
	mux.Handle("POST /orders/{ref}/{action}", c.user(c.orderAction))

	mux.Handle("GET /queue", c.user(c.queueIndex))
	mux.Handle("GET /queue/{location}", c.user(c.queue))
	mux.Handle("POST /queue/{location}/sla", c.user(c.setSLA))
	mux.Handle("POST /fulfilment/{id}/{action}", c.user(c.fulfilmentAction))

	mux.Handle("GET /inventory", c.user(c.inventory))
	mux.Handle("GET /inventory/locations/{location}", c.user(c.locationStock))
	mux.Handle("GET /inventory/locations/{location}/{sku}", c.user(c.ledger))
	mux.Handle("POST /inventory/adjustments", c.user(c.adjust))
	mux.Handle("GET /inventory/reports", c.user(c.reports))
	mux.Handle("GET /inventory/reports/{id}", c.user(c.report))

	mux.Handle("GET /routing", c.user(c.routing))
	mux.Handle("GET /routing/{version}", c.user(c.ruleSet))
	mux.Handle("GET /routing/simulate", c.user(c.simulate))

	mux.Handle("GET /keys", c.user(c.keys))
	mux.Handle("POST /keys", c.user(c.createKey))
	mux.Handle("POST /keys/{name}/revoke", c.user(c.revokeKey))

	return c.recover(securityHeaders(csrfGuard(mux)))
}

// securityHeaders sets the headers every console response carries: a
// content security policy that allows only the console's own scripts and
// styles, no framing, no MIME sniffing, no referrer outside the site.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
			"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// csrfGuard refuses cross-origin POSTs from browsers (Sec-Fetch-Site and
// Origin, via net/http's CrossOriginProtection) before any handler runs;
// handlers then check the form's token (checkCSRF), which also covers
// clients that send neither header.
func csrfGuard(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Forbidden: cross-origin request refused", http.StatusForbidden)
	}))
	return cop.Handler(next)
}

// recover turns a panic into a logged 500 page that says nothing more.
func (c *console) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { //nolint:errorlint // the sentinel is panicked as is
					panic(v)
				}
				c.log.ErrorContext(r.Context(), "panic serving console page", "route", r.Pattern, "panic", v, "stack", string(debug.Stack()))
				http.Error(w, "Internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// The cookies: the session token, and before sign-in a random token the
// login form must echo (a double-submit token: without a session there is
// nothing else to tie the form to).
const (
	sessionCookie = "orderly_session"
	loginCookie   = "orderly_login"
)

// viewer is the signed-in user of a request, with what pages need to
// render for them.
type viewer struct {
	User      *auth.User
	Principal auth.Principal
	// CSRF is the token every form of the page carries.
	CSRF string
	// TZ is the user's time zone (UTC when unset or unknown).
	TZ *time.Location
}

// viewerKey carries the viewer in a request's context, for handlers
// that reach it only through the request.
type viewerKey struct{}

// user wraps a page that needs a signed-in user: without a live session a
// GET is sent to the sign-in page (coming back afterwards) and anything
// else is refused with 401. A POST must carry the session's CSRF token.
func (c *console) user(h func(w http.ResponseWriter, r *http.Request, v *viewer)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(sessionCookie)
		var u *auth.User
		if err == nil {
			u, err = c.svc.SessionUser(r.Context(), ck.Value)
		}
		if err != nil || u == nil {
			if err != nil && orderly.KindOf(err) != orderly.KindUnauthorized && !errors.Is(err, http.ErrNoCookie) {
				c.fail(w, r, nil, err)
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "Unauthorized: sign in first", http.StatusUnauthorized)
			return
		}
		v := &viewer{User: u, Principal: u.Principal(), CSRF: auth.CSRFToken(ck.Value), TZ: time.UTC}
		if u.TimeZone != "" {
			if loc, err := time.LoadLocation(u.TimeZone); err == nil {
				v.TZ = loc
			}
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !auth.CheckCSRF(ck.Value, csrfFrom(r)) {
				http.Error(w, "Forbidden: the form's CSRF token is missing or wrong; reload the page and try again", http.StatusForbidden)
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, v)), v)
	})
}

// maxForm bounds a form body.
const maxForm = 64 << 10

// csrfFrom returns the CSRF token of a request: the form field csrf, or
// the X-CSRF-Token header (htmx requests).
func csrfFrom(r *http.Request) string {
	if t := r.Header.Get("X-CSRF-Token"); t != "" {
		return t
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxForm)
	return r.PostFormValue("csrf")
}

// setCookie sets an HttpOnly, SameSite=Lax cookie for the whole console,
// Secure when the request came over TLS, directly or through a proxy that
// says so (X-Forwarded-Proto: https; trusting it can only add Secure), or
// when the console is told so.
func (c *console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	//nolint:gosec // Secure is set whenever the request came over TLS; plain HTTP is local development
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.secure || r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"})
}
