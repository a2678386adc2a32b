package httpapi

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/orderly-oms/orderly/orderimport"
)

// importsMatrixRoutes are covered by TestImportsRoleMatrix (the body is a
// file, not JSON).
var importsMatrixRoutes = []string{"POST /api/v1/imports"}

const importCSVBody = `external_id,placed_at,currency,sku,quantity,unit_price
IMP-1,2025-02-28T10:00:00Z,EUR,SKU-1,2,1999
IMP-1,,,SKU-2,1,500
IMP-2,2025-02-28T11:00:00Z,EUR,SKU-1,x,100
IMP-3,2025-02-28T12:00:00Z,EUR,NOPE,1,100
`

func (b *bundle) importFile(t *testing.T, key, query, contentType, body string) *response {
	t.Helper()
	return b.do(t, req{method: "POST", path: "/api/v1/imports" + query, key: key, body: body,
		header: map[string]string{"Content-Type": contentType}})
}

type importResult struct {
	Channel    string `json:"channel"`
	Orders     int    `json:"orders"`
	Created    int    `json:"created"`
	Duplicates int    `json:"duplicates"`
	Failed     int    `json:"failed"`
	Errors     []struct {
		Row        int    `json:"row"`
		ExternalID string `json:"external_id"`
		Field      string `json:"field"`
		Message    string `json:"message"`
	} `json:"errors"`
}

func decodeImport(t *testing.T, r *response) importResult {
	t.Helper()
	var res importResult
	if err := json.Unmarshal(r.body, &res); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return res
}

// TestImportAPI: a CSV file imports its good orders, reports the bad ones
// by row and column, and imports nothing more when sent again; JSON Lines
// and multipart forms work the same.
func TestImportAPI(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		res := decodeImport(t, b.importFile(t, "admin", "?channel=web", "text/csv", importCSVBody).want(t, 200))
		if res.Orders != 3 || res.Created != 1 || res.Failed != 2 || len(res.Errors) != 2 ||
			res.Errors[0].Row != 4 || res.Errors[0].Field != "quantity" || res.Errors[0].ExternalID != "IMP-2" ||
			res.Errors[1].Row != 5 || res.Errors[1].Field != "sku" || !strings.Contains(res.Errors[1].Message, "NOPE") {
			t.Fatalf("result %+v", res)
		}
		o := b.get(t, "admin", "/api/v1/orders?q=IMP-1").want(t, 200).json(t)
		items := o["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("orders %v", items)
		}
		got := items[0].(map[string]any)
		if got["policy"] == nil || got["totals"].(map[string]any)["total"] != float64(2*1999+500) {
			t.Errorf("imported order %v", got)
		}
		again := decodeImport(t, b.importFile(t, "admin", "?channel=web", "text/csv; charset=utf-8", importCSVBody).want(t, 200))
		if again.Created != 0 || again.Duplicates != 1 || again.Failed != 2 {
			t.Errorf("second run %+v", again)
		}

		jsonl := `{"external_id":"IMPJ-1","currency":"EUR","lines":[{"sku":"SKU-1","quantity":1,"unit_price":100}]}` + "\n" +
			`{"external_id":"IMPJ-2","currency":"EUR","lines":[{"sku":"SKU-1","quantity":0}]}` + "\n"
		res = decodeImport(t, b.importFile(t, "channel", "?channel=web", "application/x-ndjson", jsonl).want(t, 200))
		if res.Created != 1 || res.Failed != 1 || res.Errors[0].Row != 2 || res.Errors[0].Field != "lines[0].quantity" {
			t.Errorf("jsonl result %+v", res)
		}

		// multipart: the file part and a channel field.
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		_ = mw.WriteField("channel", "market")
		fw, _ := mw.CreateFormFile("file", "orders.csv")
		_, _ = fw.Write([]byte(strings.ReplaceAll(importCSVBody, "IMP-", "MP-")))
		_ = mw.Close()
		res = decodeImport(t, b.importFile(t, "admin", "", mw.FormDataContentType(), form.String()).want(t, 200))
		if res.Channel != "market" || res.Created != 1 || res.Failed != 2 {
			t.Errorf("multipart result %+v", res)
		}
		if n := b.countOrders(t); n != 3 {
			t.Errorf("%d orders stored, want 3", n)
		}
	})
}

// TestImportAPIRefusals: what cannot be imported is a clear 4xx and
// nothing is stored.
func TestImportAPIRefusals(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.importFile(t, "admin", "", "text/csv", importCSVBody).wantProblem(t, 422, "channel")
		b.importFile(t, "admin", "?channel=nope", "text/csv", importCSVBody).wantProblem(t, 422, "channel")
		b.importFile(t, "admin", "?channel=web", "application/json", importCSVBody).wantProblem(t, 415, "")
		b.importFile(t, "admin", "?channel=web&format=xml", "text/csv", importCSVBody).wantProblem(t, 422, "format")
		b.importFile(t, "admin", "?channel=web&colour=red", "text/csv", importCSVBody).wantProblem(t, 400, "")
		b.importFile(t, "admin", "?channel=web", "text/csv", "external_id,currency,sku,quantity,colour\nX,EUR,SKU-1,1,red\n").
			wantProblem(t, 422, "row 1 colour")
		b.importFile(t, "admin", "?channel=web", "text/csv", "external_id,currency,sku,quantity\nX,EUR,\"SKU-1,1\n").
			wantProblem(t, 422, "row 2")
		big := "external_id,currency,sku,quantity\n" + strings.Repeat("BIG-1,EUR,SKU-1,1\n", maxImportBytes/18+1)
		b.importFile(t, "admin", "?channel=web", "text/csv", big).wantProblem(t, 413, "")
		// A channel key imports into its own channel only.
		b.importFile(t, "channel", "?channel=market", "text/csv", importCSVBody).wantProblem(t, 403, "")
		if n := b.countOrders(t); n != 0 {
			t.Errorf("%d orders stored, want none", n)
		}
	})
}

