package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/orderly-oms/orderly/internal/dbtest"
)

// benchJSON is the part of `orderly bench --json` the tests read.
type benchJSON struct {
	Mode            string             `json:"mode"`
	Backend         string             `json:"backend"`
	Requests        int64              `json:"requests"`
	WarmupS         float64            `json:"warmup_s"`
	Orders          int64              `json:"orders"`
	OrdersPerS      float64            `json:"orders_per_s"`
	Lookups         int64              `json:"lookups"`
	Errors          map[string]int     `json:"errors"`
	PeakRSSMB       *float64           `json:"peak_rss_mb"`
	CPUMSPerRequest *float64           `json:"cpu_ms_per_request"`
	CPUOf           string             `json:"cpu_of"`
	TxPerCommit     *float64           `json:"tx_per_commit"`
	WriterBusy      *float64           `json:"writer_busy"`
	LatencyMS       map[string]float64 `json:"latency_ms"`
	Baseline        *struct {
		TransactionsPerS float64 `json:"transactions_per_s"`
		Transactions     int64   `json:"transactions"`
		Connections      int     `json:"connections"`
	} `json:"baseline"`
	IntakeOfBaseline *float64 `json:"intake_of_baseline"`
	Invariants       struct {
		OK            bool     `json:"ok"`
		Details       []string `json:"details"`
		OrdersFetched int      `json:"orders_fetched"`
		OnHold        int      `json:"orders_on_hold"`
		Allocated     int64    `json:"units_allocated"`
		Reconcile     string   `json:"reconcile"`
	} `json:"invariants"`
}

// bench runs `orderly bench --json args…` in-process and decodes its report.
func bench(t *testing.T, args ...string) benchJSON {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"bench", "--json"}, args...), func(string) string { return "" },
		strings.NewReader(""), &out, &errOut)
	var r benchJSON
	if jerr := json.Unmarshal(out.Bytes(), &r); jerr != nil {
		t.Fatalf("bench %v: %v; output is not JSON (%v):\n%s\n%s", args, err, jerr, out.String(), errOut.String())
	}
	if err != nil || !r.Invariants.OK {
		t.Fatalf("bench %v: %v\n%s\n%s", args, err, out.String(), errOut.String())
	}
	if l := r.LatencyMS; l["max"] <= 0 || l["p50"] > l["p95"] || l["p95"] > l["p99"] || l["p99"] > l["max"] {
		t.Fatalf("bench %v: latencies out of order: %v", args, l)
	}
	if r.Invariants.Reconcile != "ok" {
		t.Fatalf("bench %v: reconcile %q", args, r.Invariants.Reconcile)
	}
	return r
}

