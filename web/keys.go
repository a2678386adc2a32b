package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
)

// API keys: admin makes, sees and revokes them here as over the API
// (/api/v1/keys) and the CLI. A new key's secret is on the page that made
// it and nowhere else (no redirect: the next page could not show it).

type keysData struct {
	Keys  []*auth.APIKey
	Roles []auth.Role
	// Form refills the form after a refusal.
	Form keyForm
	// Created and Secret are the key just made, shown once.
	Created *auth.APIKey
	Secret  string
}

type keyForm struct{ Name, Role, Channel, Location string }

// keys lists every key with the form to make one.
func (c *console) keys(w http.ResponseWriter, r *http.Request, v *viewer) {
	c.showKeys(w, r, v, http.StatusOK, view{V: v, Flash: flash(r.URL.Query().Get("done"))}, keysData{})
}

func (c *console) showKeys(w http.ResponseWriter, r *http.Request, v *viewer, status int, vw view, d keysData) {
	keys, err := c.svc.ListKeys(r.Context(), v.Principal)
	if err != nil {
		c.fail(w, r, v, err)
		return
	}
	d.Keys, d.Roles = keys, auth.Roles
	vw.Title, vw.Nav, vw.Data = "API keys", "keys", &d
	c.render(w, r, status, "keys", vw)
}

// createKey makes a key and shows its secret, once.
func (c *console) createKey(w http.ResponseWriter, r *http.Request, v *viewer) {
	f := keyForm{Name: strings.TrimSpace(r.PostFormValue("name")), Role: r.PostFormValue("role"),
		Channel: strings.TrimSpace(r.PostFormValue("channel")), Location: strings.TrimSpace(r.PostFormValue("location"))}
	k, secret, err := c.svc.CreateKey(r.Context(), v.Principal, f.Name, auth.Role(f.Role), f.Channel, f.Location)
	if err != nil {
		if k := orderly.KindOf(err); k == orderly.KindInvalid || k == orderly.KindConflict {
			c.showKeys(w, r, v, statusOf(err), view{V: v, Error: message(err)}, keysData{Form: f})
			return
		}
		c.fail(w, r, v, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	c.showKeys(w, r, v, http.StatusOK, view{V: v}, keysData{Created: k, Secret: secret})
}

// revokeKey revokes a key.
func (c *console) revokeKey(w http.ResponseWriter, r *http.Request, v *viewer) {
	if _, err := c.svc.RevokeKey(r.Context(), v.Principal, r.PathValue("name")); err != nil {
		c.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/keys?done=revoke-key#key-"+url.PathEscape(r.PathValue("name")), http.StatusSeeOther) //nolint:gosec // a path on this site
}
