package httpapi

import (
	"bytes"
	"strings"
	"testing"

	"github.com/orderly-oms/orderly/auth"
)

// shipTo is an order of units of sku at leeds to an address in country.
func shipTo(ext, country, sku string, qty int) string {
	o := orderWith(chWeb, ext, false, sku, qty)
	return strings.TrimSuffix(o, "}") + `,"shipping_address":{"name":"Ada Lovelace","line1":"1 Main St","city":"Town","postal_code":"AB1 2CD","country":"` + country + `"}}`
}

// leedsAddress gives leeds the address parcels leave from.
func (b *bundle) leedsAddress(t *testing.T) {
	t.Helper()
	b.patch(t, "admin", "/api/v1/locations/"+locLeeds,
		`{"address":{"company":"Orderly Ltd","line1":"Unit 4","city":"Leeds","postal_code":"LS1 1AA","country":"GB"}}`).want(t, 200)
}

// TestLabels: rates and a label from the table-rate carrier of leeds, the
// label's PDF, shipping with its tracking number; another location's key
// is refused, and a location set to an unconfigured carrier is a 422.
func TestLabels(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.leedsAddress(t)
		b.patch(t, "admin", "/api/v1/skus/"+sku1, `{"weight_grams":400}`).want(t, 200)
		o := b.post(t, "admin", "/api/v1/orders", shipTo("LB-1", "DE", sku1, 3)).want(t, 201).json(t)
		fid := b.fulfilmentOrders(t, o["id"].(string))[locLeeds]["id"].(string)
		fo := "/api/v1/fulfilment-orders/" + fid

		if got := b.get(t, "admin", "/api/v1/locations/"+locLeeds).want(t, 200).json(t)["carrier"]; got != "table-rate" {
			t.Fatalf("leeds carrier %v, want the default table-rate", got)
		}

		// Rates: 1.2 kg to DE is europe's second band.
		rates := b.post(t, "warehouse", fo+"/rates", "").want(t, 200).json(t)["items"].([]any)
		if len(rates) < 1 {
			t.Fatalf("no rates")
		}
		first := rates[0].(map[string]any)
		if amt, ok := first["amount"].(float64); !ok || amt != float64(int64(amt)) || amt != 1395 ||
			first["service"] != "standard" || first["currency"] != "GBP" || first["carrier"] != "table-rate" {
			t.Fatalf("rates %v", rates)
		}

		// A warehouse key at another location may neither rate nor label.
		b.york(t, nil)
		_, yorkKey, err := b.svc.CreateAPIKey(t.Context(), "york-key", auth.RoleWarehouse, "", "york")
		if err != nil {
			t.Fatal(err)
		}
		b.do(t, req{method: "POST", path: fo + "/rates", key: yorkKey}).wantProblem(t, 403, "")
		b.do(t, req{method: "POST", path: fo + "/label", key: yorkKey, body: `{"service":"standard"}`}).wantProblem(t, 403, "")

		// An unknown service names service.
		b.post(t, "warehouse", fo+"/label", `{"service":"teleport"}`).wantProblem(t, 422, "service")

		// The label.
		res := b.post(t, "warehouse", fo+"/label", `{"service":"standard"}`).want(t, 201)
		l := res.json(t)
		tn, _ := l["tracking_number"].(string)
		url, _ := l["url"].(string)
		if !strings.HasPrefix(tn, "OR") || len(tn) != 13 || url != "/api/v1/labels/"+l["id"].(string) ||
			l["amount"] != 1395.0 || l["service"] != "standard" || res.header.Get("Location") != url {
			t.Fatalf("label %v (Location %s)", l, res.header.Get("Location"))
		}
		pdf := b.get(t, "viewer", url).want(t, 200)
		if !bytes.HasPrefix(pdf.body, []byte("%PDF")) || pdf.header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("label document %q… (%s)", pdf.body[:min(len(pdf.body), 8)], pdf.header.Get("Content-Type"))
		}
		b.get(t, "channel2", url).wantProblem(t, 404, "") // another channel's order
		b.do(t, req{method: "GET", path: url, key: yorkKey}).wantProblem(t, 404, "")
		b.get(t, "admin", "/api/v1/labels/nope").wantProblem(t, 404, "")
		// A second label has another number.
		if again := b.post(t, "admin", fo+"/label", `{"service":"standard"}`).want(t, 201).json(t); again["tracking_number"] == tn {
			t.Fatalf("tracking number %s given twice", tn)
		}
		if tl := timelineTypes(b.orderDetail(t, o["id"].(string))); !strings.Contains(tl, "fulfilment.label_created") {
			t.Fatalf("timeline %s", tl)
		}

		// Ship with it.
		b.post(t, "warehouse", fo+"/accept", "").want(t, 200)
		sh := b.post(t, "warehouse", fo+"/ship", `{"carrier":"table-rate","service":"standard","tracking_number":"`+tn+`","label":"`+url+`"}`).want(t, 201).json(t)
		if sh["tracking_number"] != tn {
			t.Fatalf("shipment %v", sh)
		}
		// Nothing is left open to label.
		b.post(t, "warehouse", fo+"/rates", "").wantProblem(t, 409, "")

		// Leeds set to easypost, which this server has no key for.
		b.patch(t, "admin", "/api/v1/locations/"+locLeeds, `{"carrier":"easypost"}`).want(t, 200)
		o2 := b.post(t, "admin", "/api/v1/orders", shipTo("LB-2", "GB", sku1, 1)).want(t, 201).json(t)
		fo2 := "/api/v1/fulfilment-orders/" + b.fulfilmentOrders(t, o2["id"].(string))[locLeeds]["id"].(string)
		b.post(t, "warehouse", fo2+"/rates", "").wantProblem(t, 422, "carrier")
		b.post(t, "warehouse", fo2+"/label", `{"service":"standard"}`).wantProblem(t, 422, "carrier")
		b.patch(t, "admin", "/api/v1/locations/"+locLeeds, `{"carrier":"pigeon"}`).wantProblem(t, 422, "carrier")
		b.booksStraight(t)
	})
}
