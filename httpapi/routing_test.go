package httpapi

import (
	"fmt"
	"testing"
	"time"
)

// routedOrder captures an order of qty units of sku shipping to London
// and returns the order's detail (GET).
func (b *bundle) routedOrder(t *testing.T, channel, ext, sku string, qty int) map[string]any {
	t.Helper()
	body := fmt.Sprintf(`{"channel":%q,"external_id":%q,"currency":"EUR",
		"shipping_address":{"name":"Ada","line1":"1 Analytical St","city":"London","country":"GB","lat":51.5,"lon":-0.1},
		"lines":[{"sku":%q,"quantity":%d,"unit_price":100}]}`, channel, ext, sku, qty)
	o := b.post(t, "admin", "/api/v1/orders", body).want(t, 201).json(t)
	return b.get(t, "viewer", "/api/v1/orders/"+o["id"].(string)).want(t, 200).json(t)
}

// allocatedAt returns the locations of an order's allocations.
func allocatedAt(d map[string]any) []string {
	var out []string
	for _, a := range d["allocations"].([]any) {
		out = append(out, a.(map[string]any)["location"].(string))
	}
	return out
}

// explanation returns the routing explanation of an order's detail.
func explanation(t *testing.T, d map[string]any) map[string]any {
	t.Helper()
	rv, ok := d["routing"].(map[string]any)
	if !ok {
		t.Fatalf("no routing in %v", d)
	}
	return rv["explanation"].(map[string]any)
}

