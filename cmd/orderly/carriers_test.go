package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/service"
)

func TestConfigureCarriers(t *testing.T) {
	kinds := func(svc *service.Service) string {
		var out []string
		for _, k := range inventory.Carriers {
			if svc.Carriers[k] != nil {
				out = append(out, k)
			}
		}
		return strings.Join(out, ",")
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	svc := service.New(nil, nil, nil)
	if err := configureCarriers(svc, carriersFromEnv(env(nil))); err != nil || kinds(svc) != "table-rate" {
		t.Fatalf("default: %v, carriers %q", err, kinds(svc))
	}
	if err := configureCarriers(svc, carriersFromEnv(env(map[string]string{"ORDERLY_EASYPOST_API_KEY": "EZTK1",
		"ORDERLY_EASYPOST_URL": "http://127.0.0.1:1/v2"}))); err != nil || kinds(svc) != "table-rate,easypost" {
		t.Fatalf("with an EasyPost key: %v, carriers %q", err, kinds(svc))
	}

	dir := t.TempDir()
	good := filepath.Join(dir, "rates.json")
	if err := os.WriteFile(good, []byte(`{"currency":"EUR","zones":[{"name":"all","countries":["*"]}],
		"services":[{"code":"flat","rates":{"all":[{"up_to_grams":30000,"amount":500}]}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := configureCarriers(svc, carriersFromEnv(env(map[string]string{"ORDERLY_TABLE_RATES": good}))); err != nil {
		t.Fatalf("a good table: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"currency":"EURO","zones":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{bad, filepath.Join(dir, "missing.json")} {
		if err := configureCarriers(svc, carriersFromEnv(env(map[string]string{"ORDERLY_TABLE_RATES": path}))); err == nil ||
			!strings.Contains(err.Error(), "ORDERLY_TABLE_RATES") {
			t.Errorf("%s: %v, want an ORDERLY_TABLE_RATES error", filepath.Base(path), err)
		}
	}
}
