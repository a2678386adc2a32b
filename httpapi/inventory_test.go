package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/store"
)

// put is a shorthand for do.
func (b *bundle) put(t *testing.T, key, path, body string) *response {
	t.Helper()
	return b.do(t, req{method: "PUT", path: path, key: key, body: body})
}

// adjustBody is an adjustment request.
func adjustBody(location, sku string, delta int64, reason string) string {
	return fmt.Sprintf(`{"location":%q,"sku":%q,"delta":%d,"reason":%q,"reference":"PO-1"}`, location, sku, delta, reason)
}

// balance returns the balance of sku at location as the API lists it, or
// nil if there is none.
func (b *bundle) balance(t *testing.T, location, sku string) map[string]any {
	t.Helper()
	items := b.get(t, "viewer", "/api/v1/inventory?location="+url.QueryEscape(location)+"&sku="+url.QueryEscape(sku)).
		want(t, 200).json(t)["items"].([]any)
	switch len(items) {
	case 0:
		return nil
	case 1:
		return items[0].(map[string]any)
	}
	t.Fatalf("%d balances of %s at %s", len(items), sku, location)
	return nil
}

// wantBalance fails unless the balance has these on_hand, reserved,
// safety_stock and available figures.
func (b *bundle) wantBalance(t *testing.T, location, sku string, onHand, reserved, safety, available float64) {
	t.Helper()
	bal := b.balance(t, location, sku)
	if bal == nil {
		t.Fatalf("no balance of %s at %s", sku, location)
	}
	if bal["on_hand"] != onHand || bal["reserved"] != reserved || bal["safety_stock"] != safety || bal["available"] != available {
		t.Fatalf("%s at %s: on_hand %v reserved %v safety_stock %v available %v, want %v %v %v %v", sku, location,
			bal["on_hand"], bal["reserved"], bal["safety_stock"], bal["available"], onHand, reserved, safety, available)
	}
}

// ledgerOf returns the movements of sku at location, newest first.
func (b *bundle) ledgerOf(t *testing.T, location, sku string) []map[string]any {
	t.Helper()
	items := b.get(t, "viewer", "/api/v1/inventory/"+location+"/"+url.PathEscape(sku)+"/ledger?limit=500").
		want(t, 200).json(t)["items"].([]any)
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i] = it.(map[string]any)
	}
	return out
}

// available returns what GET /api/v1/availability says of one SKU.
func (b *bundle) available(t *testing.T, key, query string) []any {
	t.Helper()
	return b.get(t, key, "/api/v1/availability?"+query).want(t, 200).json(t)["items"].([]any)
}

// orderWith returns an order request for the channel with one line per
// (sku, quantity) pair.
func orderWith(channel, ext string, strict bool, lines ...any) string {
	var ls []string
	for i := 0; i < len(lines); i += 2 {
		ls = append(ls, fmt.Sprintf(`{"sku":%q,"quantity":%d,"unit_price":100}`, lines[i], lines[i+1]))
	}
	s := ""
	if strict {
		s = `,"strict":true`
	}
	return `{"channel":"` + channel + `","external_id":"` + ext + `","currency":"EUR","lines":[` + strings.Join(ls, ",") + `]` + s + `}`
}

// mustSKU creates a SKU and, if stock > 0, receives that much at leeds.
func (b *bundle) mustSKU(t *testing.T, sku string, stock int64) {
	t.Helper()
	b.post(t, "admin", "/api/v1/skus", fmt.Sprintf(`{"sku":%q,"name":"x"}`, sku)).want(t, 201)
	if stock > 0 {
		b.post(t, "admin", "/api/v1/inventory/adjustments", adjustBody(locLeeds, sku, stock, "receive")).want(t, 201)
	}
}

// lineCounters returns each line's allocated and backordered counts.
func lineCounters(o map[string]any) (allocated, backordered []float64) {
	for _, l := range o["lines"].([]any) {
		m := l.(map[string]any)
		allocated = append(allocated, m["allocated"].(float64))
		backordered = append(backordered, m["backordered"].(float64))
	}
	return allocated, backordered
}

