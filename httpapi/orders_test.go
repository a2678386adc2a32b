package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCreateOrder(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		res := b.post(t, "admin", "/api/v1/orders", orderBody(chWeb, "W-1")).want(t, http.StatusCreated)
		o := res.json(t)
		id := o["id"].(string)
		if loc := res.header.Get("Location"); loc != "/api/v1/orders/"+id {
			t.Errorf("Location %q, want /api/v1/orders/%s", loc, id)
		}
		if o["number"].(float64) != 1001 || o["status"] != "open" || o["fulfilment_status"] != "unfulfilled" || o["payment_status"] != "unpaid" {
			t.Errorf("number, status, fulfilment_status, payment_status = %v %v %v %v", o["number"], o["status"], o["fulfilment_status"], o["payment_status"])
		}
		// 2×1999 + 500 = 4498; − 100 discount + 495 shipping + 380 tax = 5273.
		tot := o["totals"].(map[string]any)
		want := map[string]float64{"subtotal": 4498, "discount_total": 100, "shipping_total": 495, "tax_total": 380, "total": 5273}
		for k, v := range want {
			if tot[k] != v {
				t.Errorf("totals.%s = %v, want %v", k, tot[k], v)
			}
		}
		lines := o["lines"].([]any)
		l0 := lines[0].(map[string]any)
		for _, counter := range []string{"cancelled", "backordered", "shipped", "delivered", "returned"} {
			if l0[counter] != 0.0 {
				t.Errorf("lines[0].%s = %v, want 0", counter, l0[counter])
			}
		}
		// The fixture stock covers the order: every unit is reserved.
		if l0["allocated"] != 2.0 || lines[1].(map[string]any)["allocated"] != 1.0 {
			t.Errorf("allocated %v and %v, want 2 and 1", l0["allocated"], lines[1].(map[string]any)["allocated"])
		}
		if l0["quantity"] != 2.0 || l0["unit_price"] != 1999.0 || l0["id"] == "" {
			t.Errorf("lines[0] = %v", l0)
		}
		if o["placed_at"] != "2025-02-28T10:00:00Z" || o["currency"] != "EUR" {
			t.Errorf("placed_at %v currency %v", o["placed_at"], o["currency"])
		}

		// The same channel order again: 200 and the stored order, nothing new.
		again := b.post(t, "admin", "/api/v1/orders", orderBody(chWeb, "W-1")).want(t, http.StatusOK).json(t)
		if again["id"] != id || again["number"] != o["number"] {
			t.Errorf("repeat returned %v/%v, want %v/%v", again["id"], again["number"], id, o["number"])
		}
		if n := b.countOrders(t); n != 1 {
			t.Errorf("%d orders stored, want 1", n)
		}

		// Get by id and by number, with the timeline.
		for _, ref := range []string{id, "1001"} {
			d := b.get(t, "viewer", "/api/v1/orders/"+ref).want(t, http.StatusOK).json(t)
			if d["id"] != id {
				t.Errorf("GET %s: id %v", ref, d["id"])
			}
			tl := d["timeline"].([]any)
			if len(tl) != 4 || tl[3].(map[string]any)["type"] != "fulfilment.requested" || tl[0].(map[string]any)["type"] != "order.created" || tl[0].(map[string]any)["actor"] != "key:admin-key" ||
				tl[1].(map[string]any)["type"] != "order.routed" || tl[2].(map[string]any)["type"] != "order.allocated" {
				t.Errorf("GET %s: timeline %v", ref, tl)
			}
			if allocs := d["allocations"].([]any); len(allocs) != 2 {
				t.Errorf("GET %s: allocations %v, want one per line", ref, allocs)
			}
		}

		// A missing placed_at is now.
		o2 := b.post(t, "admin", "/api/v1/orders", `{"channel":"web","external_id":"W-2","currency":"JPY","lines":[{"sku":"SKU-1","quantity":1,"unit_price":500}]}`).
			want(t, http.StatusCreated).json(t)
		if o2["placed_at"] != t0.Format(time.RFC3339) {
			t.Errorf("default placed_at %v, want %v", o2["placed_at"], t0.Format(time.RFC3339))
		}
	})
}

