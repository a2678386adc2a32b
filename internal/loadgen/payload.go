package loadgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"
)

// The order as POST /api/v1/orders takes it. The types mirror the API's
// request rather than importing the server's: loadgen is a client.
type orderJSON struct {
	Channel         string         `json:"channel"`
	ExternalID      string         `json:"external_id"`
	PlacedAt        string         `json:"placed_at"`
	Currency        string         `json:"currency"`
	Customer        customerJSON   `json:"customer"`
	ShippingAddress addressJSON    `json:"shipping_address"`
	BillingAddress  addressJSON    `json:"billing_address"`
	Lines           []lineJSON     `json:"lines"`
	ShippingLines   []shippingJSON `json:"shipping_lines"`
	Note            string         `json:"note"`
	Tags            []string       `json:"tags"`
}

type customerJSON struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

type addressJSON struct {
	Name       string   `json:"name"`
	Company    string   `json:"company,omitempty"`
	Line1      string   `json:"line1"`
	Line2      string   `json:"line2,omitempty"`
	City       string   `json:"city"`
	Region     string   `json:"region,omitempty"`
	PostalCode string   `json:"postal_code"`
	Country    string   `json:"country"`
	Phone      string   `json:"phone,omitempty"`
	Lat        *float64 `json:"lat,omitempty"`
	Lon        *float64 `json:"lon,omitempty"`
}

type lineJSON struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
	Discount  int64  `json:"discount"`
	Tax       int64  `json:"tax"`
}

type shippingJSON struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Price int64  `json:"price"`
}

// PlacedLine is one line of an order as it was sent.
type PlacedLine struct {
	SKU      string
	Quantity int64
}

type city struct {
	name, region, postal, country string
	lat, lon                      float64
}

var cities = []city{
	{"London", "Greater London", "N1 9GU", "GB", 51.5362, -0.1033},
	{"Manchester", "Greater Manchester", "M1 1AE", "GB", 53.4808, -2.2426},
	{"Bristol", "Somerset", "BS1 4DJ", "GB", 51.4545, -2.5879},
	{"Leeds", "West Yorkshire", "LS1 6HD", "GB", 53.7997, -1.5492},
	{"Glasgow", "Glasgow City", "G1 1XQ", "GB", 55.8642, -4.2518},
	{"Utrecht", "Utrecht", "3511 LX", "NL", 52.0907, 5.1214},
	{"Rotterdam", "Zuid-Holland", "3011 AD", "NL", 51.9244, 4.4777},
	{"Köln", "Nordrhein-Westfalen", "50667", "DE", 50.9375, 6.9603},
	{"München", "Bayern", "80331", "DE", 48.1351, 11.5820},
	{"Lille", "Hauts-de-France", "59000", "FR", 50.6292, 3.0573},
	{"Lyon", "Auvergne-Rhône-Alpes", "69002", "FR", 45.7640, 4.8357},
	{"Antwerpen", "Antwerpen", "2000", "BE", 51.2194, 4.4025},
	{"Dublin", "Leinster", "D02 X285", "IE", 53.3498, -6.2603},
	{"Milano", "Lombardia", "20121", "IT", 45.4642, 9.1900},
}

