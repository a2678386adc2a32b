package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
)

// The OpenAPI 3.1 document is generated from the route table and from the
// Go types the handlers decode and encode, by reflection, so that it cannot
// drift from the code. Schemas follow encoding/json's rules (json tags,
// omitempty, embedded structs); a few struct tags on this package's request
// types add what reflection cannot see:
//
//	openapi:"required"  the field must be sent
//	doc:"…"             the field's description
//	format:"date-time"  the string's format
//	writeOnly:"true"    accepted, never returned (secrets)
//
// In a response type every field without omitempty is required, since the
// encoder always writes it. A pointer field without omitempty may be null.

// schemaProvider is implemented by types whose JSON form reflection cannot
// see (number, nullable).
type schemaProvider interface {
	openapiSchema(g *schemaGen) map[string]any
}

func (number) openapiSchema(*schemaGen) map[string]any {
	return map[string]any{"type": "integer", "format": "int64"}
}

func (nullable[T]) openapiSchema(g *schemaGen) map[string]any {
	s := g.schema(reflect.TypeFor[T](), true)
	if t, ok := s["type"].(string); ok {
		s["type"] = []any{t, "null"}
		return s
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// enums lists the values of the closed string types.
var enums = map[reflect.Type][]string{
	reflect.TypeFor[order.Status]():           strs(order.Statuses),
	reflect.TypeFor[channel.Kind]():           strs(channel.Kinds),
	reflect.TypeFor[inventory.LocationKind](): {string(inventory.LocationWarehouse), string(inventory.LocationStore), string(inventory.LocationDropship)},
	reflect.TypeFor[auth.Role]():              strs(auth.Roles),
	reflect.TypeFor[order.FulfilmentStatus](): {string(order.FulfilmentUnfulfilled), string(order.FulfilmentPartial),
		string(order.FulfilmentFulfilled), string(order.FulfilmentDelivered), string(order.FulfilmentNone)},
	reflect.TypeFor[inventory.Reason](): {string(inventory.ReasonReceive), string(inventory.ReasonAdjust), string(inventory.ReasonDamage),
		string(inventory.ReasonCount), string(inventory.ReasonReserve), string(inventory.ReasonRelease), string(inventory.ReasonShip),
		string(inventory.ReasonReturn), string(inventory.ReasonTransferIn), string(inventory.ReasonTransferOut)},
	reflect.TypeFor[adjustmentReason]():       strs(inventory.AdjustmentReasons),
	reflect.TypeFor[inventory.SnapshotMode](): {string(inventory.SnapshotFull), string(inventory.SnapshotPartial)},
	reflect.TypeFor[inventory.Cause](): {string(inventory.CauseNone), string(inventory.CauseMovementsAfterCount),
		string(inventory.CauseUnreleasedReservations), string(inventory.CauseMissingFromSnapshot),
		string(inventory.CauseUnknownToOrderly), string(inventory.CauseUnknownSKU), string(inventory.CauseUnexplained)},
	reflect.TypeFor[fulfilment.Status]():         strs(fulfilment.Statuses),
	reflect.TypeFor[fulfilment.RejectReason]():   strs(fulfilment.RejectReasons),
	reflect.TypeFor[fulfilment.TrackingStatus](): strs(fulfilment.TrackingStatuses),
	reflect.TypeFor[order.PaymentStatus](): {string(order.PaymentUnpaid), string(order.PaymentAuthorized),
		string(order.PaymentPartiallyPaid), string(order.PaymentPaid), string(order.PaymentPartiallyRefunded), string(order.PaymentRefunded)},
}

func strs[S ~string](v []S) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = string(s)
	}
	return out
}

