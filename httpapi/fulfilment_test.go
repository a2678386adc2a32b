package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// booksStraight fails the test unless every balance equals its ledger and
// its reserved the sum of its open allocations.
func (b *bundle) booksStraight(t *testing.T) {
	t.Helper()
	if m, err := b.svc.CheckLedger(context.Background()); err != nil || len(m) != 0 {
		t.Fatalf("ledger check: %v %+v", err, m)
	}
}

// orderDetail returns GET /api/v1/orders/{id} as admin.
func (b *bundle) orderDetail(t *testing.T, id string) map[string]any {
	t.Helper()
	return b.get(t, "admin", "/api/v1/orders/"+id).want(t, 200).json(t)
}

// fulfilmentOrders returns an order's fulfilment orders by location (the
// newest at each).
func (b *bundle) fulfilmentOrders(t *testing.T, orderID string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, f := range b.orderDetail(t, orderID)["fulfilment_orders"].([]any) {
		m := f.(map[string]any)
		out[m["location"].(string)] = m
	}
	return out
}

// foLine returns the fulfilment order's line of an order line.
func foLine(t *testing.T, f map[string]any, lineID string) map[string]any {
	t.Helper()
	for _, l := range f["lines"].([]any) {
		if m := l.(map[string]any); m["line_id"] == lineID {
			return m
		}
	}
	t.Fatalf("fulfilment order %v has no line %s", f["id"], lineID)
	return nil
}

// lineIDs returns an order's line ids, in order.
func lineIDs(o map[string]any) []string {
	var ids []string
	for _, l := range o["lines"].([]any) {
		ids = append(ids, l.(map[string]any)["id"].(string))
	}
	return ids
}

// line returns an order line's counter.
func line(o map[string]any, i int, counter string) float64 {
	return o["lines"].([]any)[i].(map[string]any)[counter].(float64)
}

// york adds a second location, york, with the given stock.
func (b *bundle) york(t *testing.T, stock map[string]int64) {
	t.Helper()
	b.post(t, "admin", "/api/v1/locations", `{"code":"york","name":"York","kind":"warehouse"}`).want(t, 201)
	for sku, q := range stock {
		b.post(t, "admin", "/api/v1/inventory/adjustments", adjustBody("york", sku, q, "receive")).want(t, 201)
	}
}

func shipBody(lines ...any) string {
	s := `{"carrier":"dhl","service":"express","tracking_number":"JD01","label":"https://labels.example/1.pdf"`
	if len(lines) > 0 {
		var ls []string
		for i := 0; i < len(lines); i += 2 {
			ls = append(ls, fmt.Sprintf(`{"line_id":%q,"quantity":%d}`, lines[i], lines[i+1]))
		}
		s += `,"lines":[` + strings.Join(ls, ",") + `]`
	}
	return s + `}`
}

