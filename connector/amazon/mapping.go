package amazon

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/order"
)

// Mapping rules (docs/decisions/0007-connectors.md has the reasons):
//
//   - the payload is a Bundle: one getOrders Order and the OrderItems of its
//     getOrderItems pages, assembled by PullOrders, verbatim.
//   - currency: OrderTotal.CurrencyCode; a Pending order has no OrderTotal,
//     so the first item price's currency, else the marketplace's currency.
//   - only amounts in the order's currency are converted; an amount in any
//     other currency (the published example has a GBP gift wrap on a JPY
//     order) is kept in its own currency as an adjustment and flagged.
//   - ItemPrice is the price of the whole quantity: unit price = ItemPrice
//     / QuantityOrdered (flagged if it does not divide). Discount =
//     PromotionDiscount; tax = ItemTax.
//   - shipping: one shipping line (ShipmentServiceLevelCategory) priced at
//     Σ (ShippingPrice − ShippingDiscount); ShippingTax, gift wrap, COD fees
//     are adjustments.
//   - status: PendingAvailability and Pending → pending (no totals yet);
//     Unshipped, PartiallyShipped, Shipped, InvoiceUnconfirmed → open;
//     Canceled, Unfulfillable → cancelled; unknown → pending, flagged.
//     A buyer's cancellation request on an item is flagged.
//   - reported: nil without OrderTotal; else total = OrderTotal and the
//     parts are the sums of the items' reported amounts.

// Bundle is the payload ParseOrder reads: an order as getOrders returns it
// and its items as getOrderItems returns them, unchanged.
type Bundle struct {
	Order json.RawMessage   `json:"order"`
	Items []json.RawMessage `json:"items"`
}

type money struct {
	CurrencyCode string            `json:"CurrencyCode"`
	Amount       connector.Decimal `json:"Amount"`
}

type amazonOrder struct {
	AmazonOrderID                string `json:"AmazonOrderId"`
	PurchaseDate                 string `json:"PurchaseDate"`
	LastUpdateDate               string `json:"LastUpdateDate"`
	OrderStatus                  string `json:"OrderStatus"`
	MarketplaceID                string `json:"MarketplaceId"`
	ShipServiceLevel             string `json:"ShipServiceLevel"`
	ShipmentServiceLevelCategory string `json:"ShipmentServiceLevelCategory"`
	OrderTotal                   *money `json:"OrderTotal"`
	ShippingAddress              *struct {
		Name          string `json:"Name"`
		AddressLine1  string `json:"AddressLine1"`
		AddressLine2  string `json:"AddressLine2"`
		AddressLine3  string `json:"AddressLine3"`
		City          string `json:"City"`
		StateOrRegion string `json:"StateOrRegion"`
		PostalCode    string `json:"PostalCode"`
		CountryCode   string `json:"CountryCode"`
		Phone         string `json:"Phone"`
	} `json:"ShippingAddress"`
	BuyerInfo *struct {
		BuyerEmail string `json:"BuyerEmail"`
		BuyerName  string `json:"BuyerName"`
	} `json:"BuyerInfo"`
}

type orderItem struct {
	OrderItemID       string      `json:"OrderItemId"`
	SellerSKU         string      `json:"SellerSKU"`
	ASIN              string      `json:"ASIN"`
	Title             string      `json:"Title"`
	QuantityOrdered   json.Number `json:"QuantityOrdered"`
	ItemPrice         *money      `json:"ItemPrice"`
	ItemTax           *money      `json:"ItemTax"`
	PromotionDiscount *money      `json:"PromotionDiscount"`
	ShippingPrice     *money      `json:"ShippingPrice"`
	ShippingDiscount  *money      `json:"ShippingDiscount"`
	ShippingTax       *money      `json:"ShippingTax"`
	CODFee            *money      `json:"CODFee"`
	CODFeeDiscount    *money      `json:"CODFeeDiscount"`
	BuyerInfo         *struct {
		GiftWrapPrice *money `json:"GiftWrapPrice"`
		GiftWrapTax   *money `json:"GiftWrapTax"`
	} `json:"BuyerInfo"`
	BuyerRequestedCancel *struct {
		IsBuyerRequestedCancel connector.Bool `json:"IsBuyerRequestedCancel"`
		BuyerCancelReason      string         `json:"BuyerCancelReason"`
	} `json:"BuyerRequestedCancel"`
}

type bundle struct {
	Order *amazonOrder `json:"order"`
	Items []orderItem  `json:"items"`
}

