package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/service"
)

type loginData struct {
	Token, Next, Email string
}

// loginPage shows the sign-in form, with a fresh double-submit token in a
// cookie and in the form.
func (c *console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.showLogin(w, r, http.StatusOK, "", "")
}

func (c *console) showLogin(w http.ResponseWriter, r *http.Request, status int, email, msg string) {
	var raw [24]byte
	_, _ = rand.Read(raw[:])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	c.setCookie(w, r, loginCookie, token, 3600)
	c.render(w, r, status, "login", view{Title: "Sign in", Error: msg,
		Data: loginData{Token: token, Next: safeNext(r.FormValue("next")), Email: email}})
}

// safeNext keeps a post-sign-in destination only if it is a path on this
// site (never //host or a scheme: no open redirect).
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || len(next) > 500 {
		return "/"
	}
	// Browsers drop tabs and newlines from URLs and read \ as /, so
	// "/\t/evil" would become "//evil": refuse them anywhere.
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "/"
		}
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

// login checks the form's double-submit token, then the credentials. On
// success it ends any session the browser had and sets a new one (a new
// id at every sign-in: no session fixation).
func (c *console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Bad request", http.StatusBadRequest)
		return
	}
	ck, err := r.Cookie(loginCookie)
	got := r.PostFormValue("csrf")
	if err != nil || got == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(got)) != 1 {
		http.Error(w, "Forbidden: the sign-in form's CSRF token is missing or wrong; reload the page and try again", http.StatusForbidden)
		return
	}
	email := r.PostFormValue("email")
	u, token, err := c.svc.Login(r.Context(), email, r.PostFormValue("password"), clientAddr(r))
	if err != nil {
		var oe *orderly.Error
		switch {
		case orderly.KindOf(err) == orderly.KindUnauthorized:
			c.showLogin(w, r, http.StatusUnauthorized, email, "Wrong e-mail address or password.")
		case asError(err, &oe) && oe.Code == service.CodeLoginThrottled:
			w.Header().Set("Retry-After", "900")
			c.showLogin(w, r, http.StatusTooManyRequests, email, oe.Message)
		default:
			c.fail(w, r, nil, err)
		}
		return
	}
	if old, err := r.Cookie(sessionCookie); err == nil {
		_ = c.svc.Logout(r.Context(), old.Value)
	}
	c.setCookie(w, r, sessionCookie, token, int(auth.SessionMaxAge.Seconds()))
	c.setCookie(w, r, loginCookie, "", -1)
	next := safeNext(r.PostFormValue("next"))
	if next == "/" && u.Role == auth.RoleWarehouse {
		next = "/queue/" + u.Location
	}
	http.Redirect(w, r, next, http.StatusSeeOther) //nolint:gosec // next is a path on this site (safeNext)
}

// logout ends the session in the database and in the browser.
func (c *console) logout(w http.ResponseWriter, r *http.Request, _ *viewer) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if err := c.svc.Logout(r.Context(), ck.Value); err != nil {
			c.fail(w, r, nil, err)
			return
		}
	}
	c.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// clientAddr is the address sign-in failures are also counted by: the
// connection's peer. Behind a proxy that is the proxy (docs/console.md).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
