package orderimport_test

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/orderimport"
)

var now = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCSVGood(t *testing.T) {
	recs, err := orderimport.ParseCSV(bytes.NewReader(read(t, "orders.csv")), "web", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2", len(recs))
	}
	for _, r := range recs {
		if r.Errors != nil {
			t.Fatalf("record at row %d: %v", r.Row, r.Errors)
		}
	}
	o := recs[0].Order
	want := []order.Line{
		{SKU: "A", Name: "Widget A", Quantity: 2, UnitPrice: 1000, Tax: 400},
		{SKU: "B", Name: "Widget B", Quantity: 1, UnitPrice: 550, Discount: 50},
	}
	if !reflect.DeepEqual(o.Lines, want) {
		t.Errorf("lines = %+v", o.Lines)
	}
	if o.Channel != "web" || o.ExternalID != "M-1" || o.Currency != "EUR" || o.Customer.Email != "ada@example.com" ||
		o.ShippingAddress.City != "Leeds" || o.Note != "call first" || !reflect.DeepEqual(o.Tags, []string{"vip", "phone"}) ||
		!o.PlacedAt.Equal(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("order = %+v", o)
	}
	if !reflect.DeepEqual(o.ShippingLines, []order.ShippingLine{{Code: "std", Name: "Standard", Price: 495}}) {
		t.Errorf("shipping lines = %+v", o.ShippingLines)
	}
	if recs[0].Row != 2 || !reflect.DeepEqual(recs[0].LineRows, []int{2, 3}) || recs[1].Row != 4 {
		t.Errorf("rows = %d %v, %d", recs[0].Row, recs[0].LineRows, recs[1].Row)
	}
	if o.Totals.Total != 0 {
		t.Error("the parser must not compute totals: capture does")
	}
}

func TestCSVBadRows(t *testing.T) {
	file := "external_id,currency,sku,quantity,unit_price,ship_country\n" +
		"B-1,EUR,A,2,100,\n" + // row 2: fine
		"B-1,EUR,B,two,100,\n" + // row 3: bad quantity: B-1 is bad as a whole
		"B-2,EUR,A,1,1.50,\n" + // row 4: bad price
		"B-3,XXX,A,1,100,\n" + // row 5: bad currency
		",EUR,A,1,100,\n" + // row 6: no external id
		"B-4,EUR,A,1,100,\n" + // row 7: fine
		"B-4,USD,B,1,100,\n" + // row 8: differs from row 7
		"B-5,EUR,,0,100,GB\n" + // row 9: no sku, quantity 0, address without line1
		"B-6,EUR,A,1,100\n" // row 10: a field short
	recs, err := orderimport.ParseCSV(strings.NewReader(file), "web", now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]orderimport.RowError{}
	var good []string
	for _, r := range recs {
		id := ""
		if r.Order != nil {
			id = r.Order.ExternalID
		}
		if r.Errors == nil {
			good = append(good, id)
		}
		got[id] = append(got[id], r.Errors...)
	}
	if len(good) != 0 {
		t.Errorf("orders without errors: %v", good)
	}
	check := func(id string, row int, field, msgPart string) {
		t.Helper()
		for _, e := range got[id] {
			if e.Row == row && e.Field == field && strings.Contains(e.Message, msgPart) {
				return
			}
		}
		t.Errorf("%q: no error (row %d, field %q, ~%q) in %+v", id, row, field, msgPart, got[id])
	}
	check("B-1", 3, "quantity", `"two" is not a whole number`)
	check("B-2", 4, "unit_price", `"1.50" is not a whole number`)
	check("B-3", 5, "currency", "ISO 4217")
	check("", 6, "external_id", "is required")
	check("B-4", 8, "currency", "differs from row 7")
	check("B-5", 9, "sku", "is required")
	check("B-5", 9, "quantity", "at least 1")
	check("B-6", 10, "", "has 5 fields; the header has 6")
	// The conversion's message wins over Validate's for the same field.
	for _, e := range got["B-1"] {
		if e.Field == "quantity" && strings.Contains(e.Message, "at least 1") {
			t.Errorf("duplicate message for B-1 quantity: %+v", got["B-1"])
		}
	}
}

