package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/store"
)

// maxBodyBytes bounds every request body. The largest legitimate body, an
// order of order.MaxLines lines, fits well within it.
const maxBodyBytes = 1 << 20

// readBody reads the whole request body, refusing more than maxBodyBytes
// (413) and a non-empty body that is not JSON (415).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return nil, &requestError{status: http.StatusRequestEntityTooLarge, name: "body_too_large",
				title: "Request body too large", detail: fmt.Sprintf("the request body exceeds %d bytes", maxBodyBytes)}
		}
		return nil, badRequest("", "could not read the request body")
	}
	if len(body) > 0 {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return nil, &requestError{status: http.StatusUnsupportedMediaType, name: "unsupported_media_type",
				title: "Unsupported media type", detail: "the request body must be application/json"}
		}
	}
	return body, nil
}

type bodyKey struct{}

// bodyOf returns the body that endpoint read before calling the handler.
func bodyOf(r *http.Request) []byte {
	b, _ := r.Context().Value(bodyKey{}).([]byte)
	return b
}

// decodeJSON decodes body into v strictly: one JSON value, no unknown
// fields, nothing after it. Errors are 400s naming the field where the
// decoder says which.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, body, reflect.TypeOf(v))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("", "unexpected data after the JSON value")
	}
	return nil
}

// jsonError turns an encoding/json error from decoding body into a value of
// type t into a 400 that says what is wrong without echoing the body.
func jsonError(err error, body []byte, t reflect.Type) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return badRequest("", "the request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "malformed JSON: unexpected end of input")
	case errors.As(err, &syn):
		return badRequest("", fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, syn.Error()))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("", "the request body must be a JSON "+jsonTypeName(typ.Type))
		}
		field := typ.Field
		// Prefer the path with indices, if it is the same field: a value
		// that decodes itself (nullable) reports an offset within itself.
		if p := pathAt(body, typ.Offset); indexRE.ReplaceAllString(p, "") == field {
			field = p
		}
		return badRequest(field, "must be a JSON "+jsonTypeName(typ.Type)+", not "+typ.Value)
	}
	// encoding/json reports unknown fields only as text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if n, uerr := strconv.Unquote(name); uerr == nil {
			name = n
		}
		if p := unknownFieldPath(body, t, name); p != "" {
			return badRequest(p, "unknown field")
		}
		return badRequest(name, "unknown field")
	}
	return badRequest("", "malformed JSON")
}

var indexRE = regexp.MustCompile(`\[[0-9]+\]`)

// jsonTypeName names the JSON type a Go type decodes from.
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "object"
}

// number is an integer of the order request — an amount in minor units or
// a quantity — kept as raw JSON so that validation, not the decoder, judges
// it: a fractional or negative amount is a 422 naming the field
// (lines[0].unit_price), which a client can act on, not a 400 from deep in
// encoding/json.
type number struct {
	raw []byte
}

// UnmarshalJSON keeps the raw value; it never fails.
func (n *number) UnmarshalJSON(b []byte) error {
	n.raw = append(n.raw[:0], b...)
	return nil
}

// present reports whether the number was sent, and not as null.
func (n number) present() bool {
	return len(n.raw) > 0 && string(n.raw) != "null"
}

// int64 returns the number, or records a problem under field and returns 0.
// An absent or null number is 0. what says what the number counts, for the
// messages ("minor units", "units").
func (n number) int64(p *orderly.Problems, field, what string) int64 {
	s := string(n.raw)
	if s == "" || s == "null" {
		return 0
	}
	if s[0] != '-' && (s[0] < '0' || s[0] > '9') {
		p.Add(field, "must be a JSON integer (%s)", what)
		return 0
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		return v
	}
	if errors.Is(err, strconv.ErrRange) {
		p.Add(field, "is out of range")
		return 0
	}
	// Valid JSON, but with a fraction or an exponent. ParseFloat only
	// chooses the message: it is fast even for absurd exponents, and the
	// value is refused either way, so its rounding does not matter.
	f, ferr := strconv.ParseFloat(s, 64)
	switch {
	case ferr != nil && !errors.Is(ferr, strconv.ErrRange):
		p.Add(field, "must be a JSON integer (%s)", what)
	case math.IsInf(f, 0) || math.Abs(f) >= math.MaxInt64:
		p.Add(field, "is out of range")
	case f != math.Trunc(f):
		p.Add(field, "must be a whole number of %s, not %s", what, s)
	default:
		p.Add(field, "must be written as an integer, without a decimal point or exponent")
	}
	return 0
}

// nullable is a PATCH field that tells "absent" (leave it as it is) from
// "null" (clear it) — the one case where JSON's null means something.
type nullable[T any] struct {
	set   bool
	value *T
}

// UnmarshalJSON records that the field was present, and its value or null.
func (n *nullable[T]) UnmarshalJSON(b []byte) error {
	n.set = true
	if string(b) == "null" {
		n.value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.value = &v
	return nil
}

// patch returns the service's form of the field: nil when absent, a
// pointer to nil when null.
func (n nullable[T]) patch() **T {
	if !n.set {
		return nil
	}
	v := n.value
	return &v
}

// queryParams checks a list request's query string: every parameter must
// be one the route knows (a typo like "stauts" must not silently return
// everything) and given at most once, unless its allowed name ends in "*"
// ("sku*": ?sku=A&sku=B names two SKUs).
func queryParams(q url.Values, allowed ...string) error {
	for name, vs := range q {
		known, repeats := false, false
		for _, a := range allowed {
			base, many := strings.CutSuffix(a, "*")
			if name == base {
				known, repeats = true, many
				break
			}
		}
		if !known {
			return badRequest(name, "unknown query parameter")
		}
		if len(vs) > 1 && !repeats {
			return badRequest(name, "must be given at most once")
		}
	}
	return nil
}

// limitParam parses the page size: 1 to store.MaxLimit, default
// store.DefaultLimit.
func limitParam(q url.Values, p *orderly.Problems) int {
	s := q.Get("limit")
	if s == "" {
		return store.DefaultLimit
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > store.MaxLimit {
		p.Add("limit", "must be an integer from 1 to %d", store.MaxLimit)
		return store.DefaultLimit
	}
	return n
}

// timeParam parses an RFC 3339 date-time parameter; absent is nil.
func timeParam(q url.Values, name string, p *orderly.Problems) *time.Time {
	s := q.Get(name)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.Add(name, "must be an RFC 3339 date-time such as 2025-01-31T09:00:00Z")
		return nil
	}
	t = t.UTC()
	return &t
}

// Cursors are opaque to clients: base64url of "<list>:<position>". The list
// name makes a cursor from one list useless in another rather than silently
// wrong.

// encodeCursor returns the cursor for position in list, or nil (JSON null)
// when there is no next page.
func encodeCursor(list, position string) *string {
	if position == "" {
		return nil
	}
	c := base64.RawURLEncoding.EncodeToString([]byte(list + ":" + position))
	return &c
}

// decodeCursor returns the position a cursor of list holds ("" for none),
// recording a problem if it is not such a cursor.
func decodeCursor(q url.Values, list string, p *orderly.Problems) string {
	s := q.Get("cursor")
	if s == "" {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	pos, ok := strings.CutPrefix(string(b), list+":")
	if err != nil || !ok || pos == "" {
		p.Add("cursor", "is not a cursor of this list; pass next_cursor from the previous page unchanged")
		return ""
	}
	return pos
}