func timelineTypes(d map[string]any) string {
	var types []string
	for _, e := range d["timeline"].([]any) {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	return strings.Join(types, " ")
}

func TestAdjustments(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		res := b.post(t, "warehouse", "/api/v1/inventory/adjustments", adjustBody(locLeeds, sku1, 10, "receive")).want(t, http.StatusCreated)
		if loc := res.header.Get("Location"); loc != "" {
			t.Errorf("an adjustment sent Location %q", loc)
		}
		a := res.json(t)
		bal, m := a["balance"].(map[string]any), a["movement"].(map[string]any)
		if bal["on_hand"] != 1010.0 || bal["reserved"] != 0.0 || bal["available"] != 1010.0 || bal["sku"] != sku1 || bal["location"] != locLeeds {
			t.Errorf("balance %v", bal)
		}
		if m["reason"] != "receive" || m["delta_on_hand"] != 10.0 || m["delta_reserved"] != 0.0 || m["reference"] != "PO-1" ||
			m["actor"] != "key:warehouse-key" || m["id"] == "" {
			t.Errorf("movement %v", m)
		}

		// Every client reason, with a sign that fits it.
		for _, c := range []struct {
			reason string
			delta  int64
		}{{"adjust", -5}, {"adjust", 2}, {"damage", -1}, {"transfer_out", -3}, {"transfer_in", 3}, {"return", 1}} {
			b.post(t, "admin", "/api/v1/inventory/adjustments", adjustBody(locLeeds, sku1, c.delta, c.reason)).want(t, 201)
		}
		b.wantBalance(t, locLeeds, sku1, 1007, 0, 0, 1007)
		ledger := b.ledgerOf(t, locLeeds, sku1)
		if len(ledger) != 8 || ledger[0]["reason"] != "return" || ledger[7]["reason"] != "receive" || ledger[7]["reference"] != "setup" {
			t.Fatalf("ledger %v", ledger)
		}

		// Refused adjustments write nothing.
		b.post(t, "admin", "/api/v1/locations", `{"code":"york","name":"York","kind":"store"}`).want(t, 201)
		bad := []struct {
			name, body string
			status     int
			field      string
		}{
			{"unknown location", adjustBody("nowhere", sku1, 1, "receive"), 422, "location"},
			{"unknown SKU", adjustBody(locLeeds, "NOPE", 1, "receive"), 422, "sku"},
			{"no location", `{"sku":"SKU-1","delta":1,"reason":"receive"}`, 422, "location"},
			{"reason of Orderly's", adjustBody(locLeeds, sku1, 1, "count"), 422, "reason"},
			{"reserve is not a client reason", adjustBody(locLeeds, sku1, 1, "reserve"), 422, "reason"},
			{"unknown reason", adjustBody(locLeeds, sku1, 1, "stolen"), 422, "reason"},
			{"no reason", `{"location":"leeds","sku":"SKU-1","delta":1}`, 422, "reason"},
			{"zero delta", adjustBody(locLeeds, sku1, 0, "adjust"), 422, "delta"},
			{"no delta", `{"location":"leeds","sku":"SKU-1","reason":"adjust"}`, 422, "delta"},
			{"negative receive", adjustBody(locLeeds, sku1, -1, "receive"), 422, "delta"},
			{"negative return", adjustBody(locLeeds, sku1, -1, "return"), 422, "delta"},
			{"positive damage", adjustBody(locLeeds, sku1, 1, "damage"), 422, "delta"},
			{"positive transfer_out", adjustBody(locLeeds, sku1, 1, "transfer_out"), 422, "delta"},
			{"huge delta", adjustBody(locLeeds, sku1, 2_000_000_000, "receive"), 422, "delta"},
			{"fractional delta", `{"location":"leeds","sku":"SKU-1","delta":1.5,"reason":"receive"}`, 422, "delta"},
			{"string delta", `{"location":"leeds","sku":"SKU-1","delta":"5","reason":"receive"}`, 422, "delta"},
			{"below zero", adjustBody(locLeeds, sku1, -1008, "damage"), 422, "delta"},
			{"below zero where nothing is", adjustBody("york", sku1, -1, "adjust"), 422, "delta"},
			{"long reference", `{"location":"leeds","sku":"SKU-1","delta":1,"reason":"receive","reference":"` + strings.Repeat("r", 201) + `"}`, 422, "reference"},
			{"unknown field", `{"location":"leeds","sku":"SKU-1","delta":1,"reason":"receive","note":"x"}`, 400, "note"},
			{"not an object", `[]`, 400, ""},
		}
		for _, c := range bad {
			t.Run(c.name, func(t *testing.T) {
				b.post(t, "admin", "/api/v1/inventory/adjustments", c.body).wantProblem(t, c.status, c.field)
			})
		}
		b.wantBalance(t, locLeeds, sku1, 1007, 0, 0, 1007)
		if after := b.ledgerOf(t, locLeeds, sku1); len(after) != len(ledger) {
			t.Errorf("refused adjustments wrote %d movements", len(after)-len(ledger))
		}
		if york := b.balance(t, "york", sku1); york != nil && york["on_hand"] != 0.0 {
			t.Errorf("york %v", york)
		}
		if york := b.ledgerOf(t, "york", sku1); len(york) != 0 {
			t.Errorf("york ledger %v", york)
		}

		// The warehouse key works at its own location only.
		b.post(t, "warehouse", "/api/v1/inventory/adjustments", adjustBody("york", sku1, 1, "receive")).wantProblem(t, 403, "")
		b.post(t, "viewer", "/api/v1/inventory/adjustments", adjustBody(locLeeds, sku1, 1, "receive")).wantProblem(t, 403, "")
		b.wantBalance(t, locLeeds, sku1, 1007, 0, 0, 1007)

		// Damage that leaves less than is reserved (but not below zero) is
		// accepted: the order it uncovers goes on hold.
		id, _ := b.createOrder(t, chWeb, "A-1") // reserves 2 × SKU-1
		b.post(t, "warehouse", "/api/v1/inventory/adjustments", adjustBody(locLeeds, sku1, -1006, "damage")).want(t, 201)
		b.wantBalance(t, locLeeds, sku1, 1, 2, 0, 0)
		if o := b.get(t, "agent", "/api/v1/orders/"+id).want(t, 200).json(t); o["status"] != "on_hold" ||
			o["hold"].(map[string]any)["reason"] != "stock_shortage" {
			t.Errorf("uncovered order: %v %v", o["status"], o["hold"])
		}
	})
}

