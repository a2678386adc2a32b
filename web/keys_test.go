package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/orderly-oms/orderly"
)

// TestKeysPage: an admin makes a key in the console and sees its secret on
// that page only; the key works at once; a refused form keeps what was
// typed; a revoked key works no more; other roles neither see nor use the
// page.
func TestKeysPage(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string, f *fixture) {
		ctx := context.Background()
		admin := f.login(t, "admin@example.com")
		status, body := admin.get("/keys")
		if status != http.StatusOK || !strings.Contains(body, "No API key yet.") || !strings.Contains(body, `href="/keys" aria-current="page"`) {
			t.Fatalf("GET /keys: %d\n%s", status, body)
		}
		golden(t, backend, "keys", body)

		resp := admin.do(http.MethodPost, "/keys", url.Values{"csrf": {admin.csrf}, "name": {"erp-sync"}, "role": {"warehouse"}, "location": {"wh-a"}})
		page := readBody(t, resp)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("POST /keys: %d, Cache-Control %q\n%s", resp.StatusCode, resp.Header.Get("Cache-Control"), page)
		}
		m := regexp.MustCompile(`id="new-secret"[^>]*value="(ork_[a-z2-7]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no secret on the page that made the key:\n%s", page)
		}
		secret := m[1]
		p, err := f.svc.Authenticate(ctx, secret)
		if err != nil || p.Name != "key:erp-sync" || p.Location != "wh-a" {
			t.Fatalf("the new key authenticates as %+v, %v", p, err)
		}
		_, body = admin.get("/keys")
		if strings.Contains(body, secret) || !strings.Contains(body, `id="key-erp-sync"`) || !strings.Contains(body, secret[:10]+"…") {
			t.Errorf("the list shows the secret, or not the key:\n%s", body)
		}

		// Refused: the page says why and keeps the form.
		status, body = admin.post("/keys", url.Values{"name": {"shop-feed"}, "role": {"channel"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "channel") || !strings.Contains(body, `value="shop-feed"`) {
			t.Errorf("a channel key without a channel: %d\n%s", status, body)
		}
		if status, _ = admin.post("/keys", url.Values{"name": {"erp-sync"}, "role": {"viewer"}}); status != http.StatusConflict {
			t.Errorf("a taken name: %d", status)
		}

		// Other roles: no link, no page, no action.
		for _, email := range []string{"agent@example.com", "viewer@example.com", "wh-a@example.com"} {
			u := f.login(t, email)
			if _, body := u.get("/orders"); strings.Contains(body, `href="/keys"`) {
				t.Errorf("%s sees the API keys link", email)
			}
			if status, _ := u.get("/keys"); status != http.StatusForbidden {
				t.Errorf("%s GET /keys: %d", email, status)
			}
			if status, _ := u.post("/keys", url.Values{"name": {"mine"}, "role": {"admin"}}); status != http.StatusForbidden {
				t.Errorf("%s made a key: %d", email, status)
			}
			if status, _ := u.post("/keys/erp-sync/revoke", nil); status != http.StatusForbidden {
				t.Errorf("%s revoked a key: %d", email, status)
			}
		}
		if _, err := f.svc.Authenticate(ctx, secret); err != nil {
			t.Fatalf("refused revocations revoked the key: %v", err)
		}

		// Revoked: gone at once; the list says so.
		resp = admin.do(http.MethodPost, "/keys/erp-sync/revoke", url.Values{"csrf": {admin.csrf}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/keys?done=revoke-key") {
			t.Fatalf("revoke: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if _, err := f.svc.Authenticate(ctx, secret); orderly.KindOf(err) != orderly.KindUnauthorized {
			t.Errorf("a revoked key authenticates: %v", err)
		}
		_, body = admin.get("/keys?done=revoke-key")
		if !strings.Contains(body, "The key is revoked.") || !strings.Contains(body, `id="key-erp-sync" class="revoked"`) ||
			strings.Contains(body, `action="/keys/erp-sync/revoke"`) {
			t.Errorf("after revoking:\n%s", body)
		}
		if status, _ := admin.post("/keys/nobody/revoke", nil); status != http.StatusNotFound {
			t.Errorf("revoke an unknown key: %d", status)
		}
	})
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
