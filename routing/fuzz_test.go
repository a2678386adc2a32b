package routing

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/orderly-oms/orderly"
)

// FuzzParseRuleSet: decoding never panics, every refusal is KindInvalid,
// and what is accepted is valid and survives a JSON round trip.
func FuzzParseRuleSet(f *testing.F) {
	def, _ := json.Marshal(DefaultRuleSet())
	f.Add(def)
	f.Add([]byte(`{"version":2,"status":"draft","filters":["mode","channel","active"],"rankers":[],"max_splits":0,"when_unfillable":"hold_for_review"}`))
	f.Add([]byte(`{"version":1,"filters":["active","active"]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"max_splits":1e99}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseRuleSet(data)
		if err != nil {
			if orderly.KindOf(err) != orderly.KindInvalid {
				t.Fatalf("error of kind %s: %v", orderly.KindOf(err), err)
			}
			return
		}
		if err := rs.Validate(); err != nil {
			t.Fatalf("accepted an invalid rule set: %v", err)
		}
		again, err := json.Marshal(rs)
		if err != nil {
			t.Fatal(err)
		}
		rs2, err := ParseRuleSet(again)
		if err != nil || !reflect.DeepEqual(rs.Filters, rs2.Filters) || !reflect.DeepEqual(rs.Rankers, rs2.Rankers) ||
			rs.Version != rs2.Version || rs.MaxSplits != rs2.MaxSplits || rs.WhenUnfillable != rs2.WhenUnfillable {
			t.Fatalf("round trip: %+v, %v; want %+v", rs2, err, rs)
		}
		// Any accepted rule set plans without panicking.
		Plan(request(line("l1", "a", 2), pickup("l2", "b", 1, "y")),
			[]Candidate{cand("x", stock("a", 1)), cand("y", stock("b", 1), modes(ModePickup))}, rs)
	})
}
