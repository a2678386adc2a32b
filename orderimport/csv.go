package orderimport

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orderly-oms/orderly/order"
)

// CSV files have a header row naming their columns (any order, case and
// surrounding spaces ignored) and one row per order line. Rows with the
// same external_id are one order, wherever they are in the file; the
// order's own columns are read from its first row, and a later row of the
// same order must leave them empty or repeat them. Amounts are integers of
// minor units of the order's currency, as in the API.

// lineColumns are the columns of each order line.
var lineColumns = []string{"sku", "name", "quantity", "unit_price", "discount", "tax"}

// orderColumns are the columns of the order, read from its first row.
var orderColumns = []string{
	"external_id", "placed_at", "currency",
	"customer_name", "customer_email", "customer_phone",
	"ship_name", "ship_company", "ship_line1", "ship_line2", "ship_city", "ship_region", "ship_postal_code", "ship_country", "ship_phone",
	"bill_name", "bill_company", "bill_line1", "bill_line2", "bill_city", "bill_region", "bill_postal_code", "bill_country", "bill_phone",
	"shipping_code", "shipping_name", "shipping_price",
	"note", "tags", "fulfilled_at_location",
}

// Columns lists every CSV column the importer knows, order columns first.
func Columns() []string { return append(slices.Clone(orderColumns), lineColumns...) }

// RequiredColumns must be in every CSV header.
var RequiredColumns = []string{"external_id", "currency", "sku", "quantity"}

// TagSeparator separates the tags in the tags column.
const TagSeparator = "|"

// csvColumn maps an API path to its CSV column.
func csvColumn(path string) string {
	switch {
	case strings.HasPrefix(path, "customer."):
		return "customer_" + strings.TrimPrefix(path, "customer.")
	case strings.HasPrefix(path, "shipping_address."):
		return "ship_" + strings.TrimPrefix(path, "shipping_address.")
	case strings.HasPrefix(path, "billing_address."):
		return "bill_" + strings.TrimPrefix(path, "billing_address.")
	case strings.HasPrefix(path, "shipping_lines"):
		if _, f, ok := strings.Cut(path, "]."); ok {
			return "shipping_" + f
		}
		return "shipping_price"
	case strings.HasPrefix(path, "tags"):
		return "tags"
	}
	return path
}

// ParseCSV reads a CSV file of orders for channel; see Parse.
func ParseCSV(r io.Reader, channel string, now time.Time) ([]*Record, error) {
	cr := csv.NewReader(&limitedLines{r: r})
	cr.FieldsPerRecord = -1 // checked here, to report the row and go on
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &RowError{Row: 1, Message: "the file is empty: it needs a header row naming its columns"}
	}
	if err != nil {
		return nil, csvError(err, 1)
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch {
		case name == "":
			return nil, &RowError{Row: 1, Field: "column " + strconv.Itoa(i+1), Message: "has no name"}
		case !slices.Contains(orderColumns, name) && !slices.Contains(lineColumns, name):
			return nil, &RowError{Row: 1, Field: name, Message: "is not a known column; the columns are " + strings.Join(Columns(), ", ")}
		}
		if _, dup := col[name]; dup {
			return nil, &RowError{Row: 1, Field: name, Message: "appears twice in the header"}
		}
		col[name] = i
	}
	for _, req := range RequiredColumns {
		if _, ok := col[req]; !ok {
			return nil, &RowError{Row: 1, Field: req, Message: "is a required column and is missing from the header"}
		}
	}

	var out []*Record
	byID := map[string]*Record{}
	firstRow := map[*Record][]string{} // the order columns of the first row
	lastRow := 1
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err, lastRow+1)
		}
		row, _ := cr.FieldPos(0) // the file line the row starts on
		lastRow = row
		if n > MaxRows {
			return nil, &RowError{Row: row, Message: fmt.Sprintf("the file has more than %d rows", MaxRows)}
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" && len(header) > 1 {
			continue // a line of spaces
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if len(rec) != len(header) {
			// The row's columns cannot be trusted; its order, if it
			// names one, is not imported.
			e := RowError{Row: row, ExternalID: get("external_id"), Message: fmt.Sprintf("has %d fields; the header has %d", len(rec), len(header))}
			switch r := byID[e.ExternalID]; {
			case r != nil:
				r.Errors = append(r.Errors, e)
			case e.ExternalID == "":
				out = append(out, &Record{Row: row, Errors: []RowError{e}})
			default:
				// Later rows of this order must not import without it.
				r = newCSVRecord(channel, row, get, now)
				r.Errors = append(r.Errors, e)
				byID[e.ExternalID] = r
				firstRow[r] = orderValues(get)
				out = append(out, r)
			}
			continue
		}
		ext := get("external_id")
		if ext == "" {
			// Without its id the row belongs to no order.
			out = append(out, &Record{Row: row, Errors: []RowError{{Row: row, Field: "external_id", Message: "is required"}}})
			continue
		}
		r := byID[ext]
		if r == nil {
			r = newCSVRecord(channel, row, get, now)
			byID[ext] = r
			out = append(out, r)
			firstRow[r] = orderValues(get)
		} else {
			for i, c := range orderColumns {
				if v := get(c); v != "" && v != firstRow[r][i] {
					r.Errors = append(r.Errors, RowError{Row: row, ExternalID: ext, Field: c,
						Message: fmt.Sprintf("differs from row %d of the same order (%q); leave it empty or repeat it", r.Row, firstRow[r][i])})
				}
			}
		}
		if len(r.Order.Lines) >= order.MaxLines {
			r.Errors = append(r.Errors, RowError{Row: row, ExternalID: ext, Message: fmt.Sprintf("the order has more than %d lines", order.MaxLines)})
			continue
		}
		var l order.Line
		l.SKU, l.Name = get("sku"), get("name")
		l.Quantity = r.csvInt(row, "quantity", get("quantity"), true)
		l.UnitPrice = r.csvInt(row, "unit_price", get("unit_price"), false)
		l.Discount = r.csvInt(row, "discount", get("discount"), false)
		l.Tax = r.csvInt(row, "tax", get("tax"), false)
		r.Order.Lines = append(r.Order.Lines, l)
		r.LineRows = append(r.LineRows, row)
	}
	for _, r := range out {
		if r.Order != nil {
			r.finish()
		}
	}
	return out, nil
}