func TestCSVFileErrors(t *testing.T) {
	for name, c := range map[string]struct {
		file  string
		row   int
		field string
	}{
		"empty":          {"", 1, ""},
		"unknown column": {"external_id,currency,sku,quantity,colour\n", 1, "colour"},
		"missing column": {"external_id,currency,sku\nX,EUR,A\n", 1, "quantity"},
		"twice":          {"external_id,currency,sku,quantity,SKU\n", 1, "sku"},
		"bad quoting":    {"external_id,currency,sku,quantity\nX,EUR,\"A,1\nY,EUR,B,1\n", 2, ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := orderimport.ParseCSV(strings.NewReader(c.file), "web", now)
			var re *orderimport.RowError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *RowError", err)
			}
			if re.Row != c.row || re.Field != c.field {
				t.Errorf("err = %+v, want row %d field %q", re, c.row, c.field)
			}
		})
	}
}

func TestJSONLGood(t *testing.T) {
	recs, err := orderimport.ParseJSONL(bytes.NewReader(read(t, "orders.jsonl")), "web", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Errors != nil || recs[1].Errors != nil {
		t.Fatalf("records = %+v", recs)
	}
	if recs[0].Row != 1 || recs[1].Row != 3 {
		t.Errorf("rows = %d, %d; want 1, 3 (blank line 2 skipped)", recs[0].Row, recs[1].Row)
	}
	o := recs[0].Order
	if o.ExternalID != "J-1" || len(o.Lines) != 2 || o.Lines[1].Discount != 50 || o.ShippingLines[0].Price != 495 ||
		o.Customer.Name != "Ada Lovelace" || o.Channel != "web" {
		t.Errorf("order = %+v", o)
	}
	if !recs[1].Order.PlacedAt.Equal(now) {
		t.Errorf("placed_at default = %v", recs[1].Order.PlacedAt)
	}
}

func TestJSONLBadRows(t *testing.T) {
	file := `{"external_id":"J-1","currency":"EUR","lines":[{"sku":"A","quantity":1}]}
{"external_id":"J-2","currency":"EUR","lines":[{"sku":"A","quantity":1.5}]}
{"external_id":"J-3","currency":"EUR","colour":"red","lines":[]}
{"external_id":"J-4","currency":"EUR","lines":[{"sku":"A","quantity":"x"}]}
not json
{"external_id":"J-1","currency":"EUR","lines":[{"sku":"B","quantity":1}]}
{"channel":"shop","external_id":"J-6","currency":"EUR","lines":[{"sku":"A","quantity":1}]}
{"external_id":"J-7","currency":"EUR","placed_at":"yesterday","lines":[{"sku":"A","quantity":1},{"sku":"","quantity":1}]}
[1,2]
`
	recs, err := orderimport.ParseJSONL(strings.NewReader(file), "web", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 9 {
		t.Fatalf("got %d records", len(recs))
	}
	if recs[0].Errors != nil {
		t.Errorf("row 1: %v", recs[0].Errors)
	}
	want := []struct {
		i     int
		field string
		msg   string
	}{
		{1, "lines[0].quantity", "1.5 is not a whole number"},
		{2, "colour", "not a field"},
		{3, "", "malformed JSON"},
		{4, "", "malformed JSON"},
		{5, "external_id", "row 1 too"},
		{6, "channel", `"shop"`},
		{7, "placed_at", "RFC 3339"},
		{7, "lines[1].sku", "is required"},
		{8, "", "JSON object"},
	}
	for _, w := range want {
		r := recs[w.i]
		found := false
		for _, e := range r.Errors {
			if e.Row == w.i+1 && e.Field == w.field && strings.Contains(e.Message, w.msg) {
				found = true
			}
		}
		if !found {
			t.Errorf("row %d: want (field %q, ~%q) in %+v", w.i+1, w.field, w.msg, r.Errors)
		}
	}
}

func TestJSONLLineTooLong(t *testing.T) {
	file := `{"external_id":"J-1","currency":"EUR","lines":[{"sku":"A","quantity":1}]}` + "\n" +
		`{"note":"` + strings.Repeat("x", orderimport.MaxLineBytes) + `"}` + "\n"
	_, err := orderimport.ParseJSONL(strings.NewReader(file), "web", now)
	var re *orderimport.RowError
	if !errors.As(err, &re) || re.Row != 2 {
		t.Fatalf("err = %v, want a row 2 error", err)
	}
}

func TestLocateCSV(t *testing.T) {
	recs, err := orderimport.ParseCSV(bytes.NewReader(read(t, "orders.csv")), "web", now)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]struct {
		row   int
		field string
	}{
		"lines[1].sku":                 {3, "sku"},
		"currency":                     {2, "currency"},
		"shipping_address.country":     {2, "ship_country"},
		"customer.email":               {2, "customer_email"},
		"shipping_lines[0].price":      {2, "shipping_price"},
		"fulfilled_at_location":        {2, "fulfilled_at_location"},
		"lines[7].sku":                 {2, "lines[7].sku"},
		"billing_address.line1":        {2, "bill_line1"},
		"tags[1]":                      {2, "tags"},
		"lines[0].quantity":            {2, "quantity"},
		"lines[1].discount":            {3, "discount"},
		"shipping_lines[0].code":       {2, "shipping_code"},
		"shipping_address.postal_code": {2, "ship_postal_code"},
	} {
		row, field := recs[0].Locate(path)
		if row != want.row || field != want.field {
			t.Errorf("Locate(%q) = %d %q, want %d %q", path, row, field, want.row, want.field)
		}
	}
}

// FuzzCSV: no input makes the CSV parser panic, and whatever it accepts is
// either an order that passes validation or a record with errors.
func FuzzCSV(f *testing.F) {
	f.Add(string(read(&testing.T{}, "orders.csv")))
	f.Add("external_id,currency,sku,quantity\nX,EUR,A,1\nX,,B,2\n")
	f.Add("external_id,currency,sku,quantity\n\"X\nY\",EUR,A,1\n")
	f.Add("\ufeffEXTERNAL_ID , currency,sku,quantity,tags\nX,eur,A,-1,a||b\n")
	f.Fuzz(func(t *testing.T, file string) {
		recs, err := orderimport.ParseCSV(strings.NewReader(file), "web", now)
		checkRecords(t, recs, err)
	})
}

// FuzzJSONL: the same for JSON Lines.
func FuzzJSONL(f *testing.F) {
	f.Add(string(read(&testing.T{}, "orders.jsonl")))
	f.Add(`{"external_id":"X","currency":"EUR","lines":[{"sku":"A","quantity":1e400}]}`)
	f.Add(`{"external_id":"X","currency":"EUR","lines":[{"sku":"A","quantity":-1}],"shipping_lines":[{"price":"5"}]}` + "\n{}\n")
	f.Fuzz(func(t *testing.T, file string) {
		recs, err := orderimport.ParseJSONL(strings.NewReader(file), "web", now)
		checkRecords(t, recs, err)
	})
}

func checkRecords(t *testing.T, recs []*orderimport.Record, err error) {
	t.Helper()
	if err != nil {
		var re *orderimport.RowError
		if !errors.As(err, &re) {
			t.Fatalf("file error %T %v is not a *RowError", err, err)
		}
		if recs != nil {
			t.Fatal("a file error must come with no records")
		}
		return
	}
	for _, r := range recs {
		if r.Row < 1 {
			t.Fatalf("record row %d", r.Row)
		}
		for _, e := range r.Errors {
			if e.Row < 1 || e.Message == "" {
				t.Fatalf("bad error %+v", e)
			}
		}
		if r.Errors != nil {
			continue
		}
		if r.Order == nil {
			t.Fatal("a record without errors has no order")
		}
		if err := r.Order.Validate(); err != nil {
			t.Fatalf("accepted an invalid order: %v", err)
		}
		if len(r.LineRows) != len(r.Order.Lines) {
			t.Fatalf("%d line rows for %d lines", len(r.LineRows), len(r.Order.Lines))
		}
	}
}