// TestFulfilmentEndToEnd: an order planned over two locations is
// accepted, picked, packed, shipped in two parcels from one and in one
// from the other, tracked and delivered; the ledger, the balances and the
// order's counters are checked at each step.
func TestFulfilmentEndToEnd(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		// SKU-2 is only at york: the plan splits.
		b.york(t, map[string]int64{sku2: 10})
		b.put(t, "admin", "/api/v1/inventory/leeds/SKU-2", `{"on_hand":0}`).want(t, 200)
		o := b.post(t, "admin", "/api/v1/orders", orderWith(chWeb, "E2E-1", false, sku1, 3, sku2, 2)).want(t, 201).json(t)
		id := o["id"].(string)
		l1, l2 := lineIDs(o)[0], lineIDs(o)[1]
		if o["status"] != "open" {
			t.Fatalf("status %v", o["status"])
		}
		fos := b.fulfilmentOrders(t, id)
		leeds, york := fos[locLeeds], fos["york"]
		if len(fos) != 2 || leeds["status"] != "requested" || york["status"] != "requested" ||
			foLine(t, leeds, l1)["quantity"] != 3.0 || foLine(t, york, l2)["quantity"] != 2.0 {
			t.Fatalf("fulfilment orders %v", fos)
		}
		b.wantBalance(t, locLeeds, sku1, 1000, 3, 0, 997)
		b.wantBalance(t, "york", sku2, 10, 2, 0, 8)

		// Leeds: accept, pick, pack; a step out of order is a 409.
		lid := leeds["id"].(string)
		b.post(t, "warehouse", "/api/v1/fulfilment-orders/"+lid+"/pack", "").wantProblem(t, 409, "")
		if got := b.post(t, "warehouse", "/api/v1/fulfilment-orders/"+lid+"/accept", "").want(t, 200).json(t)["status"]; got != "accepted" {
			t.Fatalf("accept: %v", got)
		}
		b.post(t, "warehouse", "/api/v1/fulfilment-orders/"+lid+"/start-picking", `{}`).want(t, 200)
		if got := b.post(t, "warehouse", "/api/v1/fulfilment-orders/"+lid+"/pack", "").want(t, 200).json(t)["status"]; got != "packed" {
			t.Fatalf("pack: %v", got)
		}

		// Partial shipment: 2 of 3.
		res := b.post(t, "warehouse", "/api/v1/fulfilment-orders/"+lid+"/ship", shipBody(l1, 2)).want(t, 201)
		sh1 := res.json(t)
		if sh1["status"] != "pre_transit" || sh1["carrier"] != "dhl" || !strings.HasSuffix(res.header.Get("Location"), "/api/v1/shipments/"+sh1["id"].(string)) {
			t.Fatalf("shipment %v (Location %s)", sh1, res.header.Get("Location"))
		}
		b.wantBalance(t, locLeeds, sku1, 998, 1, 0, 997)
		last := b.ledgerOf(t, locLeeds, sku1)[0]
		if last["reason"] != "ship" || last["delta_on_hand"] != -2.0 || last["delta_reserved"] != -2.0 || last["reference"] != "shipment:"+sh1["id"].(string) {
			t.Fatalf("ship movement %v", last)
		}
		d := b.orderDetail(t, id)
		if d["status"] != "partially_shipped" || line(d, 0, "shipped") != 2 || line(d, 0, "allocated") != 1 || d["fulfilment_status"] != "partially_fulfilled" {
			t.Fatalf("after partial ship: status %v lines %v", d["status"], d["lines"])
		}
		if f := b.get(t, "viewer", "/api/v1/fulfilment-orders/"+lid).want(t, 200).json(t); f["status"] != "packed" || foLine(t, f, l1)["shipped"] != 2.0 {
			t.Fatalf("leeds after partial ship %v", f)
		}
		// More than is left is refused, naming the field.
		b.post(t, "warehouse", "/api/v1/fulfilment-orders/"+lid+"/ship", shipBody(l1, 2)).wantProblem(t, 422, "lines[0].quantity")

		// The rest of leeds: lines left out.
		sh2 := b.post(t, "warehouse", "/api/v1/fulfilment-orders/"+lid+"/ship", shipBody()).want(t, 201).json(t)
		b.wantBalance(t, locLeeds, sku1, 997, 0, 0, 997)
		if f := b.get(t, "viewer", "/api/v1/fulfilment-orders/"+lid).want(t, 200).json(t); f["status"] != "shipped" {
			t.Fatalf("leeds after shipping the rest %v", f["status"])
		}
		b.post(t, "warehouse", "/api/v1/fulfilment-orders/"+lid+"/ship", shipBody()).wantProblem(t, 409, "")

		// York ships straight after accepting; the order is shipped.
		yid := york["id"].(string)
		b.post(t, "admin", "/api/v1/fulfilment-orders/"+yid+"/accept", "").want(t, 200)
		sh3 := b.post(t, "admin", "/api/v1/fulfilment-orders/"+yid+"/ship", shipBody(l2, 2)).want(t, 201).json(t)
		b.wantBalance(t, "york", sku2, 8, 0, 0, 8)
		d = b.orderDetail(t, id)
		if d["status"] != "shipped" || line(d, 1, "shipped") != 2 || d["fulfilment_status"] != "fulfilled" || len(d["shipments"].([]any)) != 3 {
			t.Fatalf("after shipping everything: status %v lines %v", d["status"], d["lines"])
		}
		if allocs := d["allocations"].([]any); len(allocs) != 0 {
			t.Fatalf("open allocations after shipping: %v", allocs)
		}

		// Tracking: out of order and repeated events are harmless; the last
		// delivery makes the order delivered.
		ev := func(sh map[string]any, status string, minutes int) map[string]any {
			at := t0.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339)
			return b.post(t, "admin", "/api/v1/shipments/"+sh["id"].(string)+"/events",
				`{"status":"`+status+`","at":"`+at+`","detail":"hub"}`).want(t, 200).json(t)
		}
		if got := ev(sh1, "in_transit", 60); got["status"] != "in_transit" {
			t.Fatalf("in transit: %v", got["status"])
		}
		if got := ev(sh1, "in_transit", 60); len(got["events"].([]any)) != 1 {
			t.Fatalf("repeated event recorded twice: %v", got["events"])
		}
		b.post(t, "admin", "/api/v1/shipments/"+sh1["id"].(string)+"/events", `{"status":"pre_transit","at":"2025-03-01T10:00:00Z"}`).
			wantProblem(t, 422, "status")
		if got := ev(sh1, "delivered", 120); got["status"] != "delivered" || got["delivered_at"] == nil {
			t.Fatalf("delivered: %v", got)
		}
		if got := ev(sh1, "in_transit", 90); got["status"] != "delivered" {
			t.Fatalf("a late event moved delivered back: %v", got["status"])
		}
		d = b.orderDetail(t, id)
		if d["status"] != "shipped" || line(d, 0, "delivered") != 2 {
			t.Fatalf("after one delivery: %v %v", d["status"], d["lines"])
		}
		ev(sh2, "delivered", 130)
		ev(sh3, "out_for_delivery", 100)
		ev(sh3, "delivered", 140)
		d = b.orderDetail(t, id)
		if d["status"] != "delivered" || d["fulfilment_status"] != "delivered" || line(d, 0, "delivered") != 3 || line(d, 1, "delivered") != 2 {
			t.Fatalf("after every delivery: %v %v", d["status"], d["lines"])
		}
		tl := timelineTypes(d)
		for _, typ := range []string{"fulfilment.requested", "fulfilment.accepted", "fulfilment.shipped", "shipment.updated", "shipment.delivered", "order.delivered"} {
			if !strings.Contains(tl, typ) {
				t.Errorf("timeline lacks %s: %s", typ, tl)
			}
		}
		if !strings.HasSuffix(tl, "order.delivered") {
			t.Errorf("timeline does not end delivered: %s", tl)
		}
		b.booksStraight(t)
	})
}