func TestCountStock(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		res := b.put(t, "warehouse", "/api/v1/inventory/leeds/SKU-1", `{"on_hand":40,"safety_stock":5,"reference":"cycle-1"}`).want(t, 200).json(t)
		if res["on_hand"] != 40.0 || res["safety_stock"] != 5.0 || res["reserved"] != 0.0 || res["available"] != 35.0 {
			t.Errorf("count answered %v", res)
		}
		ledger := b.ledgerOf(t, locLeeds, sku1)
		if len(ledger) != 2 || ledger[0]["reason"] != "count" || ledger[0]["delta_on_hand"] != -960.0 || ledger[0]["reference"] != "cycle-1" {
			t.Fatalf("ledger %v", ledger)
		}
		// Safety stock is held back from availability.
		if a := b.available(t, "viewer", "sku=SKU-1")[0].(map[string]any); a["available"] != 35.0 {
			t.Errorf("availability %v", a)
		}
		// The same count again writes no movement; safety stock left out
		// stays; a new one changes availability only.
		b.put(t, "admin", "/api/v1/inventory/leeds/SKU-1", `{"on_hand":40}`).want(t, 200)
		b.wantBalance(t, locLeeds, sku1, 40, 0, 5, 35)
		b.put(t, "admin", "/api/v1/inventory/leeds/SKU-1", `{"on_hand":40,"safety_stock":0}`).want(t, 200)
		b.wantBalance(t, locLeeds, sku1, 40, 0, 0, 40)
		if n := len(b.ledgerOf(t, locLeeds, sku1)); n != 2 {
			t.Errorf("%d movements after counts that changed nothing on hand, want 2", n)
		}
		if a := b.available(t, "viewer", "sku=SKU-1")[0].(map[string]any); a["available"] != 40.0 {
			t.Errorf("availability %v", a)
		}

		// A count of a SKU never stocked there creates its balance.
		b.post(t, "admin", "/api/v1/locations", `{"code":"york","name":"York","kind":"store"}`).want(t, 201)
		b.put(t, "admin", "/api/v1/inventory/york/SKU-2", `{"on_hand":0,"safety_stock":2}`).want(t, 200)
		b.wantBalance(t, "york", sku2, 0, 0, 2, 0)

		// A count below what is reserved is the truth: accepted, and the
		// order whose reservation it no longer covers goes on hold.
		id, _ := b.createOrder(t, chWeb, "C-1") // 2 × SKU-1, 1 × SKU-2
		b.wantBalance(t, locLeeds, sku1, 40, 2, 0, 38)
		short := b.put(t, "warehouse", "/api/v1/inventory/leeds/SKU-1", `{"on_hand":1}`).want(t, 200).json(t)
		if short["on_hand"] != 1.0 || short["reserved"] != 2.0 || short["available"] != 0.0 {
			t.Errorf("count below reserved answered %v", short)
		}
		d := b.get(t, "agent", "/api/v1/orders/"+id).want(t, 200).json(t)
		if d["status"] != "on_hold" || d["hold"].(map[string]any)["reason"] != "stock_shortage" {
			t.Errorf("order status %v hold %v, want on_hold for stock_shortage", d["status"], d["hold"])
		}
		if got := timelineTypes(d); got != "order.created order.routed order.allocated fulfilment.requested order.held" {
			t.Errorf("timeline %s", got)
		}
		held := d["timeline"].([]any)[4].(map[string]any)["data"].(map[string]any)
		if held["reason"] != "stock_shortage" || held["location"] != locLeeds || held["sku"] != sku1 {
			t.Errorf("order.held data %v", held)
		}
		// The shortage itself is an inventory event (not on the order's
		// timeline: it belongs to the balance), naming the order.
		events, err := b.store.EventList(context.Background(), store.EventListParams{Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range events {
			if e.Type == "inventory.shortage" && e.SubjectID == "leeds/SKU-1" && strings.Contains(string(e.Data), id) {
				found = true
			}
		}
		if !found {
			t.Error("no inventory.shortage event naming the order")
		}

		// SKU codes with '/' and spaces work percent-encoded in the path.
		b.mustSKU(t, "TEE/RED M", 0)
		odd := b.put(t, "warehouse", "/api/v1/inventory/leeds/TEE%2FRED%20M", `{"on_hand":3}`).want(t, 200).json(t)
		if odd["sku"] != "TEE/RED M" || odd["on_hand"] != 3.0 {
			t.Errorf("encoded SKU: %v", odd)
		}
		if l := b.ledgerOf(t, locLeeds, "TEE/RED M"); len(l) != 1 || l[0]["sku"] != "TEE/RED M" {
			t.Errorf("encoded SKU's ledger %v", l)
		}
		b.wantBalance(t, locLeeds, "TEE/RED M", 3, 0, 0, 3)
		// So do the codes "." and "..", as %2E: the router does not read
		// them as dot segments.
		for _, code := range []string{".", ".."} {
			res := b.post(t, "admin", "/api/v1/skus", `{"sku":"`+code+`","name":"dots"}`).want(t, 201)
			esc := strings.Repeat("%2E", len(code))
			if loc := res.header.Get("Location"); loc != "/api/v1/skus/"+esc {
				t.Errorf("Location %q", loc)
			}
			if got := b.put(t, "admin", "/api/v1/inventory/leeds/"+esc, `{"on_hand":2}`).want(t, 200).json(t); got["sku"] != code {
				t.Errorf("PUT %s: %v", esc, got)
			}
			if l := b.get(t, "viewer", "/api/v1/inventory/leeds/"+esc+"/ledger").want(t, 200).json(t)["items"].([]any); len(l) != 1 {
				t.Errorf("ledger of %q: %v", code, l)
			}
		}

		bad := []struct {
			name, path, body string
			status           int
			field            string
		}{
			{"negative", "/api/v1/inventory/leeds/SKU-1", `{"on_hand":-1}`, 422, "on_hand"},
			{"missing on_hand", "/api/v1/inventory/leeds/SKU-1", `{"safety_stock":1}`, 422, "on_hand"},
			{"null on_hand", "/api/v1/inventory/leeds/SKU-1", `{"on_hand":null}`, 422, "on_hand"},
			{"fractional", "/api/v1/inventory/leeds/SKU-1", `{"on_hand":1.5}`, 422, "on_hand"},
			{"too many", "/api/v1/inventory/leeds/SKU-1", `{"on_hand":1000000001}`, 422, "on_hand"},
			{"negative safety", "/api/v1/inventory/leeds/SKU-1", `{"on_hand":1,"safety_stock":-1}`, 422, "safety_stock"},
			{"unknown SKU", "/api/v1/inventory/leeds/NOPE", `{"on_hand":1}`, 422, "sku"},
			{"unknown location", "/api/v1/inventory/nowhere/SKU-1", `{"on_hand":1}`, 422, "location"},
			{"unknown field", "/api/v1/inventory/leeds/SKU-1", `{"on_hand":1,"sku":"SKU-2"}`, 400, "sku"},
			{"empty body", "/api/v1/inventory/leeds/SKU-1", ``, 400, ""},
		}
		for _, c := range bad {
			t.Run(c.name, func(t *testing.T) {
				b.do(t, req{method: "PUT", path: c.path, key: "admin", body: c.body, header: map[string]string{"Content-Type": "application/json"}}).
					wantProblem(t, c.status, c.field)
			})
		}
		b.put(t, "warehouse", "/api/v1/inventory/york/SKU-1", `{"on_hand":1}`).wantProblem(t, 403, "")
		b.put(t, "agent", "/api/v1/inventory/leeds/SKU-1", `{"on_hand":1}`).wantProblem(t, 403, "")
		b.wantBalance(t, locLeeds, sku1, 1, 2, 0, 0)
	})
}