// marketplaceCurrency is each marketplace's currency, the last resort for
// a Pending order whose items carry no price yet.
var marketplaceCurrency = map[string]string{
	"ATVPDKIKX0DER": "USD", "A2EUQ1WTGCTBG2": "CAD", "A1AM78C64UM0Y8": "MXN", "A2Q3Y263D00KWC": "BRL",
	"A1F83G8C2ARO7P": "GBP", "A1PA6795UKMFR9": "EUR", "A13V1IB3VIYZZH": "EUR", "APJ6JRA9NG5V4": "EUR",
	"A1RKKUPIHCS9HS": "EUR", "A1805IZSGTT6HS": "EUR", "AMEN7PMS3EDWL": "EUR", "A2NODRKZP88ZB9": "SEK",
	"A1C3SOZRARQ6R3": "PLN", "A33AVAJ2PDY3EV": "TRY", "A21TJRUUN4KGV": "INR", "A1VC38T7YXB528": "JPY",
	"A39IBJ37TRP1C6": "AUD", "A19VAU5U5O7RUS": "SGD", "A2VIGQ35RCS4UG": "AED", "A17E79C6D8DWNP": "SAR",
	"ARBP9OOSHTCHU": "EGP",
}

// ParseOrder maps a Bundle into an Inbound. It is pure.
func ParseOrder(b []byte) (*connector.Inbound, error) {
	var p bundle
	if err := connector.Decode(b, &p); err != nil {
		return nil, err
	}
	if p.Order == nil {
		return nil, orderly.Invalid("order", "is required")
	}
	a := p.Order
	if a.AmazonOrderID == "" {
		return nil, orderly.Invalid("order.AmazonOrderId", "is required")
	}
	if len(p.Items) > order.MaxLines {
		return nil, orderly.Invalid("items", "has more than %d items", order.MaxLines)
	}
	in := &connector.Inbound{Number: a.AmazonOrderID, ChannelStatus: a.OrderStatus}
	o := &in.Order
	o.ExternalID = a.AmazonOrderID
	var err error
	if o.PlacedAt, err = connector.Time("order.PurchaseDate", a.PurchaseDate); err != nil {
		return nil, err
	}
	if o.PlacedAt.IsZero() {
		return nil, orderly.Invalid("order.PurchaseDate", "is required")
	}
	if in.UpdatedAt, err = connector.Time("order.LastUpdateDate", a.LastUpdateDate); err != nil {
		return nil, err
	}
	if o.Currency, err = currency(in, &p); err != nil {
		return nil, err
	}
	if s := a.ShippingAddress; s != nil {
		line2 := strings.TrimSpace(s.AddressLine2 + " " + s.AddressLine3)
		o.ShippingAddress = orderly.Address{Name: s.Name, Line1: s.AddressLine1, Line2: line2, City: s.City,
			Region: s.StateOrRegion, PostalCode: s.PostalCode, Country: strings.ToUpper(s.CountryCode), Phone: s.Phone}
	}
	if bi := a.BuyerInfo; bi != nil {
		o.Customer = order.Customer{Name: bi.BuyerName, Email: bi.BuyerEmail}
	}
	o.Customer.Name = first(o.Customer.Name, o.ShippingAddress.Name)

	var r order.Totals
	var shipping, shippingTax int64
	hasShipping := false
	for i, it := range p.Items {
		f := fmt.Sprintf("items[%d]", i)
		qty, err := connector.Quantity(f+".QuantityOrdered", it.QuantityOrdered)
		if err != nil {
			return nil, err
		}
		m := mapper{in: in, cur: o.Currency}
		price := m.amount(f+".ItemPrice", it.ItemPrice, "item_price")
		tax := m.amount(f+".ItemTax", it.ItemTax, "item_tax")
		disc := m.amount(f+".PromotionDiscount", it.PromotionDiscount, "promotion_discount")
		ship := m.amount(f+".ShippingPrice", it.ShippingPrice, "shipping")
		shipDisc := m.amount(f+".ShippingDiscount", it.ShippingDiscount, "shipping_discount")
		shipTax := m.amount(f+".ShippingTax", it.ShippingTax, "shipping_tax")
		m.adjust(f+".CODFee", it.CODFee, "cod_fee", 1)
		m.adjust(f+".CODFeeDiscount", it.CODFeeDiscount, "cod_fee_discount", -1)
		var wrapTax int64
		if bi := it.BuyerInfo; bi != nil {
			m.adjust(f+".BuyerInfo.GiftWrapPrice", bi.GiftWrapPrice, "gift_wrap", 1)
			wrapTax = m.adjust(f+".BuyerInfo.GiftWrapTax", bi.GiftWrapTax, "gift_wrap_tax", 1)
		}
		if m.err != nil {
			return nil, m.err
		}
		if it.ShippingPrice != nil {
			hasShipping = true
		}
		shipping += ship - shipDisc
		shippingTax += shipTax
		r.Subtotal += price
		r.DiscountTotal += disc
		r.ShippingTotal += ship - shipDisc
		r.TaxTotal += tax + shipTax + wrapTax

		sku := strings.TrimSpace(it.SellerSKU)
		if sku == "" {
			sku = connector.FallbackSKU(in, f+".SellerSKU", "amazon", [2]string{"asin", it.ASIN}, [2]string{"item", it.OrderItemID})
		}
		if c := it.BuyerRequestedCancel; c != nil && c.IsBuyerRequestedCancel {
			in.Flag(fmt.Sprintf("%s: the buyer requested cancellation: %s", f, first(c.BuyerCancelReason, "no reason given")))
		}
		o.Lines = append(o.Lines, order.Line{SKU: sku, Name: it.Title, Quantity: qty,
			UnitPrice: connector.UnitPrice(in, f+".ItemPrice", price, qty), Discount: disc, Tax: tax})
		in.LineExternalIDs = append(in.LineExternalIDs, it.OrderItemID)
	}
	if hasShipping {
		o.ShippingLines = []order.ShippingLine{{Code: a.ShipmentServiceLevelCategory,
			Name: first(a.ShipServiceLevel, a.ShipmentServiceLevelCategory), Price: shipping}}
	}
	if shippingTax != 0 {
		in.Adjustments = append(in.Adjustments, connector.Adjustment{Kind: "shipping_tax", Amount: shippingTax, Currency: o.Currency, Ref: "items[].ShippingTax"})
	}

	mapStatus(in, a.OrderStatus, p.Items)
	if a.OrderTotal != nil && a.OrderTotal.Amount != "" {
		m := mapper{in: in, cur: o.Currency}
		r.Total = m.amount("order.OrderTotal", a.OrderTotal, "order_total")
		if m.err != nil {
			return nil, m.err
		}
		in.Reported = &r
	}
	connector.CheckTotals(in)
	return in, nil
}