// fieldDocs describes fields of types outside this package, whose doc
// comments reflection cannot read. Keys are "TypeName.json_name".
var fieldDocs = map[string]string{
	"Order.id":                       "Internal id (UUIDv7).",
	"Order.number":                   "Human order number, unique and sequential from 1001.",
	"Order.external_id":              "The channel's own id for the order.",
	"Order.currency":                 "ISO 4217 code; every amount of the order is in its minor units.",
	"Order.totals":                   "Computed by Orderly from the lines, never taken from the client.",
	"Order.version":                  "Increases by one with every change.",
	"Line.quantity":                  "Units ordered.",
	"Line.unit_price":                "Price of one unit before discount and tax, in minor units.",
	"Line.discount":                  "Discount on the whole line, in minor units.",
	"Line.tax":                       "Tax on the whole line, in minor units.",
	"Line.cancelled":                 "Units cancelled.",
	"Line.allocated":                 "Units reserved at a location.",
	"Line.backordered":               "Units waiting for stock.",
	"Line.shipped":                   "Units shipped.",
	"Line.delivered":                 "Units delivered.",
	"Line.returned":                  "Units returned.",
	"ShippingLine.price":             "In minor units.",
	"Totals.subtotal":                "Sum of quantity × unit_price, in minor units.",
	"Totals.total":                   "subtotal − discount_total + shipping_total + tax_total, in minor units.",
	"Hold.previous":                  "The status the order returns to when released.",
	"Address.country":                "ISO 3166-1 alpha-2 code, upper case.",
	"Channel.has_secret":             "Whether a webhook secret is set. The secret itself is never returned.",
	"Event.actor":                    `Who caused the change: "key:<name>", "user:<email>" or "system".`,
	"Event.data":                     "The event's payload; its shape depends on type.",
	"FieldError.field":               "JSON path of the field as the client sent it, e.g. lines[2].quantity.",
	"Location.active":                "Whether the location may be routed to.",
	"SKU.weight_grams":               "Shipping weight of one unit.",
	"Policy.return_window_days":      "Days after delivery a return may be requested; 0 means no returns.",
	"Channel.locations":              "Codes of the locations whose stock the channel sells; empty means every active location.",
	"Balance.on_hand":                "Units physically at the location.",
	"Balance.reserved":               "Units claimed by open orders and not yet shipped. May exceed on_hand after a count found less.",
	"Balance.safety_stock":           "Units held back from what is promised.",
	"Movement.seq":                   "Orders the ledger.",
	"Movement.delta_on_hand":         "Signed change of on hand.",
	"Movement.delta_reserved":        "Signed change of reserved.",
	"Movement.reference":             `What caused the movement: "order:<id>", "reconciliation:<id>", or the client's own reference.`,
	"DriftLine.expected":             "Orderly's on hand when the snapshot arrived.",
	"DriftLine.counted":              "The snapshot's figure (0 for a SKU a full snapshot left out).",
	"DriftLine.drift":                "counted − expected.",
	"DriftLine.moved_since_count":    "Net on-hand change Orderly recorded at or after counted_at (0 without it).",
	"DriftLine.cause":                "The likely explanation of the drift.",
	"SKUAvailability.available":      "Sum over the locations that feed the channel (every active location without one).",
	"LocationAvailability.available": "on_hand − reserved − safety_stock, never below zero.",
}

// schemaGen builds JSON Schemas for Go types and collects the named ones
// as components.
type schemaGen struct {
	schemas map[string]any
	names   map[schemaKey]string
	taken   map[string]reflect.Type
}

// schemaKey is a struct type in a request or a response: the two differ in
// which fields are required.
type schemaKey struct {
	t       reflect.Type
	request bool
}

func newSchemaGen() *schemaGen {
	return &schemaGen{schemas: map[string]any{}, names: map[schemaKey]string{}, taken: map[string]reflect.Type{}}
}

// schema returns the JSON Schema of values of type t. request selects the
// rule for required fields: only those tagged openapi:"required" (a
// request), or every field without omitempty (a response).
func (g *schemaGen) schema(t reflect.Type, request bool) map[string]any {
	if p, ok := reflect.Zero(t).Interface().(schemaProvider); ok {
		return p.openapiSchema(g)
	}
	if vals, ok := enums[t]; ok {
		e := make([]any, len(vals))
		for i, v := range vals {
			e[i] = v
		}
		return map[string]any{"type": "string", "enum": e}
	}
	switch t {
	case reflect.TypeFor[time.Time]():
		return map[string]any{"type": "string", "format": "date-time"}
	case reflect.TypeFor[json.RawMessage]():
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.schema(t.Elem(), request)
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem(), request)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem(), request)}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		return g.structRef(t, request)
	}
	panic(fmt.Sprintf("httpapi: no JSON Schema for %s", t))
}