// TestCreateOrderRefused covers every way an order request can be refused,
// and checks that a refused order stores nothing.
func TestCreateOrderRefused(t *testing.T) {
	t.Parallel()
	valid := orderBody(chWeb, "R-1")
	// with replaces old by new in the valid body.
	with := func(old, new string) string {
		if !strings.Contains(valid, old) {
			panic("orderBody has no " + old)
		}
		return strings.Replace(valid, old, new, 1)
	}
	cases := []struct {
		name   string
		body   string
		header map[string]string
		status int
		field  string // a field the problem must name
	}{
		{"malformed JSON", `{"channel":`, nil, 400, ""},
		{"not an object", `[1,2]`, nil, 400, ""},
		{"trailing data", valid + `{}`, nil, 400, ""},
		{"unknown field", with(`"note"`, `"notes"`), nil, 400, "notes"},
		{"unknown nested field", with(`"city":"London"`, `"town":"London"`), nil, 400, "shipping_address.town"},
		{"unknown line field", with(`"unit_price":500}`, `"unit_price":500,"colour":"red"}`), nil, 400, "lines[1].colour"},
		{"wrong type in a line", with(`"name":"Widget"`, `"name":7`), nil, 400, "lines[0].name"},
		{"wrong type", with(`"note":"leave at the door"`, `"note":5`), nil, 400, "note"},
		{"empty body", "", map[string]string{"Content-Type": "application/json"}, 400, ""},
		{"charset is fine but refused later", with(`"EUR"`, `"EURO"`), map[string]string{"Content-Type": "application/json; charset=utf-8"}, 422, "currency"},
		{"text/plain", valid, map[string]string{"Content-Type": "text/plain"}, 415, ""},
		{"no content type", valid, map[string]string{"Content-Type": ""}, 415, ""},
		{"too large", `{"note":"` + strings.Repeat("x", maxBodyBytes) + `"}`, nil, 413, ""},
		{"unknown channel", with(`"channel":"web"`, `"channel":"nope"`), nil, 422, "channel"},
		{"unknown SKU", with(`"sku":"SKU-2"`, `"sku":"NOPE"`), nil, 422, "lines[1].sku"},
		{"quantity 0", with(`"quantity":2`, `"quantity":0`), nil, 422, "lines[0].quantity"},
		{"fractional quantity", with(`"quantity":2`, `"quantity":1.5`), nil, 422, "lines[0].quantity"},
		{"negative amount", with(`"unit_price":1999`, `"unit_price":-1999`), nil, 422, "lines[0].unit_price"},
		{"fractional amount", with(`"unit_price":1999`, `"unit_price":12.5`), nil, 422, "lines[0].unit_price"},
		{"exponent amount", with(`"unit_price":1999`, `"unit_price":1e3`), nil, 422, "lines[0].unit_price"},
		{"huge amount", with(`"unit_price":1999`, `"unit_price":99999999999999999999999`), nil, 422, "lines[0].unit_price"},
		{"string amount", with(`"unit_price":1999`, `"unit_price":"1999"`), nil, 422, "lines[0].unit_price"},
		{"fractional tax", with(`"tax":380`, `"tax":3.8`), nil, 422, "lines[0].tax"},
		{"fractional shipping", with(`"price":495`, `"price":4.95`), nil, 422, "shipping_lines[0].price"},
		{"bad currency", with(`"currency":"EUR"`, `"currency":"EURO"`), nil, 422, "currency"},
		{"lower-case currency", with(`"currency":"EUR"`, `"currency":"eur"`), nil, 422, "currency"},
		{"bad country", with(`"country":"GB"`, `"country":"XX"`), nil, 422, "shipping_address.country"},
		{"bad placed_at", with(`"2025-02-28T10:00:00Z"`, `"yesterday"`), nil, 422, "placed_at"},
		{"no lines", `{"channel":"web","external_id":"R-9","currency":"EUR","lines":[]}`, nil, 422, "lines"},
		{"not a line", `{"channel":"web","external_id":"R-9","currency":"EUR","lines":[5]}`, nil, 400, ""},
		{"missing external_id", with(`"external_id":"R-1",`, ``), nil, 422, "external_id"},
		{"discount above price", with(`"discount":100`, `"discount":99999`), nil, 422, "lines[0].discount"},
	}
	each(t, func(t *testing.T, b *bundle) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				b.do(t, req{method: "POST", path: "/api/v1/orders", key: "admin", body: c.body, header: c.header}).
					wantProblem(t, c.status, c.field)
			})
		}
		// Several problems are reported at once.
		p := b.post(t, "admin", "/api/v1/orders",
			strings.NewReplacer(`"quantity":2`, `"quantity":2.5`, `"currency":"EUR"`, `"currency":"X"`).Replace(valid)).
			wantProblem(t, 422, "lines[0].quantity")
		if !problemNames(p, "currency") {
			t.Errorf("problem does not name currency too: %v", p)
		}
		// Nothing was stored by any of them.
		if n := b.countOrders(t); n != 0 {
			t.Errorf("%d orders stored after refused requests, want 0", n)
		}
		list := b.get(t, "admin", "/api/v1/orders").want(t, 200).json(t)
		if items := list["items"].([]any); len(items) != 0 {
			t.Errorf("list shows %d orders, want 0", len(items))
		}
	})
}