// TestFulfilmentReject: a not_found rejection counts the SKU to zero at
// the location, releases the reservation and routes the units to the other
// location; when no location can take them the order is held unfillable.
func TestFulfilmentReject(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.york(t, map[string]int64{sku1: 5, sku2: 5})
		id, _ := b.createOrder(t, chWeb, "REJ-1") // SKU-1 ×2, SKU-2 ×1: leeds has the most
		leeds := b.fulfilmentOrders(t, id)[locLeeds]
		if leeds == nil {
			t.Fatalf("no fulfilment order at leeds: %v", b.fulfilmentOrders(t, id))
		}
		b.post(t, "warehouse", "/api/v1/fulfilment-orders/"+leeds["id"].(string)+"/reject", `{"reason":"lost"}`).wantProblem(t, 422, "reason")
		f := b.post(t, "warehouse", "/api/v1/fulfilment-orders/"+leeds["id"].(string)+"/reject", `{"reason":"not_found"}`).want(t, 200).json(t)
		if f["status"] != "rejected" || f["reject_reason"] != "not_found" {
			t.Fatalf("rejected: %v", f)
		}
		// Counted to zero at leeds, the reservation released.
		b.wantBalance(t, locLeeds, sku1, 0, 0, 0, 0)
		b.wantBalance(t, locLeeds, sku2, 0, 0, 0, 0)
		led := b.ledgerOf(t, locLeeds, sku1)
		if led[0]["reason"] != "count" || led[0]["delta_on_hand"] != -1000.0 || led[1]["reason"] != "release" || led[1]["delta_reserved"] != -2.0 {
			t.Fatalf("leeds ledger %v", led[:2])
		}
		// Re-routed to york, released to it.
		b.wantBalance(t, "york", sku1, 5, 2, 0, 3)
		b.wantBalance(t, "york", sku2, 5, 1, 0, 4)
		d := b.orderDetail(t, id)
		york := b.fulfilmentOrders(t, id)["york"]
		if d["status"] != "open" || york == nil || york["status"] != "requested" {
			t.Fatalf("after reject: status %v, york %v", d["status"], york)
		}
		tl := timelineTypes(d)
		if !strings.Contains(tl, "fulfilment.rejected order.rerouted fulfilment.requested") {
			t.Fatalf("timeline %s", tl)
		}
		// A rejection at york leaves nothing that can take the units.
		b.post(t, "admin", "/api/v1/fulfilment-orders/"+york["id"].(string)+"/reject", `{"reason":"damaged","lines":[{"line_id":"`+lineIDs(d)[0]+`","quantity":2}]}`).want(t, 200)
		b.wantBalance(t, "york", sku1, 3, 0, 0, 3) // damaged: out of on hand
		d = b.orderDetail(t, id)
		if d["status"] != "on_hold" || d["hold"].(map[string]any)["reason"] != "unfillable" || line(d, 0, "backordered") != 2 {
			t.Fatalf("after the second reject: %v %v %v", d["status"], d["hold"], d["lines"])
		}
		if tl := timelineTypes(d); !strings.HasSuffix(tl, "fulfilment.rejected order.rerouted order.held") {
			t.Fatalf("timeline %s", tl)
		}
		// Held: the rest at york may not ship until released.
		b.post(t, "admin", "/api/v1/fulfilment-orders/"+york["id"].(string)+"/accept", "").wantProblem(t, 409, "")
		// Releasing routes it again: york (3 left) takes it and a new
		// fulfilment order is requested there.
		b.post(t, "admin", "/api/v1/orders/"+id+"/release", "").want(t, 200)
		d = b.orderDetail(t, id)
		if d["status"] != "open" || len(d["fulfilment_orders"].([]any)) != 3 {
			t.Fatalf("after release: %v %v", d["status"], d["fulfilment_orders"])
		}
		b.wantBalance(t, "york", sku1, 3, 2, 0, 1)
		b.booksStraight(t)
	})
}