func TestBalancesAndLedgerPaging(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.post(t, "admin", "/api/v1/locations", `{"code":"york","name":"York","kind":"store"}`).want(t, 201)
		b.post(t, "admin", "/api/v1/inventory/adjustments", adjustBody("york", sku2, 4, "receive")).want(t, 201)
		// Balances by (location, sku), two a page.
		var keys []string
		path := "/api/v1/inventory?limit=2"
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatal("pagination does not end")
			}
			res := b.get(t, "channel", path).want(t, 200).json(t)
			for _, it := range res["items"].([]any) {
				m := it.(map[string]any)
				keys = append(keys, m["location"].(string)+"/"+m["sku"].(string))
			}
			if res["next_cursor"] == nil {
				break
			}
			path = "/api/v1/inventory?limit=2&cursor=" + url.QueryEscape(res["next_cursor"].(string))
		}
		if got := strings.Join(keys, " "); got != "leeds/SKU-1 leeds/SKU-2 york/SKU-2" {
			t.Errorf("balances %s", got)
		}
		if items := b.get(t, "viewer", "/api/v1/inventory?sku=SKU-2").want(t, 200).json(t)["items"].([]any); len(items) != 2 {
			t.Errorf("SKU-2 everywhere: %v", items)
		}
		if items := b.get(t, "viewer", "/api/v1/inventory?location=york").want(t, 200).json(t)["items"].([]any); len(items) != 1 {
			t.Errorf("york: %v", items)
		}

		// The ledger, newest first, three a page.
		for i := range 5 {
			b.post(t, "admin", "/api/v1/inventory/adjustments", adjustBody(locLeeds, sku1, int64(i+1), "receive")).want(t, 201)
		}
		var deltas []float64
		path = "/api/v1/inventory/leeds/SKU-1/ledger?limit=3"
		var cursor string
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatal("pagination does not end")
			}
			res := b.get(t, "finance", path).want(t, 200).json(t)
			for _, it := range res["items"].([]any) {
				deltas = append(deltas, it.(map[string]any)["delta_on_hand"].(float64))
			}
			if res["next_cursor"] == nil {
				break
			}
			cursor = res["next_cursor"].(string)
			path = "/api/v1/inventory/leeds/SKU-1/ledger?limit=3&cursor=" + url.QueryEscape(cursor)
		}
		if !slices.Equal(deltas, []float64{5, 4, 3, 2, 1, 1000}) {
			t.Errorf("ledger deltas %v", deltas)
		}
		// A cursor belongs to one ledger.
		b.get(t, "admin", "/api/v1/inventory/leeds/SKU-2/ledger?cursor="+url.QueryEscape(cursor)).wantProblem(t, 422, "cursor")
		// An unknown pair has an empty ledger.
		if items := b.get(t, "admin", "/api/v1/inventory/nowhere/NOPE/ledger").want(t, 200).json(t)["items"].([]any); len(items) != 0 {
			t.Errorf("unknown ledger %v", items)
		}

		for _, c := range []struct {
			path   string
			status int
			field  string
		}{
			{"/api/v1/inventory?limit=0", 422, "limit"},
			{"/api/v1/inventory?cursor=nonsense!", 422, "cursor"},
			{"/api/v1/inventory?cursor=" + *encodeCursor("inventory", "leeds"), 422, "cursor"},
			{"/api/v1/inventory?cursor=" + *encodeCursor("skus", "SKU-1"), 422, "cursor"},
			{"/api/v1/inventory?warehouse=leeds", 400, "warehouse"},
			{"/api/v1/inventory?sku=A&sku=B", 400, "sku"},
			{"/api/v1/inventory/leeds/SKU-1/ledger?cursor=" + *encodeCursor("ledger:leeds:SKU-1", "x"), 422, "cursor"},
			{"/api/v1/inventory/leeds/SKU-1/ledger?reason=count", 400, "reason"},
		} {
			b.get(t, "admin", c.path).wantProblem(t, c.status, c.field)
		}
	})
}

