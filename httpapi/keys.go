package httpapi

import (
	"net/http"
	"time"

	"github.com/orderly-oms/orderly/auth"
)

// API keys: made, listed and revoked by admin (keys:manage), as the CLI's
// orderly keys does. The secret is in the create response only: it is
// stored nowhere (only its hash), so that route takes no Idempotency-Key,
// whose stored answer would keep it.

// keyRequest is the body of POST /api/v1/keys.
type keyRequest struct {
	Name     string    `json:"name" openapi:"required" doc:"Unique; how the key appears in timelines (actor key:<name>). Up to 100 characters."`
	Role     auth.Role `json:"role" openapi:"required"`
	Channel  string    `json:"channel,omitempty" doc:"Required for, and only for, a channel key: the one channel it acts for."`
	Location string    `json:"location,omitempty" doc:"Required for, and only for, a warehouse key: the one location it works at."`
}

// keyView is an API key as the API shows it: never the secret, except in
// the create response.
type keyView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      auth.Role  `json:"role"`
	Channel   string     `json:"channel,omitempty"`
	Location  string     `json:"location,omitempty"`
	Prefix    string     `json:"prefix" doc:"The secret's first characters, to recognise a key."`
	Secret    string     `json:"secret,omitempty" doc:"The key itself (ork_…), in the create response only: store it now, it cannot be shown again."`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at" doc:"null while the key works."`
}

func keyOf(k *auth.APIKey) keyView {
	return keyView{ID: k.ID, Name: k.Name, Role: k.Role, Channel: k.Channel, Location: k.Location, Prefix: k.Prefix,
		CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
}

type keyList struct {
	Items []keyView `json:"items" doc:"Every key, revoked ones too, by name."`
}

func (a *api) createKey(w http.ResponseWriter, r *http.Request) error {
	var req keyRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	k, secret, err := a.svc.CreateKey(r.Context(), principal(r), req.Name, req.Role, req.Channel, req.Location)
	if err != nil {
		return err
	}
	v := keyOf(k)
	v.Secret = secret
	w.Header().Set("Location", resourcePath(r.URL.Path, k.Name))
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, v)
}

func (a *api) listKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := a.svc.ListKeys(r.Context(), principal(r))
	if err != nil {
		return err
	}
	out := keyList{Items: []keyView{}}
	for _, k := range keys {
		out.Items = append(out.Items, keyOf(k))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *api) getKey(w http.ResponseWriter, r *http.Request) error {
	k, err := a.svc.GetKey(r.Context(), principal(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, keyOf(k))
}

func (a *api) revokeKey(w http.ResponseWriter, r *http.Request) error {
	k, err := a.svc.RevokeKey(r.Context(), principal(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, keyOf(k))
}
