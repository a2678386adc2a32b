package tablerate

// Default returns the built-in rate table Orderly uses when none is
// configured (ORDERLY_TABLE_RATES): a UK shipper's three zones — domestic
// (GB), europe (the EU and its close neighbours), world (everywhere
// else) — and two services in a few weight bands, in GBP. It is a
// placeholder that lets labels be printed out of the box; a business
// configures its own carrier's price list.
func Default() *Config {
	return &Config{
		Carrier: Name, Currency: "GBP", TrackingPrefix: "OR",
		Zones: []Zone{
			{Name: "domestic", Countries: []string{"GB"}},
			{Name: "europe", Countries: []string{"AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR",
				"GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"}},
			{Name: "world", Countries: []string{"*"}},
		},
		Services: []Service{
			{Code: "standard", Name: "Standard", EstimatedDays: 3, Rates: map[string][]Band{
				"domestic": {{UpToGrams: 1000, Amount: 395}, {UpToGrams: 2000, Amount: 495}, {UpToGrams: 10000, Amount: 895}, {UpToGrams: 30000, Amount: 1695}},
				"europe":   {{UpToGrams: 1000, Amount: 995}, {UpToGrams: 2000, Amount: 1395}, {UpToGrams: 10000, Amount: 2995}, {UpToGrams: 30000, Amount: 5495}},
				"world":    {{UpToGrams: 1000, Amount: 1595}, {UpToGrams: 2000, Amount: 2495}, {UpToGrams: 10000, Amount: 5995}, {UpToGrams: 30000, Amount: 9995}},
			}},
			{Code: "express", Name: "Express", EstimatedDays: 1, Rates: map[string][]Band{
				"domestic": {{UpToGrams: 1000, Amount: 895}, {UpToGrams: 2000, Amount: 1095}, {UpToGrams: 10000, Amount: 1695}, {UpToGrams: 30000, Amount: 2995}},
				"europe":   {{UpToGrams: 2000, Amount: 2995}, {UpToGrams: 10000, Amount: 4995}},
			}},
		},
	}
}
