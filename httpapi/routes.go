package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/routing"
	"github.com/orderly-oms/orderly/service"
)

// route is one endpoint: how it is matched, how it is served, and what the
// OpenAPI document says about it. The document is generated from this
// table, so an endpoint cannot exist without being described.
type route struct {
	method string
	path   string // a net/http pattern path: /api/v1/orders/{id}
	op     string // the OpenAPI operationId
	tag    string
	// summary and about describe the operation.
	summary string
	about   string
	// public routes take no API key. Every other route requires one; what
	// the key's role may do is the service's decision, and perm only
	// documents it.
	public bool
	perm   auth.Permission
	// webhook routes are public and authenticated by a signature over the
	// raw body: the handler reads the body itself (any media type) and
	// there is no Idempotency-Key.
	webhook bool
	// bodyTypes, when set, makes the handler read the raw body itself
	// (of one of these media types, up to its own limit; bulk imports):
	// no JSON body check and no Idempotency-Key (such a route must be
	// idempotent by its data).
	bodyTypes []string
	// request is the zero value of the body type (nil for no body);
	// optionalBody allows an empty body.
	request      any
	optionalBody bool
	// status and response are the success status and body type;
	// contentType overrides application/json.
	status      int
	response    any
	contentType string
	// also lists other success statuses and what they mean.
	also map[int]string
	// query documents the query parameters a list takes.
	query []queryParam
	// locate names the response field holding a created resource's key,
	// from which Location is rebuilt when a 201 is replayed. A 201 without
	// it (an adjustment) sends no Location.
	locate string
	// collection is the path the created resource lives under, when it is
	// not the request's path (a snapshot creates a reconciliation report).
	collection string
	// rerunSafe says that running the request twice changes nothing the
	// first run did not (capture: idempotent on channel + external id).
	// A retry after a crash may then run it again, and get the stored
	// resource, where any other request is answered 409
	// idempotency_response_lost (idempotency.go).
	rerunSafe bool
	// secretResponse says the answer carries a secret that is stored
	// nowhere (a new API key): the route refuses an Idempotency-Key, whose
	// stored answer would keep it.
	secretResponse bool
	handle         func(w http.ResponseWriter, r *http.Request) error
}