func TestSnapshots(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.mustSKU(t, "SKU-3", 7)
		// state captures every balance and ledger at leeds.
		state := func() string {
			s := string(b.get(t, "admin", "/api/v1/inventory?location=leeds").want(t, 200).body)
			for _, sku := range []string{sku1, sku2, "SKU-3", "NOPE"} {
				s += fmt.Sprint(b.ledgerOf(t, locLeeds, sku))
			}
			return s
		}
		lines := func(rep map[string]any) map[string]map[string]any {
			out := map[string]map[string]any{}
			for _, l := range rep["lines"].([]any) {
				m := l.(map[string]any)
				out[m["sku"].(string)] = m
			}
			return out
		}
		before := state()

		// Partial, report only: SKU-1 is 10 short; nothing changes.
		res := b.post(t, "warehouse", "/api/v1/inventory/snapshots",
			`{"location":"leeds","mode":"partial","items":[{"sku":"SKU-1","on_hand":990}]}`).want(t, http.StatusCreated)
		partial := res.json(t)
		if loc := res.header.Get("Location"); loc != "/api/v1/reconciliation/reports/"+partial["id"].(string) {
			t.Errorf("Location %q", loc)
		}
		pl := lines(partial)
		if len(pl) != 1 || pl[sku1]["expected"] != 1000.0 || pl[sku1]["counted"] != 990.0 || pl[sku1]["drift"] != -10.0 ||
			pl[sku1]["correction"] != -10.0 || pl[sku1]["cause"] != "unexplained" {
			t.Errorf("partial lines %v", pl)
		}
		if partial["applied"] != false || partial["mode"] != "partial" || partial["skus"] != 1.0 || partial["drifted"] != 1.0 ||
			partial["drift_units"] != 10.0 || partial["actor"] != "key:warehouse-key" {
			t.Errorf("partial report %v", partial)
		}

		// Full, report only: what the snapshot leaves out counts as zero.
		full := b.post(t, "admin", "/api/v1/inventory/snapshots",
			`{"location":"leeds","mode":"full","apply":false,"items":[{"sku":"SKU-1","on_hand":1000}]}`).want(t, 201).json(t)
		fl := lines(full)
		if len(fl) != 3 || fl[sku1]["cause"] != "none" || fl[sku1]["correction"] != 0.0 ||
			fl[sku2]["counted"] != 0.0 || fl[sku2]["drift"] != -1000.0 || fl[sku2]["cause"] != "missing_from_snapshot" ||
			fl["SKU-3"]["correction"] != -7.0 || fl["SKU-3"]["cause"] != "missing_from_snapshot" {
			t.Errorf("full lines %v", fl)
		}
		if full["drifted"] != 2.0 || full["drift_units"] != 1007.0 {
			t.Errorf("full report %v", full)
		}
		if after := state(); after != before {
			t.Errorf("apply=false changed the books:\nbefore %s\nafter  %s", before, after)
		}

		// Applied, with a SKU not in the catalogue: the known SKU is
		// corrected through a count movement, the unknown one only reported.
		applied := b.post(t, "admin", "/api/v1/inventory/snapshots",
			`{"location":"leeds","mode":"partial","apply":true,"items":[{"sku":"SKU-1","on_hand":990},{"sku":"NOPE","on_hand":4}]}`).want(t, 201).json(t)
		al := lines(applied)
		if al["NOPE"]["cause"] != "unknown_sku" || al["NOPE"]["counted"] != 4.0 || applied["applied"] != true {
			t.Errorf("applied report %v", applied)
		}
		b.wantBalance(t, locLeeds, sku1, 990, 0, 0, 990)
		if l := b.ledgerOf(t, locLeeds, sku1); l[0]["reason"] != "count" || l[0]["delta_on_hand"] != -10.0 ||
			l[0]["reference"] != "reconciliation:"+applied["id"].(string) {
			t.Errorf("SKU-1 ledger %v", l)
		}
		if bal := b.balance(t, locLeeds, "NOPE"); bal != nil {
			t.Errorf("an unknown SKU got a balance: %v", bal)
		}

		// Counted an hour ago; 5 SKU-2 received since. The count is carried
		// forward over that movement: no drift to correct for SKU-2. SKU-3
		// is one short, and is corrected.
		b.clock.Advance(time.Minute)
		countedAt := b.clock.Now()
		b.clock.Advance(time.Minute)
		b.post(t, "admin", "/api/v1/inventory/adjustments", adjustBody(locLeeds, sku2, 5, "receive")).want(t, 201)
		b.clock.Advance(time.Minute)
		ledger2 := b.ledgerOf(t, locLeeds, sku2)
		late := b.post(t, "admin", "/api/v1/inventory/snapshots", `{"location":"leeds","mode":"partial","apply":true,"counted_at":"`+
			countedAt.Format(time.RFC3339)+`","items":[{"sku":"SKU-2","on_hand":1000},{"sku":"SKU-3","on_hand":6}]}`).want(t, 201).json(t)
		ll := lines(late)
		if ll[sku2]["expected"] != 1005.0 || ll[sku2]["moved_since_count"] != 5.0 || ll[sku2]["drift"] != -5.0 ||
			ll[sku2]["cause"] != "movements_after_count" || ll[sku2]["correction"] != 0.0 {
			t.Errorf("SKU-2 line %v", ll[sku2])
		}
		if ll["SKU-3"]["correction"] != -1.0 || late["counted_at"] != countedAt.Format(time.RFC3339) {
			t.Errorf("report %v", late)
		}
		b.wantBalance(t, locLeeds, sku2, 1005, 0, 0, 1005)
		b.wantBalance(t, locLeeds, "SKU-3", 6, 0, 0, 6)
		if got := b.ledgerOf(t, locLeeds, sku2); len(got) != len(ledger2) {
			t.Errorf("SKU-2 was corrected: %v", got[0])
		}

		// The reports: newest first, without lines; one with its lines.
		var ids []string
		path := "/api/v1/reconciliation/reports?limit=3"
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatal("pagination does not end")
			}
			res := b.get(t, "viewer", path).want(t, 200).json(t)
			for _, it := range res["items"].([]any) {
				m := it.(map[string]any)
				if _, has := m["lines"]; has {
					t.Error("a listed report has lines")
				}
				ids = append(ids, m["id"].(string))
			}
			if res["next_cursor"] == nil {
				break
			}
			path = "/api/v1/reconciliation/reports?limit=3&cursor=" + url.QueryEscape(res["next_cursor"].(string))
		}
		want := []string{late["id"].(string), applied["id"].(string), full["id"].(string), partial["id"].(string)}
		if !slices.Equal(ids, want) {
			t.Errorf("reports %v, want %v", ids, want)
		}
		if items := b.get(t, "viewer", "/api/v1/reconciliation/reports?location=york").want(t, 200).json(t)["items"].([]any); len(items) != 0 {
			t.Errorf("york's reports %v", items)
		}
		if items := b.get(t, "channel", "/api/v1/reconciliation/reports?location=leeds").want(t, 200).json(t)["items"].([]any); len(items) != 4 {
			t.Errorf("leeds's reports: %d", len(items))
		}
		got := b.get(t, "viewer", "/api/v1/reconciliation/reports/"+full["id"].(string)).want(t, 200).json(t)
		if jsonString(got) != jsonString(full) {
			t.Errorf("GET report differs from the POST's answer:\n%v\n%v", got, full)
		}
		b.get(t, "viewer", "/api/v1/reconciliation/reports/0193a1b2-0000-7000-8000-000000000000").wantProblem(t, 404, "")

		b.post(t, "admin", "/api/v1/locations", `{"code":"york","name":"York","kind":"store"}`).want(t, 201)
		future := b.clock.Now().Add(time.Hour).Format(time.RFC3339)
		bad := []struct {
			name, body string
			status     int
			field      string
		}{
			{"bad mode", `{"location":"leeds","mode":"weekly","items":[]}`, 422, "mode"},
			{"no mode", `{"location":"leeds","items":[]}`, 422, "mode"},
			{"unknown location", `{"location":"nowhere","mode":"full","items":[]}`, 422, "location"},
			{"no items", `{"location":"leeds","mode":"full"}`, 422, "items"},
			{"null items", `{"location":"leeds","mode":"full","items":null}`, 422, "items"},
			{"negative count", `{"location":"leeds","mode":"partial","items":[{"sku":"SKU-1","on_hand":-1}]}`, 422, "items[0].on_hand"},
			{"fractional count", `{"location":"leeds","mode":"partial","items":[{"sku":"SKU-1","on_hand":0.5}]}`, 422, "items[0].on_hand"},
			{"no count", `{"location":"leeds","mode":"partial","items":[{"sku":"SKU-1"}]}`, 422, "items[0].on_hand"},
			{"empty SKU", `{"location":"leeds","mode":"partial","items":[{"sku":"","on_hand":1}]}`, 422, "items[0].sku"},
			{"SKU twice", `{"location":"leeds","mode":"partial","items":[{"sku":"SKU-1","on_hand":1},{"sku":"SKU-1","on_hand":2}]}`, 422, "items[1].sku"},
			{"bad counted_at", `{"location":"leeds","mode":"full","counted_at":"yesterday","items":[]}`, 422, "counted_at"},
			{"future counted_at", `{"location":"leeds","mode":"full","counted_at":"` + future + `","items":[]}`, 422, "counted_at"},
			{"unknown item field", `{"location":"leeds","mode":"partial","items":[{"sku":"SKU-1","on_hand":1,"bin":"A1"}]}`, 400, "items[0].bin"},
			{"apply as a string", `{"location":"leeds","mode":"partial","apply":"yes","items":[]}`, 400, "apply"},
		}
		for _, c := range bad {
			t.Run(c.name, func(t *testing.T) {
				b.post(t, "admin", "/api/v1/inventory/snapshots", c.body).wantProblem(t, c.status, c.field)
			})
		}
		b.post(t, "warehouse", "/api/v1/inventory/snapshots", `{"location":"york","mode":"full","apply":true,"items":[]}`).wantProblem(t, 403, "")
		b.post(t, "viewer", "/api/v1/inventory/snapshots", `{"location":"leeds","mode":"full","items":[]}`).wantProblem(t, 403, "")
		if n := len(b.get(t, "admin", "/api/v1/reconciliation/reports").want(t, 200).json(t)["items"].([]any)); n != 4 {
			t.Errorf("%d reports after refused snapshots, want 4", n)
		}
	})
}