// structRef builds (once) the component schema of struct type t and returns
// a reference to it.
func (g *schemaGen) structRef(t reflect.Type, request bool) map[string]any {
	k := schemaKey{t, request}
	name, ok := g.names[k]
	if !ok {
		name = g.nameFor(t)
		if _, used := g.schemas[name]; used {
			// t is used in both requests and responses: give this side
			// its own name, and drop it below if the schemas agree.
			if request {
				name += "Input"
			} else {
				name += "Output"
			}
		}
		g.names[k] = name
		g.schemas[name] = nil // reserve the name: t may refer to itself
		obj := g.object(t, request)
		g.schemas[name] = obj
		if other := g.names[schemaKey{t, !request}]; other != "" && other != name && reflect.DeepEqual(g.schemas[other], obj) {
			delete(g.schemas, name)
			g.names[k], name = other, other
		}
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// nameFor picks a component name: the type's name, capitalised, without a
// "View" suffix (orderView is the API's Order), and prefixed with its
// package's name if another type has the name already. The same type
// always gets the same name.
func (g *schemaGen) nameFor(t reflect.Type) string {
	name := strings.TrimSuffix(t.Name(), "View")
	if name == "" {
		panic(fmt.Sprintf("httpapi: anonymous struct %s has no schema name", t))
	}
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	name = string(r)
	if rest, ok := strings.CutPrefix(name, "Sku"); ok {
		name = "SKU" + rest // skuRequest is the API's SKURequest
	}
	if other, ok := g.taken[name]; ok && other != t {
		pkg := t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:]
		name = strings.ToUpper(pkg[:1]) + pkg[1:] + name
	}
	g.taken[name] = t
	return name
}

// object returns the object schema of struct type t.
func (g *schemaGen) object(t reflect.Type, request bool) map[string]any {
	props := map[string]any{}
	var required []string
	g.fields(t, request, props, &required)
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		sort.Strings(required)
		s["required"] = required
	}
	return s
}

// fields adds t's JSON fields to props, following encoding/json: embedded
// structs without a tag are flattened, and a field of the outer struct
// hides one of the same name in an embedded struct.
func (g *schemaGen) fields(t reflect.Type, request bool, props map[string]any, required *[]string) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := props[name]; dup {
			continue
		}
		omit := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
		s := g.schema(f.Type, request)
		if f.Type.Kind() == reflect.Pointer && !omit {
			s = nullableSchema(s)
		}
		doc := f.Tag.Get("doc")
		if doc == "" {
			doc = fieldDocs[strings.TrimSuffix(t.Name(), "View")+"."+name]
		}
		if doc != "" || f.Tag.Get("format") != "" || f.Tag.Get("writeOnly") != "" {
			s = copySchema(s)
			if doc != "" {
				s["description"] = doc
			}
			if fm := f.Tag.Get("format"); fm != "" {
				s["format"] = fm
			}
			if f.Tag.Get("writeOnly") == "true" {
				s["writeOnly"] = true
			}
		}
		props[name] = s
		if request && f.Tag.Get("openapi") == "required" || !request && !omit {
			*required = append(*required, name)
		}
	}
	for _, et := range embedded {
		g.fields(et, request, props, required)
	}
}