// TestCaptureRouting: capture places an order where the active rule set
// says, keeps the receipt, and never uses an inactive or unfed location.
func TestCaptureRouting(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.mustSKU(t, "R-1", 10) // at leeds
		b.patch(t, "admin", "/api/v1/locations/"+locLeeds, `{"lat":53.8,"lon":-1.55}`).want(t, 200)
		loc := b.post(t, "admin", "/api/v1/locations", `{"code":"london","name":"London","kind":"warehouse","lat":51.51,"lon":-0.13,
			"ships_to":["GB"],"cost_per_shipment":450}`).want(t, 201).json(t)
		if loc["priority"] != 100.0 || fmt.Sprint(loc["modes"]) != "[ship]" || fmt.Sprint(loc["ships_to"]) != "[GB]" ||
			loc["daily_capacity"] != 0.0 || loc["cost_per_shipment"] != 450.0 {
			t.Errorf("created location %v", loc)
		}
		b.post(t, "admin", "/api/v1/inventory/adjustments", adjustBody("london", "R-1", 10, "receive")).want(t, 201)

		// Same priority: the nearer one (london), under the default rules (version 0).
		d := b.routedOrder(t, chWeb, "RT-1", "R-1", 1)
		if got := fmt.Sprint(allocatedAt(d)); got != "[london]" {
			t.Errorf("equal priorities: allocated at %s, want london", got)
		}
		exp := explanation(t, d)
		if exp["rule_set_version"] != 0.0 || d["routing"].(map[string]any)["rule_set_version"] != 0.0 {
			t.Errorf("explanation version %v", exp["rule_set_version"])
		}
		if cands := exp["candidates"].([]any); len(cands) != 2 || cands[0].(map[string]any)["location"] != "london" ||
			cands[0].(map[string]any)["outcome"] != "chosen" || cands[1].(map[string]any)["outcome"] != "ranked" {
			t.Errorf("candidates %v", cands)
		}
		// Each allocation carries the receipt of the routing that placed it.
		allocs := d["allocations"].([]any)
		if len(allocs) != 1 {
			t.Fatalf("allocations %v", allocs)
		}
		if ae, _ := allocs[0].(map[string]any)["explanation"].(map[string]any); ae == nil || ae["summary"] != exp["summary"] {
			t.Errorf("allocations[0].explanation %v, want the order's routing explanation", allocs[0])
		}
		if got := timelineTypes(d); got != "order.created order.routed order.allocated fulfilment.requested" {
			t.Errorf("timeline %s", got)
		}
		routedData := d["timeline"].([]any)[1].(map[string]any)["data"].(map[string]any)
		if fmt.Sprint(routedData["locations"]) != "[london]" || routedData["rule_set_version"] != 0.0 {
			t.Errorf("order.routed data %v", routedData)
		}

		// Priority first: leeds, although farther.
		b.patch(t, "admin", "/api/v1/locations/"+locLeeds, `{"priority":1}`).want(t, 200)
		d = b.routedOrder(t, chWeb, "RT-2", "R-1", 1)
		if got := fmt.Sprint(allocatedAt(d)); got != "[leeds]" {
			t.Errorf("leeds priority 1: allocated at %s, want leeds", got)
		}

		// A draft that ranks distance before priority changes nothing
		// until it is activated.
		rs := b.post(t, "admin", "/api/v1/routing/rule-sets", `{"filters":["active","channel","capacity","mode","stock"],
			"rankers":["single_location","distance","priority"],"max_splits":0,"when_unfillable":"backorder_and_hold"}`).want(t, 201).json(t)
		if rs["version"] != 1.0 || rs["status"] != "draft" {
			t.Fatalf("created rule set %v", rs)
		}
		b.post(t, "admin", "/api/v1/routing/rule-sets", `{"filters":["active"],"rankers":[],"max_splits":0,"when_unfillable":"x"}`).
			wantProblem(t, 422, "when_unfillable")
		d = b.routedOrder(t, chWeb, "RT-3", "R-1", 1)
		if got := fmt.Sprint(allocatedAt(d)); got != "[leeds]" {
			t.Errorf("draft not active: allocated at %s, want leeds", got)
		}
		act := b.post(t, "admin", "/api/v1/routing/rule-sets/1/activate", ``).want(t, 200).json(t)
		if act["status"] != "active" || act["activated_at"] == nil {
			t.Errorf("activated %v", act)
		}
		d = b.routedOrder(t, chWeb, "RT-4", "R-1", 1)
		if got := fmt.Sprint(allocatedAt(d)); got != "[london]" {
			t.Errorf("distance first: allocated at %s, want london", got)
		}
		if v := explanation(t, d)["rule_set_version"]; v != 1.0 {
			t.Errorf("explanation names version %v, want 1", v)
		}
		list := b.get(t, "viewer", "/api/v1/routing/rule-sets").want(t, 200).json(t)
		if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["status"] != "active" {
			t.Errorf("rule sets %v", items)
		}
		if def := b.get(t, "viewer", "/api/v1/routing/rule-sets/0").want(t, 200).json(t); def["status"] != "retired" {
			t.Errorf("the default while version 1 is active: %v", def)
		}
		b.get(t, "viewer", "/api/v1/routing/rule-sets/7").wantProblem(t, 404, "")

		// An inactive location is never chosen, nor one that does not feed
		// the channel.
		b.patch(t, "admin", "/api/v1/locations/london", `{"active":false}`).want(t, 200)
		d = b.routedOrder(t, chWeb, "RT-5", "R-1", 1)
		if got := fmt.Sprint(allocatedAt(d)); got != "[leeds]" {
			t.Errorf("london inactive: allocated at %s, want leeds", got)
		}
		b.patch(t, "admin", "/api/v1/locations/london", `{"active":true}`).want(t, 200)
		b.patch(t, "admin", "/api/v1/channels/"+chMarket, `{"locations":["leeds"]}`).want(t, 200)
		d = b.routedOrder(t, chMarket, "RT-6", "R-1", 1)
		if got := fmt.Sprint(allocatedAt(d)); got != "[leeds]" {
			t.Errorf("market fed by leeds only: allocated at %s", got)
		}
		// Not even when leeds cannot take it: it is backordered.
		d = b.routedOrder(t, chMarket, "RT-7", "R-1", 50)
		if got := allocatedAt(d); len(got) != 1 || got[0] != "leeds" || d["status"] != "on_hold" {
			t.Errorf("market, short: allocated at %v, status %v", got, d["status"])
		}

		// Daily capacity: london takes one more order today, then leeds.
		b.post(t, "admin", "/api/v1/inventory/adjustments", adjustBody(locLeeds, "R-1", 10, "receive")).want(t, 201)
		b.patch(t, "admin", "/api/v1/locations/london", `{"daily_capacity":3}`).want(t, 200) // RT-1, RT-4 today
		if got := fmt.Sprint(allocatedAt(b.routedOrder(t, chWeb, "RT-8", "R-1", 1))); got != "[london]" {
			t.Errorf("capacity left: allocated at %s", got)
		}
		d = b.routedOrder(t, chWeb, "RT-9", "R-1", 1)
		if got := fmt.Sprint(allocatedAt(d)); got != "[leeds]" {
			t.Errorf("capacity used: allocated at %s", got)
		}
	})
}

// TestCaptureRoutingReview: a rule set that holds for review reserves
// nothing and holds the order; its release reserves what it can.
func TestCaptureRoutingReview(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.mustSKU(t, "RV-1", 2)
		b.post(t, "admin", "/api/v1/routing/rule-sets", `{"filters":["active","channel","mode","stock"],
			"rankers":["priority"],"max_splits":0,"when_unfillable":"hold_for_review"}`).want(t, 201)
		b.post(t, "admin", "/api/v1/routing/rule-sets/1/activate", `{}`).want(t, 200)
		d := b.routedOrder(t, chWeb, "RV-A", "RV-1", 3)
		if d["status"] != "on_hold" || d["hold"].(map[string]any)["reason"] != "routing_review" || len(allocatedAt(d)) != 0 {
			t.Fatalf("status %v hold %v allocations %v", d["status"], d["hold"], d["allocations"])
		}
		if plan := explanation(t, d)["plan"].(map[string]any); plan["action"] != "hold_for_review" || len(plan["picks"].([]any)) != 1 {
			t.Errorf("proposed plan %v", plan)
		}
		b.wantBalance(t, locLeeds, "RV-1", 2, 0, 0, 2)
		// Strict refuses it as before.
		b.post(t, "admin", "/api/v1/orders", orderWith(chWeb, "RV-B", true, "RV-1", 3)).wantProblem(t, 409, "lines[0].quantity")

		o := b.post(t, "agent", "/api/v1/orders/"+d["id"].(string)+"/release", ``).want(t, 200).json(t)
		if o["status"] != "on_hold" || o["hold"].(map[string]any)["reason"] != "insufficient_stock" {
			t.Errorf("after release: status %v hold %v", o["status"], o["hold"])
		}
		b.wantBalance(t, locLeeds, "RV-1", 2, 2, 0, 0)
		d = b.get(t, "viewer", "/api/v1/orders/"+d["id"].(string)).want(t, 200).json(t)
		if n := d["routing"].(map[string]any)["decisions"]; n != 2.0 {
			t.Errorf("%v decisions, want 2", n)
		}
	})
}

