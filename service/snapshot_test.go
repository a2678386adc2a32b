package service_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// TestSnapshotApplyShortage: an applied snapshot corrects every drifted
// SKU it knows with a count movement and an inventory.counted event, in
// SKU order; a count below what is reserved raises its shortage (and
// holds the order no longer covered) right after its own counted event,
// as a count of that SKU alone would.
func TestSnapshotApplyShortage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := stockSetup(t, st)
		ctx := context.Background()
		if _, err := b.svc.CreateSKU(ctx, admin, &inventory.SKU{SKU: "Z", Name: "Last item"}); err != nil {
			t.Fatal(err)
		}
		receive(t, b.svc, "wh1", "HOT", 4)
		receive(t, b.svc, "wh1", "Z", 5)
		older, _, err := b.svc.CreateOrder(ctx, admin, oneLine("S-1", "HOT", 2), false)
		if err != nil {
			t.Fatal(err)
		}
		newer, _, err := b.svc.CreateOrder(ctx, admin, oneLine("S-2", "HOT", 2), false)
		if err != nil {
			t.Fatal(err)
		}
		events, err := st.EventList(ctx, store.EventListParams{Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		last := events[len(events)-1].Seq

		rep, err := b.svc.SubmitSnapshot(ctx, admin, service.Snapshot{Location: "wh1", Mode: inventory.SnapshotPartial, Apply: true,
			Items: []service.SnapshotItem{{SKU: "Z", OnHand: 2}, {SKU: "HOT", OnHand: 3}, {SKU: "A", OnHand: 990},
				{SKU: "B", OnHand: 1000}, {SKU: "C", OnHand: 1005}, {SKU: "NOPE", OnHand: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Drifted != 5 {
			t.Errorf("%d drifted, want 5", rep.Drifted)
		}
		for sku, want := range map[string]int64{"A": 990, "B": 1000, "C": 1005, "HOT": 3, "Z": 2} {
			if got := balance(t, st, "wh1", sku); got.OnHand != want {
				t.Errorf("%s: %d on hand, want %d", sku, got.OnHand, want)
			}
			l, err := st.MovementList(ctx, store.MovementListParams{Location: "wh1", SKU: sku, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if sku == "B" {
				continue // no drift, no movement
			}
			if l[0].Reason != inventory.ReasonCount || l[0].Reference != "reconciliation:"+rep.ID || l[0].Actor != admin.Actor() {
				t.Errorf("%s: last movement %+v", sku, l[0])
			}
		}
		if got := balance(t, st, "wh1", "NOPE"); !got.UpdatedAt.IsZero() {
			t.Errorf("an unknown SKU got a balance: %+v", got)
		}
		if o, _ := b.svc.GetOrder(ctx, admin, newer.ID); o.Status != order.StatusOnHold || o.Hold.Reason != service.HoldStockShortage {
			t.Errorf("newer order: %s %+v", o.Status, o.Hold)
		}
		if o, _ := b.svc.GetOrder(ctx, admin, older.ID); o.Status != order.StatusOpen {
			t.Errorf("older order: %s", o.Status)
		}

		events, err = st.EventList(ctx, store.EventListParams{AfterSeq: last, Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range events {
			got = append(got, e.Type+" "+e.SubjectID)
			if e.Type != "inventory.counted" {
				continue
			}
			var data map[string]any
			if err := json.Unmarshal(e.Data, &data); err != nil {
				t.Fatal(err)
			}
			if data["location"] != "wh1" || data["reference"] != "reconciliation:"+rep.ID || data["safety_stock"] != 0.0 {
				t.Errorf("%s data %v", e.SubjectID, data)
			}
			if e.SubjectID == "wh1/HOT" && (data["from"] != 4.0 || data["to"] != 3.0 || data["reserved"] != 4.0 || data["sku"] != "HOT") {
				t.Errorf("HOT data %v", data)
			}
		}
		want := []string{"inventory.drift_detected wh1", "inventory.counted wh1/A", "inventory.counted wh1/C",
			"inventory.counted wh1/HOT", "inventory.shortage wh1/HOT", "order.held " + newer.ID, "inventory.counted wh1/Z"}
		if len(got) != len(want) {
			t.Fatalf("events %q, want %q", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("events %q, want %q", got, want)
				break
			}
		}
		assertBooksBalance(t, b.svc)
	})
}
