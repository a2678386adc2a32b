package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/orderimport"
)

// Bulk import over HTTP is synchronous: the file is bounded (maxImportBytes,
// maxImportOrders) so that trying every order fits well inside the server's
// write timeout, and the client gets the full report in the answer. Bigger
// files go through `orderly import orders`, which has no such bound. See
// docs/decisions/0011-import-and-pos.md.

const (
	// maxImportBytes bounds the file of one POST /api/v1/imports.
	maxImportBytes = 4 << 20
	// maxImportOrders bounds the orders of one POST /api/v1/imports.
	maxImportOrders = 2000
)

// importMediaTypes are the bodies POST /api/v1/imports takes.
var importMediaTypes = []string{"text/csv", "application/x-ndjson", "application/jsonl", "multipart/form-data"}

func (a *api) importOrders(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := queryParams(q, "channel", "format"); err != nil {
		return err
	}
	channel, format := q.Get("channel"), q.Get("format")
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return unsupportedImport()
	}
	var body []byte
	switch mt {
	case "multipart/form-data":
		var form importForm
		if form, err = readImportForm(w, r, params["boundary"]); err != nil {
			return err
		}
		body = form.file
		channel = firstOf(channel, form.channel)
		format = firstOf(format, form.format, form.fileType)
	case "text/csv", "application/x-ndjson", "application/jsonl":
		if body, err = readLimited(w, r.Body); err != nil {
			return err
		}
		format = firstOf(format, mt)
	default:
		return unsupportedImport()
	}
	if channel == "" {
		return orderly.Invalid("channel", "is required: pass ?channel=CODE or a channel form field")
	}
	f, ok := orderimport.ParseFormat(format)
	if !ok {
		return orderly.Invalid("format", "must be csv or jsonl")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return orderly.Invalid("file", "is empty")
	}
	records, err := orderimport.Parse(bytes.NewReader(body), f, channel, a.svc.Now().Now())
	if err != nil {
		var re *orderimport.RowError
		if errors.As(err, &re) {
			return &orderly.Error{Kind: orderly.KindInvalid, Message: "the file cannot be imported; nothing was imported",
				Fields: []orderly.FieldError{{Field: rowField(re), Detail: re.Message}}}
		}
		return err
	}
	if len(records) > maxImportOrders {
		return orderly.Invalid("file", "holds %d orders; at most %d per request (use orderly import orders for bigger files)", len(records), maxImportOrders)
	}
	res, err := a.svc.ImportOrders(r.Context(), principal(r), channel, records, nil)
	if err != nil {
		return err
	}
	out, err := encode(res)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	// The report quotes the file's values back; it is application/json,
	// which no browser renders as HTML (see encode).
	_, _ = w.Write(out) //nolint:gosec // JSON, not HTML: G705 does not apply
	return nil
}

// rowField names where in the file a whole-file problem is: row 3, or row 1
// column external_id.
func rowField(re *orderimport.RowError) string {
	s := fmt.Sprintf("row %d", re.Row)
	if re.Field != "" {
		s += " " + re.Field
	}
	return s
}

func unsupportedImport() error {
	return &requestError{status: http.StatusUnsupportedMediaType, name: "unsupported_media_type",
		title: "Unsupported media type", detail: "send the file as text/csv, application/x-ndjson or multipart/form-data"}
}

func tooLargeImport() error {
	return &requestError{status: http.StatusRequestEntityTooLarge, name: "body_too_large",
		title: "Request body too large", detail: fmt.Sprintf("an import file may have at most %d bytes", maxImportBytes)}
}

// readLimited reads a raw import body of at most maxImportBytes.
func readLimited(w http.ResponseWriter, rc io.ReadCloser) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, rc, maxImportBytes))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return nil, tooLargeImport()
		}
		return nil, badRequest("", "could not read the request body")
	}
	return body, nil
}

// importForm is a multipart import request.
type importForm struct {
	file                      []byte
	fileType, channel, format string
}

// readImportForm reads a multipart/form-data body: the file part and the
// small channel and format fields; any other part is a 400.
func readImportForm(w http.ResponseWriter, r *http.Request, boundary string) (importForm, error) {
	var form importForm
	if boundary == "" {
		return form, badRequest("", "the multipart body has no boundary")
	}
	// The file plus room for the form's own framing.
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, maxImportBytes+64<<10), boundary)
	gotFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
				return form, tooLargeImport()
			}
			return form, badRequest("", "malformed multipart body")
		}
		name := part.FormName()
		limit := int64(200)
		if name == "file" {
			limit = maxImportBytes
		}
		b, err := io.ReadAll(io.LimitReader(part, limit+1))
		if err != nil {
			if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
				return form, tooLargeImport()
			}
			return form, badRequest(name, "could not read the part")
		}
		if int64(len(b)) > limit {
			if name == "file" {
				return form, tooLargeImport()
			}
			return form, badRequest(name, fmt.Sprintf("is longer than %d bytes", limit))
		}
		switch name {
		case "file":
			if gotFile {
				return form, badRequest("file", "send one file per request")
			}
			gotFile = true
			form.file = b
			if mt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type")); err == nil {
				form.fileType = mt
			}
			if form.fileType == "" || form.fileType == "application/octet-stream" || form.fileType == "text/plain" {
				form.fileType = strings.TrimPrefix(extOf(part.FileName()), ".")
			}
		case "channel":
			form.channel = strings.TrimSpace(string(b))
		case "format":
			form.format = strings.TrimSpace(string(b))
		default:
			return form, badRequest(name, "is not a field of an import: send file, channel and format")
		}
	}
	if !gotFile {
		return form, orderly.Invalid("file", "is required: a form part named file")
	}
	return form, nil
}

func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return strings.ToLower(name[i:])
	}
	return ""
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