func TestListOrders(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		// Five web orders placed a day apart, two market orders.
		for i, ext := range []string{"A", "B", "C", "D", "E"} {
			body := strings.Replace(orderBody(chWeb, ext), "2025-02-28T10:00:00Z", t0.AddDate(0, 0, i).Format(time.RFC3339), 1)
			b.post(t, "admin", "/api/v1/orders", body).want(t, 201)
		}
		b.post(t, "admin", "/api/v1/orders", orderBody(chMarket, "M1")).want(t, 201)
		b.post(t, "admin", "/api/v1/orders", strings.ReplaceAll(orderBody(chMarket, "M2"), "Ada Lovelace", "Grace Hopper")).want(t, 201)

		numbers := func(res *response) []float64 {
			var out []float64
			for _, it := range res.json(t)["items"].([]any) {
				out = append(out, it.(map[string]any)["number"].(float64))
			}
			return out
		}
		eq := func(got []float64, want ...float64) bool {
			if len(got) != len(want) {
				return false
			}
			for i := range got {
				if got[i] != want[i] {
					return false
				}
			}
			return true
		}

		// Pages of 3, newest first, following next_cursor to the end.
		var all []float64
		path := "/api/v1/orders?limit=3"
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			res := b.get(t, "viewer", path).want(t, 200)
			all = append(all, numbers(res)...)
			next := res.json(t)["next_cursor"]
			if next == nil {
				break
			}
			path = "/api/v1/orders?limit=3&cursor=" + url.QueryEscape(next.(string))
		}
		if !eq(all, 1007, 1006, 1005, 1004, 1003, 1002, 1001) {
			t.Errorf("paged through %v", all)
		}

		filters := []struct {
			query string
			want  []float64
		}{
			{"channel=market", []float64{1007, 1006}},
			{"status=open&channel=web&limit=2", []float64{1005, 1004}},
			{"status=cancelled", nil},
			{"q=1003", []float64{1003}},
			{"q=grace", []float64{1007}},
			{"q=M1", []float64{1006}},
			{"placed_after=" + url.QueryEscape(t0.AddDate(0, 0, 3).Format(time.RFC3339)) + "&channel=web", []float64{1005, 1004}},
			{"placed_before=" + url.QueryEscape(t0.AddDate(0, 0, 1).Format(time.RFC3339)) + "&channel=web", []float64{1001}},
		}
		for _, f := range filters {
			if got := numbers(b.get(t, "admin", "/api/v1/orders?"+f.query).want(t, 200)); !eq(got, f.want...) {
				t.Errorf("?%s: %v, want %v", f.query, got, f.want)
			}
		}

		// A channel key sees only its channel, whatever it asks for.
		if got := numbers(b.get(t, "channel", "/api/v1/orders").want(t, 200)); !eq(got, 1005, 1004, 1003, 1002, 1001) {
			t.Errorf("channel key sees %v", got)
		}
		if got := numbers(b.get(t, "channel", "/api/v1/orders?channel=market").want(t, 200)); len(got) != 0 {
			t.Errorf("channel key sees %v of another channel", got)
		}
		if got := numbers(b.get(t, "channel2", "/api/v1/orders").want(t, 200)); !eq(got, 1007, 1006) {
			t.Errorf("channel2 key sees %v", got)
		}

		// Bad parameters are named.
		bad := []struct {
			query  string
			status int
			field  string
		}{
			{"status=shipping", 422, "status"},
			{"placed_after=yesterday", 422, "placed_after"},
			{"placed_before=2025-13-01T00:00:00Z", 422, "placed_before"},
			{"limit=0", 422, "limit"},
			{"limit=501", 422, "limit"},
			{"limit=ten", 422, "limit"},
			{"cursor=nonsense!", 422, "cursor"},
			{"cursor=" + *encodeCursor("channels", "web"), 422, "cursor"},
			{"stauts=open", 400, "stauts"},
			{"status=open&status=cancelled", 400, "status"},
		}
		for _, c := range bad {
			b.get(t, "admin", "/api/v1/orders?"+c.query).wantProblem(t, c.status, c.field)
		}
	})
}

