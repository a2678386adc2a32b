package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestOpenAPIDocument checks the served document: valid OpenAPI 3.1, every
// route of the table documented with its security, parameters and error
// responses, and every documented operation actually served.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		res := b.get(t, "", "/api/v1/openapi.json").want(t, http.StatusOK)
		var raw map[string]any
		if err := json.Unmarshal(res.body, &raw); err != nil {
			t.Fatalf("document is not JSON: %v", err)
		}
		if raw["openapi"] != "3.1.0" {
			t.Fatalf("openapi = %v, want 3.1.0", raw["openapi"])
		}
		doc, err := openapi3.NewLoader().LoadFromData(res.body)
		if err != nil {
			t.Fatal(err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Fatalf("document is not valid OpenAPI: %v", err)
		}
		if doc.Components.SecuritySchemes["bearer"] == nil || doc.Components.Schemas["Problem"] == nil {
			t.Error("bearer security scheme or Problem schema missing")
		}

		ops := map[string]bool{}
		for _, rt := range b.api.routes() {
			item := doc.Paths.Find(rt.path)
			if item == nil || item.GetOperation(rt.method) == nil {
				t.Errorf("%s is not documented", rt.pattern())
				continue
			}
			op := item.GetOperation(rt.method)
			if ops[op.OperationID] {
				t.Errorf("operationId %s used twice", op.OperationID)
			}
			ops[op.OperationID] = true
			if op.Summary == "" {
				t.Errorf("%s has no summary", rt.pattern())
			}
			public := op.Security != nil && len(*op.Security) == 0
			if public != rt.public {
				t.Errorf("%s: documented as public=%v, is public=%v", rt.pattern(), public, rt.public)
			}
			if !rt.public && (op.Responses.Status(401) == nil || op.Responses.Status(403) == nil) {
				t.Errorf("%s: 401 and 403 not documented", rt.pattern())
			}
			if rt.mutating() {
				for _, s := range []int{400, 413, 415, 422} {
					if op.Responses.Status(s) == nil {
						t.Errorf("%s: %d not documented", rt.pattern(), s)
					}
				}
				if op.RequestBody == nil {
					t.Errorf("%s: no request body documented", rt.pattern())
				}
				// A route reading its raw body (imports) is idempotent by its
				// data instead; one whose answer carries a secret (a new key)
				// refuses the header, and must not document it.
				documented := op.Parameters.GetByInAndName("header", "Idempotency-Key") != nil
				if !rt.public && len(rt.bodyTypes) == 0 && documented == rt.secretResponse {
					t.Errorf("%s: Idempotency-Key documented %v, secret answer %v", rt.pattern(), documented, rt.secretResponse)
				}
			}
			if strings.Contains(rt.path, "{") && op.Responses.Status(404) == nil {
				t.Errorf("%s: 404 not documented", rt.pattern())
			}
			for _, q := range rt.query {
				if op.Parameters.GetByInAndName("query", q.name) == nil {
					t.Errorf("%s: query parameter %s not documented", rt.pattern(), q.name)
				}
			}
		}

		// The other way round: every documented operation is served. Without
		// a key, an /api/v1 route answers 401 (an unmatched one would be a
		// 404 or 405); the public ones answer 200.
		count := 0
		for path, item := range doc.Paths.Map() {
			for method := range item.Operations() {
				count++
				concrete := pathParamRE.ReplaceAllString(path, "x")
				res := b.do(t, req{method: method, path: concrete, body: "{}"})
				want := http.StatusUnauthorized
				if strings.HasPrefix(path, "/api/v1/openapi") || !strings.HasPrefix(path, "/api/") {
					want = http.StatusOK
				}
				if strings.HasPrefix(path, "/webhooks/") {
					want = http.StatusNotFound // no channel x
				}
				if strings.HasPrefix(path, "/webhooks/easypost/") {
					want = http.StatusUnauthorized // no secret configured, no signature
				}
				if res.status != want {
					t.Errorf("%s %s: status %d, want %d", method, concrete, res.status, want)
				}
			}
		}
		if count != len(b.api.routes()) {
			t.Errorf("%d documented operations, %d routes", count, len(b.api.routes()))
		}
	})
}

