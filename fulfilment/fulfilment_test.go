package fulfilment_test

import (
	"errors"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/fulfilment"
	"github.com/orderly-oms/orderly/inventory"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

type fataler interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

func newFO(t fataler) *fulfilment.FulfilmentOrder {
	t.Helper()
	fos := fulfilment.FromPicks("ord1", []inventory.Pick{
		{LineID: "L1", SKU: "A", Location: "leeds", Quantity: 2},
		{LineID: "L2", SKU: "B", Location: "leeds", Quantity: 3},
		{LineID: "L1", SKU: "A", Location: "leeds", Quantity: 1},
	}, t0)
	if len(fos) != 1 {
		t.Fatalf("got %d fulfilment orders, want 1", len(fos))
	}
	if err := fos[0].Validate(); err != nil {
		t.Fatal(err)
	}
	return fos[0]
}

func accepted(t testing.TB) *fulfilment.FulfilmentOrder {
	t.Helper()
	f := newFO(t)
	if err := f.Request(t0); err != nil {
		t.Fatal(err)
	}
	if err := f.Accept(t0); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFromPicks(t *testing.T) {
	t.Parallel()
	fos := fulfilment.FromPicks("ord1", []inventory.Pick{
		{LineID: "L1", SKU: "A", Location: "york", Quantity: 1},
		{LineID: "L2", SKU: "B", Location: "leeds", Quantity: 2},
		{LineID: "L1", SKU: "A", Location: "leeds", Quantity: 1},
		{LineID: "L3", SKU: "C", Location: "hull", Quantity: 0},
	}, t0)
	if len(fos) != 2 || fos[0].Location != "york" || fos[1].Location != "leeds" {
		t.Fatalf("got %+v", fos)
	}
	if len(fos[1].Lines) != 2 || fos[1].Status != fulfilment.StatusPending || fos[1].OrderID != "ord1" {
		t.Fatalf("leeds: %+v", fos[1])
	}
	f := newFO(t)
	if f.Lines[0].Quantity != 3 {
		t.Fatalf("L1 picks not summed: %+v", f.Lines)
	}
}

func TestHappyPath(t *testing.T) {
	t.Parallel()
	f := accepted(t)
	if err := f.StartPicking(t0); err != nil {
		t.Fatal(err)
	}
	if err := f.Pack(t0); err != nil {
		t.Fatal(err)
	}
	lines, err := f.Ship(nil, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0] != (fulfilment.ShipmentLine{LineID: "L1", SKU: "A", Quantity: 3}) {
		t.Fatalf("lines %+v", lines)
	}
	if f.Status != fulfilment.StatusShipped || f.Open() != 0 || !f.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after ship: %+v", f)
	}
	if _, err := f.Ship(nil, t0); !errors.Is(err, fulfilment.ErrInvalidTransition) {
		t.Fatalf("ship a shipped order: %v", err)
	}
}

func TestPartialShipKeepsStatus(t *testing.T) {
	t.Parallel()
	f := accepted(t)
	_ = f.StartPicking(t0)
	_ = f.Pack(t0)
	lines, err := f.Ship([]fulfilment.LineQuantity{{LineID: "L2", Quantity: 1}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || lines[0].Quantity != 1 || lines[0].SKU != "B" {
		t.Fatalf("lines %+v", lines)
	}
	if f.Status != fulfilment.StatusPacked || f.Open() != 5 {
		t.Fatalf("partial ship: status %s open %d", f.Status, f.Open())
	}
	// Reject the rest: something shipped, so the order ends shipped.
	rej, err := f.Reject(fulfilment.RejectDamaged, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != 2 || f.Status != fulfilment.StatusShipped || f.RejectReason != fulfilment.RejectDamaged {
		t.Fatalf("rejected %+v, fo %+v", rej, f)
	}
}

func TestShipRefusesBadLines(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		lines []fulfilment.LineQuantity
		field string
	}{
		{"unknown", []fulfilment.LineQuantity{{LineID: "nope", Quantity: 1}}, "lines[0].line_id"},
		{"missing id", []fulfilment.LineQuantity{{Quantity: 1}}, "lines[0].line_id"},
		{"over", []fulfilment.LineQuantity{{LineID: "L1", Quantity: 1}, {LineID: "L2", Quantity: 4}}, "lines[1].quantity"},
		{"zero", []fulfilment.LineQuantity{{LineID: "L1", Quantity: 0}}, "lines[0].quantity"},
		{"twice", []fulfilment.LineQuantity{{LineID: "L1", Quantity: 1}, {LineID: "L1", Quantity: 1}}, "lines[1].line_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := accepted(t)
			before := *f
			_, err := f.Ship(c.lines, t0.Add(time.Hour))
			var oe *orderly.Error
			if !errors.As(err, &oe) || oe.Kind != orderly.KindInvalid {
				t.Fatalf("got %v, want invalid", err)
			}
			if len(oe.Fields) != 1 || oe.Fields[0].Field != c.field {
				t.Fatalf("fields %+v, want %s", oe.Fields, c.field)
			}
			if f.Status != before.Status || f.Open() != 6 || !f.UpdatedAt.Equal(before.UpdatedAt) {
				t.Fatalf("refused ship changed the order: %+v", f)
			}
		})
	}
}

func TestRejectAndCancel(t *testing.T) {
	t.Parallel()
	f := newFO(t)
	if _, err := f.Reject(fulfilment.RejectNotFound, nil, t0); !errors.Is(err, fulfilment.ErrInvalidTransition) {
		t.Fatalf("reject pending: %v", err)
	}
	_ = f.Request(t0)
	if _, err := f.Reject("lost", nil, t0); !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("bad reason: %v", err)
	}
	rej, err := f.Reject(fulfilment.RejectNotFound, []fulfilment.LineQuantity{{LineID: "L1", Quantity: 3}}, t0)
	if err != nil || len(rej) != 1 || rej[0].Quantity != 3 {
		t.Fatalf("reject L1: %+v %v", rej, err)
	}
	if f.Status != fulfilment.StatusRequested {
		t.Fatalf("partial reject moved status to %s", f.Status)
	}
	c, err := f.Cancel(t0)
	if err != nil || len(c) != 1 || c[0].LineID != "L2" || c[0].Quantity != 3 {
		t.Fatalf("cancel: %+v %v", c, err)
	}
	if f.Status != fulfilment.StatusCancelled {
		t.Fatalf("status %s, want cancelled", f.Status)
	}
	if _, err := f.Cancel(t0); !errors.Is(err, fulfilment.ErrInvalidTransition) {
		t.Fatalf("cancel twice: %v", err)
	}
}

func TestRejectEffect(t *testing.T) {
	t.Parallel()
	release := fulfilment.StockEffect{SKU: "A", Location: "leeds", Reason: inventory.ReasonRelease, DeltaReserved: -2}
	cases := []struct {
		reason fulfilment.RejectReason
		want   []fulfilment.StockEffect
	}{
		{fulfilment.RejectNotFound, []fulfilment.StockEffect{release, {SKU: "A", Location: "leeds", Reason: inventory.ReasonCount}}},
		{fulfilment.RejectDamaged, []fulfilment.StockEffect{release, {SKU: "A", Location: "leeds", Reason: inventory.ReasonDamage, DeltaOnHand: -2}}},
		{fulfilment.RejectNoCapacity, []fulfilment.StockEffect{release}},
		{fulfilment.RejectOther, []fulfilment.StockEffect{release}},
	}
	for _, c := range cases {
		got, err := fulfilment.RejectEffect(c.reason, "A", "leeds", 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(c.want) {
			t.Fatalf("%s: got %+v", c.reason, got)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Fatalf("%s: effect %d = %+v, want %+v", c.reason, i, got[i], c.want[i])
			}
		}
	}
	// A count to zero is recorded as its difference from on hand.
	m := cases[0].want[1].Movement(7, "fulfilment:f1", "system", t0)
	if m.DeltaOnHand != -7 || m.DeltaReserved != 0 || m.Reason != inventory.ReasonCount || m.Reference != "fulfilment:f1" {
		t.Fatalf("count movement %+v", m)
	}
	d := cases[1].want[1].Movement(7, "fulfilment:f1", "system", t0)
	if d.DeltaOnHand != -2 {
		t.Fatalf("damage movement %+v", d)
	}
	if _, err := fulfilment.RejectEffect("x", "", "", 0); !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("bad input: %v", err)
	}
}

