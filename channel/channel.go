// Package channel owns sales channels — the storefronts, marketplaces, POS
// and phone lines orders come from — and each channel's policy: the rules
// (cancellation and return windows, partial cancellation, who refunds, how
// soon shipment must be confirmed, whether the customer may be emailed)
// that differ from one channel to the next and are modelled as data.
//
// It is pure domain logic and imports only the orderly package.
package channel

import (
	"regexp"
	"strconv"
	"time"

	"github.com/orderly-oms/orderly"
)

// Kind is the type of platform a channel is.
type Kind string

// The channel kinds.
const (
	KindAPI         Kind = "api"
	KindShopify     Kind = "shopify"
	KindWooCommerce Kind = "woocommerce"
	KindAmazon      Kind = "amazon"
	KindEbay        Kind = "ebay"
	KindPOS         Kind = "pos"
	KindPhone       Kind = "phone"
	KindCSV         Kind = "csv"
)

// Kinds lists every channel kind.
var Kinds = []Kind{KindAPI, KindShopify, KindWooCommerce, KindAmazon, KindEbay, KindPOS, KindPhone, KindCSV}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Channel is a source of orders.
type Channel struct {
	// Code is the channel's unique, URL-safe name, e.g. "eu-store".
	Code string `json:"code"`
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	// Secret verifies the channel's inbound webhooks. It is write-only:
	// never serialised to JSON, never logged.
	Secret string `json:"-"`
	// HasSecret tells readers whether a secret is set without revealing it.
	HasSecret bool   `json:"has_secret"`
	Policy    Policy `json:"policy"`
	// Locations lists the codes of the locations whose stock this channel
	// sells (its availability and reservations). Empty means every active
	// location.
	Locations []string  `json:"locations"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Policy holds the channel's rules. The policy in force when an order is
// placed is what governs that order.
type Policy struct {
	// CancellationWindowMinutes is how long after placement an order may
	// still be cancelled; 0 means no limit.
	CancellationWindowMinutes int `json:"cancellation_window_minutes"`
	// ReturnWindowDays is how many days after delivery a return may be
	// requested; 0 means returns are not accepted.
	ReturnWindowDays int `json:"return_window_days"`
	// PartialCancellation says whether single lines may be cancelled.
	PartialCancellation bool `json:"partial_cancellation"`
	// Refunds says who pays refunds back to the customer: the merchant
	// (through Orderly's payment records) or the marketplace (which refunds
	// its buyer itself; Orderly only records that it happened).
	Refunds Refunder `json:"refunds"`
	// ConfirmShipmentWithinHours is how many hours after placement the
	// channel requires shipment to be confirmed back to it (marketplaces
	// penalise late confirmation); 0 means no deadline.
	ConfirmShipmentWithinHours int `json:"confirm_shipment_within_hours"`
	// MayEmailCustomer says whether Orderly may email the customer
	// directly; marketplaces that mask their buyers' addresses forbid it.
	MayEmailCustomer bool `json:"may_email_customer"`
}

// Refunder is who refunds a channel's customers.
type Refunder string

// The refunders. The empty value, from a policy stored before the field
// existed or built in code without it, means RefundsMerchant.
const (
	RefundsMerchant    Refunder = "merchant"
	RefundsMarketplace Refunder = "marketplace"
)

// Valid reports whether r is a refunder (or empty, meaning merchant).
func (r Refunder) Valid() bool {
	return r == "" || r == RefundsMerchant || r == RefundsMarketplace
}

// Refunder returns who refunds: Refunds, with empty meaning merchant.
func (p Policy) Refunder() Refunder {
	if p.Refunds == "" {
		return RefundsMerchant
	}
	return p.Refunds
}

// MaxConfirmShipmentHours bounds ConfirmShipmentWithinHours (a year).
const MaxConfirmShipmentHours = 24 * 366

// DefaultPolicy is the policy of a channel created without one: cancel any
// time before shipping, 30-day returns, partial cancellation allowed, the
// merchant refunds, no shipment-confirmation deadline, the customer may be
// emailed.
func DefaultPolicy() Policy {
	return Policy{CancellationWindowMinutes: 0, ReturnWindowDays: 30, PartialCancellation: true,
		Refunds: RefundsMerchant, ConfirmShipmentWithinHours: 0, MayEmailCustomer: true}
}

var codeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidCode reports whether s can be a channel or location code: 1–64
// lower-case letters, digits, '-' or '_', starting with a letter or digit.
func ValidCode(s string) bool { return codeRE.MatchString(s) }

// Validate checks the channel.
func (c *Channel) Validate() error {
	var p orderly.Problems
	if !ValidCode(c.Code) {
		p.Add("code", "must be 1-64 characters of a-z, 0-9, '-' or '_'")
	}
	if !c.Kind.Valid() {
		p.Add("kind", "must be one of api, shopify, woocommerce, amazon, ebay, pos, phone, csv")
	}
	if c.Name == "" {
		p.Add("name", "is required")
	}
	orderly.CheckText(&p, "name", c.Name, 200)
	orderly.CheckText(&p, "secret", c.Secret, 500)
	if len(c.Locations) > 100 {
		p.Add("locations", "has more than 100 locations")
	}
	seen := map[string]bool{}
	for i, l := range c.Locations {
		field := "locations[" + strconv.Itoa(i) + "]"
		if !ValidCode(l) {
			p.Add(field, "is not a valid location code")
		} else if seen[l] {
			p.Add(field, "lists %q twice", l)
		}
		seen[l] = true
	}
	if c.Policy.CancellationWindowMinutes < 0 {
		p.Add("policy.cancellation_window_minutes", "must not be negative")
	}
	if c.Policy.ReturnWindowDays < 0 {
		p.Add("policy.return_window_days", "must not be negative")
	}
	if !c.Policy.Refunds.Valid() {
		p.Add("policy.refunds", "must be merchant or marketplace")
	}
	if h := c.Policy.ConfirmShipmentWithinHours; h < 0 || h > MaxConfirmShipmentHours {
		p.Add("policy.confirm_shipment_within_hours", "must be between 0 and %d", MaxConfirmShipmentHours)
	}
	return p.Err()
}
