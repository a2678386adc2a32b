package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestChannels(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		res := b.post(t, "admin", "/api/v1/channels", `{"code":"eu-store","kind":"shopify","name":"EU store","secret":"s3cret","policy":{"return_window_days":14}}`).
			want(t, http.StatusCreated)
		if loc := res.header.Get("Location"); loc != "/api/v1/channels/eu-store" {
			t.Errorf("Location %q", loc)
		}
		c := res.json(t)
		pol := c["policy"].(map[string]any)
		// Fields left out of the policy take the default's values.
		if c["has_secret"] != true || pol["return_window_days"] != 14.0 || pol["partial_cancellation"] != true {
			t.Errorf("created %v", c)
		}
		if strings.Contains(string(res.body), "s3cret") {
			t.Error("the secret was returned")
		}

		got := b.get(t, "viewer", "/api/v1/channels/eu-store").want(t, 200)
		if strings.Contains(string(got.body), "s3cret") || got.json(t)["name"] != "EU store" {
			t.Errorf("GET: %s", got.body)
		}

		// PATCH changes only what it names; "" removes the secret.
		p := b.patch(t, "admin", "/api/v1/channels/eu-store", `{"name":"EU","policy":{"cancellation_window_minutes":60},"secret":""}`).want(t, 200).json(t)
		pol = p["policy"].(map[string]any)
		if p["name"] != "EU" || p["kind"] != "shopify" || p["has_secret"] != false ||
			pol["cancellation_window_minutes"] != 60.0 || pol["return_window_days"] != 14.0 {
			t.Errorf("patched %v", p)
		}

		// The list: the two fixtures and eu-store, by code, two a page.
		first := b.get(t, "viewer", "/api/v1/channels?limit=2").want(t, 200).json(t)
		if codes(first) != "eu-store market" || first["next_cursor"] == nil {
			t.Fatalf("page 1: %v", first)
		}
		second := b.get(t, "viewer", "/api/v1/channels?limit=2&cursor="+url.QueryEscape(first["next_cursor"].(string))).want(t, 200).json(t)
		if codes(second) != "web" || second["next_cursor"] != nil {
			t.Errorf("page 2: %v", second)
		}

		bad := []struct {
			method, path, body string
			status             int
			field              string
		}{
			{"POST", "/api/v1/channels", `{"code":"eu-store","kind":"api","name":"again"}`, 409, "code"},
			{"POST", "/api/v1/channels", `{"code":"Bad Code","kind":"fax","name":""}`, 422, "kind"},
			{"POST", "/api/v1/channels", `{"code":"x","kind":"api","name":"x","colour":"red"}`, 400, "colour"},
			{"POST", "/api/v1/channels", `{"code":"x","kind":"api","name":"x","policy":{"return_window_days":1.5}}`, 400, "policy.return_window_days"},
			{"POST", "/api/v1/channels", `{"code":"x","kind":"api","name":"x","policy":{"return_window_days":-1}}`, 422, "policy.return_window_days"},
			{"PATCH", "/api/v1/channels/eu-store", `{"kind":"fax"}`, 422, "kind"},
			{"PATCH", "/api/v1/channels/eu-store", `{"code":"other"}`, 400, "code"},
			{"PATCH", "/api/v1/channels/eu-store", ``, 400, ""},
			{"PATCH", "/api/v1/channels/nope", `{"name":"x"}`, 404, ""},
			{"GET", "/api/v1/channels/nope", ``, 404, ""},
			{"GET", "/api/v1/channels?cursor=AAAA", ``, 422, "cursor"},
			{"GET", "/api/v1/channels?limit=-1", ``, 422, "limit"},
		}
		for _, c := range bad {
			b.do(t, req{method: c.method, path: c.path, key: "admin", body: c.body, header: map[string]string{"Content-Type": "application/json"}}).
				wantProblem(t, c.status, c.field)
		}
	})
}

