package shopify

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/order"
)

// Mapping rules (docs/decisions/0007-connectors.md has the reasons):
//
//   - external id: the numeric id, read as exact text; when
//     admin_graphql_api_id ("gid://shopify/Order/<id>") disagrees with it,
//     the gid wins (a string cannot have lost precision) and the
//     disagreement is flagged. The same rule gives each line's id.
//   - amounts are in the shop currency (currency, the *_set.shop_money
//     values); presentment money is ignored.
//   - placed at: processed_at, else created_at; the offset is kept.
//   - a line without sku falls back to "shopify:variant:<variant_id>", then
//     "shopify:product:<product_id>", then "shopify:line:<id>" (flagged).
//   - line discount: the sum of discount_allocations, else total_discount;
//     line tax: the sum of the line's tax_lines.
//   - shipping line price: discounted_price, else price; shipping tax becomes
//     a "shipping_tax" adjustment.
//   - reported totals: subtotal = total_line_items_price (before discounts,
//     as Orderly's subtotal), discount = total_discounts, shipping =
//     total_shipping_price_set, tax = total_tax, total = total_price.
//   - status: cancelled when cancelled_at is set, else open (Shopify has
//     accepted the order); the channel status is open, closed or cancelled.

type payload struct {
	ID                    connector.ID      `json:"id"`
	GID                   string            `json:"admin_graphql_api_id"`
	Name                  string            `json:"name"`
	Email                 string            `json:"email"`
	ContactEmail          string            `json:"contact_email"`
	Phone                 string            `json:"phone"`
	CreatedAt             string            `json:"created_at"`
	ProcessedAt           string            `json:"processed_at"`
	UpdatedAt             string            `json:"updated_at"`
	CancelledAt           string            `json:"cancelled_at"`
	CancelReason          string            `json:"cancel_reason"`
	ClosedAt              string            `json:"closed_at"`
	Currency              string            `json:"currency"`
	FinancialStatus       string            `json:"financial_status"`
	Note                  string            `json:"note"`
	Tags                  string            `json:"tags"`
	Test                  connector.Bool    `json:"test"`
	TaxesIncluded         connector.Bool    `json:"taxes_included"`
	TotalLineItemsPrice   connector.Decimal `json:"total_line_items_price"`
	TotalDiscounts        connector.Decimal `json:"total_discounts"`
	TotalTax              connector.Decimal `json:"total_tax"`
	TotalPrice            connector.Decimal `json:"total_price"`
	TotalShippingPriceSet *struct {
		ShopMoney struct {
			Amount connector.Decimal `json:"amount"`
		} `json:"shop_money"`
	} `json:"total_shipping_price_set"`
	LineItems       []lineItem     `json:"line_items"`
	ShippingLines   []shippingLine `json:"shipping_lines"`
	ShippingAddress *address       `json:"shipping_address"`
	BillingAddress  *address       `json:"billing_address"`
	Customer        *struct {
		Email     string `json:"email"`
		Phone     string `json:"phone"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
	} `json:"customer"`
}

type lineItem struct {
	ID                  connector.ID      `json:"id"`
	GID                 string            `json:"admin_graphql_api_id"`
	SKU                 string            `json:"sku"`
	VariantID           connector.ID      `json:"variant_id"`
	ProductID           connector.ID      `json:"product_id"`
	Name                string            `json:"name"`
	Title               string            `json:"title"`
	Quantity            json.Number       `json:"quantity"`
	Price               connector.Decimal `json:"price"`
	TotalDiscount       connector.Decimal `json:"total_discount"`
	DiscountAllocations []allocation      `json:"discount_allocations"`
	TaxLines            []taxLine         `json:"tax_lines"`
}

type allocation struct {
	Amount connector.Decimal `json:"amount"`
}

type taxLine struct {
	Title string            `json:"title"`
	Price connector.Decimal `json:"price"`
}

type shippingLine struct {
	Title           string            `json:"title"`
	Code            string            `json:"code"`
	Price           connector.Decimal `json:"price"`
	DiscountedPrice connector.Decimal `json:"discounted_price"`
	TaxLines        []taxLine         `json:"tax_lines"`
}

type address struct {
	Name         string            `json:"name"`
	FirstName    string            `json:"first_name"`
	LastName     string            `json:"last_name"`
	Company      string            `json:"company"`
	Address1     string            `json:"address1"`
	Address2     string            `json:"address2"`
	City         string            `json:"city"`
	Province     string            `json:"province"`
	ProvinceCode string            `json:"province_code"`
	Zip          string            `json:"zip"`
	CountryCode  string            `json:"country_code"`
	Phone        string            `json:"phone"`
	Latitude     connector.Decimal `json:"latitude"`
	Longitude    connector.Decimal `json:"longitude"`
}

// ParseOrder maps a Shopify order payload into an Inbound. It is pure: the
// same bytes give the same Inbound.
func ParseOrder(b []byte) (*connector.Inbound, error) {
	var p payload
	if err := connector.Decode(b, &p); err != nil {
		return nil, err
	}
	in := &connector.Inbound{Number: p.Name, Test: bool(p.Test), TaxesIncluded: bool(p.TaxesIncluded)}
	var probs orderly.Problems
	o := &in.Order

	o.ExternalID = exactID(in, "id", p.ID, p.GID)
	if o.ExternalID == "" {
		probs.Add("id", "is required")
	}
	o.Currency = strings.ToUpper(p.Currency)
	if !orderly.ValidCurrency(o.Currency) {
		probs.Add("currency", "%q is not an ISO 4217 currency code", p.Currency)
		return nil, probs.Err()
	}
	placed := p.ProcessedAt
	field := "processed_at"
	if placed == "" {
		placed, field = p.CreatedAt, "created_at"
	}
	var err error
	if o.PlacedAt, err = connector.Time(field, placed); err != nil {
		return nil, err
	}
	if o.PlacedAt.IsZero() {
		probs.Add("created_at", "is required")
	}
	if in.UpdatedAt, err = connector.Time("updated_at", p.UpdatedAt); err != nil {
		return nil, err
	}
	o.Note = p.Note
	for _, t := range strings.Split(p.Tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			o.Tags = append(o.Tags, t)
		}
	}
	o.ShippingAddress = mapAddress(p.ShippingAddress, "shipping_address", &probs)
	o.BillingAddress = mapAddress(p.BillingAddress, "billing_address", &probs)
	o.Customer = order.Customer{Email: first(p.Email, p.ContactEmail), Phone: p.Phone}
	if c := p.Customer; c != nil {
		o.Customer.Name = strings.TrimSpace(c.FirstName + " " + c.LastName)
		o.Customer.Email = first(o.Customer.Email, c.Email)
		o.Customer.Phone = first(o.Customer.Phone, c.Phone)
	}
	o.Customer.Name = first(o.Customer.Name, o.BillingAddress.Name, o.ShippingAddress.Name)

	if len(p.LineItems) > order.MaxLines {
		return nil, orderly.Invalid("line_items", "has more than %d lines", order.MaxLines)
	}
	for i, li := range p.LineItems {
		if err := mapLine(in, i, li); err != nil {
			return nil, err
		}
	}
	for i, sl := range p.ShippingLines {
		f := fmt.Sprintf("shipping_lines[%d]", i)
		price := sl.DiscountedPrice
		if price == "" {
			price = sl.Price
		}
		amt, err := connector.Amount(in, f+".price", price, o.Currency)
		if err != nil {
			return nil, err
		}
		o.ShippingLines = append(o.ShippingLines, order.ShippingLine{Code: sl.Code, Name: sl.Title, Price: amt})
		tax, err := sumTax(in, f, sl.TaxLines, o.Currency)
		if err != nil {
			return nil, err
		}
		if tax != 0 {
			in.Adjustments = append(in.Adjustments, connector.Adjustment{Kind: "shipping_tax", Amount: tax, Currency: o.Currency, Ref: f + ".tax_lines"})
		}
	}

	in.Status, in.ChannelStatus = order.StatusOpen, "open"
	if p.ClosedAt != "" {
		in.ChannelStatus = "closed"
	}
	if p.CancelledAt != "" {
		at, err := connector.Time("cancelled_at", p.CancelledAt)
		if err != nil {
			return nil, err
		}
		in.Status, in.ChannelStatus = order.StatusCancelled, "cancelled"
		in.Cancellation = &connector.Cancellation{At: at, Reason: first(p.CancelReason, "channel")}
	}
	in.FinancialStatus = p.FinancialStatus

	if p.TotalPrice != "" {
		r, err := reported(in, &p)
		if err != nil {
			return nil, err
		}
		in.Reported = r
	}
	if err := probs.Err(); err != nil {
		return nil, err
	}
	connector.CheckTotals(in)
	return in, nil
}

func mapLine(in *connector.Inbound, i int, li lineItem) error {
	cur := in.Order.Currency
	f := fmt.Sprintf("line_items[%d]", i)
	qty, err := connector.Quantity(f+".quantity", li.Quantity)
	if err != nil {
		return err
	}
	unit, err := connector.Amount(in, f+".price", li.Price, cur)
	if err != nil {
		return err
	}
	var disc int64
	if len(li.DiscountAllocations) > 0 {
		for j, a := range li.DiscountAllocations {
			v, err := connector.Amount(in, fmt.Sprintf("%s.discount_allocations[%d].amount", f, j), a.Amount, cur)
			if err != nil {
				return err
			}
			disc += v
		}
	} else if disc, err = connector.Amount(in, f+".total_discount", li.TotalDiscount, cur); err != nil {
		return err
	}
	tax, err := sumTax(in, f, li.TaxLines, cur)
	if err != nil {
		return err
	}
	sku := strings.TrimSpace(li.SKU)
	if sku == "" {
		sku = connector.FallbackSKU(in, f+".sku", "shopify",
			[2]string{"variant", string(li.VariantID)}, [2]string{"product", string(li.ProductID)}, [2]string{"line", string(li.ID)})
	}
	in.Order.Lines = append(in.Order.Lines, order.Line{
		SKU: sku, Name: first(li.Name, li.Title), Quantity: qty, UnitPrice: unit, Discount: disc, Tax: tax,
	})
	in.LineExternalIDs = append(in.LineExternalIDs, exactID(in, f+".id", li.ID, li.GID))
	return nil
}

func sumTax(in *connector.Inbound, f string, lines []taxLine, cur string) (int64, error) {
	var sum int64
	for j, t := range lines {
		v, err := connector.Amount(in, fmt.Sprintf("%s.tax_lines[%d].price", f, j), t.Price, cur)
		if err != nil {
			return 0, err
		}
		if v > orderly.MaxAmount || v < -orderly.MaxAmount {
			return 0, orderly.Invalid(fmt.Sprintf("%s.tax_lines[%d].price", f, j), "is too large")
		}
		sum += v
	}
	return sum, nil
}

func reported(in *connector.Inbound, p *payload) (*order.Totals, error) {
	cur := in.Order.Currency
	var r order.Totals
	var err error
	for _, a := range []struct {
		dst   *int64
		field string
		v     connector.Decimal
	}{
		{&r.Subtotal, "total_line_items_price", p.TotalLineItemsPrice},
		{&r.DiscountTotal, "total_discounts", p.TotalDiscounts},
		{&r.TaxTotal, "total_tax", p.TotalTax},
		{&r.Total, "total_price", p.TotalPrice},
	} {
		if *a.dst, err = connector.Amount(in, a.field, a.v, cur); err != nil {
			return nil, err
		}
	}
	if s := p.TotalShippingPriceSet; s != nil && s.ShopMoney.Amount != "" {
		if r.ShippingTotal, err = connector.Amount(in, "total_shipping_price_set.shop_money.amount", s.ShopMoney.Amount, cur); err != nil {
			return nil, err
		}
	} else {
		for _, s := range in.Order.ShippingLines {
			r.ShippingTotal += s.Price
		}
	}
	return &r, nil
}

// exactID returns the id's exact text, preferring the number inside the
// GraphQL id when the two disagree (and flagging it).
func exactID(in *connector.Inbound, field string, id connector.ID, gid string) string {
	fromGID := ""
	if i := strings.LastIndexByte(gid, '/'); i >= 0 && strings.HasPrefix(gid, "gid://shopify/") {
		if _, err := strconv.ParseInt(gid[i+1:], 10, 64); err == nil {
			fromGID = gid[i+1:]
		}
	}
	switch {
	case fromGID == "":
		return string(id)
	case id != "" && string(id) != fromGID:
		in.Flag(fmt.Sprintf("%s: %s disagrees with admin_graphql_api_id %s (precision lost upstream?); using %s",
			field, id, gid, fromGID))
	}
	return fromGID
}

func mapAddress(a *address, prefix string, probs *orderly.Problems) orderly.Address {
	if a == nil {
		return orderly.Address{}
	}
	out := orderly.Address{
		Name:       first(a.Name, strings.TrimSpace(a.FirstName+" "+a.LastName)),
		Company:    a.Company,
		Line1:      a.Address1,
		Line2:      a.Address2,
		City:       a.City,
		Region:     first(a.ProvinceCode, a.Province),
		PostalCode: a.Zip,
		Country:    strings.ToUpper(a.CountryCode),
		Phone:      a.Phone,
	}
	out.Lat = coordinate(a.Latitude, prefix+".latitude", probs)
	out.Lon = coordinate(a.Longitude, prefix+".longitude", probs)
	return out
}

func coordinate(d connector.Decimal, field string, probs *orderly.Problems) *float64 {
	if d == "" {
		return nil
	}
	v, err := strconv.ParseFloat(string(d), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		probs.Add(field, "%q is not a number", d)
		return nil
	}
	return &v
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
