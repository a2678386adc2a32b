package httpapi

import (
	"net/http"
	"testing"
)

// TestLocationSLA sets and reads a location's fulfilment SLA, and refuses
// bad values and unknown locations without changing anything.
func TestLocationSLA(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		got := b.get(t, "viewer", "/api/v1/locations/leeds/sla").want(t, 200).json(t)
		if got["minutes"] != 1440.0 || got["default"] != true || got["location"] != "leeds" {
			t.Errorf("before: %v, want the 24-hour default", got)
		}
		put := func(body string) *response {
			return b.do(t, req{method: "PUT", path: "/api/v1/locations/leeds/sla", key: "admin", body: body})
		}
		put(`{"minutes":240}`).want(t, 200)
		got = b.get(t, "viewer", "/api/v1/locations/leeds/sla").want(t, 200).json(t)
		if got["minutes"] != 240.0 || got["default"] != false {
			t.Errorf("after: %v, want 240 minutes, set", got)
		}

		put(`{"minutes":0}`).wantProblem(t, http.StatusUnprocessableEntity, "minutes")
		put(`{"minutes":43201}`).wantProblem(t, http.StatusUnprocessableEntity, "minutes")
		put(`{"minutes":1.5}`).wantProblem(t, http.StatusUnprocessableEntity, "minutes")
		put(`{"minutes":"soon"}`).wantProblem(t, http.StatusUnprocessableEntity, "minutes")
		put(`{"minutes":`).want(t, http.StatusBadRequest)
		put(`{}`).wantProblem(t, http.StatusUnprocessableEntity, "minutes")
		b.do(t, req{method: "PUT", path: "/api/v1/locations/nowhere/sla", key: "admin", body: `{"minutes":60}`}).want(t, http.StatusNotFound)
		b.get(t, "viewer", "/api/v1/locations/nowhere/sla").want(t, http.StatusNotFound)
		if got := b.get(t, "viewer", "/api/v1/locations/leeds/sla").want(t, 200).json(t); got["minutes"] != 240.0 {
			t.Errorf("after refused changes: %v, want 240 minutes still", got)
		}
	})
}