func TestLocations(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		res := b.post(t, "admin", "/api/v1/locations",
			`{"code":"york","name":"York","kind":"store","address":{"line1":"1 Minster Yard","city":"York","country":"GB"},"lat":53.96,"lon":-1.08}`).
			want(t, http.StatusCreated)
		l := res.json(t)
		if res.header.Get("Location") != "/api/v1/locations/york" || l["active"] != true || l["lat"] != 53.96 {
			t.Errorf("created %v (Location %q)", l, res.header.Get("Location"))
		}
		// Absent fields stay; an explicit null clears lat.
		p := b.patch(t, "admin", "/api/v1/locations/york", `{"lat":null,"active":false}`).want(t, 200).json(t)
		if _, has := p["lat"]; has || p["lon"] != -1.08 || p["active"] != false || p["name"] != "York" {
			t.Errorf("patched %v", p)
		}
		p = b.patch(t, "admin", "/api/v1/locations/york", `{"lat":54}`).want(t, 200).json(t)
		if p["lat"] != 54.0 {
			t.Errorf("lat %v, want 54", p["lat"])
		}
		if g := b.get(t, "warehouse", "/api/v1/locations/york").want(t, 200).json(t); g["lat"] != 54.0 || g["active"] != false {
			t.Errorf("GET %v", g)
		}
		list := b.get(t, "viewer", "/api/v1/locations").want(t, 200).json(t)
		if codes(list) != "leeds york" || list["next_cursor"] != nil {
			t.Errorf("list %v", list)
		}
		b.patch(t, "admin", "/api/v1/locations/york", `{"lat":"north"}`).wantProblem(t, 400, "lat")
		b.patch(t, "admin", "/api/v1/locations/york", `{"lat":91}`).wantProblem(t, 422, "lat")
		b.patch(t, "admin", "/api/v1/locations/york", `{"address":{"country":"XX"}}`).wantProblem(t, 422, "address.country")
		b.post(t, "admin", "/api/v1/locations", `{"code":"york","name":"York","kind":"store"}`).wantProblem(t, 409, "code")
		b.post(t, "admin", "/api/v1/locations", `{"code":"hull","name":"Hull","kind":"shed"}`).wantProblem(t, 422, "kind")
		b.get(t, "admin", "/api/v1/locations/nope").wantProblem(t, 404, "")
	})
}

func TestSKUs(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		res := b.post(t, "admin", "/api/v1/skus", `{"sku":"TEE/RED M","name":"Red tee, M","barcode":"5012345678900","weight_grams":180}`).
			want(t, http.StatusCreated)
		// The code is escaped in Location, and works escaped in the path.
		loc := res.header.Get("Location")
		if loc != "/api/v1/skus/TEE%2FRED%20M" {
			t.Errorf("Location %q", loc)
		}
		if g := b.get(t, "viewer", loc).want(t, 200).json(t); g["sku"] != "TEE/RED M" || g["weight_grams"] != 180.0 {
			t.Errorf("GET %v", g)
		}
		p := b.patch(t, "admin", loc, `{"barcode":""}`).want(t, 200).json(t)
		if p["barcode"] != "" || p["name"] != "Red tee, M" || p["weight_grams"] != 180.0 {
			t.Errorf("patched %v", p)
		}
		list := b.get(t, "viewer", "/api/v1/skus?limit=2").want(t, 200).json(t)
		if codes(list) != "SKU-1 SKU-2" || list["next_cursor"] == nil {
			t.Errorf("list %v", list)
		}
		b.post(t, "admin", "/api/v1/skus", `{"sku":"SKU-1","name":"dup"}`).wantProblem(t, 409, "sku")
		b.post(t, "admin", "/api/v1/skus", `{"sku":" padded","name":""}`).wantProblem(t, 422, "sku")
		b.patch(t, "admin", "/api/v1/skus/SKU-1", `{"weight_grams":-5}`).wantProblem(t, 422, "weight_grams")
		b.patch(t, "admin", "/api/v1/skus/SKU-1", `{"weight_grams":1.5}`).wantProblem(t, 400, "weight_grams")
		b.get(t, "admin", "/api/v1/skus/NOPE").wantProblem(t, 404, "")
	})
}

// codes joins the code (or sku) of each item of a list response.
func codes(list map[string]any) string {
	var out []string
	for _, it := range list["items"].([]any) {
		m := it.(map[string]any)
		if c, ok := m["code"].(string); ok {
			out = append(out, c)
		} else {
			out = append(out, m["sku"].(string))
		}
	}
	return strings.Join(out, " ")
}