// TestFulfilmentCapacity: a location whose daily capacity is used sends
// the next order to the next location.
func TestFulfilmentCapacity(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.york(t, map[string]int64{sku1: 50, sku2: 50})
		b.patch(t, "admin", "/api/v1/locations/leeds", `{"daily_capacity":1}`).want(t, 200)
		first, _ := b.createOrder(t, chWeb, "CAP-1")
		second, _ := b.createOrder(t, chWeb, "CAP-2")
		if fos := b.fulfilmentOrders(t, first); fos[locLeeds] == nil || len(fos) != 1 {
			t.Fatalf("first order: %v", fos)
		}
		if fos := b.fulfilmentOrders(t, second); fos["york"] == nil || len(fos) != 1 {
			t.Fatalf("second order: %v", fos)
		}
		// The receipt says why.
		if s := b.orderDetail(t, second)["routing"].(map[string]any)["explanation"].(map[string]any)["candidates"]; !strings.Contains(fmt.Sprint(s), "daily capacity used: 1 of 1") {
			t.Fatalf("candidates %v", s)
		}
		// A no_capacity rejection at york with leeds full: nothing takes it.
		york := b.fulfilmentOrders(t, second)["york"]
		b.post(t, "admin", "/api/v1/fulfilment-orders/"+york["id"].(string)+"/reject", `{"reason":"no_capacity"}`).want(t, 200)
		b.wantBalance(t, "york", sku1, 50, 0, 0, 50) // the stock stays sellable
		if d := b.orderDetail(t, second); d["status"] != "on_hold" || d["hold"].(map[string]any)["reason"] != "unfillable" {
			t.Fatalf("after no_capacity: %v %v", d["status"], d["hold"])
		}
		b.booksStraight(t)
	})
}

