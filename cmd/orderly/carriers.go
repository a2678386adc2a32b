package main

import (
	"fmt"
	"os"

	"github.com/orderly-oms/orderly/carrier"
	"github.com/orderly-oms/orderly/carrier/easypost"
	"github.com/orderly-oms/orderly/carrier/tablerate"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/service"
)

// carriersConfig says which carriers a location may use (its carrier
// setting) and how they are reached.
type carriersConfig struct {
	// tableRates (ORDERLY_TABLE_RATES) is a JSON rate table file
	// (tablerate.ParseConfig); empty: tablerate.Default. table-rate is
	// always configured.
	tableRates string
	// easypostAPIKey (ORDERLY_EASYPOST_API_KEY) configures easypost;
	// easypostURL (ORDERLY_EASYPOST_URL) overrides its API root.
	easypostAPIKey string
	easypostURL    string
}

func carriersFromEnv(getenv func(string) string) carriersConfig {
	return carriersConfig{tableRates: getenv("ORDERLY_TABLE_RATES"),
		easypostAPIKey: getenv("ORDERLY_EASYPOST_API_KEY"), easypostURL: getenv("ORDERLY_EASYPOST_URL")}
}

// configureCarriers sets svc.Carriers: table-rate with the configured or
// built-in table and the store's tracking sequence, and easypost when it
// has an API key. A bad table or URL stops the server from starting.
func configureCarriers(svc *service.Service, cfg carriersConfig) error {
	table := tablerate.Default()
	if cfg.tableRates != "" {
		data, err := os.ReadFile(cfg.tableRates)
		if err != nil {
			return fmt.Errorf("ORDERLY_TABLE_RATES: %w", err)
		}
		if table, err = tablerate.ParseConfig(data); err != nil {
			return fmt.Errorf("ORDERLY_TABLE_RATES %s: %w", cfg.tableRates, err)
		}
	}
	tr, err := tablerate.New(table, svc.NextTrackingNumber, svc.Now())
	if err != nil {
		return fmt.Errorf("table rates: %w", err)
	}
	carriers := map[string]carrier.Carrier{inventory.CarrierTableRate: tr}
	if cfg.easypostAPIKey != "" {
		ep, err := easypost.New(easypost.Config{APIKey: cfg.easypostAPIKey, BaseURL: cfg.easypostURL})
		if err != nil {
			return fmt.Errorf("ORDERLY_EASYPOST_URL: %w", err)
		}
		carriers[inventory.CarrierEasyPost] = ep
	}
	svc.Carriers = carriers
	return nil
}
