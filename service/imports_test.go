package service_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/orderimport"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

const importCSV = `external_id,placed_at,currency,customer_name,ship_line1,ship_city,ship_country,sku,quantity,unit_price,tax
I-1,2026-11-01T10:00:00Z,EUR,Ada,1 Main St,Leeds,GB,A,2,1000,400
I-1,,,,,,,B,1,550,0
I-2,2026-11-01T11:00:00Z,EUR,Grace,2 High St,York,GB,C,3,200,0
I-3,2026-11-01T12:00:00Z,EUR,Bad,3 Low St,Hull,GB,A,1,100,0
I-3,,,,,,,B,lots,100,0
I-4,2026-11-01T13:00:00Z,EUR,Unknown,4 Side St,Bath,GB,A,1,100,0
I-4,,,,,,,NOPE,1,100,0
`

func importFile(t *testing.T, b bundle, p auth.Principal, f orderimport.Format, channel, file string) *service.ImportResult {
	t.Helper()
	recs, err := orderimport.Parse(strings.NewReader(file), f, channel, b.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var calls int
	res, err := b.svc.ImportOrders(context.Background(), p, channel, recs, func(done, total int) {
		calls++
		if done != calls || total != len(recs) {
			t.Errorf("progress %d/%d at call %d", done, total, calls)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != len(recs) {
		t.Errorf("progress called %d times for %d orders", calls, len(recs))
	}
	return res
}

// TestImportCSV: good orders are captured through the normal path
// (reserved, policy copied); an order with a bad row, or a row capture
// refuses, is not imported at all and is reported at its row and column;
// importing the file again creates nothing.
func TestImportCSV(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setup(t, st)
		ctx := context.Background()
		res := importFile(t, b, admin, orderimport.FormatCSV, "web", importCSV)
		wantErrs := []orderimport.RowError{
			{Row: 6, ExternalID: "I-3", Field: "quantity", Message: `"lots" is not a whole number (units)`},
			{Row: 8, ExternalID: "I-4", Field: "sku", Message: `unknown SKU "NOPE"`},
		}
		if res.Orders != 4 || res.Created != 2 || res.Duplicates != 0 || res.Failed != 2 || !reflect.DeepEqual(res.Errors, wantErrs) {
			t.Fatalf("result %+v", res)
		}
		o, err := st.OrderGetByExternalID(ctx, "web", "I-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Lines) != 2 || o.Lines[0].Allocated != 2 || o.Lines[1].Allocated != 1 || o.Status != order.StatusOpen ||
			o.Policy == nil || o.Totals.Total != 2950 || !o.PlacedAt.Equal(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("imported order %+v", o)
		}
		wantBalance(t, st, "wh1", "A", 1000, 2)
		for _, id := range []string{"I-3", "I-4"} {
			if _, err := st.OrderGetByExternalID(ctx, "web", id); err == nil {
				t.Errorf("%s was imported", id)
			}
		}
		// Again: nothing new.
		again := importFile(t, b, admin, orderimport.FormatCSV, "web", importCSV)
		if again.Created != 0 || again.Duplicates != 2 || again.Failed != 2 || !reflect.DeepEqual(again.Errors, wantErrs) {
			t.Errorf("second run %+v", again)
		}
		wantBalance(t, st, "wh1", "A", 1000, 2)
		list, _, err := b.svc.ListOrders(ctx, admin, store.OrderListParams{Channel: "web"})
		if err != nil || len(list) != 2 {
			t.Errorf("%d orders, err %v; want 2", len(list), err)
		}
	})
}

// TestImportJSONL: the same through JSON Lines, with a point-of-sale order
// fulfilled at a store, and the channel scope of a channel key.
func TestImportJSONL(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := posSetup(t, st)
		ctx := context.Background()
		file := `{"external_id":"J-1","currency":"EUR","lines":[{"sku":"A","quantity":1,"unit_price":100}],"fulfilled_at_location":"store1"}
{"external_id":"J-2","currency":"EUR","lines":[{"sku":"A","quantity":1,"unit_price":100}],"fulfilled_at_location":"closed"}
{"external_id":"J-3","currency":"EUR","lines":[{"sku":"B","quantity":2}],"fulfilled_at_location":"store1","note":7}
`
		res := importFile(t, b, admin, orderimport.FormatJSONL, "till", file)
		wantErrs := []orderimport.RowError{
			{Row: 2, ExternalID: "J-2", Field: "fulfilled_at_location", Message: `location "closed" is not active`},
			{Row: 3, Field: "note", Message: "must be a JSON string"},
		}
		if res.Created != 1 || res.Failed != 2 || !reflect.DeepEqual(res.Errors, wantErrs) {
			t.Fatalf("result %+v", res)
		}
		o, err := st.OrderGetByExternalID(ctx, "till", "J-1")
		if err != nil || o.Status != order.StatusDelivered {
			t.Fatalf("J-1: %+v %v", o, err)
		}
		wantBalance(t, st, "store1", "A", 4, 0)
		wantBalance(t, st, "store1", "B", 5, 0)
		again := importFile(t, b, admin, orderimport.FormatJSONL, "till", file)
		if again.Created != 0 || again.Duplicates != 1 || again.Failed != 2 {
			t.Errorf("second run %+v", again)
		}
		wantBalance(t, st, "store1", "A", 4, 0)

		// A channel key imports into its own channel only.
		recs, _ := orderimport.Parse(strings.NewReader(file), orderimport.FormatJSONL, "till", b.clock.Now())
		if _, err := b.svc.ImportOrders(ctx, webKey, "till", recs, nil); err == nil {
			t.Error("the web key imported into till")
		}
		if _, err := b.svc.ImportOrders(ctx, admin, "nope", recs, nil); err == nil {
			t.Error("imported into an unknown channel")
		} else {
			assertField(t, err, "channel")
		}
	})
}