// TestCaptureReservations follows stock through order capture, holds,
// release and cancellation.
func TestCaptureReservations(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.mustSKU(t, "LOW", 3)
		b.mustSKU(t, "ONE", 1)

		// Enough stock: every unit reserved, and GET says where.
		res := b.post(t, "admin", "/api/v1/orders", orderWith(chWeb, "R-1", false, "LOW", 2)).want(t, 201).json(t)
		first := res["id"].(string)
		if alloc, back := lineCounters(res); res["status"] != "open" || alloc[0] != 2 || back[0] != 0 {
			t.Errorf("status %v allocated %v backordered %v", res["status"], alloc, back)
		}
		d := b.get(t, "channel", "/api/v1/orders/"+first).want(t, 200).json(t)
		allocs := d["allocations"].([]any)
		if len(allocs) != 1 {
			t.Fatalf("allocations %v", allocs)
		}
		a0 := allocs[0].(map[string]any)
		lineID := d["lines"].([]any)[0].(map[string]any)["id"]
		if a0["line_id"] != lineID || a0["sku"] != "LOW" || a0["location"] != locLeeds || a0["quantity"] != 2.0 || a0["id"] == "" {
			t.Errorf("allocation %v", a0)
		}
		b.wantBalance(t, locLeeds, "LOW", 3, 2, 0, 1)
		if l := b.ledgerOf(t, locLeeds, "LOW"); l[0]["reason"] != "reserve" || l[0]["delta_reserved"] != 2.0 || l[0]["reference"] != "order:"+first {
			t.Errorf("ledger %v", l[0])
		}

		// Short: a channel order is a fact. Stored on hold, the rest backordered.
		res = b.post(t, "channel", "/api/v1/orders", orderWith(chWeb, "R-2", false, "LOW", 3)).want(t, 201).json(t)
		second := res["id"].(string)
		if alloc, back := lineCounters(res); res["status"] != "on_hold" || res["hold"].(map[string]any)["reason"] != "insufficient_stock" ||
			alloc[0] != 1 || back[0] != 2 {
			t.Errorf("short order: status %v hold %v allocated %v backordered %v", res["status"], res["hold"], alloc, back)
		}
		d = b.get(t, "agent", "/api/v1/orders/"+second).want(t, 200).json(t)
		if got := timelineTypes(d); got != "order.created order.routed order.allocated order.backordered order.held" {
			t.Errorf("short order's timeline %s", got)
		}
		b.wantBalance(t, locLeeds, "LOW", 3, 3, 0, 0)

		// Strict: refused, naming the line, and nothing written.
		orders := b.countOrders(t)
		ledger := b.ledgerOf(t, locLeeds, "LOW")
		p := b.post(t, "admin", "/api/v1/orders", orderWith(chWeb, "R-3", true, "SKU-1", 1, "LOW", 5)).wantProblem(t, 409, "lines[1].quantity")
		if p["code"] != "insufficient_stock" || problemNames(p, "lines[0].quantity") {
			t.Errorf("strict refusal %v", p)
		}
		b.post(t, "admin", "/api/v1/orders", orderWith(chWeb, "R-3", true, "LOW", 5)).wantProblem(t, 409, "lines[0].quantity")
		if n := b.countOrders(t); n != orders {
			t.Errorf("%d orders after strict refusals, want %d", n, orders)
		}
		if got := b.ledgerOf(t, locLeeds, "LOW"); len(got) != len(ledger) {
			t.Errorf("a strict refusal wrote to the ledger: %v", got[0])
		}
		b.wantBalance(t, locLeeds, sku1, 1000, 0, 0, 1000)
		b.wantBalance(t, locLeeds, "LOW", 3, 3, 0, 0)
		// Strict with the stock there is an ordinary capture.
		if o := b.post(t, "admin", "/api/v1/orders", orderWith(chWeb, "R-4", true, "SKU-1", 3)).want(t, 201).json(t); o["status"] != "open" {
			t.Errorf("strict order with stock: %v", o["status"])
		}

		// A bundle: two lines of one SKU never count the same unit twice.
		res = b.post(t, "admin", "/api/v1/orders", orderWith(chWeb, "R-5", false, "ONE", 1, "ONE", 1)).want(t, 201).json(t)
		if alloc, back := lineCounters(res); res["status"] != "on_hold" || !slices.Equal(alloc, []float64{1, 0}) || !slices.Equal(back, []float64{0, 1}) {
			t.Errorf("bundle: status %v allocated %v backordered %v", res["status"], alloc, back)
		}
		b.wantBalance(t, locLeeds, "ONE", 1, 1, 0, 0)

		// Releasing the short order's hold while still short: it goes
		// straight back on hold.
		res = b.post(t, "agent", "/api/v1/orders/"+second+"/release", "").want(t, 200).json(t)
		if res["status"] != "on_hold" || res["hold"].(map[string]any)["reason"] != "insufficient_stock" {
			t.Errorf("release while short: %v %v", res["status"], res["hold"])
		}
		// With stock received, the release reserves the rest.
		b.post(t, "warehouse", "/api/v1/inventory/adjustments", adjustBody(locLeeds, "LOW", 10, "receive")).want(t, 201)
		res = b.post(t, "agent", "/api/v1/orders/"+second+"/release", "{}").want(t, 200).json(t)
		if alloc, back := lineCounters(res); res["status"] != "open" || alloc[0] != 3 || back[0] != 0 {
			t.Errorf("release after receiving: status %v allocated %v backordered %v", res["status"], alloc, back)
		}
		d = b.get(t, "agent", "/api/v1/orders/"+second).want(t, 200).json(t)
		var reserved float64
		for _, a := range d["allocations"].([]any) {
			reserved += a.(map[string]any)["quantity"].(float64)
		}
		if reserved != 3 {
			t.Errorf("allocations %v, want 3 units", d["allocations"])
		}
		b.wantBalance(t, locLeeds, "LOW", 13, 5, 0, 8)

		// Cancelling releases: availability comes back, the ledger says so.
		b.post(t, "agent", "/api/v1/orders/"+first+"/cancel", `{"reason":"customer asked"}`).want(t, 200)
		b.wantBalance(t, locLeeds, "LOW", 13, 3, 0, 10)
		if a := b.available(t, "viewer", "sku=LOW")[0].(map[string]any); a["available"] != 10.0 {
			t.Errorf("availability after cancel %v", a)
		}
		l := b.ledgerOf(t, locLeeds, "LOW")
		if l[0]["reason"] != "release" || l[0]["delta_reserved"] != -2.0 || l[0]["delta_on_hand"] != 0.0 || l[0]["reference"] != "order:"+first {
			t.Errorf("ledger after cancel %v", l[0])
		}
		d = b.get(t, "agent", "/api/v1/orders/"+first).want(t, 200).json(t)
		if len(d["allocations"].([]any)) != 0 || d["lines"].([]any)[0].(map[string]any)["allocated"] != 0.0 {
			t.Errorf("cancelled order: allocations %v lines %v", d["allocations"], d["lines"])
		}
		// The list of orders shows no allocations; the detail does.
		for _, it := range b.get(t, "admin", "/api/v1/orders").want(t, 200).json(t)["items"].([]any) {
			if _, has := it.(map[string]any)["allocations"]; has {
				t.Error("an order in the list has allocations")
			}
		}
	})
}