// TestSimulateRouting: a distance-first draft, replayed over a fixed order
// history against the stock each order saw, moves exactly the orders that
// london could serve then, and writes nothing.
func TestSimulateRouting(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.mustSKU(t, "S-1", 10)
		b.mustSKU(t, "S-2", 10)
		b.patch(t, "admin", "/api/v1/locations/"+locLeeds, `{"lat":53.8,"lon":-1.55,"priority":1}`).want(t, 200)
		b.post(t, "admin", "/api/v1/locations", `{"code":"london","name":"London","kind":"warehouse","lat":51.51,"lon":-0.13}`).want(t, 201)
		b.post(t, "admin", "/api/v1/inventory/adjustments", adjustBody("london", "S-1", 10, "receive")).want(t, 201)

		// Under the default rules (priority first) every order goes to leeds.
		var ids []string
		for i, sku := range []string{"S-1", "S-2", "S-1"} {
			d := b.routedOrder(t, chWeb, fmt.Sprintf("SIM-%d", i), sku, 1)
			if got := fmt.Sprint(allocatedAt(d)); got != "[leeds]" {
				t.Fatalf("order %d allocated at %s", i, got)
			}
			ids = append(ids, d["id"].(string))
		}
		// London gets S-2 only now: SIM-1 did not see it.
		b.post(t, "admin", "/api/v1/inventory/adjustments", adjustBody("london", "S-2", 10, "receive")).want(t, 201)
		b.post(t, "admin", "/api/v1/routing/rule-sets", `{"filters":["active","channel","capacity","mode","stock"],
			"rankers":["single_location","distance","priority"],"max_splits":0,"when_unfillable":"backorder_and_hold"}`).want(t, 201)
		before := b.countOrders(t)

		window := `"placed_after":"` + t0.Add(-time.Hour).Format(time.RFC3339) + `","placed_before":"` + t0.Add(time.Hour).Format(time.RFC3339) + `"`
		rep := b.post(t, "admin", "/api/v1/routing/simulate", `{"version":1,`+window+`}`).want(t, 200).json(t)
		active, draft := rep["active"].(map[string]any), rep["draft"].(map[string]any)
		if rep["orders"] != 3.0 || rep["changed"] != 2.0 || rep["skipped"] != 0.0 ||
			fmt.Sprint(rep["changed_orders"]) != fmt.Sprint([]any{ids[0], ids[2]}) {
			t.Errorf("report %v", rep)
		}
		if active["rule_set_version"] != 0.0 || fmt.Sprint(active["per_location"]) != "[map[location:leeds orders:3]]" ||
			active["split_rate"] != 0.0 || active["unfillable"] != 0.0 {
			t.Errorf("active %v", active)
		}
		if draft["rule_set_version"] != 1.0 || fmt.Sprint(draft["per_location"]) != "[map[location:leeds orders:1] map[location:london orders:2]]" ||
			draft["mean_distance_km"].(float64) >= active["mean_distance_km"].(float64) {
			t.Errorf("draft %v (active %v)", draft, active)
		}
		// The same version as the active one changes nothing; an empty
		// window replays nothing.
		if rep := b.post(t, "admin", "/api/v1/routing/simulate", `{"version":0,`+window+`}`).want(t, 200).json(t); rep["changed"] != 0.0 {
			t.Errorf("default against itself: %v", rep)
		}
		if rep := b.post(t, "admin", "/api/v1/routing/simulate", `{"version":1,"placed_after":"2020-01-01T00:00:00Z","placed_before":"2020-01-02T00:00:00Z"}`).
			want(t, 200).json(t); rep["orders"] != 0.0 {
			t.Errorf("empty window: %v", rep)
		}
		b.post(t, "admin", "/api/v1/routing/simulate", `{"version":9,`+window+`}`).wantProblem(t, 422, "version")
		b.post(t, "admin", "/api/v1/routing/simulate", `{"version":1,"placed_after":"2025-03-02T00:00:00Z","placed_before":"2025-03-01T00:00:00Z"}`).
			wantProblem(t, 422, "placed_before")
		// Nothing was written: no order, no rule-set activation.
		if after := b.countOrders(t); after != before {
			t.Errorf("orders %d → %d", before, after)
		}
		if rs := b.get(t, "viewer", "/api/v1/routing/rule-sets/1").want(t, 200).json(t); rs["status"] != "draft" {
			t.Errorf("draft %v", rs)
		}
	})
}