// TestStateMachine drives a fulfilment order through random sequences of
// actions and checks after each that the action was allowed exactly when
// the model says so, that a refused action changed nothing, and that the
// counters always add up.
func TestStateMachine(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		f := newFO(t)
		total := f.Open()
		now := t0
		for range rapid.IntRange(1, 40).Draw(t, "steps") {
			now = now.Add(time.Minute)
			before := *f
			beforeLines := append([]fulfilment.Line(nil), f.Lines...)
			action := rapid.SampledFrom([]string{"request", "accept", "pick", "pack", "ship", "reject", "cancel"}).Draw(t, "action")
			var lines []fulfilment.LineQuantity
			if action == "ship" || action == "reject" {
				for _, id := range []string{"L1", "L2", "L9"} {
					if rapid.Bool().Draw(t, "include "+id) {
						lines = append(lines, fulfilment.LineQuantity{LineID: id, Quantity: rapid.Int64Range(0, 4).Draw(t, "qty "+id)})
					}
				}
			}
			// The model's verdict on the input: every named line known and
			// 1 ≤ quantity ≤ open.
			inputOK := true
			for _, q := range lines {
				var open int64 = -1
				for _, l := range before.Lines {
					if l.LineID == q.LineID {
						open = l.Open()
					}
				}
				inputOK = inputOK && open >= 0 && q.Quantity >= 1 && q.Quantity <= open
			}
			var err error
			var allowed bool
			switch action {
			case "request":
				allowed, err = before.Status == fulfilment.StatusPending, f.Request(now)
			case "accept":
				allowed, err = before.Status == fulfilment.StatusRequested, f.Accept(now)
			case "pick":
				allowed, err = before.Status == fulfilment.StatusAccepted, f.StartPicking(now)
			case "pack":
				allowed, err = before.Status == fulfilment.StatusPicking, f.Pack(now)
			case "ship":
				allowed = inputOK && (before.Status == fulfilment.StatusAccepted || before.Status == fulfilment.StatusPicking || before.Status == fulfilment.StatusPacked)
				_, err = f.Ship(lines, now)
			case "reject":
				allowed = inputOK && (before.Status == fulfilment.StatusRequested || before.Status == fulfilment.StatusAccepted || before.Status == fulfilment.StatusPicking || before.Status == fulfilment.StatusPacked)
				_, err = f.Reject(fulfilment.RejectOther, lines, now)
			case "cancel":
				allowed = !before.Status.Terminal()
				_, err = f.Cancel(now)
			}
			if allowed != (err == nil) {
				t.Fatalf("%s %v from %s: allowed=%v err=%v", action, lines, before.Status, allowed, err)
			}
			if err != nil {
				if !errors.Is(err, fulfilment.ErrInvalidTransition) && !errors.Is(err, orderly.ErrInvalid) {
					t.Fatalf("%s: unexpected error kind: %v", action, err)
				}
				if f.Status != before.Status || !f.UpdatedAt.Equal(before.UpdatedAt) {
					t.Fatalf("refused %s changed the order", action)
				}
				for i := range f.Lines {
					if f.Lines[i] != beforeLines[i] {
						t.Fatalf("refused %s changed line %d", action, i)
					}
				}
				continue
			}
			// Invariants.
			var shipped, accounted int64
			for _, l := range f.Lines {
				if l.Open() < 0 || l.Shipped < 0 || l.Rejected < 0 || l.Cancelled < 0 {
					t.Fatalf("bad counters %+v", l)
				}
				shipped += l.Shipped
				accounted += l.Shipped + l.Rejected + l.Cancelled + l.Open()
			}
			if accounted != total {
				t.Fatalf("counters add to %d, want %d", accounted, total)
			}
			if f.Status.Terminal() != (f.Open() == 0) {
				t.Fatalf("status %s with %d open", f.Status, f.Open())
			}
			if f.Status == fulfilment.StatusShipped && shipped == 0 || f.Status.Terminal() && shipped > 0 && f.Status != fulfilment.StatusShipped {
				t.Fatalf("status %s with %d shipped", f.Status, shipped)
			}
			if !f.Status.Terminal() && (action == "ship" || action == "reject") && f.Status != before.Status {
				t.Fatalf("partial %s moved %s → %s", action, before.Status, f.Status)
			}
			if err := f.Validate(); err != nil {
				t.Fatalf("invalid after %s: %v", action, err)
			}
		}
	})
}

