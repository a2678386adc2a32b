package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/orderly-oms/orderly"
)

// Problem is an RFC 9457 problem detail, the body of every error response
// (Content-Type application/problem+json).
type Problem struct {
	// Type identifies the kind of problem: a URN such as
	// "urn:orderly:problem:invalid". Clients may switch on it.
	Type string `json:"type" doc:"A URN naming the kind of problem, e.g. urn:orderly:problem:invalid."`
	// Title is a short, fixed summary of the problem type.
	Title string `json:"title"`
	// Status repeats the HTTP status code.
	Status int `json:"status"`
	// Detail explains this occurrence, safe to show to the caller.
	Detail string `json:"detail,omitempty"`
	// Code is a machine-readable reason within the type, e.g.
	// "invalid_transition" or "duplicate".
	Code string `json:"code,omitempty" doc:"A machine-readable reason within the type, e.g. invalid_transition or duplicate."`
	// Errors lists the offending input fields, by their JSON path.
	Errors []orderly.FieldError `json:"errors,omitempty" doc:"The offending input fields, by JSON path (lines[1].sku)."`
}

// problemType returns the type URN of a problem name.
func problemType(name string) string { return "urn:orderly:problem:" + name }

// kindStatus is the one table from error kinds to HTTP statuses. A kind not
// listed (KindInternal, or an error without a kind) is a 500.
var kindStatus = map[orderly.Kind]int{
	orderly.KindInvalid:      http.StatusUnprocessableEntity,
	orderly.KindNotFound:     http.StatusNotFound,
	orderly.KindConflict:     http.StatusConflict,
	orderly.KindUnauthorized: http.StatusUnauthorized,
	orderly.KindForbidden:    http.StatusForbidden,
	orderly.KindUnavailable:  http.StatusServiceUnavailable,
}

var kindTitle = map[orderly.Kind]string{
	orderly.KindInvalid:      "Invalid input",
	orderly.KindNotFound:     "Not found",
	orderly.KindConflict:     "Conflict",
	orderly.KindUnauthorized: "Unauthorized",
	orderly.KindForbidden:    "Forbidden",
	orderly.KindUnavailable:  "Service unavailable",
}

// requestError is an error about the form of a request rather than its
// content — malformed JSON, a wrong media type, an oversize body — raised by
// this package with its own status (400, 413, 415) and problem type.
type requestError struct {
	status int
	name   string // the problem type's name
	title  string
	detail string
	fields []orderly.FieldError
}

func (e *requestError) Error() string { return e.detail }

// badRequest returns a 400 naming field (which may be empty).
func badRequest(field, detail string) *requestError {
	e := &requestError{status: http.StatusBadRequest, name: "malformed_request", title: "Malformed request", detail: detail}
	if field != "" {
		e.fields = []orderly.FieldError{{Field: field, Detail: detail}}
		e.detail = field + ": " + detail
	}
	return e
}

// problemFor turns any error into the problem to send. internal reports
// that err is a fault of ours: it must be logged, and the problem says only
// "internal error".
func problemFor(err error) (p *Problem, internal bool) {
	var re *requestError
	if errors.As(err, &re) {
		return &Problem{Type: problemType(re.name), Title: re.title, Status: re.status, Detail: re.detail, Errors: re.fields}, false
	}
	var oe *orderly.Error
	if errors.As(err, &oe) {
		if status, ok := kindStatus[oe.Kind]; ok {
			return &Problem{Type: problemType(oe.Kind.String()), Title: kindTitle[oe.Kind], Status: status,
				Detail: oe.Message, Code: oe.Code, Errors: oe.Fields}, false
		}
	}
	return internalProblem(), true
}

func internalProblem() *Problem {
	return &Problem{Type: problemType("internal"), Title: "Internal error", Status: http.StatusInternalServerError,
		Detail: "internal error"}
}

// writeError sends err as a problem. Internal errors are logged with the
// request id (never the body, which may hold customer data); the caller
// sees only "internal error".
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p, internal := problemFor(err)
	ctx := r.Context()
	switch {
	case internal && errors.Is(err, context.Canceled):
		// The client went away; there is nobody to answer and nothing broke.
		a.log.InfoContext(ctx, "request cancelled", "request_id", info(ctx).id, "route", r.Pattern)
	case internal:
		a.log.ErrorContext(ctx, "internal error", "request_id", info(ctx).id, "route", r.Pattern, "error", err.Error())
	case p.Status == http.StatusServiceUnavailable:
		a.log.WarnContext(ctx, "unavailable", "request_id", info(ctx).id, "route", r.Pattern, "error", err.Error())
	}
	if p.Status == http.StatusUnauthorized {
		// RFC 6750: tell the client which scheme to use, and that the
		// token it sent (if any) was refused.
		v := `Bearer realm="orderly"`
		if r.Header.Get("Authorization") != "" {
			v += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", v)
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p *Problem) {
	body, err := encode(p)
	if err != nil {
		// A problem holds only strings and ints; this cannot happen.
		panic("httpapi: marshal problem: " + err.Error())
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(p.Status)
	w.Write(body)
}

// writeJSON sends v as the response body with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := encode(v)
	if err != nil {
		return err
	}
	writeBody(w, status, body)
	return nil
}

// writeBody writes an encoded JSON answer.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body) //nolint:gosec // G705: served as application/json (with nosniff), never rendered as HTML
}

// encode renders v as one line of JSON. It does not escape <, > and &:
// the API serves application/json, which no browser renders as HTML, and
// "Smith & Sons" should read as such.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