// TestCancelLines: partial cancellation inside the policy's window
// releases the units and closes emptied fulfilment orders; outside it, or
// when the policy forbids it, it is a 409 naming the policy.
func TestCancelLines(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.patch(t, "admin", "/api/v1/channels/web", `{"policy":{"cancellation_window_minutes":60,"partial_cancellation":true,"return_window_days":30}}`).want(t, 200)
		o := b.post(t, "admin", "/api/v1/orders", orderWith(chWeb, "PC-1", false, sku1, 3, sku2, 1)).want(t, 201).json(t)
		id := o["id"].(string)
		l1, l2 := lineIDs(o)[0], lineIDs(o)[1]
		cancel := func(body string) *response {
			return b.post(t, "agent", "/api/v1/orders/"+id+"/cancel", body)
		}
		cancel(`{"reason":"x","lines":[{"line_id":"`+l1+`","quantity":4}]}`).wantProblem(t, 422, "lines[0].quantity")
		c := cancel(`{"reason":"changed mind","lines":[{"line_id":"`+l1+`","quantity":2}]}`).want(t, 200).json(t)
		if c["status"] != "open" || line(c, 0, "cancelled") != 2 || line(c, 0, "allocated") != 1 {
			t.Fatalf("after partial cancel: %v %v", c["status"], c["lines"])
		}
		b.wantBalance(t, locLeeds, sku1, 1000, 1, 0, 999)
		leeds := b.fulfilmentOrders(t, id)[locLeeds]
		if foLine(t, leeds, l1)["cancelled"] != 2.0 || leeds["status"] != "requested" {
			t.Fatalf("fulfilment order %v", leeds)
		}
		// Ship the rest of line 1, then cancel line 2: the order is shipped.
		b.post(t, "warehouse", "/api/v1/fulfilment-orders/"+leeds["id"].(string)+"/accept", "").want(t, 200)
		b.post(t, "warehouse", "/api/v1/fulfilment-orders/"+leeds["id"].(string)+"/ship", shipBody(l1, 1)).want(t, 201)
		c = cancel(`{"reason":"out of stock","lines":[{"line_id":"`+l2+`","quantity":1}]}`).want(t, 200).json(t)
		if c["status"] != "shipped" || line(c, 1, "cancelled") != 1 {
			t.Fatalf("after cancelling the rest: %v %v", c["status"], c["lines"])
		}
		b.wantBalance(t, locLeeds, sku2, 1000, 0, 0, 1000)
		if f := b.fulfilmentOrders(t, id)[locLeeds]; f["status"] != "shipped" {
			t.Fatalf("fulfilment order %v", f["status"])
		}

		// Outside the window: 409 naming the policy.
		o2 := b.post(t, "admin", "/api/v1/orders", orderWith(chWeb, "PC-2", false, sku1, 2)).want(t, 201).json(t)
		b.clock.Advance(61 * time.Minute)
		p := b.post(t, "agent", "/api/v1/orders/"+o2["id"].(string)+"/cancel", `{"reason":"late","lines":[{"line_id":"`+lineIDs(o2)[0]+`","quantity":1}]}`).
			wantProblem(t, 409, "")
		if p["code"] != "cancellation_policy" || !strings.Contains(p["detail"].(string), "policy.cancellation_window_minutes") {
			t.Fatalf("problem %v", p)
		}
		// A policy without partial cancellation: 409 naming it. The policy
		// in force is the one copied onto the order when it was placed, so
		// the change governs orders placed after it.
		b.patch(t, "admin", "/api/v1/channels/web", `{"policy":{"cancellation_window_minutes":0,"partial_cancellation":false,"return_window_days":30}}`).want(t, 200)
		o3 := b.post(t, "admin", "/api/v1/orders", orderWith(chWeb, "PC-3", false, sku1, 2)).want(t, 201).json(t)
		p = b.post(t, "agent", "/api/v1/orders/"+o3["id"].(string)+"/cancel", `{"reason":"x","lines":[{"line_id":"`+lineIDs(o3)[0]+`","quantity":1}]}`).
			wantProblem(t, 409, "")
		if p["code"] != "cancellation_policy" || !strings.Contains(p["detail"].(string), "policy.partial_cancellation") {
			t.Fatalf("problem %v", p)
		}
		// The whole order can still be cancelled, and its fulfilment order
		// is withdrawn.
		b.post(t, "agent", "/api/v1/orders/"+o2["id"].(string)+"/cancel", `{"reason":"x"}`).want(t, 200)
		if f := b.fulfilmentOrders(t, o2["id"].(string))[locLeeds]; f["status"] != "cancelled" {
			t.Fatalf("fulfilment order after cancel %v", f["status"])
		}
		b.booksStraight(t)
	})
}