// TestBench runs each mode briefly on an in-process server and checks
// only correctness: no figure is asserted.
func TestBench(t *testing.T) {
	backends := map[string]func(t *testing.T) []string{
		"sqlite":   func(*testing.T) []string { return nil },
		"postgres": func(t *testing.T) []string { return []string{"--backend", "postgres", "--db", dbtest.PostgresURL(t)} },
	}
	for name, db := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dbArgs := db(t)
			t.Run("uniform", func(t *testing.T) {
				r := bench(t, append(dbArgs, "--mode", "uniform", "--clients", "4", "--duration", "2s", "--skus", "100", "--locations", "2")...)
				if r.Mode != "uniform" || r.Backend != name || r.Orders == 0 || r.Invariants.OrdersFetched != int(r.Orders) {
					t.Fatalf("uniform: %+v", r)
				}
				if r.PeakRSSMB == nil || *r.PeakRSSMB <= 0 {
					t.Errorf("uniform: no peak RSS for the in-process server")
				}
				if r.CPUMSPerRequest == nil || *r.CPUMSPerRequest <= 0 {
					t.Errorf("uniform: no CPU per request for the in-process server (%s)", r.CPUOf)
				}
				// Only SQLite batches write transactions; every capture
				// is one, so a batch holds at least one.
				if got := r.TxPerCommit != nil; got != (name == "sqlite") || got && *r.TxPerCommit < 1 {
					t.Errorf("uniform on %s: transactions per COMMIT %v", name, r.TxPerCommit)
				}
				// The writer ran batches for part of the run, and not for
				// more than all of it.
				if got := r.WriterBusy != nil; got != (name == "sqlite") || got && (*r.WriterBusy <= 0 || *r.WriterBusy > 1.01) {
					t.Errorf("uniform on %s: writer busy %v", name, r.WriterBusy)
				}
				if r.Baseline != nil || r.IntakeOfBaseline != nil {
					t.Errorf("uniform on %s: a baseline without --baseline", name)
				}
			})
			t.Run("baseline", func(t *testing.T) {
				r := bench(t, append(dbArgs, "--baseline", "300ms", "--mode", "uniform", "--clients", "4", "--duration", "1s", "--skus", "100", "--locations", "2")...)
				b := r.Baseline
				if b == nil || b.Transactions == 0 || b.Connections != 8 || b.TransactionsPerS <= 0 {
					t.Fatalf("baseline on %s: %+v", name, b)
				}
				if r.IntakeOfBaseline == nil || *r.IntakeOfBaseline != math.Round(1000*r.OrdersPerS/b.TransactionsPerS)/1000 {
					t.Errorf("baseline on %s: intake %v of it, orders/s %v", name, r.IntakeOfBaseline, r.OrdersPerS)
				}
			})
			t.Run("warm-up", func(t *testing.T) {
				// The warm-up's orders are verified too, but not counted.
				r := bench(t, append(dbArgs, "--mode", "uniform", "--clients", "4", "--warmup", "1s", "--duration", "1s", "--skus", "100", "--locations", "2")...)
				if r.WarmupS != 1 || r.Orders == 0 || r.Invariants.OrdersFetched <= int(r.Orders) {
					t.Fatalf("warm-up: %v s, %d orders measured, %d verified; want 1 s and more verified than measured",
						r.WarmupS, r.Orders, r.Invariants.OrdersFetched)
				}
			})
			t.Run("hot-sku", func(t *testing.T) {
				r := bench(t, append(dbArgs, "--mode", "hot-sku", "--clients", "16", "--orders", "200", "--hot-stock", "50")...)
				if r.Orders != 200 || r.Invariants.Allocated != 50 || r.Invariants.OnHold != 150 || len(r.Errors) != 0 {
					t.Fatalf("hot-sku: %d orders, %d units allocated, %d on hold, errors %v; want 200, exactly 50, 150, none",
						r.Orders, r.Invariants.Allocated, r.Invariants.OnHold, r.Errors)
				}
			})
			t.Run("availability", func(t *testing.T) {
				r := bench(t, append(dbArgs, "--mode", "availability", "--clients", "4", "--duration", "1s", "--skus", "100", "--locations", "3")...)
				if r.Lookups == 0 || r.Orders != 0 {
					t.Fatalf("availability: %+v", r)
				}
			})
		})
	}
}

