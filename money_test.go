package orderly_test

import (
	"testing"

	"github.com/orderly-oms/orderly"
)

func TestParseAmount(t *testing.T) {
	cases := []struct {
		in, cur string
		want    int64
		ok      bool
	}{
		{"19.99", "EUR", 1999, true},
		{"19.9", "EUR", 1990, true},
		{"19", "EUR", 1900, true},
		{"19.990", "EUR", 1999, true},
		{"19.995", "EUR", 0, false},
		{"500", "JPY", 500, true},
		{"500.5", "JPY", 0, false},
		{"1.234", "KWD", 1234, true},
		{"-5.00", "USD", -500, true},
		{"0.00", "USD", 0, true},
		{".5", "USD", 50, true},
		{"", "USD", 0, false},
		{"1e3", "USD", 0, false},
		{"12.34", "XXX", 0, false},
		{"99999999999999999999", "USD", 0, false},
	}
	for _, c := range cases {
		got, err := orderly.ParseAmount(c.in, c.cur)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d ok=%v", c.in, c.cur, got, err, c.want, c.ok)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	cases := []struct {
		v    int64
		cur  string
		want string
	}{
		{1999, "EUR", "19.99"}, {5, "EUR", "0.05"}, {-5, "EUR", "-0.05"}, {500, "JPY", "500"}, {1234, "KWD", "1.234"},
	}
	for _, c := range cases {
		if got := orderly.FormatAmount(c.v, c.cur); got != c.want {
			t.Errorf("FormatAmount(%d, %s) = %q, want %q", c.v, c.cur, got, c.want)
		}
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"19.99", "-1", "0.001", ".", "1.", "+3.10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := orderly.ParseAmount(s, "EUR")
		if err != nil {
			return
		}
		back, err := orderly.ParseAmount(orderly.FormatAmount(v, "EUR"), "EUR")
		if err != nil || back != v {
			t.Fatalf("round trip of %q: %d → %q → %d, %v", s, v, orderly.FormatAmount(v, "EUR"), back, err)
		}
	})
}