// TestFulfilmentWarehouseScope: a warehouse key sees and acts on its own
// location's fulfilment orders only.
func TestFulfilmentWarehouseScope(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.york(t, map[string]int64{sku1: 10})
		b.put(t, "admin", "/api/v1/inventory/leeds/SKU-1", `{"on_hand":0}`).want(t, 200)
		yorkOrder := b.post(t, "admin", "/api/v1/orders", orderWith(chWeb, "WS-1", false, sku1, 1)).want(t, 201).json(t)
		leedsOrder := b.post(t, "admin", "/api/v1/orders", orderWith(chWeb, "WS-2", false, sku2, 1)).want(t, 201).json(t)
		yf := b.fulfilmentOrders(t, yorkOrder["id"].(string))["york"]
		lf := b.fulfilmentOrders(t, leedsOrder["id"].(string))[locLeeds]

		ids := func(key, query string) []string {
			var out []string
			for _, f := range b.get(t, key, "/api/v1/fulfilment-orders"+query).want(t, 200).json(t)["items"].([]any) {
				out = append(out, f.(map[string]any)["id"].(string))
			}
			return out
		}
		if got := ids("warehouse", ""); fmt.Sprint(got) != fmt.Sprint([]string{lf["id"].(string)}) {
			t.Fatalf("warehouse sees %v", got)
		}
		if got := ids("warehouse", "?location=york"); len(got) != 0 {
			t.Fatalf("warehouse sees york's %v", got)
		}
		if got := ids("admin", "?location=york&status=requested"); fmt.Sprint(got) != fmt.Sprint([]string{yf["id"].(string)}) {
			t.Fatalf("admin sees at york %v", got)
		}
		if got := ids("admin", "?limit=1"); len(got) != 1 {
			t.Fatalf("a page of 1: %v", got)
		}
		b.get(t, "admin", "/api/v1/fulfilment-orders?status=nope").wantProblem(t, 422, "status")
		b.get(t, "warehouse", "/api/v1/fulfilment-orders/"+yf["id"].(string)).wantProblem(t, 404, "")
		b.get(t, "channel2", "/api/v1/fulfilment-orders/"+yf["id"].(string)).wantProblem(t, 404, "")
		b.post(t, "warehouse", "/api/v1/fulfilment-orders/"+yf["id"].(string)+"/accept", "").wantProblem(t, 403, "")
		b.post(t, "warehouse", "/api/v1/fulfilment-orders/"+yf["id"].(string)+"/reject", `{"reason":"other"}`).wantProblem(t, 403, "")
		b.post(t, "warehouse", "/api/v1/fulfilment-orders/"+lf["id"].(string)+"/accept", "").want(t, 200)
		b.get(t, "admin", "/api/v1/fulfilment-orders/nope").wantProblem(t, 404, "")
	})
}