// orderValues returns the order columns of a row.
func orderValues(get func(string) string) []string {
	vals := make([]string, len(orderColumns))
	for i, c := range orderColumns {
		vals[i] = get(c)
	}
	return vals
}

// newCSVRecord starts the record of an order from its first row.
func newCSVRecord(channel string, row int, get func(string) string, now time.Time) *Record {
	r := &Record{Row: row, FulfilledAtLocation: get("fulfilled_at_location"), column: csvColumn}
	o := &order.Order{
		Channel: channel, ExternalID: get("external_id"), Currency: strings.ToUpper(get("currency")),
		Customer: order.Customer{Name: get("customer_name"), Email: get("customer_email"), Phone: get("customer_phone")},
		Note:     get("note"),
	}
	o.ShippingAddress.Name, o.ShippingAddress.Company = get("ship_name"), get("ship_company")
	o.ShippingAddress.Line1, o.ShippingAddress.Line2 = get("ship_line1"), get("ship_line2")
	o.ShippingAddress.City, o.ShippingAddress.Region = get("ship_city"), get("ship_region")
	o.ShippingAddress.PostalCode, o.ShippingAddress.Country = get("ship_postal_code"), get("ship_country")
	o.ShippingAddress.Phone = get("ship_phone")
	o.BillingAddress.Name, o.BillingAddress.Company = get("bill_name"), get("bill_company")
	o.BillingAddress.Line1, o.BillingAddress.Line2 = get("bill_line1"), get("bill_line2")
	o.BillingAddress.City, o.BillingAddress.Region = get("bill_city"), get("bill_region")
	o.BillingAddress.PostalCode, o.BillingAddress.Country = get("bill_postal_code"), get("bill_country")
	o.BillingAddress.Phone = get("bill_phone")
	r.Order = o
	var ok bool
	if o.PlacedAt, ok = parseTime(get("placed_at"), now); !ok {
		r.Errors = append(r.Errors, RowError{Row: row, ExternalID: o.ExternalID, Field: "placed_at", Message: timeMessage})
	}
	if tags := get("tags"); tags != "" {
		for t := range strings.SplitSeq(tags, TagSeparator) {
			o.Tags = append(o.Tags, strings.TrimSpace(t))
		}
	}
	code, name, price := get("shipping_code"), get("shipping_name"), get("shipping_price")
	if code != "" || name != "" || price != "" {
		o.ShippingLines = []order.ShippingLine{{Code: code, Name: name, Price: r.csvInt(row, "shipping_price", price, false)}}
	}
	return r
}

// csvInt converts an integer column; an empty one is 0 unless required.
func (r *Record) csvInt(row int, column, s string, required bool) int64 {
	if s == "" {
		if required {
			r.Errors = append(r.Errors, RowError{Row: row, ExternalID: r.Order.ExternalID, Field: column, Message: "is required"})
		}
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		unit := "minor units of the order's currency, e.g. 1999 for 19.99"
		if column == "quantity" {
			unit = "units"
		}
		r.Errors = append(r.Errors, RowError{Row: row, ExternalID: r.Order.ExternalID, Field: column,
			Message: fmt.Sprintf("%q is not a whole number (%s)", s, unit)})
	}
	return n
}

// csvError reports a CSV syntax error at its line.
func csvError(err error, row int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		line := pe.StartLine
		if line == 0 {
			line = row
		}
		return &RowError{Row: line, Message: "malformed CSV: " + pe.Err.Error()}
	}
	var le *RowError
	if errors.As(err, &le) {
		le.Row = row
		return le
	}
	return &RowError{Row: row, Message: "could not read the file: " + err.Error()}
}

// limitedLines passes r through, failing once MaxLineBytes pass without a
// newline: encoding/csv would otherwise buffer a whole file that has none.
type limitedLines struct {
	r   io.Reader
	run int
}

func (l *limitedLines) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.run = 0
		} else if l.run++; l.run > MaxLineBytes {
			return 0, &RowError{Message: fmt.Sprintf("a line is longer than %d bytes", MaxLineBytes)}
		}
	}
	return n, err
}
