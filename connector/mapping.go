package connector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/order"
)

// This file holds the helpers every connector's mapping.go shares: JSON
// types that never let a number pass through float64, exact money parsing,
// and the reconciliation of reported against computed totals.

// MaxPayload bounds the size of one order payload a connector parses.
const MaxPayload = 4 << 20

// Decode unmarshals a platform payload into v. Numbers are never decoded
// through float64 (the connectors' types use ID, Decimal and json.Number).
// Syntax and type errors become a KindInvalid error naming the field.
func Decode(payload []byte, v any) error {
	if len(payload) > MaxPayload {
		return orderly.Invalid("payload", "is larger than %d bytes", MaxPayload)
	}
	if t := bytes.TrimSpace(payload); len(t) == 0 || t[0] != '{' {
		return orderly.Invalid("payload", "is not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return orderly.Invalid("payload", "has data after the JSON object")
	}
	return nil
}

func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "payload"
		}
		return orderly.Invalid(field, "must be %s, not JSON %s", describe(te.Type), truncate(te.Value))
	}
	return orderly.Invalid("payload", "is not valid JSON: %v", err)
}

// describe names what a Go type accepts, in JSON words.
func describe(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[ID]():
		return "an integer or a string id"
	case reflect.TypeFor[Decimal]():
		return "a decimal amount"
	case reflect.TypeFor[Bool]():
		return "a boolean"
	case reflect.TypeFor[json.Number]():
		return "a number"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	case reflect.Bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// refuse is what the JSON types below return for a value they cannot hold:
// the decoder adds the field's path to an *json.UnmarshalTypeError.
func refuse(b []byte, t reflect.Type) error {
	return &json.UnmarshalTypeError{Value: truncate(string(b)), Type: t}
}

// ID is a platform identifier kept as its exact decimal or string text: a
// JSON integer (however large) or a JSON string. Shopify's ids exceed 2^53,
// so an id that went through float64 would be silently wrong; a number with
// a fraction or exponent is refused. null decodes to "".
type ID string

// UnmarshalJSON accepts an integer or a string.
func (id *ID) UnmarshalJSON(b []byte) error {
	s := string(b)
	switch {
	case s == "null":
		*id = ""
	case strings.HasPrefix(s, `"`):
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return refuse(b, reflect.TypeFor[ID]())
		}
		*id = ID(v)
	default:
		if !isInteger(s) {
			return refuse(b, reflect.TypeFor[ID]())
		}
		*id = ID(s)
	}
	return nil
}

// Int64 returns the id as an int64, or false if it is not a decimal integer
// that fits.
func (id ID) Int64() (int64, bool) {
	v, err := strconv.ParseInt(string(id), 10, 64)
	return v, err == nil
}

func isInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	return s != "" && allDigits(s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Decimal is an amount as the platform wrote it: a JSON string ("19.99") or
// a JSON number (19.99), kept as text so that it converts to minor units
// exactly (Amount). null decodes to "".
type Decimal string

// UnmarshalJSON accepts a string or a number.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	s := string(b)
	switch {
	case s == "null":
		*d = ""
	case strings.HasPrefix(s, `"`):
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return refuse(b, reflect.TypeFor[Decimal]())
		}
		*d = Decimal(strings.TrimSpace(v))
	case s == "true" || s == "false" || strings.HasPrefix(s, "{") || strings.HasPrefix(s, "["):
		return refuse(b, reflect.TypeFor[Decimal]())
	default:
		*d = Decimal(s)
	}
	return nil
}

// Bool is a boolean that platforms sometimes send as a string (Amazon's
// "IsGift": "false"). null and "" decode to false.
type Bool bool

// UnmarshalJSON accepts true, false, "true", "false", "" and null.
func (v *Bool) UnmarshalJSON(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "true", `"true"`:
		*v = true
	case "false", `"false"`, `""`, "null":
		*v = false
	default:
		return refuse(b, reflect.TypeFor[Bool]())
	}
	return nil
}

// Quantity converts a JSON number to a count of units; it must be a whole
// number (a fraction or exponent is a KindInvalid error for field).
func Quantity(field string, n json.Number) (int64, error) {
	if n == "" {
		return 0, orderly.Invalid(field, "is required")
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return 0, orderly.Invalid(field, "%s is not a whole number", truncate(string(n)))
	}
	return v, nil
}

// Amount converts a platform decimal into minor units of currency, exactly.
// An empty decimal is 0. A well-formed amount with more decimals than the
// currency has (25.99 JPY, which Amazon's published example sends) cannot
// be kept exactly: it is rounded half away from zero to the minor unit and
// flagged on in, never silently. Anything else that is not a decimal is a
// KindInvalid error for field.
func Amount(in *Inbound, field string, d Decimal, currency string) (int64, error) {
	s := string(d)
	if s == "" {
		return 0, nil
	}
	v, err := orderly.ParseAmount(s, currency)
	if err == nil {
		return v, nil
	}
	exp, ok := orderly.CurrencyExponent(currency)
	if !ok {
		return 0, orderly.Invalid(field, "currency %q is not an ISO 4217 code", currency)
	}
	r, ok := roundDecimal(s, exp)
	if !ok {
		return 0, orderly.Invalid(field, "%q is not a decimal amount in %s", truncate(s), currency)
	}
	v, err = orderly.ParseAmount(r, currency)
	if err != nil {
		return 0, orderly.Invalid(field, "%q is not a decimal amount in %s: %v", truncate(s), currency, err)
	}
	in.Flag(fmt.Sprintf("%s: %s %s has more decimals than %s allows; kept as %s (rounded half away from zero)",
		field, s, currency, currency, orderly.FormatAmount(v, currency)))
	return v, nil
}

