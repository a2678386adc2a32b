package httpapi

import (
	"net/http"
	"time"

	"github.com/orderly-oms/orderly"
)

// slaRequest is the body of PUT /api/v1/locations/{code}/sla.
type slaRequest struct {
	Minutes number `json:"minutes" openapi:"required" doc:"How long a fulfilment order may wait at the location before it is late, in minutes: 1 to 43,200 (30 days)."`
}

// slaView is a location's fulfilment SLA.
type slaView struct {
	Location string `json:"location" openapi:"required" doc:"The location's code."`
	Minutes  int64  `json:"minutes" openapi:"required" doc:"How long a fulfilment order may wait there before the dashboard calls it late."`
	Default  bool   `json:"default" openapi:"required" doc:"True when the location has no SLA of its own and the default (24 hours) applies."`
}

func (a *api) getLocationSLA(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	sla, set, err := a.svc.LocationSLA(r.Context(), principal(r), code)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, slaView{Location: code, Minutes: int64(sla / time.Minute), Default: !set})
}

func (a *api) putLocationSLA(w http.ResponseWriter, r *http.Request) error {
	var req slaRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	var p orderly.Problems
	if !req.Minutes.present() {
		p.Add("minutes", "is required")
	}
	minutes := req.Minutes.int64(&p, "minutes", "minutes")
	if err := p.Err(); err != nil {
		return err
	}
	if minutes < 1 || minutes > 30*24*60 {
		return orderly.Invalid("minutes", "must be between 1 and 43200 (30 days)")
	}
	code := r.PathValue("code")
	if err := a.svc.SetLocationSLA(r.Context(), principal(r), code, time.Duration(minutes)*time.Minute); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, slaView{Location: code, Minutes: minutes})
}