// nullableSchema lets s also be null.
func nullableSchema(s map[string]any) map[string]any {
	if t, ok := s["type"].(string); ok {
		c := copySchema(s)
		c["type"] = []any{t, "null"}
		return c
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

func copySchema(s map[string]any) map[string]any {
	c := make(map[string]any, len(s)+1)
	for k, v := range s {
		c[k] = v
	}
	return c
}

// problemResponses are the error responses, by status, shared by the
// operations as components/responses.
var problemResponses = map[int]struct{ name, about string }{
	400: {"BadRequest", "The request is malformed: not JSON, an unknown field or query parameter, trailing data, a bad Idempotency-Key header."},
	401: {"Unauthorized", "No API key, or an unknown or revoked one; on a webhook, a missing or bad signature."},
	403: {"Forbidden", "The key's role may not do this."},
	404: {"NotFound", "No such resource, or one the key may not see."},
	409: {"Conflict", "The request clashes with the current state (e.g. an invalid status transition, a taken code, not enough stock for a strict order), or a request with the same Idempotency-Key is still in progress."},
	413: {"ContentTooLarge", "The body exceeds 1 MiB."},
	415: {"UnsupportedMediaType", "The body is not application/json."},
	422: {"UnprocessableContent", "The input breaks a rule; errors names each field. Also: an Idempotency-Key reused with a different body."},
	500: {"InternalError", "A fault of ours; the detail is only \"internal error\"."},
	503: {"ServiceUnavailable", "The database is unavailable or busy; retry later."},
}

var pathParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)

// buildOpenAPI returns the OpenAPI document of routes.
func buildOpenAPI(routes []route, version string) map[string]any {
	g := newSchemaGen()
	paths := map[string]any{}
	for _, rt := range routes {
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = operation(g, rt)
	}
	problem := g.schema(reflect.TypeFor[Problem](), false)
	responses := map[string]any{}
	for _, pr := range problemResponses {
		responses[pr.name] = map[string]any{
			"description": pr.about,
			"content":     map[string]any{"application/problem+json": map[string]any{"schema": problem}},
		}
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "Orderly API",
			"version": version,
			"description": "Orderly's JSON API. Authenticate with `Authorization: Bearer <api key>`. " +
				"Money is an integer of minor units of the order's currency (1999 EUR is 19.99 EUR). " +
				"Errors are RFC 9457 problem details. Every POST, PUT and PATCH accepts an Idempotency-Key, but for making an API key (its answer carries the key once). " +
				"Lists page with limit and cursor.",
		},
		"security": []any{map[string]any{"bearer": []any{}}},
		"tags": []any{
			map[string]any{"name": "orders", "description": "Orders: capture, read, hold, release, cancel."},
			map[string]any{"name": "channels", "description": "Sales channels and their policies."},
			map[string]any{"name": "locations", "description": "Warehouses, stores and drop-shippers."},
			map[string]any{"name": "skus", "description": "The catalogue of stock keeping units."},
			map[string]any{"name": "inventory", "description": "Stock: adjustments, counts, balances, the ledger, availability."},
			map[string]any{"name": "reconciliation", "description": "Stock snapshots from a WMS, ERP or POS, and the drift reports they produce."},
			map[string]any{"name": "webhooks", "description": "Inbound webhooks from sales channels, signed with the channel's secret."},
			map[string]any{"name": "integrations", "description": "Outbound webhook subscriptions, their delivery logs, and the background job queue."},
			map[string]any{"name": "keys", "description": "API keys: made, listed and revoked by admin."},
			map[string]any{"name": "operations", "description": "Health, readiness, metrics and this document."},
		},
		"paths": paths,
		"components": map[string]any{
			"schemas":   g.schemas,
			"responses": responses,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer",
					"description": "An API key, created with `orderly keys create`; its role decides what it may do."},
			},
		},
	}
}