func currency(in *connector.Inbound, p *bundle) (string, error) {
	a := p.Order
	mkt := marketplaceCurrency[a.MarketplaceID]
	cur, field := "", "order.OrderTotal.CurrencyCode"
	if a.OrderTotal != nil {
		cur = a.OrderTotal.CurrencyCode
	} else {
		for _, it := range p.Items {
			if it.ItemPrice != nil && it.ItemPrice.CurrencyCode != "" {
				cur, field = it.ItemPrice.CurrencyCode, "items[].ItemPrice.CurrencyCode"
				break
			}
		}
		if cur == "" {
			cur, field = mkt, "order.MarketplaceId"
		}
	}
	if !orderly.ValidCurrency(cur) {
		return "", orderly.Invalid(field, "%q is not an ISO 4217 currency code", cur)
	}
	if mkt != "" && cur != mkt {
		in.Flag(fmt.Sprintf("currency: the order is in %s but marketplace %s sells in %s", cur, a.MarketplaceID, mkt))
	}
	return cur, nil
}

func mapStatus(in *connector.Inbound, status string, items []orderItem) {
	switch status {
	case "Pending", "PendingAvailability":
		in.Status = order.StatusPending
	case "Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed":
		in.Status = order.StatusOpen
	case "Canceled", "Unfulfillable":
		in.Status = order.StatusCancelled
		reason := status
		for _, it := range items {
			if c := it.BuyerRequestedCancel; c != nil && c.IsBuyerRequestedCancel && c.BuyerCancelReason != "" {
				reason = c.BuyerCancelReason
				break
			}
		}
		in.Cancellation = &connector.Cancellation{At: in.UpdatedAt, Reason: reason}
	default:
		in.Status = order.StatusPending
		in.Flag(fmt.Sprintf("OrderStatus: unknown Amazon status %q; the order is kept pending", status))
	}
}

// mapper converts Amazon Money objects, remembering the first error.
type mapper struct {
	in  *connector.Inbound
	cur string
	err error
}

// amount returns m in minor units of the order's currency. An amount in
// another currency is not converted: it becomes an adjustment in its own
// currency (kind), is flagged, and counts as 0 here.
func (m *mapper) amount(field string, v *money, kind string) int64 {
	if m.err != nil || v == nil || v.Amount == "" {
		return 0
	}
	cur := first(v.CurrencyCode, m.cur)
	amt, err := connector.Amount(m.in, field+".Amount", v.Amount, cur)
	if err != nil {
		m.err = err
		return 0
	}
	if cur != m.cur {
		m.in.Adjustments = append(m.in.Adjustments, connector.Adjustment{Kind: kind, Amount: amt, Currency: cur, Ref: field})
		m.in.Flag(fmt.Sprintf("%s: %s %s is not in the order's currency %s; kept apart, not converted", field, v.Amount, cur, m.cur))
		return 0
	}
	return amt
}

// adjust records an amount as an adjustment (sign −1 for a credit) and
// returns it in the order's currency (0 when in another currency).
func (m *mapper) adjust(field string, v *money, kind string, sign int64) int64 {
	if m.err != nil || v == nil || v.Amount == "" {
		return 0
	}
	before := len(m.in.Adjustments)
	amt := m.amount(field, v, kind)
	if m.err != nil || len(m.in.Adjustments) > before || amt == 0 {
		return 0
	}
	m.in.Adjustments = append(m.in.Adjustments, connector.Adjustment{Kind: kind, Amount: sign * amt, Currency: m.cur, Ref: field})
	return amt
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
