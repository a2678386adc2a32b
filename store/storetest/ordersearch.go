package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/store"
)

// testOrderSearch checks OrderListParams.Query as the search indexes of
// migration 0013 serve it (trigrams of the folded name: FTS5 on SQLite,
// pg_trgm on PostgreSQL): a name containing the text, of three characters
// or more through the index and shorter by reading; number, external id
// and e-mail exactly; each order once, however many ways it matches;
// combined with every filter and paged by BeforeNumber; for orders stored
// by OrderInsert and by OrderCapture.
func testOrderSearch(t *testing.T, s store.Store) {
	mustInsertChannels(t, s, "web", "pos")
	type spec struct {
		key, channel, ext, name, email string
		placed                         int // minutes after T0
		status                         order.Status
		backordered, capture           bool
	}
	specs := []spec{
		{"bob", "web", "W-1", "Bob Smith", "bob@example.com", 0, order.StatusOpen, false, false},
		{"smithers", "pos", "P-1", "bob smithers", "BOB@example.com", 10, order.StatusOnHold, false, true},
		{"zoe", "web", "W-2", "Zoë ÅNGSTRÖM", "zoe@example.se", 20, order.StatusOpen, true, false},
		{"oneil", "web", "W-3", "Anna-Marie O'Neil", "am@example.ie", 30, order.StatusPending, false, true},
		{"quote", "pos", "P-2", `The "Quoted" Shop*`, "shop@example.com", 40, order.StatusOpen, true, false},
		{"ann", "web", "Ann", "Ann Lee", "ann@example.com", 50, order.StatusOpen, false, false},
		{"unit", "pos", "P-3", "Unit %d Ltd", "unit@example.com", 60, order.StatusOpen, false, true},
		{"smithy", "web", "SMITH-1", "Smithy Jones", "smithy@example.com", 70, order.StatusOpen, true, true},
		{"near", "web", "W-4", "near OR and", "near@example.com", 80, order.StatusCancelled, false, false},
		{"bob3", "pos", "P-4", "Bobby Smith", "bob@example.com", 90, order.StatusOpen, false, true},
	}
	num := map[string]int64{}
	for _, sp := range specs {
		o := NewOrder(sp.channel, sp.ext)
		o.Customer.Name, o.Customer.Email, o.PlacedAt = sp.name, sp.email, at(sp.placed)
		if sp.key == "unit" { // a name holding the number of zoe's order
			o.Customer.Name = fmt.Sprintf(sp.name, num["zoe"])
		}
		if sp.backordered {
			o.Lines[0].Backordered = o.Lines[0].Quantity
		}
		switch sp.status {
		case order.StatusOnHold:
			ok(t, "hold", o.PutOnHold("check", T0))
		default:
			o.Status = sp.status
		}
		if sp.capture {
			ok(t, "OrderCapture "+sp.key, s.OrderCapture(ctx, captureParams(o)))
		} else {
			mustInsertOrder(t, s, o)
		}
		num[sp.key] = o.Number
	}
	nums := func(keys ...string) []int64 {
		out := make([]int64, len(keys))
		for i, k := range keys {
			n, found := num[k]
			if !found {
				t.Fatalf("no order %q", k)
			}
			out[i] = n
		}
		slices.Sort(out)
		slices.Reverse(out)
		return out
	}
	list := func(p store.OrderListParams) []int64 {
		t.Helper()
		os, err := s.OrderList(ctx, p)
		ok(t, "OrderList", err)
		out := make([]int64, len(os))
		for i, o := range os {
			out[i] = o.Number
			if len(o.Lines) != 2 {
				t.Errorf("order %d listed with %d lines, want 2", o.Number, len(o.Lines))
			}
		}
		return out
	}
	// pages walks every page of p, limit orders at a time, and checks that
	// each page but the last is full.
	pages := func(p store.OrderListParams, limit int) []int64 {
		t.Helper()
		var all []int64
		p.Limit = limit
		for range 20 {
			got := list(p)
			all = append(all, got...)
			if len(got) < limit {
				return all
			}
			p.BeforeNumber = got[len(got)-1]
		}
		t.Fatalf("%+v: more than 20 pages", p)
		return nil
	}
	for _, tt := range []struct {
		name string
		p    store.OrderListParams
		want []int64
	}{
		{"part of a word", store.OrderListParams{Query: "smith"}, nums("bob", "smithers", "smithy", "bob3")},
		{"across words", store.OrderListParams{Query: "b sm"}, nums("bob", "smithers")},
		{"whole name, other case", store.OrderListParams{Query: "BOB SMITHERS"}, nums("smithers")},
		{"non-ASCII, other case", store.OrderListParams{Query: "ångström"}, nums("zoe")},
		{"non-ASCII, three characters", store.OrderListParams{Query: "Zoë"}, nums("zoe")},
		{"apostrophe", store.OrderListParams{Query: "o'neil"}, nums("oneil")},
		{"double quote", store.OrderListParams{Query: `"quoted"`}, nums("quote")},
		{"star is literal", store.OrderListParams{Query: "shop*"}, nums("quote")},
		{"star is not a prefix", store.OrderListParams{Query: "smi*"}, nil},
		{"query words are text", store.OrderListParams{Query: "OR and"}, nums("near")},
		{"NEAR is text", store.OrderListParams{Query: "near("}, nil},
		{"two characters", store.OrderListParams{Query: "ob"}, nums("bob", "smithers", "bob3")},
		{"one character", store.OrderListParams{Query: "ë"}, nums("zoe")},
		{"no such name", store.OrderListParams{Query: "smyth"}, nil},
		{"e-mail, any case", store.OrderListParams{Query: "Bob@Example.com"}, nums("bob", "smithers", "bob3")},
		{"e-mail matches whole", store.OrderListParams{Query: "example.com"}, nil},
		{"external id", store.OrderListParams{Query: "W-3"}, nums("oneil")},
		{"external id, and a name part", store.OrderListParams{Query: "Ann"}, nums("ann", "oneil")},
		{"external id is case-sensitive", store.OrderListParams{Query: "smith-1"}, nil},
		{"number, and a name part", store.OrderListParams{Query: fmt.Sprint(num["zoe"])}, nums("zoe", "unit")},
		{"number of one order", store.OrderListParams{Query: fmt.Sprint(num["unit"])}, nums("unit")},
		{"with channel", store.OrderListParams{Query: "smith", Channel: "pos"}, nums("smithers", "bob3")},
		{"with status", store.OrderListParams{Query: "smith", Status: order.StatusOpen}, nums("bob", "smithy", "bob3")},
		{"on hold", store.OrderListParams{Query: "bob", Status: order.StatusOnHold}, nums("smithers")},
		{"with backordered", store.OrderListParams{Query: "smith", Backordered: true}, nums("smithy")},
		{"with placed range", store.OrderListParams{Query: "smith", PlacedAfter: ptr(at(10)), PlacedBefore: ptr(at(90))}, nums("smithers", "smithy")},
		{"short, with channel", store.OrderListParams{Query: "ob", Channel: "web"}, nums("bob")},
		{"e-mail, with channel", store.OrderListParams{Query: "bob@example.com", Channel: "pos"}, nums("smithers", "bob3")},
		{"before number", store.OrderListParams{Query: "smith", BeforeNumber: num["smithy"]}, nums("bob", "smithers")},
		{"limit", store.OrderListParams{Query: "smith", Limit: 2}, nums("smithy", "bob3")},
	} {
		if got := list(tt.p); !slices.Equal(got, tt.want) {
			t.Errorf("%s (%q): numbers %v, want %v", tt.name, tt.p.Query, got, tt.want)
		}
	}

	// Pages of one and two: every order once, newest first, each page but
	// the last full — including an order that matches both as an exact
	// match and by its name ("Ann": external id and name), and e-mail
	// matches that are also name matches ("bob").
	for _, tt := range []struct {
		p    store.OrderListParams
		want []int64
	}{
		{store.OrderListParams{Query: "smith"}, nums("bob", "smithers", "smithy", "bob3")},
		{store.OrderListParams{Query: "Ann"}, nums("ann", "oneil")},
		{store.OrderListParams{Query: "bob@example.com"}, nums("bob", "smithers", "bob3")},
		{store.OrderListParams{Query: "bob"}, nums("bob", "smithers", "bob3")},
		{store.OrderListParams{Query: "ob", Status: order.StatusOpen}, nums("bob", "bob3")},
		{store.OrderListParams{Query: "smith", Channel: "web"}, nums("bob", "smithy")},
	} {
		for _, limit := range []int{1, 2, 3} {
			if got := pages(tt.p, limit); !slices.Equal(got, tt.want) {
				t.Errorf("%+v in pages of %d: numbers %v, want %v", tt.p, limit, got, tt.want)
			}
		}
	}

	// An order stored after the others, by each way in, is found at once.
	late := NewOrder("web", "W-late")
	late.Customer.Name = "Late Smithson"
	mustInsertOrder(t, s, late)
	late2 := NewOrder("pos", "P-late")
	late2.Customer.Name = "LATE SMITHSON II"
	ok(t, "OrderCapture late", s.OrderCapture(ctx, captureParams(late2)))
	if got, want := list(store.OrderListParams{Query: "smithson"}), []int64{late2.Number, late.Number}; !slices.Equal(got, want) {
		t.Errorf("orders stored later: numbers %v, want %v", got, want)
	}
	// A long name, and a query of many characters.
	long := NewOrder("web", "W-long")
	long.Customer.Name = strings.Repeat("Ab", 200) + " Unique Tail"
	mustInsertOrder(t, s, long)
	if got, want := list(store.OrderListParams{Query: strings.Repeat("ab", 150) + " unique"}), []int64{long.Number}; !slices.Equal(got, want) {
		t.Errorf("long query: numbers %v, want %v", got, want)
	}
}

// OrderSearch runs the search contract of testOrderSearch alone, for a
// backend's own tests of its search paths.
func OrderSearch(t *testing.T, s store.Store) { testOrderSearch(t, s) }