func TestOrderActions(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		id, number := b.createOrder(t, chWeb, "X-1")
		steps := []struct {
			action, body string
			status       int
			wantStatus   string // the order's status after a success
		}{
			{"release", ``, 409, ""}, // not on hold
			{"hold", `{}`, 422, ""},  // reason required
			{"hold", `{"reason":"fraud check"}`, 200, "on_hold"},
			{"hold", `{"reason":"again"}`, 409, ""},
			{"release", `{}`, 200, "open"},
			{"hold", `{"reason":"address check"}`, 200, "on_hold"},
			{"release", ``, 200, "open"},
			{"cancel", `{"reason":"x","extra":1}`, 400, ""},
			{"cancel", `{"reason":"customer asked"}`, 200, "cancelled"},
			{"cancel", `{"reason":"again"}`, 409, ""},
			{"hold", `{"reason":"too late"}`, 409, ""},
			{"release", `{"reason":"x"}`, 400, ""},
		}
		for i, s := range steps {
			ref := id
			if i%2 == 1 {
				ref = number // the number works wherever the id does
			}
			res := b.post(t, "agent", "/api/v1/orders/"+ref+"/"+s.action, s.body)
			if s.status != 200 {
				p := res.wantProblem(t, s.status, "")
				if s.status == 409 && p["code"] != "invalid_transition" {
					t.Errorf("step %d: code %v, want invalid_transition", i, p["code"])
				}
				continue
			}
			if o := res.want(t, 200).json(t); o["status"] != s.wantStatus {
				t.Errorf("step %d (%s): status %v, want %s", i, s.action, o["status"], s.wantStatus)
			}
		}
		d := b.get(t, "agent", "/api/v1/orders/"+id).want(t, 200).json(t)
		var types []string
		for _, e := range d["timeline"].([]any) {
			types = append(types, e.(map[string]any)["type"].(string))
		}
		want := "order.created order.routed order.allocated fulfilment.requested order.held order.released order.held order.released fulfilment.cancelled order.cancelled"
		if strings.Join(types, " ") != want {
			t.Errorf("timeline %v, want %s", types, want)
		}
		if allocs := d["allocations"].([]any); len(allocs) != 0 {
			t.Errorf("a cancelled order still holds allocations %v", allocs)
		}
		if d["cancel_reason"] != "customer asked" || d["fulfilment_status"] != "none" {
			t.Errorf("cancel_reason %v fulfilment_status %v", d["cancel_reason"], d["fulfilment_status"])
		}

		// Unknown orders.
		for _, path := range []string{"/api/v1/orders/999999", "/api/v1/orders/0193a1b2-0000-7000-8000-000000000000", "/api/v1/orders/nope"} {
			b.get(t, "admin", path).wantProblem(t, 404, "")
			b.post(t, "admin", path+"/hold", `{"reason":"x"}`).wantProblem(t, 404, "")
		}
	})
}

// TestCreateOrderConcurrentPosts: 50 clients posting the same channel order
// at once, without Idempotency-Key, store exactly one order; one client hears
// 201 and every other 200 with the same order.
func TestCreateOrderConcurrentPosts(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		const n = 50
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[int]int{}
		ids := map[string]bool{}
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				r, err := http.NewRequest("POST", b.srv.URL+"/api/v1/orders", strings.NewReader(orderBody(chWeb, "RACE-1")))
				if err != nil {
					t.Error(err)
					return
				}
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Authorization", "Bearer "+b.keys["channel"])
				res, err := b.srv.Client().Do(r)
				if err != nil {
					t.Error(err)
					return
				}
				defer res.Body.Close()
				var o struct {
					ID string `json:"id"`
				}
				if err := json.NewDecoder(res.Body).Decode(&o); err != nil {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				statuses[res.StatusCode]++
				ids[o.ID] = true
			})
		}
		close(start)
		wg.Wait()
		if statuses[http.StatusCreated] != 1 || statuses[http.StatusOK] != n-1 {
			t.Fatalf("statuses %v, want one 201 and %d 200s", statuses, n-1)
		}
		if len(ids) != 1 {
			t.Fatalf("clients saw %d different order ids, want 1", len(ids))
		}
		if got := b.countOrders(t); got != 1 {
			t.Fatalf("%d orders stored, want 1", got)
		}
	})
}