var (
	firstNames = []string{"Amelia", "Oliver", "Sophie", "Lukas", "Chloé", "Jack", "Isla", "Noah", "Emma", "Liam",
		"Mia", "Finn", "Léa", "Matteo", "Aoife", "Hugo", "Freya", "Daan", "Zoë", "Théo"}
	lastNames = []string{"Hughes", "Brown", "Janssen", "Becker", "Martin", "Wilson", "Campbell", "Peeters", "Rossi",
		"Murphy", "Dubois", "Schmidt", "de Vries", "Taylor", "O'Brien", "Moreau", "Fischer", "Bakker", "Conti", "Walsh"}
	streets = []string{"High Street", "Station Road", "Church Lane", "Kerkstraat", "Hauptstraße", "Rue de la Paix",
		"Via Roma", "Victoria Road", "Mill Lane", "Park Avenue", "Marktplatz", "Grand-Rue"}
	notes = []string{
		"Please leave the parcel with the neighbour at number 14 if nobody is home; do not leave it on the doorstep, it has been raining all week. The side gate is usually open and there is a covered porch behind it.",
		"Gift order: please do not include the invoice or any prices in the box. Wrap each item separately if possible and add the card with the message from the order notes. The recipient's birthday is on Saturday, so any delivery before Friday afternoon would be wonderful.",
		"Deliver to reception on the ground floor between 9:00 and 17:00, Monday to Friday. Ask for the facilities team; the building is closed at weekends and the courier will not be able to get in. Call the mobile number if there is any problem finding the entrance.",
		"Customer called to say they will be away until the 14th. Hold the shipment if it would otherwise arrive earlier, or use the parcel locker at the train station instead (locker bank 3). They asked for a text message, not an e-mail, when it is on its way.",
	}
	tagSets = [][]string{{"web"}, {"vip", "repeat-customer"}, {"promo", "spring-sale", "newsletter"}, {"gift"}, {"b2b", "net-30"}, {}}
	words   = []string{"Organic", "Merino", "Recycled", "Classic", "Waxed", "Lambswool", "Selvedge", "Linen", "Canvas", "Fleece"}
	things  = []string{"tee", "hoodie", "jeans", "cap", "socks (3 pack)", "tote bag", "scarf", "belt", "jacket", "water bottle"}
	colours = []string{"black", "white", "navy", "grey", "olive", "rust", "sand", "forest green"}
	sizes   = []string{"XS", "S", "M", "L", "XL", "one size"}
)

// productName returns a believable product name for catalogue entry i.
func productName(i int) string {
	return fmt.Sprintf("%s %s, %s, %s — style %05d", words[i%len(words)], things[(i/len(words))%len(things)],
		colours[(i/7)%len(colours)], sizes[(i/3)%len(sizes)], i)
}

// productPrice returns catalogue entry i's unit price in minor units.
func productPrice(i int) int64 { return 500 + int64(i*7919%24000) }

// OrderGen makes realistic order bodies (~2 KB of JSON: a customer,
// shipping and billing addresses with coordinates, 1–5 lines of distinct
// SKUs, a shipping line, a note and tags) for a fixture. It is not safe
// for concurrent use: give each worker its own.
type OrderGen struct {
	fx   *Fixture
	mode Mode
	rng  *rand.Rand
	now  func() time.Time
}

// NewOrderGen returns a generator of orders for fx in mode (uniform or
// hot-sku), reproducible for a given seed.
func NewOrderGen(fx *Fixture, mode Mode, seed uint64) *OrderGen {
	return &OrderGen{fx: fx, mode: mode, rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), now: time.Now}
}

