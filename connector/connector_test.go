package connector_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/order"
)

type stub struct{ kind channel.Kind }

func (s stub) Kind() channel.Kind                          { return s.kind }
func (stub) ParseOrder([]byte) (*connector.Inbound, error) { return nil, nil }
func stubFactory(cfg connector.Config) (connector.Connector, error) {
	return stub{channel.KindShopify}, nil
}

func TestRegistry(t *testing.T) {
	r := connector.NewRegistry()
	r.Register(channel.KindShopify, stubFactory)
	c, err := r.Open(channel.KindShopify, connector.Config{})
	if err != nil || c.Kind() != channel.KindShopify {
		t.Fatalf("Open = %v, %v", c, err)
	}
	if _, err := r.Open(channel.KindEbay, connector.Config{}); orderly.KindOf(err) != orderly.KindNotFound {
		t.Errorf("unregistered kind: %v", err)
	}
	if ks := r.Kinds(); len(ks) != 1 || ks[0] != channel.KindShopify {
		t.Errorf("Kinds = %v", ks)
	}
	for name, f := range map[string]func(){
		"twice":   func() { r.Register(channel.KindShopify, stubFactory) },
		"bad":     func() { r.Register("nope", stubFactory) },
		"nil fac": func() { r.Register(channel.KindAmazon, nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestAmount(t *testing.T) {
	for _, tc := range []struct {
		in, cur string
		want    int64
		flagged bool
	}{
		{"19.99", "EUR", 1999, false}, {"19.990", "EUR", 1999, false}, {"", "EUR", 0, false},
		{"25.99", "JPY", 26, true}, {"25.49", "JPY", 25, true}, {"-0.005", "EUR", -1, true},
		{"9.995", "USD", 1000, true}, {"1.2345", "KWD", 1235, true}, {"3", "USD", 300, false},
	} {
		in := &connector.Inbound{}
		got, err := connector.Amount(in, "f", connector.Decimal(tc.in), tc.cur)
		if err != nil || got != tc.want || (len(in.Problems) > 0) != tc.flagged {
			t.Errorf("Amount(%q, %s) = %d, %v, problems %q", tc.in, tc.cur, got, err, in.Problems)
		}
	}
	for _, bad := range []string{"1,00", "abc", "1e3", ".", "--1", "1.2.3", "99999999999999999999"} {
		_, err := connector.Amount(&connector.Inbound{}, "lines[0].price", connector.Decimal(bad), "EUR")
		if orderly.KindOf(err) != orderly.KindInvalid || !strings.HasPrefix(err.Error(), "lines[0].price") {
			t.Errorf("Amount(%q) = %v", bad, err)
		}
	}
}

func TestDecodeTypes(t *testing.T) {
	var v struct {
		ID  connector.ID      `json:"id"`
		Big connector.ID      `json:"big"`
		Str connector.ID      `json:"str"`
		Amt connector.Decimal `json:"amt"`
		Num connector.Decimal `json:"num"`
		B   connector.Bool    `json:"b"`
		Nil connector.ID      `json:"nil"`
	}
	err := connector.Decode([]byte(`{"id":820982911946154508,"big":99999999999999999999,"str":"gid://x/1","amt":"19.99","num":3.10,"b":"true","nil":null}`), &v)
	if err != nil {
		t.Fatal(err)
	}
	if v.ID != "820982911946154508" || v.Big != "99999999999999999999" || v.Str != "gid://x/1" || v.Amt != "19.99" || v.Num != "3.10" || !bool(v.B) || v.Nil != "" {
		t.Errorf("decoded %+v", v)
	}
	if n, ok := v.ID.Int64(); !ok || n != 820982911946154508 {
		t.Errorf("Int64 = %d %v", n, ok)
	}
	for doc, field := range map[string]string{
		`{"id":1.5}`:            "id",
		`{"id":1e3}`:            "id",
		`{"amt":{}}`:            "amt",
		`{"b":"yes"}`:           "b",
		`{"lines":[{"q":"x"}]}`: "lines.q",
	} {
		var w struct {
			ID    connector.ID      `json:"id"`
			Amt   connector.Decimal `json:"amt"`
			B     connector.Bool    `json:"b"`
			Lines []struct {
				Q connector.Bool `json:"q"`
			} `json:"lines"`
		}
		err := connector.Decode([]byte(doc), &w)
		var e *orderly.Error
		ok := errors.As(err, &e)
		if !ok || e.Kind != orderly.KindInvalid || e.Fields[0].Field != field {
			t.Errorf("Decode(%s) = %v, want invalid %s", doc, err, field)
		}
	}
}

func TestCheckTotals(t *testing.T) {
	in := &connector.Inbound{Order: order.Order{Currency: "EUR",
		Lines:         []order.Line{{Quantity: 2, UnitPrice: 1000, Discount: 100, Tax: 190}},
		ShippingLines: []order.ShippingLine{{Price: 500}}},
		Adjustments: []connector.Adjustment{{Kind: "shipping_tax", Amount: 95, Currency: "EUR"}, {Kind: "gift_wrap", Amount: 300, Currency: "GBP"}},
		Reported:    &order.Totals{Subtotal: 2000, Total: 2685},
	}
	connector.CheckTotals(in)
	if len(in.Problems) != 0 {
		t.Errorf("consistent order flagged: %q", in.Problems)
	}
	in.Reported.Total = 2700
	connector.CheckTotals(in)
	if len(in.Problems) != 1 || !strings.Contains(in.Problems[0], "lines do not add up to the reported total") || in.Reported.Total != 2700 {
		t.Errorf("problems %q, reported %d (must be kept)", in.Problems, in.Reported.Total)
	}
	huge := &connector.Inbound{Order: order.Order{Currency: "EUR", Lines: []order.Line{{Quantity: 1 << 40, UnitPrice: 1 << 40}}}, Reported: &order.Totals{}}
	connector.CheckTotals(huge)
	if len(huge.Problems) != 1 {
		t.Errorf("overflow not flagged: %q", huge.Problems)
	}
}

func TestStatusError(t *testing.T) {
	for status, kind := range map[int]orderly.Kind{429: orderly.KindUnavailable, 503: orderly.KindUnavailable, 401: orderly.KindUnauthorized,
		403: orderly.KindUnauthorized, 404: orderly.KindNotFound, 409: orderly.KindConflict, 422: orderly.KindInvalid, 418: orderly.KindInternal} {
		rec := httptest.NewRecorder()
		rec.WriteHeader(status)
		_, _ = rec.WriteString(`{"errors":"x"}`)
		if err := connector.StatusError(rec.Result(), "op"); orderly.KindOf(err) != kind || !strings.Contains(err.Error(), `{"errors":"x"}`) {
			t.Errorf("%d: %v", status, err)
		}
	}
}

func TestVerifyBase64(t *testing.T) {
	body := []byte(`{"id":1}`)
	sig := connector.SignBase64("k", body)
	if err := connector.VerifyBase64("k", "X-Sig", sig, body); err != nil {
		t.Error(err)
	}
	if err := connector.VerifyBase64("k", "X-Sig", sig, []byte(`{"id":2}`)); orderly.KindOf(err) != orderly.KindUnauthorized || strings.Contains(err.Error(), sig) {
		t.Errorf("mismatch: %v", err)
	}
}
