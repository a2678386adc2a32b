package woocommerce

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/order"
)

// Mapping rules (docs/decisions/0007-connectors.md has the reasons):
//
//   - placed at: date_created_gmt (UTC without an offset); date_created is
//     site-local time without an offset, so it is only a flagged fallback.
//   - unit price: the line's subtotal (a string, before discounts) divided
//     by the quantity, exactly; the number in "price" is derived by
//     WooCommerce and can be a rounded fraction, so it is not used.
//     Discount = subtotal − total; tax = total_tax. WooCommerce keeps line
//     amounts without tax even when prices_include_tax is set, so tax is
//     always added on top.
//   - a line without sku falls back to "woocommerce:variation:<id>", then
//     "woocommerce:product:<id>", then "woocommerce:line:<id>" (flagged).
//   - shipping line price: total; its total_tax and fee_lines become
//     adjustments ("shipping_tax", "fee", "fee_tax").
//   - reported: subtotal = Σ line subtotals, discount = discount_total,
//     shipping = shipping_total, tax = total_tax, total = total.
//   - status: pending, on-hold and checkout-draft → pending (not paid or
//     confirmed yet); processing and completed → open; cancelled,
//     refunded, failed and trash → cancelled; anything else → pending,
//     flagged. Financial status: "refunded", else "paid" when date_paid is
//     set, else "unpaid".

const wooTime = "2006-01-02T15:04:05"

type payload struct {
	ID              connector.ID      `json:"id"`
	Number          string            `json:"number"`
	Status          string            `json:"status"`
	Currency        string            `json:"currency"`
	DateCreated     string            `json:"date_created"`
	DateCreatedGMT  string            `json:"date_created_gmt"`
	DateModifiedGMT string            `json:"date_modified_gmt"`
	DatePaidGMT     string            `json:"date_paid_gmt"`
	DiscountTotal   connector.Decimal `json:"discount_total"`
	ShippingTotal   connector.Decimal `json:"shipping_total"`
	TotalTax        connector.Decimal `json:"total_tax"`
	Total           connector.Decimal `json:"total"`
	CustomerNote    string            `json:"customer_note"`
	Billing         *address          `json:"billing"`
	Shipping        *address          `json:"shipping"`
	LineItems       []struct {
		ID          connector.ID      `json:"id"`
		Name        string            `json:"name"`
		ProductID   connector.ID      `json:"product_id"`
		VariationID connector.ID      `json:"variation_id"`
		Quantity    json.Number       `json:"quantity"`
		Subtotal    connector.Decimal `json:"subtotal"`
		Total       connector.Decimal `json:"total"`
		TotalTax    connector.Decimal `json:"total_tax"`
		SKU         string            `json:"sku"`
	} `json:"line_items"`
	ShippingLines []struct {
		MethodID    string            `json:"method_id"`
		MethodTitle string            `json:"method_title"`
		Total       connector.Decimal `json:"total"`
		TotalTax    connector.Decimal `json:"total_tax"`
	} `json:"shipping_lines"`
	FeeLines []struct {
		Name     string            `json:"name"`
		Total    connector.Decimal `json:"total"`
		TotalTax connector.Decimal `json:"total_tax"`
	} `json:"fee_lines"`
}