// TestBenchText checks the report for a person on a tiny run.
func TestBenchText(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := run(context.Background(), []string{"bench", "--mode", "hot-sku", "--orders", "20", "--hot-stock", "5", "--clients", "4", "--baseline", "100ms"},
		func(string) string { return "" }, strings.NewReader(""), &out, io.Discard)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	for _, want := range []string{"orders/s", "latency ms", "p99", "peak RSS", "ms per request", "transactions per COMMIT", "the writer busy", "exactly 5 units allocated", "bare transactions/s", "% of it"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if !regexp.MustCompile(`(?m)^invariants +ok`).MatchString(out.String()) {
		t.Errorf("report lacks the invariants' verdict ok:\n%s", out.String())
	}
}

func TestBenchUsage(t *testing.T) {
	t.Parallel()
	existing := filepath.Join(t.TempDir(), "mine.db")
	if err := os.WriteFile(existing, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--mode", "chaos"},
		{"--clients", "0"},
		{"--target", "http://127.0.0.1:1"}, // no key
		{"--target", "http://127.0.0.1:1", "--key", "k", "--db", "x.db"}, // target and database, no baseline
		{"--target", "http://127.0.0.1:1", "--key", "k", "--backend", "sqlite"},
		{"--target", "ftp://x", "--key", "k"},
		{"--server-pid", "1"},
		{"--target", "http://127.0.0.1:1", "--key", "k", "--baseline", "1s"}, // baseline needs the database
		{"--target", "http://127.0.0.1:1", "--key", "k", "--baseline", "-1s", "--db", "sqlite:x.db"},
		{"--baseline", "-1s"},
		{"--backend", "postgres"},
		{"--backend", "oracle"},
		{"--db", "sqlite:" + existing},
		{"--duration", "0s"},
	} {
		err := run(context.Background(), append([]string{"bench"}, args...), func(string) string { return "" },
			strings.NewReader(""), io.Discard, io.Discard)
		if exitCode(err) != 2 {
			t.Errorf("bench %v: %v, want a usage error", args, err)
		}
	}
	if b, _ := os.ReadFile(existing); string(b) != "precious" {
		t.Fatal("bench touched an existing database file")
	}
	// --help prints the flags and starts nothing.
	var help bytes.Buffer
	if err := run(context.Background(), []string{"bench", "--help"}, func(string) string { return "secret-key" },
		strings.NewReader(""), io.Discard, &help); err != nil || !strings.Contains(help.String(), "-hot-stock") ||
		strings.Contains(help.String(), "secret-key") {
		t.Fatalf("bench --help: %v\n%s", err, help.String())
	}
	// An unreachable target is an ordinary error, not a usage one.
	err := run(context.Background(), []string{"bench", "--target", "http://127.0.0.1:1", "--key", "k"}, func(string) string { return "" },
		strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || errors.Is(err, errUsage) {
		t.Fatalf("unreachable target: %v", err)
	}
}

// TestBenchTargetBaseline: against a running server, --baseline measures
// the bare transaction beside the database --db names — a new file in its
// directory — and leaves the server's database as it was.
func TestBenchTargetBaseline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "served.db")
	s := start(t, "--db", "sqlite:"+db, "--demo")
	if s.key == "" {
		t.Fatal("the demo printed no admin key")
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"bench", "--json", "--target", s.base, "--key", s.key, "--db", "sqlite:" + db,
		"--baseline", "300ms", "--mode", "uniform", "--clients", "4", "--orders", "30", "--skus", "50", "--locations", "2"},
		noEnv, strings.NewReader(""), &out, &errOut)
	var r benchJSON
	if jerr := json.Unmarshal(out.Bytes(), &r); err != nil || jerr != nil {
		t.Fatalf("bench --target --baseline: %v, %v\n%s\n%s", err, jerr, out.String(), errOut.String())
	}
	// The orders are checked over the API; reconcile needs the server's
	// own process (one SQLite writer) and is not run from here.
	if r.Baseline == nil || r.Baseline.TransactionsPerS <= 0 || r.IntakeOfBaseline == nil || r.Orders != 30 || !r.Invariants.OK {
		t.Fatalf("bench --target --baseline: %+v", r)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "orderly-baseline-") {
			t.Errorf("the baseline left %s beside the server's database", e.Name())
		}
	}
}

// TestBenchTargetReconcile: against a running server on PostgreSQL, --db
// names its database and the invariants include reconcile.
func TestBenchTargetReconcile(t *testing.T) {
	t.Parallel()
	db := dbtest.PostgresURL(t)
	s := start(t, "--db", db, "--demo")
	if s.key == "" {
		t.Fatal("the demo printed no admin key")
	}
	r := bench(t, "--target", s.base, "--key", s.key, "--db", db,
		"--mode", "uniform", "--clients", "4", "--orders", "30", "--skus", "50", "--locations", "2")
	if r.Orders != 30 || r.Baseline != nil {
		t.Fatalf("bench --target --db: %+v", r)
	}
}