// roundDecimal rounds a plain decimal string to exp fractional digits, half
// away from zero. It reports false if s is not a plain decimal or needs no
// rounding.
func roundDecimal(s string, exp int) (string, bool) {
	sign := ""
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		if s[0] == '-' {
			sign = "-"
		}
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || !allDigits(frac) || len(frac) <= exp || len(whole) > 19 {
		return "", false
	}
	digits := []byte(whole + frac[:exp])
	if frac[exp] >= '5' {
		i := len(digits) - 1
		for ; i >= 0 && digits[i] == '9'; i-- {
			digits[i] = '0'
		}
		if i < 0 {
			digits = append([]byte{'1'}, digits...)
		} else {
			digits[i]++
		}
	}
	w := string(digits[:len(digits)-exp])
	if exp == 0 {
		return sign + w, true
	}
	return sign + w + "." + string(digits[len(digits)-exp:]), true
}

// Time parses an RFC 3339 timestamp, keeping its instant (the offset is
// preserved in the value; compare with time.Equal). An empty string is the
// zero time.
func Time(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, orderly.Invalid(field, "%q is not an RFC 3339 timestamp", truncate(s))
	}
	return t, nil
}

// CheckTotals compares the totals the order's lines, shipping lines and
// adjustments add up to with the totals the channel reported, and flags
// every difference on in. It changes no amount. It is called last by every
// mapping, once lines, shipping lines, adjustments and Reported are set.
func CheckTotals(in *Inbound) {
	if in.Reported == nil {
		return
	}
	computed, ok := sumTotals(&in.Order)
	if !ok {
		in.Flag("totals: the lines are too large to add up")
		return
	}
	cur := in.Order.Currency
	total := computed.Total
	if in.TaxesIncluded {
		total -= computed.TaxTotal
	}
	for _, a := range in.Adjustments {
		if a.Currency == cur {
			total += a.Amount
		}
	}
	r := in.Reported
	if r.Subtotal != computed.Subtotal {
		in.Flag(fmt.Sprintf("lines do not add up to the reported subtotal: lines %s, reported %s %s",
			orderly.FormatAmount(computed.Subtotal, cur), orderly.FormatAmount(r.Subtotal, cur), cur))
	}
	if r.Total != total {
		in.Flag(fmt.Sprintf("lines do not add up to the reported total: lines, shipping, tax and adjustments give %s, reported %s %s",
			orderly.FormatAmount(total, cur), orderly.FormatAmount(r.Total, cur), cur))
	}
}

// sumTotals is order.ComputeTotals with overflow checks: a mapping runs
// before order.Validate has bounded anything.
func sumTotals(o *order.Order) (order.Totals, bool) {
	var t order.Totals
	add := func(sum *int64, v int64) bool {
		if v > orderly.MaxAmount || v < -orderly.MaxAmount {
			return false
		}
		*sum += v
		return *sum <= orderly.MaxAmount && *sum >= -orderly.MaxAmount
	}
	for _, l := range o.Lines {
		if l.Quantity < 0 || l.UnitPrice < 0 {
			return t, false
		}
		p, ok := orderly.MulAmount(l.Quantity, l.UnitPrice)
		if !ok || !add(&t.Subtotal, p) || !add(&t.DiscountTotal, l.Discount) || !add(&t.TaxTotal, l.Tax) {
			return t, false
		}
	}
	for _, s := range o.ShippingLines {
		if !add(&t.ShippingTotal, s.Price) {
			return t, false
		}
	}
	t.Total = t.Subtotal - t.DiscountTotal + t.ShippingTotal + t.TaxTotal
	return t, true
}

// UnitPrice splits a line total into a unit price. When the total does not
// divide by the quantity, the unit price is rounded down and the difference
// flagged: the channel's line total stays in Reported.
func UnitPrice(in *Inbound, field string, lineTotal, quantity int64) int64 {
	if quantity <= 0 {
		return lineTotal
	}
	unit := lineTotal / quantity
	if unit*quantity != lineTotal {
		in.Flag(fmt.Sprintf("%s: line total %d does not divide by quantity %d; unit price kept as %d",
			field, lineTotal, quantity, unit))
	}
	return unit
}

// FallbackSKU returns the SKU for a line the channel sent without one: the
// first non-empty of the channel's own references, prefixed with the kind
// and the reference's name ("shopify:variant:808950810"), so it can never
// collide with a real SKU. The fallback is flagged on in. It returns "" if
// every reference is empty.
func FallbackSKU(in *Inbound, field, kind string, refs ...[2]string) string {
	for _, r := range refs {
		if r[1] != "" && r[1] != "0" {
			sku := kind + ":" + r[0] + ":" + r[1]
			in.Flag(fmt.Sprintf("%s: the channel sent no SKU; using %s", field, sku))
			return sku
		}
	}
	return ""
}
