package web

import (
	"strings"
	"testing"
)

// FuzzSafeNext checks that whatever a sign-in form's next field holds,
// the console redirects only to a path on its own site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/orders/1001", "//evil.example", "/\\evil.example", "https://evil.example", "", "javascript:alert(1)", "/%2F%2Fevil", "/\t/evil.example", "/\n/evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\t\r\n") {
			t.Fatalf("safeNext(%q) = %q: not a path on this site", next, got)
		}
	})
}

func TestFormatMoney(t *testing.T) {
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{123456, "GBP", "£1,234.56"}, {1500, "JPY", "¥1,500"}, {1234, "KWD", "1.234 KWD"},
		{-995, "EUR", "−€9.95"}, {0, "USD", "$0.00"}, {100000000, "EUR", "€1,000,000.00"},
	} {
		if got := formatMoney(tc.minor, tc.currency); got != tc.want {
			t.Errorf("formatMoney(%d, %s) = %q, want %q", tc.minor, tc.currency, got, tc.want)
		}
	}
}
