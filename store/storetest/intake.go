package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
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
		v.Connectors = connectorConfigs(t, q)
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

// connectorConfigs is ChannelConnectorList as IntakeRead returns it: only
// the configuration, without the polling state.
func connectorConfigs(t *testing.T, q store.Querier) []*store.ChannelConnector {
	t.Helper()
	all, err := q.ChannelConnectorList(ctx)
	ok(t, "connectors", err)
	var out []*store.ChannelConnector
	for _, c := range all {
		out = append(out, &store.ChannelConnector{Channel: c.Channel, Kind: c.Kind, BaseURL: c.BaseURL, Settings: c.Settings, Enabled: c.Enabled,
			PollInterval: c.PollInterval, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	return out
}

// testIntakeReadAfterConfigWrites reads intake's view after every kind of
// write to what it reads besides the order's own rows and the balances —
// channels, locations, rule sets, connectors — and compares it with the
// single-purpose reads: the store may answer that part from its stock
// cache, which every such write must drop.
func testIntakeReadAfterConfigWrites(t *testing.T, s store.Store) {
	mustStock(t, s, []string{"leeds"}, []string{"A"})
	mustInsertChannels(t, s, "web")
	check := func(step string) {
		t.Helper()
		for range 2 { // the first read may fill the cache, the second is from it
			for _, code := range []string{"web", "shop", "nope"} {
				got, err := s.IntakeRead(ctx, store.IntakeQuery{Channel: code, ExternalID: "X1", SKUs: []string{"A"}})
				ok(t, step, err)
				want := &store.IntakeView{}
				want.Channel, err = s.ChannelGet(ctx, code)
				if orderly.KindOf(err) == orderly.KindNotFound {
					err = nil
				}
				ok(t, step, err)
				want.Locations, err = s.LocationList(ctx, store.ListParams{Limit: store.MaxLimit})
				ok(t, step, err)
				want.RuleSet, err = s.RuleSetActive(ctx)
				if orderly.KindOf(err) == orderly.KindNotFound {
					err = nil
				}
				ok(t, step, err)
				want.Balances, err = s.BalancesBySKU(ctx, []string{"A"})
				ok(t, step, err)
				want.Connectors = connectorConfigs(t, s)
				equal(t, fmt.Sprintf("intake's view for channel %q after %s", code, step), got, want)
			}
		}
	}
	check("nothing")
	web, err := s.ChannelGet(ctx, "web")
	ok(t, "channel", err)
	web.Name, web.Locations, web.UpdatedAt = "Web shop", []string{"leeds"}, at(1)
	ok(t, "channel update", s.ChannelUpdate(ctx, web))
	check("a channel update")
	ok(t, "channel insert", s.ChannelInsert(ctx, NewChannel("shop")))
	check("a new channel")
	ok(t, "location insert", s.LocationInsert(ctx, newLocation("york", nil, nil)))
	check("a new location")
	york := newLocation("york", nil, nil)
	york.Active, york.UpdatedAt = false, at(2)
	ok(t, "location update", s.LocationUpdate(ctx, york))
	check("a location switched off")
	rs0 := routing.DefaultRuleSet()
	rs0.Version, rs0.Status, rs0.CreatedAt, rs0.ActivatedAt = 0, routing.StatusActive, at(3), new(at(3))
	ok(t, "active rule set", s.RuleSetInsert(ctx, &rs0))
	check("a rule set inserted active")
	rs := routing.DefaultRuleSet()
	rs.Version, rs.Status, rs.CreatedAt = 0, routing.StatusDraft, at(3)
	ok(t, "rule set", s.RuleSetInsert(ctx, &rs))
	check("a draft rule set")
	_, err = s.RuleSetActivate(ctx, rs.Version, at(4))
	ok(t, "activate", err)
	check("a rule set activated")
	rs2 := routing.DefaultRuleSet()
	rs2.Version, rs2.Status, rs2.CreatedAt = 0, routing.StatusDraft, at(5)
	ok(t, "second rule set", s.RuleSetInsert(ctx, &rs2))
	_, err = s.RuleSetActivate(ctx, rs2.Version, at(6))
	ok(t, "activate the second", err)
	check("another rule set activated")
	_, err = s.ChannelConnectorPut(ctx, &store.ChannelConnector{Channel: "shop", BaseURL: "https://a.example",
		Settings: map[string]string{"access_token": "tok"}, Enabled: true, PollInterval: time.Minute, UpdatedAt: at(7)})
	ok(t, "connector", err)
	check("a connector configured")
	_, err = s.ChannelConnectorPut(ctx, &store.ChannelConnector{Channel: "shop", BaseURL: "https://a.example", Enabled: false,
		PollInterval: time.Minute, UpdatedAt: at(8)})
	ok(t, "connector off", err)
	check("a connector switched off")
}