// fulfilmentMatrixRoutes are the fulfilment routes TestFulfilmentRoleMatrix
// covers (TestRoleMatrix checks every route is covered somewhere).
var fulfilmentMatrixRoutes = []string{
	"GET /api/v1/fulfilment-orders", "GET /api/v1/fulfilment-orders/{id}",
	"POST /api/v1/fulfilment-orders/{id}/accept", "POST /api/v1/fulfilment-orders/{id}/start-picking",
	"POST /api/v1/fulfilment-orders/{id}/pack", "POST /api/v1/fulfilment-orders/{id}/ship",
	"POST /api/v1/fulfilment-orders/{id}/reject", "GET /api/v1/shipments/{id}", "POST /api/v1/shipments/{id}/events",
	"POST /api/v1/fulfilment-orders/{id}/rates", "POST /api/v1/fulfilment-orders/{id}/label", "GET /api/v1/labels/{id}",
}

// TestFulfilmentRoleMatrix sends every fulfilment route with every role's
// key: reading for everyone who reads orders, acting for admin and the
// warehouse key (at its location, leeds).
func TestFulfilmentRoleMatrix(t *testing.T) {
	t.Parallel()
	const (
		Y = true
		N = false
	)
	each(t, func(t *testing.T, b *bundle) {
		b.leedsAddress(t)
		for i, role := range roleNames {
			// A shipment to track, and a fresh fulfilment order to act on.
			a := b.post(t, "admin", "/api/v1/orders", orderWith(chWeb, "FM-A-"+role, false, sku1, 2)).want(t, 201).json(t)
			af := b.fulfilmentOrders(t, a["id"].(string))[locLeeds]["id"].(string)
			b.post(t, "admin", "/api/v1/fulfilment-orders/"+af+"/accept", "").want(t, 200)
			sh := b.post(t, "admin", "/api/v1/fulfilment-orders/"+af+"/ship", shipBody(lineIDs(a)[0], 1)).want(t, 201).json(t)["id"].(string)
			o := b.post(t, "admin", "/api/v1/orders", shipTo("FM-B-"+role, "GB", sku1, 2)).want(t, 201).json(t)
			f := b.fulfilmentOrders(t, o["id"].(string))[locLeeds]["id"].(string)
			fo := "/api/v1/fulfilment-orders/" + f
			label := b.post(t, "admin", fo+"/label", `{"service":"standard"}`).want(t, 201).json(t)["url"].(string)
			for _, r := range []struct {
				method, path, body string
				status             int
				allowed            [6]bool // admin agent warehouse finance viewer channel
			}{
				{"GET", "/api/v1/fulfilment-orders", "", 200, [6]bool{Y, Y, Y, Y, Y, Y}},
				{"GET", fo, "", 200, [6]bool{Y, Y, Y, Y, Y, Y}},
				{"POST", fo + "/rates", "", 200, [6]bool{Y, N, Y, N, N, N}},
				{"POST", fo + "/label", `{"service":"express"}`, 201, [6]bool{Y, N, Y, N, N, N}},
				{"GET", label, "", 200, [6]bool{Y, Y, Y, Y, Y, Y}},
				{"POST", fo + "/accept", "", 200, [6]bool{Y, N, Y, N, N, N}},
				{"POST", fo + "/start-picking", "", 200, [6]bool{Y, N, Y, N, N, N}},
				{"POST", fo + "/pack", "", 200, [6]bool{Y, N, Y, N, N, N}},
				{"POST", fo + "/ship", shipBody(lineIDs(o)[0], 1), 201, [6]bool{Y, N, Y, N, N, N}},
				{"POST", fo + "/reject", `{"reason":"other"}`, 200, [6]bool{Y, N, Y, N, N, N}},
				{"GET", "/api/v1/shipments/" + sh, "", 200, [6]bool{Y, Y, Y, Y, Y, Y}},
				{"POST", "/api/v1/shipments/" + sh + "/events", `{"status":"in_transit","at":"2025-03-01T10:00:00Z"}`, 200, [6]bool{Y, N, Y, N, N, N}},
			} {
				res := b.do(t, req{method: r.method, path: r.path, key: role, body: r.body})
				if r.allowed[i] {
					res.want(t, r.status)
				} else {
					res.wantProblem(t, http.StatusForbidden, "")
				}
			}
		}
	})
}
