package inventory

import (
	"time"

	"github.com/orderly-oms/orderly"
)

// SKU is a stock keeping unit: one sellable item.
type SKU struct {
	SKU         string    `json:"sku"`
	Name        string    `json:"name"`
	Barcode     string    `json:"barcode"`
	WeightGrams int64     `json:"weight_grams"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Validate checks the SKU. A SKU code is any non-empty text without
// surrounding spaces or control characters, up to 100 bytes: channels
// choose their SKUs and Orderly must accept theirs.
func (s *SKU) Validate() error {
	var p orderly.Problems
	if !ValidSKUCode(s.SKU) {
		p.Add("sku", "must be 1-100 bytes without control characters or surrounding spaces")
	}
	if s.Name == "" {
		p.Add("name", "is required")
	}
	orderly.CheckText(&p, "name", s.Name, 500)
	orderly.CheckText(&p, "barcode", s.Barcode, 100)
	if s.WeightGrams < 0 {
		p.Add("weight_grams", "must not be negative")
	} else if s.WeightGrams > 10_000_000 {
		p.Add("weight_grams", "must be at most 10000000")
	}
	return p.Err()
}

// ValidSKUCode reports whether s can be a SKU code.
func ValidSKUCode(s string) bool {
	if s == "" || len(s) > 100 || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