func TestAvailability(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.post(t, "admin", "/api/v1/locations", `{"code":"york","name":"York","kind":"store"}`).want(t, 201)
		b.post(t, "admin", "/api/v1/locations", `{"code":"hull","name":"Hull","kind":"warehouse"}`).want(t, 201)
		b.post(t, "admin", "/api/v1/inventory/adjustments", adjustBody("york", sku1, 10, "receive")).want(t, 201)
		b.post(t, "admin", "/api/v1/inventory/adjustments", adjustBody("hull", sku1, 50, "receive")).want(t, 201)
		b.patch(t, "admin", "/api/v1/locations/hull", `{"active":false}`).want(t, 200)

		type loc struct {
			code                                string
			onHand, reserved, safety, available float64
		}
		check := func(t *testing.T, item any, sku string, total float64, locs ...loc) {
			t.Helper()
			m := item.(map[string]any)
			if m["sku"] != sku || m["available"] != total {
				t.Errorf("%s: %v, want available %v", sku, m, total)
			}
			got := m["locations"].([]any)
			if len(got) != len(locs) {
				t.Fatalf("%s: locations %v, want %v", sku, got, locs)
			}
			for i, l := range locs {
				g := got[i].(map[string]any)
				if g["location"] != l.code || g["on_hand"] != l.onHand || g["reserved"] != l.reserved ||
					g["safety_stock"] != l.safety || g["available"] != l.available {
					t.Errorf("%s: locations[%d] %v, want %+v", sku, i, g, l)
				}
			}
		}

		// Every active location, in the order asked; inactive hull left out;
		// an unknown SKU has nothing.
		items := b.available(t, "viewer", "sku=SKU-1&sku=SKU-2&sku=NOPE&sku=SKU-1")
		if len(items) != 3 {
			t.Fatalf("items %v", items)
		}
		check(t, items[0], sku1, 1010, loc{"leeds", 1000, 0, 0, 1000}, loc{"york", 10, 0, 0, 10})
		check(t, items[1], sku2, 1000, loc{"leeds", 1000, 0, 0, 1000})
		check(t, items[2], "NOPE", 0)

		// A channel fed by york alone sees york alone, and its orders
		// reserve there.
		c := b.patch(t, "admin", "/api/v1/channels/market", `{"locations":["york"]}`).want(t, 200).json(t)
		if jsonString(c["locations"]) != `["york"]` {
			t.Errorf("channel locations %v", c["locations"])
		}
		check(t, b.available(t, "channel2", "sku=SKU-1&channel=market")[0], sku1, 10, loc{"york", 10, 0, 0, 10})
		check(t, b.available(t, "channel", "sku=SKU-1&channel=web")[0], sku1, 1010, loc{"leeds", 1000, 0, 0, 1000}, loc{"york", 10, 0, 0, 10})
		o := b.post(t, "channel2", "/api/v1/orders", orderWith(chMarket, "M-1", false, "SKU-1", 2)).want(t, 201).json(t)
		d := b.get(t, "channel2", "/api/v1/orders/"+o["id"].(string)).want(t, 200).json(t)
		if a := d["allocations"].([]any); len(a) != 1 || a[0].(map[string]any)["location"] != "york" {
			t.Errorf("market order reserved at %v", a)
		}
		check(t, b.available(t, "viewer", "sku=SKU-1&channel=market")[0], sku1, 8, loc{"york", 10, 2, 0, 8})
		// A market order of a SKU york lacks is backordered, though leeds has it.
		o = b.post(t, "channel2", "/api/v1/orders", orderWith(chMarket, "M-2", false, "SKU-2", 1)).want(t, 201).json(t)
		if o["status"] != "on_hold" {
			t.Errorf("market order of SKU-2: %v", o["status"])
		}
		// An inactive feeding location feeds nothing.
		b.patch(t, "admin", "/api/v1/locations/york", `{"active":false}`).want(t, 200)
		check(t, b.available(t, "viewer", "sku=SKU-1&channel=market")[0], sku1, 0)
		// [] goes back to every active location.
		b.patch(t, "admin", "/api/v1/channels/market", `{"locations":[]}`).want(t, 200)
		check(t, b.available(t, "viewer", "sku=SKU-1&channel=market")[0], sku1, 1000, loc{"leeds", 1000, 0, 0, 1000})

		many := strings.Repeat("sku=S&", 101)
		for _, c := range []struct {
			key, query string
			status     int
			field      string
		}{
			{"viewer", "", 422, "sku"},
			{"viewer", "channel=web", 422, "sku"},
			{"viewer", many[:len(many)-1], 422, "sku"},
			{"viewer", "sku=", 422, "sku"},
			{"viewer", "sku=SKU-1&channel=nope", 422, "channel"},
			{"viewer", "sku=SKU-1&channel=web&channel=market", 400, "channel"},
			{"viewer", "sku=SKU-1&location=leeds", 400, "location"},
			{"channel", "sku=SKU-1&channel=market", 403, ""},
		} {
			b.get(t, c.key, "/api/v1/availability?"+c.query).wantProblem(t, c.status, c.field)
		}
	})
}