// TestSchemaGenerator pins the generator's rules on the order types.
func TestSchemaGenerator(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	if err := json.Unmarshal(mustMarshalOpenAPI((&api{metrics: &httpMetrics{}}).routes(), "x"), &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	get := func(name string) map[string]any {
		s, ok := schemas[name].(map[string]any)
		if !ok {
			t.Fatalf("no schema %s; have %v", name, keys(schemas))
		}
		return s
	}
	props := func(name string) map[string]any { return get(name)["properties"].(map[string]any) }

	// The order view flattens the embedded order and adds derived statuses.
	order := props("Order")
	for _, f := range []string{"id", "number", "lines", "totals", "fulfilment_status", "payment_status"} {
		if order[f] == nil {
			t.Errorf("Order has no %s", f)
		}
	}
	if props("OrderDetail")["timeline"] == nil {
		t.Error("OrderDetail has no timeline")
	}
	// Amounts in requests are integers, whatever the decoder accepts.
	if typ := props("LineRequest")["unit_price"].(map[string]any)["type"]; typ != "integer" {
		t.Errorf("LineRequest.unit_price type %v", typ)
	}
	// Required: tagged fields in requests; non-omitempty ones in responses.
	if req := get("OrderRequest")["required"]; jsonString(req) != `["channel","currency","external_id","lines"]` {
		t.Errorf("OrderRequest required %v", req)
	}
	if hold := jsonString(get("Order")["required"]); strings.Contains(hold, `"hold"`) || !strings.Contains(hold, `"status"`) {
		t.Errorf("Order required %v", hold)
	}
	// The secret is write-only: accepted, never in a response schema.
	if props("ChannelRequest")["secret"].(map[string]any)["writeOnly"] != true {
		t.Error("ChannelRequest.secret is not writeOnly")
	}
	if _, ok := schemas["AddressInput"]; ok {
		t.Error("Address has two schemas though requests and responses agree on it")
	}
	get("SKURequest")
	if props("Channel")["secret"] != nil {
		t.Error("Channel schema has a secret")
	}
	// PATCH lat/lon take null; next_cursor may be null.
	if typ := jsonString(props("LocationPatchRequest")["lat"].(map[string]any)["type"]); typ != `["number","null"]` {
		t.Errorf("LocationPatchRequest.lat type %s", typ)
	}
	if typ := jsonString(props("OrderList")["next_cursor"].(map[string]any)["type"]); typ != `["string","null"]` {
		t.Errorf("OrderList.next_cursor type %s", typ)
	}
	if enum := jsonString(props("Order")["status"].(map[string]any)["enum"]); !strings.Contains(enum, `"on_hold"`) {
		t.Errorf("Order.status enum %s", enum)
	}

	// Inventory: a balance flattens the stored one and adds available; an
	// adjustment offers only the client reasons, a movement shows them all.
	if req := jsonString(get("Balance")["required"]); !strings.Contains(req, `"available"`) || !strings.Contains(req, `"on_hand"`) {
		t.Errorf("Balance required %s", req)
	}
	if enum := jsonString(props("AdjustmentRequest")["reason"].(map[string]any)["enum"]); strings.Contains(enum, `"count"`) || !strings.Contains(enum, `"receive"`) {
		t.Errorf("AdjustmentRequest.reason enum %s", enum)
	}
	if enum := jsonString(props("Movement")["reason"].(map[string]any)["enum"]); !strings.Contains(enum, `"reserve"`) {
		t.Errorf("Movement.reason enum %s", enum)
	}
	if props("DriftLine")["correction"] == nil || props("OrderDetail")["allocations"] == nil || props("OrderRequest")["strict"] == nil {
		t.Error("DriftLine.correction, OrderDetail.allocations or OrderRequest.strict missing")
	}
	if _, has := props("ReportSummary")["lines"]; has {
		t.Error("a listed report has lines")
	}
	if typ := props("ChannelPatchRequest")["locations"].(map[string]any)["type"]; typ != "array" {
		t.Errorf("ChannelPatchRequest.locations type %v", typ)
	}
	// The repeatable sku parameter is an exploded array.
	for _, prm := range doc["paths"].(map[string]any)["/api/v1/availability"].(map[string]any)["get"].(map[string]any)["parameters"].([]any) {
		if m := prm.(map[string]any); m["name"] == "sku" && (m["explode"] != true || m["schema"].(map[string]any)["type"] != "array") {
			t.Errorf("availability sku parameter %v", m)
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// genInner is used in a request and a response with different required
// fields; genSame has the same schema in both.
type genInner struct {
	A string `json:"a"`
	B string `json:"b,omitempty" openapi:"required"`
}

type genSame struct {
	A string `json:"a,omitempty"`
}

type genOuter struct {
	Inner genInner `json:"inner"`
	Same  genSame  `json:"same"`
}

func TestSchemaGeneratorContexts(t *testing.T) {
	t.Parallel()
	g := newSchemaGen()
	g.schema(reflect.TypeFor[genOuter](), false)
	g.schema(reflect.TypeFor[genOuter](), true)
	var names []string
	for n := range g.schemas {
		names = append(names, n)
	}
	slices.Sort(names)
	if got := strings.Join(names, " "); got != "GenInner GenInnerInput GenOuter GenOuterInput GenSame" {
		t.Errorf("components %s", got)
	}
	if req := jsonString(g.schemas["GenInner"].(map[string]any)["required"]); req != `["a"]` {
		t.Errorf("response required %s", req)
	}
	if req := jsonString(g.schemas["GenInnerInput"].(map[string]any)["required"]); req != `["b"]` {
		t.Errorf("request required %s", req)
	}
}
