package orderimport

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/order"
)

// jsonOrder is one JSON Lines line: the body of POST /api/v1/orders
// (channel may be left out; when given it must be the import's channel).
type jsonOrder struct {
	Channel             string          `json:"channel"`
	ExternalID          string          `json:"external_id"`
	PlacedAt            string          `json:"placed_at"`
	Currency            string          `json:"currency"`
	Customer            order.Customer  `json:"customer"`
	ShippingAddress     orderly.Address `json:"shipping_address"`
	BillingAddress      orderly.Address `json:"billing_address"`
	Lines               []jsonLine      `json:"lines"`
	ShippingLines       []jsonShipping  `json:"shipping_lines"`
	Note                string          `json:"note"`
	Tags                []string        `json:"tags"`
	Strict              bool            `json:"strict"`
	FulfilledAtLocation string          `json:"fulfilled_at_location"`
}

type jsonLine struct {
	SKU       string      `json:"sku"`
	Name      string      `json:"name"`
	Quantity  json.Number `json:"quantity"`
	UnitPrice json.Number `json:"unit_price"`
	Discount  json.Number `json:"discount"`
	Tax       json.Number `json:"tax"`
}

type jsonShipping struct {
	Code  string      `json:"code"`
	Name  string      `json:"name"`
	Price json.Number `json:"price"`
}

// ParseJSONL reads a JSON Lines file of orders for channel, one order per
// line in the shape of POST /api/v1/orders; see Parse. Blank lines are
// skipped. Field names in errors are the API's JSON paths.
func ParseJSONL(r io.Reader, channel string, now time.Time) ([]*Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	var out []*Record
	seen := map[string]int{}
	row := 0
	for sc.Scan() {
		row++
		if row > MaxRows {
			return nil, &RowError{Row: row, Message: fmt.Sprintf("the file has more than %d lines", MaxRows)}
		}
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		rec := parseJSONLine(line, row, channel, now)
		if rec.Order != nil && rec.Order.ExternalID != "" {
			if first, dup := seen[rec.Order.ExternalID]; dup {
				rec.Errors = append(rec.Errors, RowError{Row: row, ExternalID: rec.Order.ExternalID, Field: "external_id",
					Message: fmt.Sprintf("is the external_id of row %d too; each order must appear once", first)})
			} else {
				seen[rec.Order.ExternalID] = row
			}
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &RowError{Row: row + 1, Message: fmt.Sprintf("the line is longer than %d bytes", MaxLineBytes)}
		}
		return nil, &RowError{Row: row + 1, Message: "could not read the file: " + err.Error()}
	}
	return out, nil
}

// parseJSONLine reads one line into a record.
func parseJSONLine(line []byte, row int, channel string, now time.Time) *Record {
	r := &Record{Row: row}
	var j jsonOrder
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	err := dec.Decode(&j)
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			err = errors.New("unexpected data after the JSON object")
		}
	}
	if err != nil {
		r.Errors = []RowError{jsonProblem(err, row)}
		return r
	}
	o := &order.Order{
		Channel: channel, ExternalID: j.ExternalID, Currency: j.Currency, Customer: j.Customer,
		ShippingAddress: j.ShippingAddress, BillingAddress: j.BillingAddress, Note: j.Note, Tags: j.Tags,
	}
	r.Order, r.Strict, r.FulfilledAtLocation = o, j.Strict, j.FulfilledAtLocation
	add := func(field, msg string) {
		r.Errors = append(r.Errors, RowError{Row: row, ExternalID: j.ExternalID, Field: field, Message: msg})
	}
	if j.Strict && j.FulfilledAtLocation != "" {
		add("strict", "does not apply to an order fulfilled at a location: nothing is reserved")
	}
	if j.Channel != "" && j.Channel != channel {
		add("channel", fmt.Sprintf("is %q but the file is imported into channel %q", j.Channel, channel))
	}
	var ok bool
	if o.PlacedAt, ok = parseTime(j.PlacedAt, now); !ok {
		add("placed_at", timeMessage)
	}
	if len(j.Lines) > order.MaxLines {
		add("lines", fmt.Sprintf("has more than %d lines", order.MaxLines))
		return r
	}
	if len(j.ShippingLines) > order.MaxShippingLines {
		add("shipping_lines", fmt.Sprintf("has more than %d lines", order.MaxShippingLines))
		return r
	}
	num := func(field string, n json.Number) int64 {
		if n == "" {
			return 0
		}
		v, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			add(field, fmt.Sprintf("%s is not a whole number", n))
		}
		return v
	}
	o.Lines = make([]order.Line, len(j.Lines))
	for i, l := range j.Lines {
		f := "lines[" + strconv.Itoa(i) + "]."
		o.Lines[i] = order.Line{SKU: l.SKU, Name: l.Name,
			Quantity: num(f+"quantity", l.Quantity), UnitPrice: num(f+"unit_price", l.UnitPrice),
			Discount: num(f+"discount", l.Discount), Tax: num(f+"tax", l.Tax)}
		r.LineRows = append(r.LineRows, row)
	}
	for i, s := range j.ShippingLines {
		o.ShippingLines = append(o.ShippingLines, order.ShippingLine{Code: s.Code, Name: s.Name,
			Price: num("shipping_lines["+strconv.Itoa(i)+"].price", s.Price)})
	}
	r.finish()
	return r
}

// jsonProblem turns a decoding error into a row error naming the field
// where the decoder says which.
func jsonProblem(err error, row int) RowError {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return RowError{Row: row, Message: "each line must be a JSON object (an order)"}
		}
		return RowError{Row: row, Field: field, Message: "must be a JSON " + jsonKind(te.Type.Kind().String())}
	case errors.As(err, &se):
		return RowError{Row: row, Message: fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, se.Error())}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return RowError{Row: row, Field: name, Message: "is not a field of an order"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return RowError{Row: row, Message: "malformed JSON: the object is cut short"}
	}
	return RowError{Row: row, Message: "malformed JSON: " + err.Error()}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "slice":
		return "array"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	}
	return "number"
}