// queryParam documents one query parameter.
type queryParam struct {
	name   string
	schema map[string]any
	about  string
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

// mutating reports whether the route takes a body and an Idempotency-Key.
func (rt route) mutating() bool {
	return rt.method == http.MethodPost || rt.method == http.MethodPatch || rt.method == http.MethodPut
}

// createdAt returns the Location of a resource this route created with key.
func (rt route) createdAt(r *http.Request, key string) string {
	collection := rt.collection
	if collection == "" {
		collection = r.URL.Path
	}
	return resourcePath(collection, key)
}

// Query parameters shared by every list.
var (
	limitQuery  = queryParam{"limit", map[string]any{"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, "Page size."}
	cursorQuery = queryParam{"cursor", map[string]any{"type": "string"}, "next_cursor of the previous page, unchanged."}
)

// routes lists the whole HTTP surface.
func (a *api) routes() []route {
	str := func() map[string]any { return map[string]any{"type": "string"} }
	dateTime := func() map[string]any { return map[string]any{"type": "string", "format": "date-time"} }
	statuses := make([]any, len(order.Statuses))
	for i, s := range order.Statuses {
		statuses[i] = s
	}
	return []route{
		// Operations: no key, no customer data.
		{method: "GET", path: "/healthz", op: "health", tag: "operations", public: true,
			summary: "Liveness: the process is up", about: "Always 200 while the process serves requests; it does not touch the database.",
			status: 200, response: healthView{}, handle: a.healthz},
		{method: "GET", path: "/readyz", op: "ready", tag: "operations", public: true,
			summary: "Readiness: the database answers", about: "200 when the database answers a ping within two seconds, else 503. Use it for load-balancer checks.",
			status: 200, response: healthView{}, handle: a.readyz},
		{method: "GET", path: "/metrics", op: "metrics", tag: "operations", public: true,
			summary: "Prometheus metrics", about: "Request counts and latencies by route, orders created by channel, database pool statistics, Go runtime and process metrics. No authentication: the metrics carry no customer data (labels are route patterns, statuses and channel codes).",
			status: 200, contentType: "text/plain", response: "",
			handle: handlerOf(promhttp.HandlerFor(a.metrics.registry, promhttp.HandlerOpts{}))},
		{method: "GET", path: "/api/v1/openapi.json", op: "openapi", tag: "operations", public: true,
			summary: "This API's OpenAPI 3.1 document", about: "Generated from the route table and the Go types at start-up.",
			status: 200, response: map[string]any{}, handle: a.openapiDoc},

		// Orders.
		{method: "POST", path: "/api/v1/orders", op: "createOrder", tag: "orders", perm: auth.PermOrdersCreate,
			summary: "Capture an order",
			about:   "Amounts are integers of minor units of the order's currency. Totals, ids, the number and the status are computed, never taken from the request. Every line's SKU must exist. Idempotent on channel + external_id.",
			request: orderRequest{}, status: 201, response: orderView{}, locate: "id", rerunSafe: true,
			also:   map[int]string{200: "The channel's order was already stored: nothing changed, the stored order is returned."},
			handle: a.createOrder},
		{method: "POST", path: "/api/v1/imports", op: "importOrders", tag: "orders", perm: auth.PermOrdersCreate,
			summary: "Import orders from a CSV or JSON Lines file",
			about: "Synchronous: the answer comes when every order of the file has been tried. The body is the file itself (Content-Type text/csv or application/x-ndjson) " +
				"or a multipart/form-data form with the file in part `file` (its Content-Type or the format field says which format) and optionally `channel` and `format` fields. " +
				"The channel is the `channel` query parameter or form field. At most 4 MiB and 2,000 orders per request; use `orderly import orders` for bigger files. " +
				"Each order is captured in its own transaction as POST /api/v1/orders would; an order with any bad row is not imported at all and its problems are listed (row, field, message); " +
				"an order already stored for the channel's external_id is skipped, so sending the same file again creates nothing (no Idempotency-Key is needed). " +
				"A file that cannot be read as a whole (a bad header, malformed CSV quoting) imports nothing and is a 422 naming the row.",
			bodyTypes: importMediaTypes,
			query: []queryParam{{"channel", str(), "Code of the channel the orders come from (or the form's channel field)."},
				{"format", map[string]any{"type": "string", "enum": []any{"csv", "jsonl"}}, "csv or jsonl; by default from the Content-Type."}},
			status: 200, response: service.ImportResult{}, handle: a.importOrders},
		{method: "GET", path: "/api/v1/orders", op: "listOrders", tag: "orders", perm: auth.PermOrdersRead,
			summary: "List orders, newest first", about: "A channel key sees only its own channel's orders.",
			status: 200, response: orderList{}, handle: a.listOrders,
			query: []queryParam{
				{"channel", str(), "Only this channel's orders."},
				{"status", map[string]any{"type": "string", "enum": statuses}, "Only orders in this status."},
				{"q", str(), "An order number, external id or customer e-mail (exact), or part of the customer's name."},
				{"placed_after", dateTime(), "Only orders placed at or after this RFC 3339 time."},
				{"placed_before", dateTime(), "Only orders placed before this RFC 3339 time."},
				limitQuery, cursorQuery,
			}},
		{method: "GET", path: "/api/v1/orders/{id}", op: "getOrder", tag: "orders", perm: auth.PermOrdersRead,
			summary: "Get an order and its timeline", about: "An order of another channel is, to a channel key, not found.",
			status: 200, response: orderDetailView{}, handle: a.getOrder},
		{method: "POST", path: "/api/v1/orders/{id}/hold", op: "holdOrder", tag: "orders", perm: auth.PermOrdersManage,
			summary: "Put an order on hold", about: "Only a pending, open or partially shipped order can be held; otherwise 409.",
			request: reasonRequest{}, status: 200, response: orderView{}, handle: a.holdOrder},
		{method: "POST", path: "/api/v1/orders/{id}/release", op: "releaseOrder", tag: "orders", perm: auth.PermOrdersManage,
			summary: "Release an order's hold", about: "The order returns to the status it had before the hold. An order not on hold is a 409. The body may be empty or {}.",
			request: emptyRequest{}, optionalBody: true, status: 200, response: orderView{}, handle: a.releaseOrder},
		{method: "POST", path: "/api/v1/orders/{id}/cancel", op: "cancelOrder", tag: "orders", perm: auth.PermOrdersManage,
			summary: "Cancel an order, or some of its units",
			about: "Without lines, the whole order: only a pending, open or on-hold order can be cancelled; otherwise 409. " +
				"With lines, those unshipped units (also of a partially shipped order): their reservations are released and emptied fulfilment orders close; " +
				"the channel's policy must allow partial cancellation and its cancellation window must not have passed, else 409 with code cancellation_policy naming the policy field. " +
				"Orderly tells the channel in a job: a whole cancellation where the connector can cancel orders, some units where it can cancel units (Shopify, WooCommerce; see docs/api.md, Integrations).",
			request: cancelRequest{}, status: 200, response: orderView{}, handle: a.cancelOrder},

		// Fulfilment (fulfilment.go).
		{method: "GET", path: "/api/v1/fulfilment-orders", op: "listFulfilmentOrders", tag: "fulfilment", perm: auth.PermOrdersRead,
			summary: "List fulfilment orders, oldest first",
			about:   "A warehouse key sees its own location's only; a channel key its channel's orders' only.",
			status:  200, response: fulfilmentOrderList{}, handle: a.listFulfilmentOrders,
			query: []queryParam{
				{"location", str(), "Only this location's fulfilment orders."},
				{"status", map[string]any{"type": "string", "enum": strs(fulfilment.Statuses)}, "Only fulfilment orders in this status."},
				limitQuery, cursorQuery,
			}},
		{method: "GET", path: "/api/v1/fulfilment-orders/{id}", op: "getFulfilmentOrder", tag: "fulfilment", perm: auth.PermOrdersRead,
			summary: "Get a fulfilment order", about: "One of another location is, to a warehouse key, not found.",
			status: 200, response: &fulfilment.FulfilmentOrder{}, handle: a.getFulfilmentOrder},
		{method: "POST", path: "/api/v1/fulfilment-orders/{id}/accept", op: "acceptFulfilmentOrder", tag: "fulfilment", perm: auth.PermFulfilmentManage,
			summary: "Accept a requested fulfilment order", about: fulfilmentStepNote,
			request: emptyRequest{}, optionalBody: true, status: 200, response: &fulfilment.FulfilmentOrder{}, handle: a.fulfilmentStep((*service.Service).AcceptFulfilment)},
		{method: "POST", path: "/api/v1/fulfilment-orders/{id}/start-picking", op: "startPicking", tag: "fulfilment", perm: auth.PermFulfilmentManage,
			summary: "Record that picking started (from accepted)", about: fulfilmentStepNote,
			request: emptyRequest{}, optionalBody: true, status: 200, response: &fulfilment.FulfilmentOrder{}, handle: a.fulfilmentStep((*service.Service).StartPicking)},
		{method: "POST", path: "/api/v1/fulfilment-orders/{id}/pack", op: "packFulfilmentOrder", tag: "fulfilment", perm: auth.PermFulfilmentManage,
			summary: "Record that it is packed (from picking)", about: fulfilmentStepNote,
			request: emptyRequest{}, optionalBody: true, status: 200, response: &fulfilment.FulfilmentOrder{}, handle: a.fulfilmentStep((*service.Service).PackFulfilment)},
		{method: "POST", path: "/api/v1/fulfilment-orders/{id}/ship", op: "shipFulfilmentOrder", tag: "fulfilment", perm: auth.PermFulfilmentManage,
			summary: "Ship some or all of a fulfilment order",
			about: "From accepted, picking or packed. Records a shipment and, per line, one ship movement (on_hand −q, reserved −q); the order's shipped counters and status " +
				"(partially_shipped, shipped) follow. Lines left out ship everything open; fewer leave the rest open. An order on hold is a 409 (order_on_hold). " + warehouseNote,
			request: shipRequest{}, status: 201, response: &fulfilment.Shipment{}, locate: "id", collection: shipmentsPath, handle: a.shipFulfilment},
		{method: "POST", path: "/api/v1/fulfilment-orders/{id}/reject", op: "rejectFulfilmentOrder", tag: "fulfilment", perm: auth.PermFulfilmentManage,
			summary: "Refuse some or all of a fulfilment order",
			about: "From requested up to packed. Releases the reservation of the refused units, applies the reason's stock effect (not_found counts the SKU there to 0; damaged moves the units out of on hand), " +
				"and routes them again without this location; what nothing can take is backordered and the order goes on hold (unfillable). " + warehouseNote,
			request: rejectRequest{}, status: 200, response: &fulfilment.FulfilmentOrder{}, handle: a.rejectFulfilment},
		{method: "POST", path: "/api/v1/fulfilment-orders/{id}/rates", op: "fulfilmentRates", tag: "fulfilment", perm: auth.PermFulfilmentManage,
			summary: "Price the open units with the location's carrier",
			about: "Asks the carrier configured for the fulfilment order's location (the location's carrier: table-rate or easypost) what each service would charge " +
				"for one parcel of the open units: weight = Σ SKU weight_grams × open quantity (at least 1 g), from the location's address to the order's shipping address. " +
				"Nothing is stored. A carrier this server has not configured is a 422 naming carrier; a carrier that is down a 503; nothing open a 409. " +
				"The body may be empty or {}. " + warehouseNote,
			request: emptyRequest{}, optionalBody: true, status: 200, response: rateList{}, handle: a.fulfilmentRates},
		{method: "POST", path: "/api/v1/fulfilment-orders/{id}/label", op: "createLabel", tag: "fulfilment", perm: auth.PermFulfilmentManage,
			summary: "Buy a label for the open units",
			about: "Buys a label with one service of the location's carrier for the parcel rates prices, stores it and writes fulfilment.label_created. " +
				"Ship with its tracking_number (POST …/ship); the label itself is at url. An unknown service is a 422 naming service, " +
				"an unconfigured carrier a 422 naming carrier, a carrier that is down a 503, an order on hold a 409 (order_on_hold). " + warehouseNote,
			request: labelRequest{}, status: 201, response: labelView{}, locate: "id", collection: labelsPath, handle: a.createLabel},
		{method: "GET", path: labelsPath + "/{id}", op: "getLabel", tag: "fulfilment", perm: auth.PermOrdersRead,
			summary: "Get a label's PDF",
			about: "The 4×6 in label Orderly made (table-rate), as application/pdf. One the key may not see (as for its fulfilment order), " +
				"or one the carrier keeps (its url is the carrier's), is a 404.",
			status: 200, contentType: "application/pdf", response: "", handle: a.getLabel},
		{method: "GET", path: shipmentsPath + "/{id}", op: "getShipment", tag: "fulfilment", perm: auth.PermOrdersRead,
			summary: "Get a shipment with its tracking events", about: "One of another location is, to a warehouse key, not found.",
			status: 200, response: &fulfilment.Shipment{}, handle: a.getShipment},
		{method: "POST", path: shipmentsPath + "/{id}/events", op: "recordShipmentEvent", tag: "fulfilment", perm: auth.PermFulfilmentManage,
			summary: "Record a tracking event",
			about:   "The status is that of the latest event by time; delivered is final. A repeated event changes nothing. When every line of the order is delivered the order is delivered. " + warehouseNote,
			request: trackingEventRequest{}, status: 200, response: &fulfilment.Shipment{}, handle: a.recordShipmentEvent},

		// Channels.
		{method: "POST", path: "/api/v1/channels", op: "createChannel", tag: "channels", perm: auth.PermReferenceManage,
			summary: "Create a channel", request: channelRequest{}, status: 201, response: &channel.Channel{}, locate: "code", handle: a.createChannel},
		{method: "GET", path: "/api/v1/channels", op: "listChannels", tag: "channels", perm: auth.PermReferenceRead,
			summary: "List channels by code", status: 200, response: channelList{}, query: []queryParam{limitQuery, cursorQuery}, handle: a.listChannels},
		{method: "GET", path: "/api/v1/channels/{code}", op: "getChannel", tag: "channels", perm: auth.PermReferenceRead,
			summary: "Get a channel", status: 200, response: &channel.Channel{}, handle: a.getChannel},
		{method: "PATCH", path: "/api/v1/channels/{code}", op: "updateChannel", tag: "channels", perm: auth.PermReferenceManage,
			summary: "Change a channel", about: "Fields left out stay as they are.",
			request: channelPatchRequest{}, status: 200, response: &channel.Channel{}, handle: a.patchChannel},

		// Locations.
		{method: "POST", path: "/api/v1/locations", op: "createLocation", tag: "locations", perm: auth.PermReferenceManage,
			summary: "Create a location", request: locationRequest{}, status: 201, response: &inventory.Location{}, locate: "code", handle: a.createLocation},
		{method: "GET", path: "/api/v1/locations", op: "listLocations", tag: "locations", perm: auth.PermReferenceRead,
			summary: "List locations by code", status: 200, response: locationList{}, query: []queryParam{limitQuery, cursorQuery}, handle: a.listLocations},
		{method: "GET", path: "/api/v1/locations/{code}", op: "getLocation", tag: "locations", perm: auth.PermReferenceRead,
			summary: "Get a location", status: 200, response: &inventory.Location{}, handle: a.getLocation},
		{method: "PATCH", path: "/api/v1/locations/{code}", op: "updateLocation", tag: "locations", perm: auth.PermReferenceManage,
			summary: "Change a location", about: "Fields left out stay as they are; lat or lon null clears it.",
			request: locationPatchRequest{}, status: 200, response: &inventory.Location{}, handle: a.patchLocation},
		{method: "GET", path: "/api/v1/locations/{code}/sla", op: "getLocationSLA", tag: "locations", perm: auth.PermReferenceRead,
			summary: "A location's fulfilment SLA",
			about:   "How long a fulfilment order may wait at the location before the console's dashboard calls it late; 24 hours unless set.",
			status:  200, response: slaView{}, handle: a.getLocationSLA},
		{method: "PUT", path: "/api/v1/locations/{code}/sla", op: "setLocationSLA", tag: "locations", perm: auth.PermReferenceManage,
			summary: "Set a location's fulfilment SLA",
			about:   "Sets how long a fulfilment order may wait at the location before it is late, with a location.sla_set event.",
			request: slaRequest{}, status: 200, response: slaView{}, handle: a.putLocationSLA},

		// SKUs.
		{method: "POST", path: "/api/v1/skus", op: "createSKU", tag: "skus", perm: auth.PermReferenceManage,
			summary: "Create a SKU", request: skuRequest{}, status: 201, response: &inventory.SKU{}, locate: "sku", handle: a.createSKU},
		{method: "GET", path: "/api/v1/skus", op: "listSKUs", tag: "skus", perm: auth.PermReferenceRead,
			summary: "List SKUs by code", status: 200, response: skuList{}, query: []queryParam{limitQuery, cursorQuery}, handle: a.listSKUs},
		{method: "GET", path: "/api/v1/skus/{sku}", op: "getSKU", tag: "skus", perm: auth.PermReferenceRead,
			summary: "Get a SKU", about: "Percent-encode a SKU code that holds '/' or other reserved characters.",
			status: 200, response: &inventory.SKU{}, handle: a.getSKU},
		{method: "PATCH", path: "/api/v1/skus/{sku}", op: "updateSKU", tag: "skus", perm: auth.PermReferenceManage,
			summary: "Change a SKU", about: "Fields left out stay as they are.",
			request: skuPatchRequest{}, status: 200, response: &inventory.SKU{}, handle: a.patchSKU},

		// Inventory.
		{method: "POST", path: "/api/v1/inventory/adjustments", op: "adjustStock", tag: "inventory", perm: auth.PermInventoryManage,
			summary: "Move stock: receive, adjust, damage, return, transfer",
			about: "Writes one ledger movement and updates the balance in one transaction. The delta's sign must fit the reason. " +
				"A result below zero on hand is a 422 naming delta and writes nothing; one below what is reserved is accepted and " +
				"puts the orders whose reservations are no longer covered on hold (stock_shortage). " + warehouseNote,
			request: adjustmentRequest{}, status: 201, response: adjustmentView{}, handle: a.adjustStock},
		{method: "PUT", path: "/api/v1/inventory/{location}/{sku}", op: "countStock", tag: "inventory", perm: auth.PermInventoryManage,
			summary: "Set a balance to a count",
			about: "Sets on hand (and safety_stock, if given) to absolute figures; the on-hand change is a count movement carrying the difference. " +
				"A count below what is reserved is accepted — it is the truth — and puts the orders whose reservations are no longer covered on hold " +
				"(stock_shortage, with an inventory.shortage event). " + warehouseNote + " " + skuPathNote,
			request: countRequest{}, status: 200, response: balanceView{}, handle: a.countStock},
		{method: "GET", path: "/api/v1/inventory", op: "listBalances", tag: "inventory", perm: auth.PermInventoryRead,
			summary: "List balances by location and SKU",
			about:   "Every (location, SKU) that has had stock, ordered by location then SKU. Filter by sku for one SKU's stock everywhere, or by both for one balance.",
			status:  200, response: balanceList{}, handle: a.listBalances,
			query: []queryParam{
				{"location", str(), "Only this location's balances."},
				{"sku", str(), "Only this SKU's balances (any SKU code, no escaping beyond the query string's)."},
				limitQuery, cursorQuery,
			}},
		{method: "GET", path: "/api/v1/inventory/{location}/{sku}/ledger", op: "getLedger", tag: "inventory", perm: auth.PermInventoryRead,
			summary: "One balance's ledger, newest first",
			about:   "Every movement of the SKU at the location: receipts, counts, reservations, releases, … An unknown pair has an empty ledger. " + skuPathNote,
			status:  200, response: movementList{}, handle: a.ledger, query: []queryParam{limitQuery, cursorQuery}},
		{method: "GET", path: "/api/v1/availability", op: "getAvailability", tag: "inventory", perm: auth.PermInventoryRead,
			summary: "What can be promised, per SKU",
			about: "Sums available (on_hand − reserved − safety_stock, never below zero) over the active locations that feed the channel: " +
				"its own list, or every active location when it has none or no channel is given. A channel key may only name its own channel.",
			status: 200, response: availabilityList{}, handle: a.availability,
			query: []queryParam{
				{"sku", map[string]any{"type": "array", "items": str(), "minItems": 1, "maxItems": 100},
					"The SKUs to look up; repeat it for several (?sku=A&sku=B), 1 to 100."},
				{"channel", str(), "Count only the locations that feed this channel."},
			}},

		// Reconciliation.
		{method: "POST", path: "/api/v1/inventory/snapshots", op: "submitSnapshot", tag: "reconciliation", perm: auth.PermInventoryManage,
			summary: "Compare a stock snapshot with Orderly's balances",
			about: "Stores a reconciliation report: per SKU the expected and counted figures, the drift and its likely cause. " +
				"With apply, each balance is corrected by counted + moved_since_count − expected through count movements; " +
				"SKUs not in the catalogue are reported (unknown_sku) and never applied. Without apply nothing but the report is written. " + warehouseNote,
			request: snapshotRequest{}, status: 201, response: reportView{}, locate: "id", collection: reportsPath, handle: a.submitSnapshot},
		{method: "GET", path: reportsPath, op: "listReports", tag: "reconciliation", perm: auth.PermInventoryRead,
			summary: "List reconciliation reports, newest first", about: "Without their lines; get one report for those.",
			status: 200, response: reportList{}, handle: a.listReports,
			query: []queryParam{{"location", str(), "Only this location's reports."}, limitQuery, cursorQuery}},
		{method: "GET", path: reportsPath + "/{id}", op: "getReport", tag: "reconciliation", perm: auth.PermInventoryRead,
			summary: "Get a reconciliation report with its lines", status: 200, response: reportView{}, handle: a.getReport},

		// Routing rule sets (routing.go).
		{method: "GET", path: "/api/v1/routing/rule-sets", op: "listRuleSets", tag: "routing", perm: auth.PermOrdersRead,
			summary: "List routing rule sets, newest version first",
			about:   "While no version is active, capture routes with the built-in default, version 0 (GET /api/v1/routing/rule-sets/0).",
			status:  200, response: ruleSetList{}, query: []queryParam{limitQuery, cursorQuery}, handle: a.listRuleSets},
		{method: "POST", path: "/api/v1/routing/rule-sets", op: "createRuleSet", tag: "routing", perm: auth.PermReferenceManage,
			summary: "Create a routing rule set as a draft",
			about:   "Stored with the next version and status draft; it routes nothing until activated. Admin only.",
			request: ruleSetRequest{}, status: 201, response: &routing.RuleSet{}, handle: a.createRuleSet},
		{method: "GET", path: "/api/v1/routing/rule-sets/{version}", op: "getRuleSet", tag: "routing", perm: auth.PermOrdersRead,
			summary: "Get a routing rule set", about: "Version 0 is the built-in default, which applies while no version is active.",
			status: 200, response: &routing.RuleSet{}, handle: a.getRuleSet},
		{method: "POST", path: "/api/v1/routing/rule-sets/{version}/activate", op: "activateRuleSet", tag: "routing", perm: auth.PermReferenceManage,
			summary: "Activate a routing rule set",
			about:   "Makes the version active and retires the one that was, in one change; the next capture routes with it. Activating the active version changes nothing. Admin only. The body may be empty or {}.",
			request: emptyRequest{}, optionalBody: true, status: 200, response: &routing.RuleSet{}, handle: a.activateRuleSet},
		{method: "POST", path: "/api/v1/routing/simulate", op: "simulateRouting", tag: "routing", perm: auth.PermReferenceManage,
			summary: "Compare a rule set with the active one on past orders",
			about: "Replays the orders placed in [placed_after, placed_before) (at most 10,000, else 422) with the given version and with the active one, " +
				"each against the candidates and stock its capture saw (kept with its first routing decision; orders routed before that was kept are counted as skipped), " +
				"and reports split rate, mean distance, orders per location, unfillable orders and the orders whose plan changed. Writes nothing. Admin only.",
			request: simulateRequest{}, status: 200, response: service.Simulation{}, handle: a.simulateRouting},

		// API keys (keys.go).
		{method: "POST", path: "/api/v1/keys", op: "createKey", tag: "keys", perm: auth.PermKeysManage,
			summary: "Make an API key",
			about: "The answer carries the key (secret) once: only its SHA-256 is stored, so it cannot be shown again, and this route takes no Idempotency-Key (a stored answer would keep it; 400). " +
				"A taken name is a 409; a channel key needs an existing channel, a warehouse key an existing location (422 naming the field). Admin only.",
			request: keyRequest{}, status: 201, response: keyView{}, locate: "name", secretResponse: true, handle: a.createKey},
		{method: "GET", path: "/api/v1/keys", op: "listKeys", tag: "keys", perm: auth.PermKeysManage,
			summary: "List API keys", about: "Every key, revoked ones too, by name; never a secret (its first characters, prefix, to recognise it). Admin only.",
			status: 200, response: keyList{}, handle: a.listKeys},
		{method: "GET", path: "/api/v1/keys/{name}", op: "getKey", tag: "keys", perm: auth.PermKeysManage,
			summary: "Get an API key", about: "Revoked or not; never its secret. Admin only.",
			status: 200, response: keyView{}, handle: a.getKey},
		{method: "POST", path: "/api/v1/keys/{name}/revoke", op: "revokeKey", tag: "keys", perm: auth.PermKeysManage,
			summary: "Revoke an API key",
			about: "From now on the key authenticates nothing: at once on every PostgreSQL node, within ten seconds on a SQLite server that cached it. " +
				"Revoking a revoked key changes nothing and answers it again. An admin key may revoke itself. Admin only. The body may be empty or {}.",
			request: emptyRequest{}, optionalBody: true, status: 200, response: keyView{}, handle: a.revokeKey},

		// Outbound webhooks and the job queue (subscriptions.go).
		{method: "POST", path: "/api/v1/webhooks", op: "createWebhookSubscription", tag: "integrations", perm: auth.PermIntegrationsManage,
			summary: "Subscribe a URL to Orderly's events",
			about: "Deliveries are POSTed as JSON {type, timestamp, data} and signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature). " +
				"A 2xx is success; 410 Gone disables the subscription; anything else is retried with backoff for about a day, then the delivery is dead. " +
				"A target resolving to a loopback, private or link-local address is a 422. Admin only. See docs/api.md.",
			request: webhookRequest{}, status: 201, response: webhookSubscriptionView{}, locate: "id", handle: a.createWebhookSubscription},
		{method: "GET", path: "/api/v1/webhooks", op: "listWebhookSubscriptions", tag: "integrations", perm: auth.PermIntegrationsManage,
			summary: "List webhook subscriptions", about: "Oldest first. Secrets are never shown. Admin only.",
			status: 200, response: webhookSubscriptionList{}, query: []queryParam{limitQuery, cursorQuery}, handle: a.listWebhookSubscriptions},
		{method: "GET", path: "/api/v1/webhooks/{id}", op: "getWebhookSubscription", tag: "integrations", perm: auth.PermIntegrationsManage,
			summary: "Get a webhook subscription", about: "Admin only.",
			status: 200, response: webhookSubscriptionView{}, handle: a.getWebhookSubscription},
		{method: "GET", path: "/api/v1/webhooks/{id}/deliveries", op: "listWebhookDeliveries", tag: "integrations", perm: auth.PermIntegrationsManage,
			summary: "A subscription's delivery log", about: "Newest first: each event sent, its status, attempts and the endpoint's last answer. Admin only.",
			status: 200, response: deliveryList{}, query: []queryParam{limitQuery, cursorQuery}, handle: a.listWebhookDeliveries},
		{method: "POST", path: "/api/v1/webhooks/{id}/deliveries/{delivery}/replay", op: "replayWebhookDelivery", tag: "integrations", perm: auth.PermIntegrationsManage,
			summary: "Send a delivery again",
			about:   "Queues the delivery again with a fresh set of attempts: the same webhook-id and body, a new timestamp and signature. A disabled subscription is a 409. Admin only. The body may be empty or {}.",
			request: emptyRequest{}, optionalBody: true, status: 202, response: deliveryView{}, handle: a.replayWebhookDelivery},
		{method: "GET", path: "/api/v1/jobs", op: "listJobs", tag: "integrations", perm: auth.PermIntegrationsManage,
			summary: "List background jobs", about: "By id (oldest first). state=dead is the dead-letter list. Admin only.",
			status: 200, response: jobList{}, handle: a.listJobs,
			query: []queryParam{{"state", map[string]any{"type": "string", "enum": []any{"available", "running", "succeeded", "dead"}}, "Only jobs in this state."},
				limitQuery, cursorQuery}},
		{method: "POST", path: "/api/v1/jobs/{id}/retry", op: "retryJob", tag: "integrations", perm: auth.PermIntegrationsManage,
			summary: "Retry a dead job", about: "Puts a dead job back in the queue, due now, with its attempts reset. A job that is not dead is a 409. Admin only. The body may be empty or {}.",
			request: emptyRequest{}, optionalBody: true, status: 200, response: jobView{}, handle: a.retryJob},

		// Channel integrations (integrations.go).
		{method: "GET", path: "/api/v1/integrations", op: "listIntegrations", tag: "integrations", perm: auth.PermIntegrationsManage,
			summary: "Health of every channel integration",
			about: "Per configured channel: status (ok, degraded, failing, disabled), last success, last error, lag (now minus the poll watermark or the oldest due job), " +
				"attempts and error rate over the last hour, pending jobs and dead letters (GET /api/v1/jobs?state=dead; retry with POST /api/v1/jobs/{id}/retry); " +
				"and how far behind the outbound event dispatcher is. Setting values are never shown. Admin only.",
			status: 200, response: service.IntegrationsReport{}, handle: a.listIntegrations},
		{method: "PUT", path: "/api/v1/integrations/{channel}", op: "putIntegration", tag: "integrations", perm: auth.PermIntegrationsManage,
			summary: "Configure a channel's connector",
			about: "Creates or changes how Orderly reaches the channel's platform: base URL, settings (credentials, write-only), enabled, poll interval; fields left out keep their value. " +
				"A channel whose connector polls gets a poll due now. Shipments, cancellations by Orderly and stock changes of listed SKUs are pushed back as jobs. " +
				"A channel of a kind without a connector is a 422. Admin only. See docs/api.md.",
			request: connectorRequest{}, status: 200, response: service.Integration{}, handle: a.putIntegration},

		// Inbound webhooks (webhooks.go).
		{method: "POST", path: "/webhooks/{kind}/{channel}", op: "receiveWebhook", tag: "webhooks", public: true, webhook: true,
			summary: "Receive a channel's webhook (Shopify, WooCommerce)",
			about: "No API key: the body must be signed with the channel's secret (Shopify X-Shopify-Hmac-Sha256, WooCommerce X-WC-Webhook-Signature: " +
				"base64 HMAC-SHA256 of the raw body), checked before anything is parsed; a missing or bad signature is a 401 and writes nothing. " +
				"An unknown channel, or one of another kind, is a 404. Order topics create or update the channel's order (never refused for stock or unknown SKUs); " +
				"a delivery id already processed answers duplicate and writes nothing; other topics are ignored. See docs/api.md.",
			request: map[string]any{}, status: 200, response: webhookView{}, handle: a.webhook},
		{method: "POST", path: "/webhooks/easypost/{carrier_account}", op: "receiveEasyPostWebhook", tag: "webhooks", public: true, webhook: true,
			summary: "Receive EasyPost's tracker webhooks",
			about: "No API key: X-Hmac-Signature (hmac-sha256-hex= and the hex HMAC-SHA256 of the raw body, keyed with ORDERLY_EASYPOST_WEBHOOK_SECRET) " +
				"is checked before anything is parsed; a missing or bad signature, or no configured secret, is a 401 and writes nothing. " +
				"tracker.created and tracker.updated record the tracker's events on the shipment with its tracking number, as POST /api/v1/shipments/{id}/events does " +
				"(pre_transit left out; a repeated event changes nothing). An unknown tracking number and other event types answer ignored. See docs/api.md.",
			request: map[string]any{}, status: 200, response: carrierWebhookView{}, handle: a.easypostWebhook},
	}
}

// Notes shared by several routes' descriptions.
const (
	warehouseNote = "A warehouse key may do this only at its own location (403 elsewhere)."
	skuPathNote   = "Percent-encode the SKU code in the path ('/' is %2F, '.' alone is %2E); GET /api/v1/inventory?sku= reads any SKU without path escaping."
)

// pathParamDocs describes the path parameters the routes use.
var pathParamDocs = map[string]string{
	"id":              "The order's id, or its number (e.g. 1001).",
	"code":            "The code.",
	"sku":             "The SKU code, percent-encoded.",
	"location":        "The location's code.",
	"getReport.id":    "The report's id.",
	"version":         "The rule set's version.",
	"carrier_account": "A name for the carrier account the webhook is configured for; recorded as the events' actor.",
	"kind":            "The channel's kind: shopify or woocommerce.",
	"channel":         "The channel's code.",

	// Fulfilment orders and shipments (fulfilment.go).
	"getFulfilmentOrder.id":    "The fulfilment order's id.",
	"acceptFulfilmentOrder.id": "The fulfilment order's id.",
	"startPicking.id":          "The fulfilment order's id.",
	"packFulfilmentOrder.id":   "The fulfilment order's id.",
	"shipFulfilmentOrder.id":   "The fulfilment order's id.",
	"rejectFulfilmentOrder.id": "The fulfilment order's id.",
	"getShipment.id":           "The shipment's id.",
	"recordShipmentEvent.id":   "The shipment's id.",
	"fulfilmentRates.id":       "The fulfilment order's id.",
	"createLabel.id":           "The fulfilment order's id.",
	"getLabel.id":              "The label's id.",
}

// handlerOf adapts an http.Handler to a route's handle.
func handlerOf(h http.Handler) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		h.ServeHTTP(w, r)
		return nil
	}
}

// endpoint wraps a route's handler in what every route of its sort needs,
// in this order: authentication (401), the body (413, 415), the
// Idempotency-Key, and error responses.
func (a *api) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rt.public {
			p, err := a.authenticate(r)
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			info(r.Context()).role = p.Role
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
		serve := func(w http.ResponseWriter, r *http.Request) {
			if err := rt.handle(w, r); err != nil {
				a.writeError(w, r, err)
			}
		}
		if !rt.mutating() || rt.webhook || len(rt.bodyTypes) > 0 {
			serve(w, r)
			return
		}
		body, err := readBody(w, r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		if len(body) == 0 && !rt.optionalBody {
			a.writeError(w, r, badRequest("", "the request body is empty; send a JSON object"))
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, body))
		if keys, ok := r.Header["Idempotency-Key"]; ok {
			if rt.secretResponse {
				a.writeError(w, r, badRequest("Idempotency-Key", "not taken here: the answer carries a secret that is stored nowhere, so it cannot be replayed; a repeated request with the same name is a 409"))
				return
			}
			a.idempotent(w, r, rt, keys, body, serve)
			return
		}
		serve(w, r)
	})
}

type principalKey struct{}

// principal returns the authenticated caller. Routes that are not public
// always have one; a public route gets the zero Principal, which may do
// nothing.
func principal(r *http.Request) auth.Principal {
	p, _ := r.Context().Value(principalKey{}).(auth.Principal)
	return p
}

// authenticate reads "Authorization: Bearer <key>" and asks the service
// who it is.
func (a *api) authenticate(r *http.Request) (auth.Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(h, " ")
	if h == "" {
		return auth.Principal{}, orderly.Errorf(orderly.KindUnauthorized, "send an API key: Authorization: Bearer <key>")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return auth.Principal{}, orderly.Errorf(orderly.KindUnauthorized, "the Authorization header must use the Bearer scheme")
	}
	return a.svc.Authenticate(r.Context(), strings.TrimSpace(key))
}