type address struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Company   string `json:"company"`
	Address1  string `json:"address_1"`
	Address2  string `json:"address_2"`
	City      string `json:"city"`
	State     string `json:"state"`
	Postcode  string `json:"postcode"`
	Country   string `json:"country"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

// ParseOrder maps a WooCommerce REST v3 order into an Inbound. It is pure.
func ParseOrder(b []byte) (*connector.Inbound, error) {
	var p payload
	if err := connector.Decode(b, &p); err != nil {
		return nil, err
	}
	in := &connector.Inbound{Number: p.Number, ChannelStatus: p.Status}
	o := &in.Order
	if p.ID == "" || p.ID == "0" {
		return nil, orderly.Invalid("id", "is required")
	}
	o.ExternalID = string(p.ID)
	o.Currency = strings.ToUpper(p.Currency)
	if !orderly.ValidCurrency(o.Currency) {
		return nil, orderly.Invalid("currency", "%q is not an ISO 4217 currency code", p.Currency)
	}
	var err error
	switch {
	case p.DateCreatedGMT != "":
		if o.PlacedAt, err = gmt("date_created_gmt", p.DateCreatedGMT); err != nil {
			return nil, err
		}
	case p.DateCreated != "":
		if o.PlacedAt, err = gmt("date_created", p.DateCreated); err != nil {
			return nil, err
		}
		in.Flag("date_created_gmt is missing; date_created (site-local time) was read as UTC")
	default:
		return nil, orderly.Invalid("date_created_gmt", "is required")
	}
	if in.UpdatedAt, err = gmt("date_modified_gmt", p.DateModifiedGMT); err != nil {
		return nil, err
	}
	o.Note = p.CustomerNote
	o.BillingAddress = mapAddress(p.Billing)
	o.ShippingAddress = mapAddress(p.Shipping)
	if p.Billing != nil {
		o.Customer = order.Customer{Name: o.BillingAddress.Name, Email: p.Billing.Email, Phone: p.Billing.Phone}
	}

	if len(p.LineItems) > order.MaxLines {
		return nil, orderly.Invalid("line_items", "has more than %d lines", order.MaxLines)
	}
	cur := o.Currency
	var subtotal int64
	for i, li := range p.LineItems {
		f := fmt.Sprintf("line_items[%d]", i)
		qty, err := connector.Quantity(f+".quantity", li.Quantity)
		if err != nil {
			return nil, err
		}
		sub, err := connector.Amount(in, f+".subtotal", li.Subtotal, cur)
		if err != nil {
			return nil, err
		}
		total, err := connector.Amount(in, f+".total", li.Total, cur)
		if err != nil {
			return nil, err
		}
		tax, err := connector.Amount(in, f+".total_tax", li.TotalTax, cur)
		if err != nil {
			return nil, err
		}
		disc := sub - total
		if disc < 0 {
			in.Flag(fmt.Sprintf("%s: total %s is above subtotal %s; no discount recorded", f, li.Total, li.Subtotal))
			disc = 0
		}
		sku := strings.TrimSpace(li.SKU)
		if sku == "" {
			sku = connector.FallbackSKU(in, f+".sku", "woocommerce",
				[2]string{"variation", string(li.VariationID)}, [2]string{"product", string(li.ProductID)}, [2]string{"line", string(li.ID)})
		}
		subtotal += sub
		o.Lines = append(o.Lines, order.Line{SKU: sku, Name: li.Name, Quantity: qty,
			UnitPrice: connector.UnitPrice(in, f, sub, qty), Discount: disc, Tax: tax})
		in.LineExternalIDs = append(in.LineExternalIDs, string(li.ID))
	}
	for i, sl := range p.ShippingLines {
		f := fmt.Sprintf("shipping_lines[%d]", i)
		price, err := connector.Amount(in, f+".total", sl.Total, cur)
		if err != nil {
			return nil, err
		}
		o.ShippingLines = append(o.ShippingLines, order.ShippingLine{Code: sl.MethodID, Name: sl.MethodTitle, Price: price})
		if err := adjust(in, "shipping_tax", f+".total_tax", sl.TotalTax); err != nil {
			return nil, err
		}
	}
	for i, fl := range p.FeeLines {
		f := fmt.Sprintf("fee_lines[%d]", i)
		if err := adjust(in, "fee", f+".total", fl.Total); err != nil {
			return nil, err
		}
		if err := adjust(in, "fee_tax", f+".total_tax", fl.TotalTax); err != nil {
			return nil, err
		}
	}

	mapStatus(in, p.Status)
	switch {
	case p.Status == "refunded":
		in.FinancialStatus = "refunded"
	case p.DatePaidGMT != "":
		in.FinancialStatus = "paid"
	default:
		in.FinancialStatus = "unpaid"
	}

	r := order.Totals{Subtotal: subtotal}
	for _, a := range []struct {
		dst   *int64
		field string
		v     connector.Decimal
	}{
		{&r.DiscountTotal, "discount_total", p.DiscountTotal},
		{&r.ShippingTotal, "shipping_total", p.ShippingTotal},
		{&r.TaxTotal, "total_tax", p.TotalTax},
		{&r.Total, "total", p.Total},
	} {
		if *a.dst, err = connector.Amount(in, a.field, a.v, cur); err != nil {
			return nil, err
		}
	}
	if p.Total != "" {
		in.Reported = &r
	}
	connector.CheckTotals(in)
	return in, nil
}

func mapStatus(in *connector.Inbound, status string) {
	switch status {
	case "pending", "on-hold", "checkout-draft":
		in.Status = order.StatusPending
	case "processing", "completed":
		in.Status = order.StatusOpen
	case "cancelled", "refunded", "failed", "trash":
		in.Status = order.StatusCancelled
		in.Cancellation = &connector.Cancellation{At: in.UpdatedAt, Reason: status}
	default:
		in.Status = order.StatusPending
		in.Flag(fmt.Sprintf("status: unknown WooCommerce status %q; the order is kept pending", status))
	}
}

func adjust(in *connector.Inbound, kind, field string, d connector.Decimal) error {
	v, err := connector.Amount(in, field, d, in.Order.Currency)
	if err != nil || v == 0 {
		return err
	}
	in.Adjustments = append(in.Adjustments, connector.Adjustment{Kind: kind, Amount: v, Currency: in.Order.Currency, Ref: field})
	return nil
}

// gmt parses WooCommerce's "2017-03-22T19:28:02" as UTC; a value with an
// offset or a Z is accepted too. An empty value is the zero time.
func gmt(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(wooTime, s); err == nil {
		return t, nil
	}
	return connector.Time(field, s)
}

func mapAddress(a *address) orderly.Address {
	if a == nil {
		return orderly.Address{}
	}
	return orderly.Address{
		Name:       strings.TrimSpace(a.FirstName + " " + a.LastName),
		Company:    a.Company,
		Line1:      a.Address1,
		Line2:      a.Address2,
		City:       a.City,
		Region:     a.State,
		PostalCode: a.Postcode,
		Country:    strings.ToUpper(a.Country),
		Phone:      a.Phone,
	}
}
