// Package orderimport reads files of orders for bulk import — CSV (one row
// per order line, grouped into orders by external_id, with the documented
// column set of docs/api.md) and JSON Lines (one order per line, in the
// shape of POST /api/v1/orders) — into order inputs, each with the rows it
// came from so that any problem found later can be reported as (row,
// field, message).
//
// It is pure: it reads bytes and builds orders, with no SQL, no HTTP and no
// clock. It imports only the orderly and order packages. Capturing the
// orders (and deciding what a duplicate is) is the service's.
package orderimport

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/order"
)

// Format is a file format the importer reads.
type Format string

// The formats.
const (
	FormatCSV   Format = "csv"
	FormatJSONL Format = "jsonl"
)

// ParseFormat returns the format a name ("csv", "jsonl", "ndjson") or a
// media type (text/csv, application/x-ndjson, application/jsonl) names.
func ParseFormat(s string) (Format, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "csv", "text/csv":
		return FormatCSV, true
	case "jsonl", "ndjson", "application/x-ndjson", "application/jsonl", "application/jsonlines", "application/x-jsonlines":
		return FormatJSONL, true
	}
	return "", false
}

// Limits that bound what one file may hold, so no input can exhaust memory.
const (
	// MaxLineBytes bounds one JSON Lines line (the API's body limit) and
	// one CSV field.
	MaxLineBytes = 1 << 20
	// MaxRows bounds the rows (CSV data rows, JSON Lines lines) of a file.
	MaxRows = 1_000_000
)

// RowError is one problem with one row: Row is the 1-based line of the
// file (a CSV file's header is row 1), Field the CSV column or the JSON
// path of the value at fault ("" when the row as a whole is), Message what
// is wrong.
type RowError struct {
	Row        int    `json:"row"`
	ExternalID string `json:"external_id,omitempty"`
	Field      string `json:"field"`
	Message    string `json:"message"`
}

func (e *RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("row %d: %s", e.Row, e.Message)
	}
	return fmt.Sprintf("row %d: %s: %s", e.Row, e.Field, e.Message)
}

// Record is one order read from a file: the order input (channel set,
// ready for capture), the location it was already fulfilled at if any, and
// where in the file each part came from. A record with Errors is not to be
// imported at all.
type Record struct {
	Order *order.Order
	// FulfilledAtLocation is the store a point-of-sale order was handed
	// over at, or "".
	FulfilledAtLocation string
	// Strict asks for the order to be refused unless its stock can be
	// reserved in full (JSON Lines' strict, as in the API).
	Strict bool
	// Row is the first row of the order; LineRows the row of each line.
	Row      int
	LineRows []int
	// Errors are the problems found reading the order; nil when none.
	Errors []RowError
	// column maps an API path (shipping_address.country) to the file's
	// name for it (a CSV column), for reporting; nil means the path.
	column func(path string) string
}

// Locate returns the row and field to report a problem the API names by
// path (lines[2].quantity, currency) at: the line's row and the file's
// field name, or the order's first row.
func (r *Record) Locate(path string) (row int, field string) {
	row, field = r.Row, path
	if rest, ok := strings.CutPrefix(path, "lines["); ok {
		if i, tail, ok := strings.Cut(rest, "]"); ok {
			var n int
			if _, err := fmt.Sscanf(i, "%d", &n); err == nil && n >= 0 && n < len(r.LineRows) {
				row = r.LineRows[n]
				if r.column != nil {
					field = strings.TrimPrefix(tail, ".")
				}
			}
		}
	}
	if r.column != nil && field == path {
		field = r.column(path)
	}
	return row, field
}

// ErrorsOf turns err (an *orderly.Error naming API paths, from capture or
// validation) into RowErrors located in the record's rows.
func (r *Record) ErrorsOf(err error) []RowError {
	var oe *orderly.Error
	ext := ""
	if r.Order != nil {
		ext = r.Order.ExternalID
	}
	if !errors.As(err, &oe) || len(oe.Fields) == 0 {
		msg := err.Error()
		if oe != nil {
			msg = oe.Message
		}
		return []RowError{{Row: r.Row, ExternalID: ext, Message: msg}}
	}
	out := make([]RowError, 0, len(oe.Fields))
	for _, f := range oe.Fields {
		row, field := r.Locate(f.Field)
		out = append(out, RowError{Row: row, ExternalID: ext, Field: field, Message: f.Detail})
	}
	return out
}

// Parse reads a whole file of the format for channel into records, in the
// order the orders first appear. Problems with single orders are in their
// records' Errors; an error returned (a *RowError) is a problem with the
// file as a whole — an unreadable header, a missing required column,
// malformed CSV quoting, a line over MaxLineBytes, more than MaxRows — and
// then nothing of the file may be imported, since its rows cannot be
// trusted to group into the right orders. now is the placed_at of orders
// that give none.
func Parse(r io.Reader, f Format, channel string, now time.Time) ([]*Record, error) {
	switch f {
	case FormatCSV:
		return ParseCSV(r, channel, now)
	case FormatJSONL:
		return ParseJSONL(r, channel, now)
	}
	return nil, &RowError{Field: "format", Message: fmt.Sprintf("unknown format %q: use csv or jsonl", f)}
}

// finish validates the record's order and adds the problems, located.
func (r *Record) finish() {
	if err := r.Order.Validate(); err != nil {
		r.Errors = append(r.Errors, r.ErrorsOf(err)...)
	}
	if r.Errors != nil {
		r.Errors = dedupe(r.Errors)
	}
}

// dedupe drops a problem reported twice for the same row and field (a
// value that did not convert is 0, which Validate may refuse again): the
// first message, from the conversion, is the one that helps.
func dedupe(errs []RowError) []RowError {
	seen := map[[2]string]bool{}
	out := errs[:0]
	for _, e := range errs {
		k := [2]string{fmt.Sprint(e.Row), e.Field}
		if e.Field != "" && seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}

func parseTime(s string, now time.Time) (time.Time, bool) {
	if s == "" {
		return now.UTC().Truncate(time.Microsecond), true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return now.UTC().Truncate(time.Microsecond), false
	}
	return t.UTC().Truncate(time.Microsecond), true
}

const timeMessage = "must be an RFC 3339 date-time such as 2025-01-31T09:00:00Z"
