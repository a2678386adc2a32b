package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/orderly-oms/orderly"
)

// healthView is the body of /healthz and /readyz.
type healthView struct {
	Status  string `json:"status" doc:"ok"`
	Version string `json:"version" doc:"The running build."`
	// Backend is set by /readyz: the database it reached.
	Backend string `json:"backend,omitempty" doc:"The storage backend, sqlite or postgres (readyz only)."`
}

func (a *api) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, healthView{Status: "ok", Version: a.version})
}

// readyzTimeout bounds the database ping: a load balancer would rather hear
// "not ready" than wait.
const readyzTimeout = 2 * time.Second

func (a *api) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), readyzTimeout)
	defer cancel()
	st := a.svc.Store()
	if err := st.Ping(ctx); err != nil {
		a.log.WarnContext(ctx, "readiness check failed", "request_id", info(ctx).id, "error", err.Error())
		return orderly.Errorf(orderly.KindUnavailable, "the database does not answer")
	}
	return writeJSON(w, http.StatusOK, healthView{Status: "ok", Version: a.version, Backend: st.Backend()})
}

func (a *api) openapiDoc(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(a.openapi)
	return nil
}
