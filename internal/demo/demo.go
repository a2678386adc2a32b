// Package demo seeds an empty database with a small, believable business —
// channels, locations, SKUs and a few dozen orders in different states — so
// a newcomer running `orderly serve --demo` sees something real at once. It
// goes through the service, like any client, so demo data obeys every rule.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/order"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// OrderCount is how many demo orders Seed creates.
const OrderCount = 48

var seeder = auth.Principal{Name: "system:demo", Role: auth.RoleAdmin}

func ptr[T any](v T) *T { return &v }

// Seed fills an empty database and returns the secret of a new admin API
// key named "demo-admin". If the database already has channels it does
// nothing and returns "".
func Seed(ctx context.Context, svc *service.Service) (string, error) {
	existing, _, err := svc.ListChannels(ctx, seeder, store.ListParams{Limit: 1})
	if err != nil {
		return "", err
	}
	if len(existing) > 0 {
		return "", nil
	}
	// Locations first: a channel's feeding locations must exist.
	locations := []*inventory.Location{
		{Code: "wh-manchester", Name: "Manchester warehouse", Kind: inventory.LocationWarehouse, Active: true, Lat: ptr(53.4808), Lon: ptr(-2.2426),
			Address: orderly.Address{Line1: "1 Trafford Park Rd", City: "Manchester", PostalCode: "M17 1AA", Country: "GB"}},
		{Code: "wh-rotterdam", Name: "Rotterdam warehouse", Kind: inventory.LocationWarehouse, Active: true, Lat: ptr(51.9244), Lon: ptr(4.4777),
			Address: orderly.Address{Line1: "Waalhaven 10", City: "Rotterdam", PostalCode: "3089 JH", Country: "NL"}},
		{Code: "store-leeds", Name: "Leeds store", Kind: inventory.LocationStore, Active: true, Lat: ptr(53.7997), Lon: ptr(-1.5492),
			Address: orderly.Address{Line1: "12 Briggate", City: "Leeds", PostalCode: "LS1 6HD", Country: "GB"}},
	}
	for _, l := range locations {
		if _, err := svc.CreateLocation(ctx, seeder, l); err != nil {
			return "", fmt.Errorf("location %s: %w", l.Code, err)
		}
	}
	channels := []*channel.Channel{
		{Code: "web", Kind: channel.KindAPI, Name: "Own web shop", Policy: channel.Policy{CancellationWindowMinutes: 60, ReturnWindowDays: 30, PartialCancellation: true, Refunds: channel.RefundsMerchant, MayEmailCustomer: true}},
		{Code: "eu-store", Kind: channel.KindShopify, Name: "Shopify EU store", Secret: "demo-shopify-secret", Policy: channel.Policy{CancellationWindowMinutes: 120, ReturnWindowDays: 30, PartialCancellation: true, Refunds: channel.RefundsMerchant, MayEmailCustomer: true}},
		{Code: "amazon-uk", Kind: channel.KindAmazon, Name: "Amazon UK", Policy: channel.Policy{CancellationWindowMinutes: 30, ReturnWindowDays: 30, PartialCancellation: false,
			// Amazon refunds its buyers, wants shipment confirmed within two days and
			// relays buyer e-mail for order messages only.
			Refunds: channel.RefundsMarketplace, ConfirmShipmentWithinHours: 48, MayEmailCustomer: false},
			Locations: []string{"wh-manchester"}},
		{Code: "leeds-pos", Kind: channel.KindPOS, Name: "Leeds store till", Policy: channel.Policy{ReturnWindowDays: 14, Refunds: channel.RefundsMerchant, MayEmailCustomer: true},
			Locations: []string{"store-leeds"}},
		{Code: "phone", Kind: channel.KindPhone, Name: "Phone orders", Policy: channel.DefaultPolicy()},
	}
	for _, c := range channels {
		if _, err := svc.CreateChannel(ctx, seeder, c); err != nil {
			return "", fmt.Errorf("channel %s: %w", c.Code, err)
		}
	}
	type product struct {
		sku, name string
		price     int64
		grams     int64
	}
	products := []product{
		{"TEE-BLK-S", "Organic tee, black, S", 2500, 180}, {"TEE-BLK-M", "Organic tee, black, M", 2500, 190},
		{"TEE-BLK-L", "Organic tee, black, L", 2500, 200}, {"TEE-WHT-M", "Organic tee, white, M", 2500, 190},
		{"HOOD-GRY-M", "Fleece hoodie, grey, M", 6500, 620}, {"HOOD-GRY-L", "Fleece hoodie, grey, L", 6500, 650},
		{"JEANS-32-32", "Selvedge jeans 32/32", 11000, 900}, {"JEANS-34-32", "Selvedge jeans 34/32", 11000, 920},
		{"CAP-NAVY", "Wool cap, navy", 2200, 90}, {"SOCKS-3PK", "Merino socks, 3 pack", 1800, 150},
		{"BAG-TOTE", "Canvas tote bag", 1500, 250}, {"SCARF-RED", "Lambswool scarf, red", 4500, 200},
		{"BELT-BRN-M", "Leather belt, brown, M", 3900, 300}, {"JACKET-M", "Waxed jacket, M", 19500, 1400},
		{"GIFT-CARD-50", "Gift card 50", 5000, 10}, {"BOTTLE-STEEL", "Steel water bottle", 2000, 350},
	}
	for _, p := range products {
		if _, err := svc.CreateSKU(ctx, seeder, &inventory.SKU{SKU: p.sku, Name: p.name, Barcode: barcode(p.sku), WeightGrams: p.grams}); err != nil {
			return "", fmt.Errorf("sku %s: %w", p.sku, err)
		}
	}

	// A fixed seed: every newcomer sees the same shop.
	rng := rand.New(rand.NewPCG(2026, 11))
	// Stock: plenty of most things in the warehouses, little in the store,
	// and a couple of SKUs nearly sold out so some orders backorder.
	for _, l := range locations {
		for i, p := range products {
			qty := int64(5 + rng.IntN(40))
			switch {
			case l.Kind == inventory.LocationStore:
				qty = int64(rng.IntN(6))
			case i%7 == 3:
				qty = int64(rng.IntN(2))
			}
			if qty == 0 {
				continue
			}
			if _, _, err := svc.AdjustStock(ctx, seeder, service.Adjustment{Location: l.Code, SKU: p.sku, Delta: qty,
				Reason: inventory.ReasonReceive, Reference: "PO-2026-" + l.Code}); err != nil {
				return "", fmt.Errorf("stock %s at %s: %w", p.sku, l.Code, err)
			}
		}
	}
	customers := []struct {
		name, email, city, postal, country string
		lat, lon                           float64
	}{
		{"Amelia Hughes", "amelia.hughes@example.com", "London", "N1 9GU", "GB", 51.5362, -0.1033},
		{"Oliver Brown", "oliver.brown@example.com", "Bristol", "BS1 4DJ", "GB", 51.4545, -2.5879},
		{"Sophie Janssen", "sophie.janssen@example.nl", "Utrecht", "3511 LX", "NL", 52.0907, 5.1214},
		{"Lukas Becker", "lukas.becker@example.de", "Köln", "50667", "DE", 50.9375, 6.9603},
		{"Chloé Martin", "chloe.martin@example.fr", "Lille", "59000", "FR", 50.6292, 3.0573},
		{"Jack Wilson", "jack.wilson@example.com", "York", "YO1 7HH", "GB", 53.9590, -1.0815},
		{"Isla Campbell", "isla.campbell@example.com", "Glasgow", "G1 1XQ", "GB", 55.8642, -4.2518},
		{"Noah Peeters", "noah.peeters@example.be", "Antwerpen", "2000", "BE", 51.2194, 4.4025},
	}
	now := time.Now().UTC().Truncate(time.Second)
	for i := range OrderCount {
		c := customers[rng.IntN(len(customers))]
		ch := channels[rng.IntN(len(channels))]
		currency := "GBP"
		if c.country != "GB" {
			currency = "EUR"
		}
		o := &order.Order{
			Channel:    ch.Code,
			ExternalID: fmt.Sprintf("%s-%05d", ch.Code, 20000+i*7),
			PlacedAt:   now.Add(-time.Duration(OrderCount-i) * 7 * time.Hour).Add(-time.Duration(rng.IntN(3600)) * time.Second),
			Currency:   currency,
			Customer:   order.Customer{Name: c.name, Email: c.email, Phone: "+44 20 7946 0" + fmt.Sprint(100+i)},
			ShippingAddress: orderly.Address{Name: c.name, Line1: fmt.Sprintf("%d High Street", 1+rng.IntN(200)), City: c.city,
				PostalCode: c.postal, Country: c.country, Lat: ptr(c.lat), Lon: ptr(c.lon)},
			ShippingLines: []order.ShippingLine{{Code: "standard", Name: "Standard delivery", Price: 495}},
			Tags:          []string{},
		}
		o.BillingAddress = o.ShippingAddress
		for range 1 + rng.IntN(3) {
			p := products[rng.IntN(len(products))]
			qty := int64(1 + rng.IntN(2))
			line := order.Line{SKU: p.sku, Name: p.name, Quantity: qty, UnitPrice: p.price, Tax: qty * p.price / 5}
			if rng.IntN(4) == 0 {
				line.Discount = qty * p.price / 10
				if len(o.Tags) == 0 {
					o.Tags = append(o.Tags, "promo")
				}
			}
			o.Lines = append(o.Lines, line)
		}
		created, _, err := svc.CreateOrder(ctx, seeder, o, false)
		if err != nil {
			return "", fmt.Errorf("order %d: %w", i, err)
		}
		ref := created.ID
		if created.Status == order.StatusOnHold {
			continue // short of stock: leave it for someone to look at
		}
		switch rng.IntN(8) {
		case 0:
			_, err = svc.HoldOrder(ctx, seeder, ref, "address check: postcode does not match city")
		case 1:
			_, err = svc.CancelOrder(ctx, seeder, ref, "customer changed their mind")
		case 2:
			if _, err = svc.HoldOrder(ctx, seeder, ref, "payment review"); err == nil {
				_, err = svc.ReleaseOrder(ctx, seeder, ref)
			}
		}
		if err != nil {
			return "", fmt.Errorf("order %d: %w", i, err)
		}
	}
	_, secret, err := svc.CreateAPIKey(ctx, "demo-admin", auth.RoleAdmin, "", "")
	if err != nil {
		return "", err
	}
	return secret, nil
}

// barcode makes a stable EAN-13-looking number from a SKU code.
func barcode(sku string) string {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(sku); i++ {
		h = (h ^ uint64(sku[i])) * 1099511628211
	}
	return fmt.Sprintf("50%011d", h%100_000_000_000)
}
