package orderly

import (
	"fmt"
	"strings"
)

// Address is a postal address. Country is an ISO 3166-1 alpha-2 code in
// upper case; Lat and Lon, when known, let routing measure distance.
type Address struct {
	Name       string   `json:"name,omitempty"`
	Company    string   `json:"company,omitempty"`
	Line1      string   `json:"line1,omitempty"`
	Line2      string   `json:"line2,omitempty"`
	City       string   `json:"city,omitempty"`
	Region     string   `json:"region,omitempty"`
	PostalCode string   `json:"postal_code,omitempty"`
	Country    string   `json:"country,omitempty"`
	Phone      string   `json:"phone,omitempty"`
	Lat        *float64 `json:"lat,omitempty"`
	Lon        *float64 `json:"lon,omitempty"`
}

// IsZero reports whether no field of the address is set.
func (a Address) IsZero() bool {
	return a == Address{}
}

// Validate checks the address and records problems under prefix (e.g.
// "shipping_address"). An empty address is valid; a non-empty one needs a
// country.
func (a Address) Validate(prefix string, p *Problems) {
	if a.IsZero() {
		return
	}
	if a.Country == "" {
		p.Add(prefix+".country", "is required")
	} else if !ValidCountry(a.Country) {
		p.Add(prefix+".country", "%q is not an ISO 3166-1 alpha-2 country code", a.Country)
	}
	if a.Lat != nil && (*a.Lat < -90 || *a.Lat > 90) {
		p.Add(prefix+".lat", "must be between -90 and 90")
	}
	if a.Lon != nil && (*a.Lon < -180 || *a.Lon > 180) {
		p.Add(prefix+".lon", "must be between -180 and 180")
	}
	checkLen(p, prefix+".name", a.Name, 200)
	checkLen(p, prefix+".company", a.Company, 200)
	checkLen(p, prefix+".line1", a.Line1, 200)
	checkLen(p, prefix+".line2", a.Line2, 200)
	checkLen(p, prefix+".city", a.City, 100)
	checkLen(p, prefix+".region", a.Region, 100)
	checkLen(p, prefix+".postal_code", a.PostalCode, 20)
	checkLen(p, prefix+".phone", a.Phone, 40)
}

func checkLen(p *Problems, field, s string, limit int) {
	if len(s) > limit {
		p.Add(field, "is longer than %d bytes", limit)
	}
}

// CheckText records a problem if s is longer than limit bytes. Domain
// packages use it for free-text fields so that no field can grow unbounded.
func CheckText(p *Problems, field, s string, limit int) { checkLen(p, field, s, limit) }

// countries lists the ISO 3166-1 alpha-2 codes in use.
var countries = func() map[string]bool {
	const list = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ " +
		"BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO " +
		"DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU " +
		"GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW " +
		"KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU " +
		"MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW " +
		"PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF " +
		"TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA " +
		"ZM ZW"
	m := make(map[string]bool, 249)
	for _, c := range strings.Fields(list) {
		m[c] = true
	}
	if len(m) != 249 {
		panic(fmt.Sprintf("orderly: country table has %d codes, want 249", len(m)))
	}
	return m
}()

// ValidCountry reports whether code is an ISO 3166-1 alpha-2 code in upper case.
func ValidCountry(code string) bool { return countries[code] }