func TestChannelLocations(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.post(t, "admin", "/api/v1/locations", `{"code":"york","name":"York","kind":"store","active":false}`).want(t, 201)
		// Without a list: [] (every active location).
		if c := b.get(t, "viewer", "/api/v1/channels/web").want(t, 200).json(t); jsonString(c["locations"]) != `[]` {
			t.Errorf("default locations %v", c["locations"])
		}
		c := b.post(t, "admin", "/api/v1/channels", `{"code":"pos","kind":"pos","name":"Till","locations":["york","leeds"]}`).want(t, 201).json(t)
		if jsonString(c["locations"]) != `["york","leeds"]` {
			t.Errorf("created locations %v", c["locations"])
		}
		// Left out or null: unchanged.
		for _, body := range []string{`{"name":"Till 2"}`, `{"locations":null}`} {
			if c := b.patch(t, "admin", "/api/v1/channels/pos", body).want(t, 200).json(t); jsonString(c["locations"]) != `["york","leeds"]` {
				t.Errorf("%s: locations %v", body, c["locations"])
			}
		}
		if c := b.patch(t, "admin", "/api/v1/channels/pos", `{"locations":["leeds"]}`).want(t, 200).json(t); jsonString(c["locations"]) != `["leeds"]` {
			t.Errorf("replaced locations %v", c["locations"])
		}
		list := b.get(t, "viewer", "/api/v1/channels").want(t, 200).json(t)
		for _, it := range list["items"].([]any) {
			if it.(map[string]any)["locations"] == nil {
				t.Errorf("listed channel without locations: %v", it)
			}
		}
		for _, c := range []struct {
			method, path, body string
			field              string
		}{
			{"POST", "/api/v1/channels", `{"code":"x","kind":"api","name":"x","locations":["leeds","nowhere"]}`, "locations[1]"},
			{"POST", "/api/v1/channels", `{"code":"x","kind":"api","name":"x","locations":["leeds","leeds"]}`, "locations[1]"},
			{"POST", "/api/v1/channels", `{"code":"x","kind":"api","name":"x","locations":["Not A Code"]}`, "locations[0]"},
			{"PATCH", "/api/v1/channels/pos", `{"locations":["nowhere"]}`, "locations[0]"},
		} {
			b.do(t, req{method: c.method, path: c.path, key: "admin", body: c.body}).wantProblem(t, 422, c.field)
		}
		b.patch(t, "admin", "/api/v1/channels/pos", `{"locations":"leeds"}`).wantProblem(t, 400, "locations")
		if c := b.get(t, "viewer", "/api/v1/channels/pos").want(t, 200).json(t); jsonString(c["locations"]) != `["leeds"]` {
			t.Errorf("after refused patches: %v", c["locations"])
		}
		b.get(t, "viewer", "/api/v1/channels/x").wantProblem(t, 404, "")
	})
}

func TestInventoryIdempotency(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		adjust := req{method: "POST", path: "/api/v1/inventory/adjustments", key: "warehouse", body: adjustBody(locLeeds, sku1, 5, "receive")}
		first := b.do(t, withKey(adjust, "adj-1")).want(t, 201)
		again := b.do(t, withKey(adjust, "adj-1")).want(t, 201)
		if again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) || again.header.Get("Location") != "" {
			t.Errorf("adjustment replay: %v %s", again.header, again.body)
		}
		b.wantBalance(t, locLeeds, sku1, 1005, 0, 0, 1005)
		other := adjust
		other.body = adjustBody(locLeeds, sku1, 6, "receive")
		b.do(t, withKey(other, "adj-1")).wantProblem(t, 422, "Idempotency-Key")

		// PUT is mutating too.
		count := req{method: "PUT", path: "/api/v1/inventory/leeds/SKU-2", key: "admin", body: `{"on_hand":7}`}
		b.do(t, withKey(count, "cnt-1")).want(t, 200)
		b.post(t, "admin", "/api/v1/inventory/adjustments", adjustBody(locLeeds, sku2, 1, "receive")).want(t, 201)
		if r := b.do(t, withKey(count, "cnt-1")).want(t, 200); r.header.Get("Idempotent-Replayed") != "true" || r.json(t)["on_hand"] != 7.0 {
			t.Errorf("count replay: %v %s", r.header, r.body)
		}
		b.wantBalance(t, locLeeds, sku2, 8, 0, 0, 8) // the replay did not count again
		count.body = `{"on_hand":9}`
		b.do(t, withKey(count, "cnt-1")).wantProblem(t, 422, "Idempotency-Key")

		// A snapshot's replay rebuilds Location in the reports collection.
		snap := req{method: "POST", path: "/api/v1/inventory/snapshots", key: "admin",
			body: `{"location":"leeds","mode":"partial","apply":true,"items":[{"sku":"SKU-1","on_hand":1}]}`}
		s1 := b.do(t, withKey(snap, "snap-1")).want(t, 201)
		s2 := b.do(t, withKey(snap, "snap-1")).want(t, 201)
		if s2.header.Get("Idempotent-Replayed") != "true" || s2.header.Get("Location") != s1.header.Get("Location") ||
			!strings.HasPrefix(s1.header.Get("Location"), "/api/v1/reconciliation/reports/") {
			t.Errorf("snapshot replay: Location %q then %q", s1.header.Get("Location"), s2.header.Get("Location"))
		}
		if n := len(b.get(t, "admin", "/api/v1/reconciliation/reports").want(t, 200).json(t)["items"].([]any)); n != 1 {
			t.Errorf("%d reports, want 1", n)
		}
		b.wantBalance(t, locLeeds, sku1, 1, 0, 0, 1)
	})
}