func TestCancelLines(t *testing.T) {
	t.Parallel()
	f := accepted(t)
	got, err := f.CancelLines([]fulfilment.LineQuantity{{LineID: "L1", Quantity: 2}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Quantity != 2 || f.Status != fulfilment.StatusAccepted || f.Open() != 4 {
		t.Fatalf("partial cancel: %+v, fo %+v", got, f)
	}
	if _, err := f.CancelLines([]fulfilment.LineQuantity{{LineID: "L1", Quantity: 2}}, t0); orderly.KindOf(err) != orderly.KindInvalid {
		t.Fatalf("cancel more than open: %v", err)
	}
	if _, err := f.Ship([]fulfilment.LineQuantity{{LineID: "L2", Quantity: 3}}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CancelLines([]fulfilment.LineQuantity{{LineID: "L1", Quantity: 1}}, t0); err != nil {
		t.Fatal(err)
	}
	if f.Status != fulfilment.StatusShipped || f.Open() != 0 {
		t.Fatalf("closed: %+v", f)
	}
	if _, err := f.CancelLines([]fulfilment.LineQuantity{{LineID: "L1", Quantity: 1}}, t0); !errors.Is(err, fulfilment.ErrInvalidTransition) {
		t.Fatalf("cancel a closed order: %v", err)
	}
}