// TestImportsRoleMatrix: the roles that may create orders may import them.
func TestImportsRoleMatrix(t *testing.T) {
	t.Parallel()
	allowed := map[string]bool{"admin": true, "agent": true, "channel": true}
	each(t, func(t *testing.T, b *bundle) {
		for _, role := range roleNames {
			body := "external_id,currency,sku,quantity\nRM-" + role + ",EUR,SKU-1,1\n"
			res := b.importFile(t, role, "?channel=web", "text/csv", body)
			if allowed[role] {
				if r := decodeImport(t, res.want(t, 200)); r.Created != 1 {
					t.Errorf("%s: %+v", role, r)
				}
			} else {
				res.wantProblem(t, http.StatusForbidden, "")
			}
		}
	})
}

// TestPOSOrderAPI: an order with fulfilled_at_location is captured already
// delivered from that store, with its policy and financial status; a bad
// location is a 422 naming the field.
func TestPOSOrderAPI(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.post(t, "admin", "/api/v1/channels", `{"code":"till","kind":"pos","name":"Tills","policy":{"return_window_days":14,"refunds":"merchant","may_email_customer":false}}`).want(t, 201)
		b.post(t, "admin", "/api/v1/locations", `{"code":"shop1","kind":"store","name":"Shop"}`).want(t, 201)
		b.post(t, "admin", "/api/v1/inventory/adjustments", `{"location":"shop1","sku":"SKU-1","delta":10,"reason":"receive"}`).want(t, 201)
		b.post(t, "admin", "/api/v1/inventory/adjustments", `{"location":"shop1","sku":"SKU-2","delta":10,"reason":"receive"}`).want(t, 201)
		body := strings.Replace(orderBody("till", "POS-1"), `"note"`, `"fulfilled_at_location":"shop1","note"`, 1)
		o := b.post(t, "admin", "/api/v1/orders", body).want(t, 201).json(t)
		if o["status"] != "delivered" || o["financial_status"] != "paid" || o["payment_status"] != "paid" || o["fulfilment_status"] != "delivered" {
			t.Errorf("order %v", o)
		}
		wantPolicy := map[string]any{"cancellation_window_minutes": float64(0), "return_window_days": float64(14),
			"partial_cancellation": true, "refunds": "merchant", "confirm_shipment_within_hours": float64(0), "may_email_customer": false}
		if !reflect.DeepEqual(o["policy"], wantPolicy) {
			t.Errorf("policy %v", o["policy"])
		}
		detail := b.get(t, "admin", "/api/v1/orders/"+o["id"].(string)).want(t, 200).json(t)
		if len(detail["allocations"].([]any)) != 0 || len(detail["shipments"].([]any)) != 1 || len(detail["fulfilment_orders"].([]any)) != 1 {
			t.Errorf("detail %v", detail)
		}
		bal := b.get(t, "admin", "/api/v1/inventory?location=shop1&sku=SKU-1").want(t, 200).json(t)
		if items := bal["items"].([]any); len(items) != 1 || items[0].(map[string]any)["on_hand"] != float64(8) {
			t.Errorf("balance %v", bal)
		}
		b.post(t, "admin", "/api/v1/orders", strings.Replace(body, "POS-1", "POS-2", 1)).want(t, 201)
		b.post(t, "admin", "/api/v1/orders", strings.Replace(strings.Replace(body, "POS-1", "POS-3", 1), `"shop1"`, `"nowhere"`, 1)).
			wantProblem(t, 422, "fulfilled_at_location")
		b.post(t, "admin", "/api/v1/orders", strings.Replace(orderBody("web", "POS-4"), `"note"`, `"fulfilled_at_location":"shop1","note"`, 1)).
			wantProblem(t, 422, "fulfilled_at_location")
	})
}

// TestImportJSONLIsTheAPIShape: a POST /api/v1/orders body, on one line,
// is a JSON Lines row that reads as the same order.
func TestImportJSONLIsTheAPIShape(t *testing.T) {
	t.Parallel()
	body := strings.Replace(orderBody(chWeb, "SHAPE-1"), `"note"`, `"strict":false,"fulfilled_at_location":"","note"`, 1)
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(body)); err != nil {
		t.Fatal(err)
	}
	want, _, err := decodeOrderRequest(compact.Bytes(), t0)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := orderimport.ParseJSONL(&compact, chWeb, t0)
	if err != nil || len(recs) != 1 || recs[0].Errors != nil {
		t.Fatalf("records %+v, err %v", recs, err)
	}
	if !reflect.DeepEqual(recs[0].Order, want) {
		t.Errorf("JSON Lines read\n%+v\nthe API read\n%+v", recs[0].Order, want)
	}
}
