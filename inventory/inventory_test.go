package inventory_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/inventory"
)

func TestPlanSimple(t *testing.T) {
	locs := []string{"a", "b", "c"}
	cases := []struct {
		name      string
		demands   []inventory.Demand
		available map[inventory.Key]int64
		picks     string
		short     map[string]int64
	}{
		{
			name:      "whole line at the location with most stock",
			demands:   []inventory.Demand{{LineID: "1", SKU: "X", Quantity: 3}},
			available: map[inventory.Key]int64{{SKU: "X", Location: "a"}: 3, {SKU: "X", Location: "b"}: 5},
			picks:     "[1:X@b×3]",
		},
		{
			name:      "tie goes to the location listed first",
			demands:   []inventory.Demand{{LineID: "1", SKU: "X", Quantity: 2}},
			available: map[inventory.Key]int64{{SKU: "X", Location: "c"}: 4, {SKU: "X", Location: "a"}: 4},
			picks:     "[1:X@a×2]",
		},
		{
			name:      "split in order of most available",
			demands:   []inventory.Demand{{LineID: "1", SKU: "X", Quantity: 6}},
			available: map[inventory.Key]int64{{SKU: "X", Location: "a"}: 2, {SKU: "X", Location: "b"}: 3, {SKU: "X", Location: "c"}: 4},
			picks:     "[1:X@c×4 1:X@b×2]",
		},
		{
			name:      "short: what exists is taken, the rest backordered",
			demands:   []inventory.Demand{{LineID: "1", SKU: "X", Quantity: 5}},
			available: map[inventory.Key]int64{{SKU: "X", Location: "a"}: 2},
			picks:     "[1:X@a×2]",
			short:     map[string]int64{"1": 3},
		},
		{
			name:      "two lines of one SKU share one tally",
			demands:   []inventory.Demand{{LineID: "1", SKU: "X", Quantity: 1}, {LineID: "2", SKU: "X", Quantity: 1}},
			available: map[inventory.Key]int64{{SKU: "X", Location: "b"}: 1},
			picks:     "[1:X@b×1]",
			short:     map[string]int64{"2": 1},
		},
		{
			name:      "negative available counts as none",
			demands:   []inventory.Demand{{LineID: "1", SKU: "X", Quantity: 1}},
			available: map[inventory.Key]int64{{SKU: "X", Location: "a"}: -4},
			picks:     "[]",
			short:     map[string]int64{"1": 1},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan := inventory.PlanSimple(c.demands, c.available, locs)
			var got []string
			for _, p := range plan.Picks {
				got = append(got, fmt.Sprintf("%s:%s@%s×%d", p.LineID, p.SKU, p.Location, p.Quantity))
			}
			if s := fmt.Sprint(got); s != c.picks && (len(got) != 0 || c.picks != "[]") {
				t.Errorf("picks %s, want %s", s, c.picks)
			}
			if fmt.Sprint(plan.Backordered) != fmt.Sprint(orEmpty(c.short)) {
				t.Errorf("backordered %v, want %v", plan.Backordered, c.short)
			}
			if plan.Short() != (len(c.short) > 0) {
				t.Errorf("Short() = %v", plan.Short())
			}
		})
	}
}

func orEmpty(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}

func TestCompare(t *testing.T) {
	balances := []*inventory.Balance{
		{SKU: "MATCH", OnHand: 5},
		{SKU: "LATE", OnHand: 7},                 // 2 shipped after the count of 9
		{SKU: "PICKED", OnHand: 10, Reserved: 4}, // counted 6: reserved units gone
		{SKU: "GONE", OnHand: 3},                 // not in a full snapshot
		{SKU: "ODD", OnHand: 8},
		{SKU: "EMPTY"}, // nothing held: not reported as missing
	}
	counted := map[string]int64{"MATCH": 5, "LATE": 9, "PICKED": 6, "ODD": 5, "NEW": 2}
	moved := map[string]int64{"LATE": -2}
	lines := inventory.Compare(balances, counted, inventory.SnapshotFull, moved)
	want := map[string]struct {
		drift, correction int64
		cause             inventory.Cause
	}{
		"GONE":   {-3, -3, inventory.CauseMissingFromSnapshot},
		"LATE":   {2, 0, inventory.CauseMovementsAfterCount},
		"MATCH":  {0, 0, inventory.CauseNone},
		"NEW":    {2, 2, inventory.CauseUnknownToOrderly},
		"ODD":    {-3, -3, inventory.CauseUnexplained},
		"PICKED": {-4, -4, inventory.CauseUnreleasedReservations},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d: %+v", len(lines), len(want), lines)
	}
	for i, l := range lines {
		if i > 0 && lines[i-1].SKU >= l.SKU {
			t.Errorf("lines not sorted by SKU at %d", i)
		}
		w := want[l.SKU]
		if l.Drift != w.drift || l.Correction() != w.correction || l.Cause != w.cause {
			t.Errorf("%s: drift %d correction %d cause %s; want %d %d %s", l.SKU, l.Drift, l.Correction(), l.Cause, w.drift, w.correction, w.cause)
		}
	}
	partial := inventory.Compare(balances, map[string]int64{"MATCH": 4}, inventory.SnapshotPartial, nil)
	if len(partial) != 1 || partial[0].Drift != -1 {
		t.Fatalf("partial snapshot: %+v", partial)
	}
	r := inventory.Report{Lines: lines, CreatedAt: time.Now()}
	r.Summarise()
	if r.SKUs != 6 || r.Drifted != 5 || r.DriftUnits != 14 {
		t.Fatalf("summary %d/%d/%d", r.SKUs, r.Drifted, r.DriftUnits)
	}
}

func TestValidateAdjustment(t *testing.T) {
	ok := []struct {
		d int64
		r inventory.Reason
	}{{5, inventory.ReasonReceive}, {-2, inventory.ReasonDamage}, {-1, inventory.ReasonAdjust}, {3, inventory.ReasonAdjust}}
	for _, c := range ok {
		if err := inventory.ValidateAdjustment("a", "X", c.d, c.r, ""); err != nil {
			t.Errorf("%d %s: %v", c.d, c.r, err)
		}
	}
	bad := []struct {
		d int64
		r inventory.Reason
	}{{-5, inventory.ReasonReceive}, {2, inventory.ReasonDamage}, {0, inventory.ReasonAdjust}, {1, inventory.ReasonReserve}, {1, "steal"}}
	for _, c := range bad {
		if err := inventory.ValidateAdjustment("a", "X", c.d, c.r, ""); err == nil {
			t.Errorf("%d %s accepted", c.d, c.r)
		}
	}
}