// operation returns the OpenAPI operation of rt.
func operation(g *schemaGen, rt route) map[string]any {
	about := rt.about
	if rt.perm != "" {
		var roles []string
		for _, r := range auth.Roles {
			if r.Can(rt.perm) {
				roles = append(roles, string(r))
			}
		}
		note := fmt.Sprintf("Requires permission `%s` (roles: %s).", rt.perm, strings.Join(roles, ", "))
		about = strings.TrimSpace(about + "\n\n" + note)
	}
	op := map[string]any{"operationId": rt.op, "summary": rt.summary, "tags": []any{rt.tag}}
	if about != "" {
		op["description"] = about
	}
	if rt.public {
		op["security"] = []any{} // no key needed
	}

	var params []any
	for _, m := range pathParamRE.FindAllStringSubmatch(rt.path, -1) {
		about, ok := pathParamDocs[rt.op+"."+m[1]]
		if !ok {
			about = pathParamDocs[m[1]]
		}
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true,
			"description": about, "schema": map[string]any{"type": "string"}})
	}
	for _, q := range rt.query {
		param := map[string]any{"name": q.name, "in": "query", "description": q.about, "schema": q.schema}
		if q.schema["type"] == "array" {
			param["style"], param["explode"] = "form", true // ?sku=A&sku=B
		}
		params = append(params, param)
	}
	if rt.mutating() && !rt.public && len(rt.bodyTypes) == 0 && !rt.secretResponse {
		params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header",
			"description": "Makes the request safe to retry: the same key with the same body replays the first response.",
			"schema":      map[string]any{"type": "string", "minLength": 1, "maxLength": maxIdempotencyKey}})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}

	if rt.webhook {
		op["requestBody"] = map[string]any{"required": true, "description": "The platform's payload, exactly as it sent it.",
			"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
	} else if len(rt.bodyTypes) > 0 {
		content := map[string]any{}
		for _, t := range rt.bodyTypes {
			schema := map[string]any{"type": "string"}
			if t == "multipart/form-data" {
				schema = map[string]any{"type": "object", "required": []any{"file"}, "properties": map[string]any{
					"file": map[string]any{"type": "string", "description": "The file."}, "channel": map[string]any{"type": "string"}, "format": map[string]any{"type": "string"}}}
			}
			content[t] = map[string]any{"schema": schema}
		}
		op["requestBody"] = map[string]any{"required": true, "content": content}
	} else if rt.request != nil {
		op["requestBody"] = map[string]any{
			"required": !rt.optionalBody,
			"content":  map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.request), true)}},
		}
	}

	responses := map[string]any{}
	success := func(status int, about string) map[string]any {
		ct := rt.contentType
		if ct == "" {
			ct = "application/json"
		}
		resp := map[string]any{"description": about,
			"content": map[string]any{ct: map[string]any{"schema": g.schema(reflect.TypeOf(rt.response), false)}}}
		headers := map[string]any{}
		if status == http.StatusCreated && rt.locate != "" {
			headers["Location"] = map[string]any{"description": "The new resource's URL path.", "schema": map[string]any{"type": "string"}}
		}
		if rt.mutating() && !rt.public {
			headers["Idempotent-Replayed"] = map[string]any{"description": "true when this is the recorded response of an earlier request with the same Idempotency-Key.",
				"schema": map[string]any{"type": "string", "enum": []any{"true"}}}
		}
		if len(headers) > 0 {
			resp["headers"] = headers
		}
		return resp
	}
	responses[strconv.Itoa(rt.status)] = success(rt.status, http.StatusText(rt.status))
	for status, about := range rt.also {
		responses[strconv.Itoa(status)] = success(status, about)
	}
	errs := []int{500}
	if !rt.public {
		errs = append(errs, 401, 403, 503)
	}
	if rt.webhook {
		errs = append(errs, 401)
	}
	if rt.path == "/readyz" {
		errs = append(errs, 503)
	}
	if len(rt.query) > 0 {
		errs = append(errs, 400, 422)
	}
	if strings.Contains(rt.path, "{") {
		errs = append(errs, 404)
	}
	if rt.mutating() {
		errs = append(errs, 400, 409, 413, 415, 422)
	}
	for _, status := range errs {
		responses[strconv.Itoa(status)] = map[string]any{"$ref": "#/components/responses/" + problemResponses[status].name}
	}
	op["responses"] = responses
	return op
}

// mustMarshalOpenAPI renders the document. It panics on failure, which
// only a change to the route table or the types could cause, and which
// every test run would catch.
func mustMarshalOpenAPI(routes []route, version string) []byte {
	b, err := json.MarshalIndent(buildOpenAPI(routes, version), "", "  ")
	if err != nil {
		panic("httpapi: marshal OpenAPI document: " + err.Error())
	}
	return append(b, '\n')
}
