package httpapi

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/orderly-oms/orderly/carrier/easypost"
)

// trackerEvent wraps the EasyPost tracker fixture in a tracker.updated
// event for trackingCode, with its details turned in_transit (the fixture's
// are pre_transit, which the API does not record).
func trackerEvent(t *testing.T, trackingCode string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../carrier/easypost/testdata/tracker.json")
	if err != nil {
		t.Fatal(err)
	}
	var tr map[string]any
	if err := json.Unmarshal(raw, &tr); err != nil {
		t.Fatal(err)
	}
	tr["tracking_code"] = trackingCode
	tr["status"] = "in_transit"
	for _, d := range tr["tracking_details"].([]any) {
		d.(map[string]any)["status"] = "in_transit"
	}
	body, err := json.Marshal(map[string]any{"id": "evt_1", "object": "Event", "description": "tracker.updated",
		"mode": "test", "result": tr})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestEasyPostWebhook: a signed tracker.updated records the tracker's
// events on the shipment with its tracking number, once; a bad signature
// is a 401 and an unknown tracking number is ignored.
func TestEasyPostWebhook(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		const secret = "whsec-test"
		b.svc.EasyPostWebhookSecret = secret
		o := b.post(t, "admin", "/api/v1/orders", orderWith(chWeb, "EP-1", false, sku1, 1)).want(t, 201).json(t)
		fid := b.fulfilmentOrders(t, o["id"].(string))[locLeeds]["id"].(string)
		b.post(t, "admin", "/api/v1/fulfilment-orders/"+fid+"/accept", "").want(t, 200)
		sh := b.post(t, "admin", "/api/v1/fulfilment-orders/"+fid+"/ship",
			`{"carrier":"usps","service":"Priority","tracking_number":"9405500207552011812894"}`).want(t, 201).json(t)

		send := func(body []byte, sig string) *response {
			return b.do(t, req{method: "POST", path: "/webhooks/easypost/acct_1", body: string(body),
				header: map[string]string{easypost.SignatureHeader: sig}})
		}
		body := trackerEvent(t, "9405500207552011812894")
		send(body, "hmac-sha256-hex=00").wantProblem(t, 401, "")
		send(body, easypost.Sign("other", body)).wantProblem(t, 401, "")
		if got := b.get(t, "admin", "/api/v1/shipments/"+sh["id"].(string)).want(t, 200).json(t); got["status"] != "pre_transit" {
			t.Fatalf("an unsigned webhook changed the shipment: %v", got)
		}

		res := send(body, easypost.Sign(secret, body)).want(t, 200).json(t)
		if res["status"] != "updated" || res["shipment_id"] != sh["id"] || res["recorded"] != 2.0 {
			t.Fatalf("webhook: %v", res)
		}
		got := b.get(t, "admin", "/api/v1/shipments/"+sh["id"].(string)).want(t, 200).json(t)
		if got["status"] != "in_transit" || len(got["events"].([]any)) != 2 {
			t.Fatalf("shipment after webhook: %v", got)
		}
		// A repeated delivery records nothing.
		if res := send(body, easypost.Sign(secret, body)).want(t, 200).json(t); res["recorded"] != 0.0 {
			t.Fatalf("repeat: %v", res)
		}
		if got := b.get(t, "admin", "/api/v1/shipments/"+sh["id"].(string)).want(t, 200).json(t); len(got["events"].([]any)) != 2 {
			t.Fatalf("repeat recorded again: %v", got["events"])
		}
		other := trackerEvent(t, "UNKNOWN-1")
		if res := send(other, easypost.Sign(secret, other)).want(t, 200).json(t); res["status"] != "ignored" {
			t.Fatalf("unknown tracking number: %v", res)
		}
		if tl := timelineTypes(b.orderDetail(t, o["id"].(string))); !strings.Contains(tl, "shipment.updated") {
			t.Fatalf("timeline %s", tl)
		}
	})
}
