package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/routing"
	"github.com/orderly-oms/orderly/store"
)

// testIntakeRead checks that IntakeRead returns what the single-purpose
// reads return: the channel's order, the channel, the missing SKUs, every
// location, the active rule set and the SKUs' balances — nothing or nil
// where there is none — in and outside a transaction, and for an order of
// more SKUs than one IN list takes.
func testIntakeRead(t *testing.T, s store.Store) {
	empty, err := s.IntakeRead(ctx, store.IntakeQuery{Channel: "web", ExternalID: "X1", SKUs: []string{"A"}})
	ok(t, "read of nothing", err)
	equal(t, "view of an empty store", empty, &store.IntakeView{MissingSKUs: []string{"A"}})

	mustStock(t, s, []string{"york", "leeds"}, []string{"A", "B"})
	mustInsertChannels(t, s, "web", "pos")
	mustMove(t, s, newMove("leeds", "A", 10, 0, inventory.ReasonReceive, 0))
	mustMove(t, s, newMove("york", "A", 5, 0, inventory.ReasonReceive, 1))
	mustMove(t, s, newMove("york", "B", 3, 0, inventory.ReasonReceive, 2))
	o := mustInsertOrder(t, s, NewOrder("web", "X1"))
	mustInsertOrder(t, s, NewOrder("pos", "X1"))
	rs := routing.DefaultRuleSet()
	rs.Version, rs.Status, rs.CreatedAt = 0, routing.StatusDraft, at(3)
	ok(t, "rule set", s.RuleSetInsert(ctx, &rs))
	_, err = s.RuleSetActivate(ctx, rs.Version, at(4))
	ok(t, "activate", err)

	want := func(t *testing.T, q store.Querier, skus []string) *store.IntakeView {
		t.Helper()
		var v store.IntakeView
		v.Existing, err = q.OrderGetByExternalID(ctx, "web", "X1")
		ok(t, "order", err)
		v.Channel, err = q.ChannelGet(ctx, "web")
		ok(t, "channel", err)
		v.MissingSKUs, err = q.SKUMissing(ctx, skus)
		ok(t, "missing", err)
		v.Locations, err = q.LocationList(ctx, store.ListParams{Limit: store.MaxLimit})
		ok(t, "locations", err)
		v.RuleSet, err = q.RuleSetActive(ctx)
		ok(t, "rule set", err)
		v.Balances, err = q.BalancesBySKU(ctx, skus)
		ok(t, "balances", err)
		v.Connectors, err = q.ChannelConnectorList(ctx)
		ok(t, "connectors", err)
		return &v
	}
	for _, skus := range [][]string{{"B", "A", "NOPE", "A"}, manySKUs(150, "A", "B")} {
		q := store.IntakeQuery{Channel: "web", ExternalID: "X1", SKUs: skus}
		sorted := dedupSorted(skus)
		got, err := s.IntakeRead(ctx, q)
		ok(t, "read", err)
		equal(t, fmt.Sprintf("view of %d SKUs", len(sorted)), got, want(t, s, sorted))
		if got.Existing == nil || got.Existing.ID != o.ID || len(got.Balances) != 3 {
			t.Fatalf("view %+v, want order %s and 3 balances", got, o.ID)
		}
		ok(t, "in a transaction", s.InTx(ctx, func(tx store.Querier) error {
			got, err := tx.IntakeRead(ctx, q)
			ok(t, "read in tx", err)
			equal(t, "view in a transaction", got, want(t, tx, sorted))
			return nil
		}))
	}
	none, err := s.IntakeRead(ctx, store.IntakeQuery{Channel: "nope", ExternalID: "X1", SKUs: []string{"B"}})
	ok(t, "read of an unknown channel", err)
	if none.Channel != nil || none.Existing != nil || len(none.Balances) != 1 || len(none.Locations) != 2 {
		t.Errorf("view of an unknown channel: %+v", none)
	}
}

// manySKUs returns n SKU codes, among them extra.
func manySKUs(n int, extra ...string) []string {
	out := append([]string(nil), extra...)
	for i := len(out); i < n; i++ {
		out = append(out, fmt.Sprintf("MANY-%03d", i))
	}
	return out
}

// dedupSorted returns codes sorted, each once.
func dedupSorted(codes []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range codes {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}