// Order returns the JSON body of an order with the given external id and
// the lines it holds.
func (g *OrderGen) Order(externalID string) ([]byte, []PlacedLine) {
	r := g.rng
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	name := first + " " + last
	c := cities[r.IntN(len(cities))]
	currency := "EUR"
	if c.country == "GB" {
		currency = "GBP"
	}
	lat, lon := c.lat+(r.Float64()-0.5)/10, c.lon+(r.Float64()-0.5)/10
	phone := fmt.Sprintf("+44 7700 9%05d", r.IntN(100000))
	ship := addressJSON{
		Name: name, Line1: fmt.Sprintf("%d %s", 1+r.IntN(250), streets[r.IntN(len(streets))]),
		Line2: fmt.Sprintf("Flat %d, %s House", 1+r.IntN(40), lastNames[r.IntN(len(lastNames))]),
		City:  c.name, Region: c.region, PostalCode: c.postal, Country: c.country, Phone: phone, Lat: &lat, Lon: &lon,
	}
	bill := ship
	if r.IntN(3) == 0 {
		bill.Company = last + " & Partners Ltd"
		bill.Line1 = fmt.Sprintf("%d %s", 1+r.IntN(250), streets[r.IntN(len(streets))])
		bill.Line2 = "Accounts payable"
	}
	o := orderJSON{
		Channel: g.fx.Channel, ExternalID: externalID, PlacedAt: g.now().UTC().Format(time.RFC3339Nano), Currency: currency,
		Customer: customerJSON{Name: name, Email: fmt.Sprintf("%s.%s.%d@example.com",
			strings.ToLower(strings.ReplaceAll(first, "é", "e")), strings.ToLower(strings.NewReplacer(" ", "", "'", "").Replace(last)), r.IntN(10000)), Phone: phone},
		ShippingAddress: ship, BillingAddress: bill,
		ShippingLines: []shippingJSON{{Code: "standard", Name: "Standard delivery (2–4 working days)", Price: 495}},
		Note:          note(r),
		Tags:          tagSets[r.IntN(len(tagSets))],
	}
	if r.IntN(4) == 0 {
		o.ShippingLines[0] = shippingJSON{Code: "express", Name: "Express delivery (next working day)", Price: 995}
	}
	var placed []PlacedLine
	if g.mode == ModeHotSKU {
		// In hot-sku mode the catalogue is the hot SKU alone.
		o.Lines = []lineJSON{g.line(0, 1)}
		placed = []PlacedLine{{SKU: g.fx.HotSKU, Quantity: 1}}
	} else {
		n := min(1+r.IntN(5), len(g.fx.SKUs))
		picked := make([]int, 0, n)
		for len(picked) < n {
			i := r.IntN(len(g.fx.SKUs))
			if !containsInt(picked, i) {
				picked = append(picked, i)
			}
		}
		for _, i := range picked {
			qty := int64(1 + r.IntN(3))
			l := g.line(i, qty)
			if r.IntN(5) == 0 {
				l.Discount = qty * l.UnitPrice / 10
			}
			o.Lines = append(o.Lines, l)
			placed = append(placed, PlacedLine{SKU: l.SKU, Quantity: qty})
		}
	}
	body, err := json.Marshal(o)
	if err != nil {
		panic(fmt.Sprintf("loadgen: marshal order: %v", err)) // plain structs: cannot fail
	}
	return body, placed
}

// note returns a delivery note of two different paragraphs and a remark.
func note(r *rand.Rand) string {
	i := r.IntN(len(notes))
	j := (i + 1 + r.IntN(len(notes)-1)) % len(notes)
	return notes[i] + " " + notes[j] +
		" Placed through the mobile app; the customer opted in to SMS updates and asked for plastic-free packaging."
}

// line returns a line of quantity units of catalogue entry i, tax at 20 %.
func (g *OrderGen) line(i int, qty int64) lineJSON {
	p := g.fx.SKUs[i]
	return lineJSON{SKU: p.SKU, Name: p.Name, Quantity: qty, UnitPrice: p.Price, Tax: qty * p.Price / 5}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// MaxAvailabilitySKUs is how many SKUs one availability lookup asks for.
const MaxAvailabilitySKUs = 20

// AvailabilityQuery returns the path and query of a lookup of
// MaxAvailabilitySKUs distinct random SKUs of the fixture for its channel,
// and the SKUs asked for, in order.
func (g *OrderGen) AvailabilityQuery() (string, []string) {
	n := min(MaxAvailabilitySKUs, len(g.fx.SKUs))
	picked := make([]int, 0, n)
	for len(picked) < n {
		i := g.rng.IntN(len(g.fx.SKUs))
		if !containsInt(picked, i) {
			picked = append(picked, i)
		}
	}
	q := url.Values{"channel": {g.fx.Channel}}
	skus := make([]string, n)
	for k, i := range picked {
		skus[k] = g.fx.SKUs[i].SKU
		q.Add("sku", skus[k])
	}
	return "/api/v1/availability?" + q.Encode(), skus
}
