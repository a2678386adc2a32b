package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/internal/baseline"
	"github.com/orderly-oms/orderly/internal/loadgen"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
	"github.com/orderly-oms/orderly/store/sqlstore"
)

// errInvariant makes `orderly bench` exit 1 when a check after the run
// fails.
var errInvariant = errors.New("invariants failed")

// benchOptions are the parsed flags of `orderly bench`.
type benchOptions struct {
	target, key  string
	backend, db  string
	serverPID    int
	json         bool
	cpuProfile   string
	baseline     time.Duration
	cfg          loadgen.Config
	durationFlag bool // --duration was given
}

func parseBench(args []string, getenv func(string) string, stderr io.Writer) (*benchOptions, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &benchOptions{}
	fs.StringVar(&o.target, "target", "", "URL of a running Orderly server (default: start one in-process on a temporary database)")
	// The key's default is read after parsing, so that --help never
	// prints it.
	fs.StringVar(&o.key, "key", "", "admin API key for --target (default $ORDERLY_BENCH_KEY, which keeps it out of ps)")
	fs.StringVar(&o.backend, "backend", "", "in-process server's backend: sqlite (default) or postgres")
	// No ORDERLY_DB default: a benchmark never runs on the database the
	// environment names for the real server.
	fs.StringVar(&o.db, "db", "", "in-process server's database: sqlite:PATH (a new file) or postgres://… (a new schema in it, dropped afterwards); with --target, the server's database, read for reconcile (PostgreSQL) and written beside for --baseline")
	fs.IntVar(&o.serverPID, "server-pid", 0, "with --target on this machine: the server's process id, to report its peak RSS")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the load phase to `FILE` (in-process: server and load generator; go tool pprof FILE)")
	fs.DurationVar(&o.baseline, "baseline", 0, "first measure, this long, the bare transaction the intake targets are stated against (one order, three lines, three reservations; 8 connections) on the same backend (0: not); with --target, beside the database --db names")
	mode := fs.String("mode", string(loadgen.ModeUniform), "uniform, hot-sku or availability")
	fs.IntVar(&o.cfg.Clients, "clients", 32, "concurrent clients")
	fs.DurationVar(&o.cfg.Duration, "duration", 30*time.Second, "how long to drive load (with --orders and no --duration: until N orders)")
	fs.IntVar(&o.cfg.Requests, "orders", 0, "stop after N orders (lookups in availability mode)")
	fs.DurationVar(&o.cfg.Warmup, "warmup", 0, "drive the same load this long first, unmeasured (its answers are still checked)")
	fs.IntVar(&o.cfg.SKUs, "skus", 1000, "SKUs to seed (uniform, availability)")
	fs.IntVar(&o.cfg.Locations, "locations", 5, "locations to seed")
	fs.Int64Var(&o.cfg.HotStock, "hot-stock", 100, "units of the hot SKU (hot-sku)")
	// Not parse(): after --help a benchmark must not start.
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "duration" {
			o.durationFlag = true
		}
	})
	if o.key == "" {
		o.key = getenv("ORDERLY_BENCH_KEY")
	}
	o.cfg.Mode = loadgen.Mode(*mode)
	if o.cfg.Requests > 0 && !o.durationFlag {
		o.cfg.Duration = 0
	}
	if err := o.cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	if o.target != "" {
		switch {
		case o.backend != "":
			return nil, fmt.Errorf("%w: --target drives a running server; --backend is for the in-process one", errUsage)
		case o.db != "" && o.baseline == 0 && !isPostgresURL(o.db):
			return nil, fmt.Errorf("%w: with --target, --db names the server's database: a SQLite one for --baseline only (reconcile needs the server's own process there)", errUsage)
		case o.baseline != 0 && o.db == "":
			return nil, fmt.Errorf("%w: --baseline measures the database itself: with --target, name the server's database with --db (sqlite:PATH on its machine, or postgres://…)", errUsage)
		case o.baseline < 0:
			return nil, fmt.Errorf("%w: --baseline must not be negative", errUsage)
		case o.key == "":
			return nil, fmt.Errorf("%w: --target needs an admin API key: --key or $ORDERLY_BENCH_KEY", errUsage)
		}
		// The baseline runs beside the server's database, never in it: a
		// new SQLite file in the same directory, or a new PostgreSQL schema.
		o.backend = "sqlite"
		if isPostgresURL(o.db) {
			o.backend = "postgres"
		}
		if u, err := url.Parse(o.target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%w: --target %q: want http://host:port", errUsage, o.target)
		}
		return o, nil
	}
	if o.serverPID != 0 {
		return nil, fmt.Errorf("%w: --server-pid goes with --target; the in-process server is this process", errUsage)
	}
	if o.baseline < 0 {
		return nil, fmt.Errorf("%w: --baseline must not be negative", errUsage)
	}
	isPG := isPostgresURL(o.db)
	if o.backend == "" {
		o.backend = "sqlite"
		if isPG {
			o.backend = "postgres"
		}
	}
	switch {
	case o.backend == "postgres" && !isPG:
		return nil, fmt.Errorf("%w: --backend postgres needs --db postgres://user@host:5432/db", errUsage)
	case o.backend == "sqlite" && (isPG || strings.Contains(o.db, "://")):
		return nil, fmt.Errorf("%w: --backend sqlite takes --db sqlite:PATH", errUsage)
	case o.backend != "sqlite" && o.backend != "postgres":
		return nil, fmt.Errorf("%w: --backend %q: want sqlite or postgres", errUsage, o.backend)
	}
	return o, nil
}

// benchReport is what `orderly bench` prints; with --json its field names
// are a stable interface.
type benchReport struct {
	Mode         string                 `json:"mode"`
	Backend      string                 `json:"backend"`
	Target       string                 `json:"target,omitempty"`
	Clients      int                    `json:"clients"`
	DurationS    float64                `json:"duration_s"`
	WarmupS      float64                `json:"warmup_s,omitempty"`
	Requests     int64                  `json:"requests"`
	Orders       int64                  `json:"orders"`
	OrdersPerS   float64                `json:"orders_per_s"`
	Lookups      int64                  `json:"lookups,omitempty"`
	LookupsPerS  float64                `json:"lookups_per_s,omitempty"`
	LatencyMS    loadgen.LatencySummary `json:"latency_ms"`
	Errors       map[string]int         `json:"errors"`
	ErrorSamples map[string]string      `json:"error_samples,omitempty"`
	PeakRSSMB    *float64               `json:"peak_rss_mb"`
	PeakRSSOf    string                 `json:"peak_rss_of"`
	// CPUMSPerRequest is the CPU time the measured run cost per request,
	// of the process CPUOf names; nil where it cannot be read.
	CPUMSPerRequest *float64 `json:"cpu_ms_per_request"`
	CPUOf           string   `json:"cpu_of"`
	// TxPerCommit is, for an in-process SQLite server, how many write
	// transactions each group-commit batch held during the measured run.
	TxPerCommit *float64 `json:"tx_per_commit,omitempty"`
	// WriterBusy is, for an in-process SQLite server, the share of the
	// measured run during which the one writer was running a batch: near 1,
	// intake is as fast as the writer.
	WriterBusy *float64 `json:"writer_busy,omitempty"`
	// Baseline is the bare transaction's rate on the same backend
	// (--baseline), and IntakeOfBaseline orders_per_s as a share of it.
	Baseline         *baselineReport  `json:"baseline,omitempty"`
	IntakeOfBaseline *float64         `json:"intake_of_baseline,omitempty"`
	Seed             seedReport       `json:"seed"`
	VerifyS          float64          `json:"verify_s"`
	Invariants       invariantsReport `json:"invariants"`
}

type baselineReport struct {
	TransactionsPerS float64 `json:"transactions_per_s"`
	Transactions     int64   `json:"transactions"`
	Connections      int     `json:"connections"`
	DurationS        float64 `json:"duration_s"`
	Retries          int64   `json:"retries"`
}

type seedReport struct {
	Prefix    string  `json:"prefix"`
	SKUs      int     `json:"skus"`
	Locations int     `json:"locations"`
	Balances  int     `json:"balances"`
	Seconds   float64 `json:"seconds"`
}

type invariantsReport struct {
	*loadgen.Invariants
	// Reconcile is "ok", "mismatch" or "not run: …".
	Reconcile string `json:"reconcile"`
}

// target is the server under load: where it is, its admin key, and — for
// an in-process server — its store and how to stop it.
type target struct {
	base, key, backend string
	st                 store.Store // nil for --target
	// ledger is where reconcile reads: st, or with --target the
	// PostgreSQL database --db names; nil if neither.
	ledger store.Store
	close  func() error
}

// isPostgresURL reports whether a --db value names a PostgreSQL database.
func isPostgresURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

func cmdBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	o, err := parseBench(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	progress := func(format string, args ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", args...) }
	o.cfg.Progress = progress

	var base *baselineReport
	if o.baseline > 0 {
		progress("measuring the baseline on %s for %s", o.backend, o.baseline)
		if base, err = runBaseline(ctx, o); err != nil {
			return err
		}
		progress("baseline: %.1f bare transactions/s", base.TransactionsPerS)
	}
	var tg *target
	if o.target != "" {
		tg, err = remoteTarget(ctx, o, getenv)
	} else {
		tg, err = startInProcess(ctx, o, getenv, stderr)
	}
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, tg.close()) }()

	client := loadgen.NewClient(tg.base, tg.key, o.cfg.Clients)
	defer client.Close()
	prefix := loadgen.NewPrefix()
	progress("seeding %s on %s (%s)", prefix, tg.base, tg.backend)
	fx, err := loadgen.Seed(ctx, client, o.cfg, prefix)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	progress("seeded %d SKUs × %d locations (%d balances) in %s; running %s with %d clients",
		len(fx.SKUs), len(fx.Locations), fx.Balances, fx.SeedTime.Round(time.Millisecond), o.cfg.Mode, o.cfg.Clients)
	stopProfile, err := startCPUProfile(o.cpuProfile)
	if err != nil {
		return err
	}
	meter := newCostMeter(tg, o.serverPID)
	o.cfg.OnMeasure = meter.start
	res, err := loadgen.Run(ctx, client, fx, o.cfg)
	meter.stop()
	if perr := stopProfile(); perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	// The load's figures first: verification can take a while on a large
	// data set, and the report comes only after it.
	lat := res.Latency.Summary()
	progress("load done: %d requests in %s, %.1f answered per second, p50 %.2f ms, p99 %.2f ms; verifying %d orders",
		res.Requests, res.Elapsed.Round(time.Millisecond), res.Rate(), lat.P50, lat.P99, len(res.Orders))
	inv := loadgen.Verify(ctx, client, fx, o.cfg, res)

	rep := &benchReport{
		Mode: string(o.cfg.Mode), Backend: tg.backend, Target: o.target, Clients: o.cfg.Clients,
		DurationS: round(res.Elapsed.Seconds(), 3), WarmupS: o.cfg.Warmup.Seconds(), Requests: res.Requests,
		LatencyMS: res.Latency.Summary(), Errors: res.Errors, ErrorSamples: res.ErrorSamples,
		Seed:    seedReport{Prefix: fx.Prefix, SKUs: len(fx.SKUs), Locations: len(fx.Locations), Balances: fx.Balances, Seconds: round(fx.SeedTime.Seconds(), 3)},
		VerifyS: round(inv.VerifyTime.Seconds(), 3),
	}
	if o.cfg.Mode == loadgen.ModeAvailability {
		rep.Lookups, rep.LookupsPerS = res.Created, round(res.Rate(), 1)
	} else {
		rep.Orders, rep.OrdersPerS = res.Created, round(res.Rate(), 1)
	}
	rep.PeakRSSOf = meter.of
	if meter.pid >= 0 {
		setRSS(rep, meter.pid)
	}
	meter.report(rep, res.Requests)
	if base != nil {
		rep.Baseline = base
		if rep.OrdersPerS > 0 && base.TransactionsPerS > 0 {
			r := round(rep.OrdersPerS/base.TransactionsPerS, 3)
			rep.IntakeOfBaseline = &r
		}
	}
	rep.Invariants = invariantsReport{Invariants: inv}
	if tg.ledger != nil {
		mismatches, err := service.New(tg.ledger, orderly.SystemClock{}, nil).CheckLedger(ctx)
		switch {
		case err != nil:
			inv.Fail("reconcile: %v", err)
			rep.Invariants.Reconcile = "error"
		case len(mismatches) > 0:
			inv.Fail("reconcile: %d balances differ from their ledger or reservations, e.g. %s at %s", len(mismatches), mismatches[0].SKU, mismatches[0].Location)
			rep.Invariants.Reconcile = "mismatch"
		default:
			inv.Pass("reconcile: every balance equals its ledger, and reserved equals open allocations")
			rep.Invariants.Reconcile = "ok"
		}
	} else {
		rep.Invariants.Reconcile = "not run: it needs the database; give a PostgreSQL server's --db, or run `orderly reconcile --db …` where the server runs"
		inv.Skip("reconcile: not possible over the API; give a PostgreSQL server's --db, or run `orderly reconcile --db …` against the server's database")
	}

	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := printBench(stdout, rep); err != nil {
		return err
	}
	if !inv.OK {
		return errInvariant
	}
	return nil
}

func setRSS(rep *benchReport, pid int) {
	if b, ok := loadgen.PeakRSS(pid); ok {
		mb := round(float64(b)/(1<<20), 1)
		rep.PeakRSSMB = &mb
	} else {
		rep.PeakRSSOf = "unknown: " + rep.PeakRSSOf + " (/proc not readable)"
	}
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// printBench prints the report for a person.
func printBench(w io.Writer, r *benchReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	where := r.Backend + ", in-process"
	if r.Target != "" {
		where = r.Target + " (" + r.Backend + ")"
	}
	fmt.Fprintf(tw, "mode\t%s\n", r.Mode)
	fmt.Fprintf(tw, "server\t%s\n", where)
	fmt.Fprintf(tw, "seed\t%d SKUs × %d locations, %d balances, in %.1f s (prefix %s)\n", r.Seed.SKUs, r.Seed.Locations, r.Seed.Balances, r.Seed.Seconds, r.Seed.Prefix)
	warm := ""
	if r.WarmupS > 0 {
		warm = fmt.Sprintf(" after %.1f s of warm-up", r.WarmupS)
	}
	fmt.Fprintf(tw, "load\t%d clients for %.1f s%s, %d requests\n", r.Clients, r.DurationS, warm, r.Requests)
	if r.Mode == string(loadgen.ModeAvailability) {
		fmt.Fprintf(tw, "lookups/s\t%.1f\t(%d lookups of %d SKUs answered 200)\n", r.LookupsPerS, r.Lookups, loadgen.MaxAvailabilitySKUs)
	} else {
		fmt.Fprintf(tw, "orders/s\t%.1f\t(%d orders answered 201)\n", r.OrdersPerS, r.Orders)
	}
	l := r.LatencyMS
	fmt.Fprintf(tw, "latency ms\tp50 %.2f\tp95 %.2f\tp99 %.2f\tmax %.2f\n", l.P50, l.P95, l.P99, l.Max)
	if len(r.Errors) == 0 {
		fmt.Fprintf(tw, "errors\tnone\n")
	} else {
		keys := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(tw, "errors\t%s: %d\t%s\n", k, r.Errors[k], oneLine(r.ErrorSamples[k], 100))
		}
	}
	if r.PeakRSSMB != nil {
		fmt.Fprintf(tw, "peak RSS\t%.1f MB\t(%s)\n", *r.PeakRSSMB, r.PeakRSSOf)
	} else {
		fmt.Fprintf(tw, "peak RSS\t%s\n", r.PeakRSSOf)
	}
	if r.CPUMSPerRequest != nil {
		fmt.Fprintf(tw, "cpu\t%.3f ms per request\t(%s)\n", *r.CPUMSPerRequest, r.CPUOf)
	} else {
		fmt.Fprintf(tw, "cpu\t%s\n", r.CPUOf)
	}
	if r.TxPerCommit != nil {
		fmt.Fprintf(tw, "group commit\t%.1f transactions per COMMIT", *r.TxPerCommit)
		if r.WriterBusy != nil {
			fmt.Fprintf(tw, "; the writer busy %.0f%% of the run", 100**r.WriterBusy)
		}
		fmt.Fprintln(tw)
	}
	if b := r.Baseline; b != nil {
		fmt.Fprintf(tw, "baseline\t%.1f bare transactions/s\t(one order, 3 lines, 3 reservations, a COMMIT each; %d connections, %.1f s)", b.TransactionsPerS, b.Connections, b.DurationS)
		if r.IntakeOfBaseline != nil {
			fmt.Fprintf(tw, ": intake at %.0f%% of it", 100**r.IntakeOfBaseline)
		}
		fmt.Fprintln(tw)
	}
	verdict := "ok"
	if !r.Invariants.OK {
		verdict = "FAILED"
	}
	fmt.Fprintf(tw, "invariants\t%s\t(checked in %.1f s)\n", verdict, r.VerifyS)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, d := range r.Invariants.Details {
		fmt.Fprintf(w, "  %s\n", d)
	}
	return nil
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// remoteTarget checks that the server at --target answers and the key is
// an admin's, and names its backend.
func remoteTarget(ctx context.Context, o *benchOptions, getenv func(string) string) (*target, error) {
	base := strings.TrimRight(o.target, "/")
	c := loadgen.NewClient(base, o.key, 1)
	defer c.Close()
	status, raw, err := c.Do(ctx, http.MethodGet, "/readyz", nil, "")
	if err != nil {
		return nil, fmt.Errorf("--target %s: %w", base, err)
	}
	var h struct {
		Backend string `json:"backend"`
	}
	if status != http.StatusOK || json.Unmarshal(raw, &h) != nil {
		return nil, fmt.Errorf("--target %s: /readyz answered %d", base, status)
	}
	// Is the key known? (Whether it is an admin's shows when seeding.)
	if status, _, err := c.Do(ctx, http.MethodGet, "/api/v1/channels?limit=1", nil, ""); err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("--target %s: the key was refused (HTTP %d); bench needs an admin key", base, status)
	}
	if h.Backend == "" {
		h.Backend = "unknown"
	}
	tg := &target{base: base, key: o.key, backend: h.Backend, close: func() error { return nil }}
	if isPostgresURL(o.db) {
		// Reconcile reads the server's database; nothing is written there.
		st, err := openStore(ctx, o.db, getenv)
		if err != nil {
			return nil, fmt.Errorf("--db: %w", err)
		}
		tg.ledger, tg.close = st, st.Close
	}
	return tg, nil
}

// startInProcess starts `orderly serve` in this process on a fresh
// database — a SQLite file in a new temporary directory, a new SQLite
// file the user named, or a new schema in the user's PostgreSQL database —
// creates an admin key and returns the running server. close stops the
// server and removes what was created (but not a file the user named).
func startInProcess(ctx context.Context, o *benchOptions, getenv func(string) string, stderr io.Writer) (_ *target, err error) {
	var cleanups []func() error
	cleanup := func() error {
		var errs []error
		for _, f := range slices.Backward(cleanups) {
			errs = append(errs, f())
		}
		cleanups = nil
		return errors.Join(errs...)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, cleanup())
		}
	}()

	var dsn string
	switch {
	case o.backend == "postgres":
		u, drop, err := freshSchema(ctx, o.db)
		if err != nil {
			return nil, err
		}
		cleanups = append(cleanups, drop)
		dsn = u
	case o.db != "":
		path := strings.TrimPrefix(strings.TrimPrefix(o.db, "sqlite:"), "//")
		// #nosec G703 -- the operator's own path, only looked at
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return nil, fmt.Errorf("%w: --db %s exists: bench runs on a new database only (or use --target)", errUsage, path)
		}
		dsn = "sqlite:" + path
	default:
		dir, err := os.MkdirTemp("", "orderly-bench-*")
		if err != nil {
			return nil, err
		}
		cleanups = append(cleanups, func() error { return os.RemoveAll(dir) })
		dsn = "sqlite:" + filepath.Join(dir, "bench.db")
	}

	st, err := openStore(ctx, dsn, getenv)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	cleanups = append(cleanups, st.Close)
	if err := st.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	_, key, err := service.New(st, orderly.SystemClock{}, nil).CreateAPIKey(ctx, "bench-admin-"+hex.EncodeToString(b[:]), auth.RoleAdmin, "", "")
	if err != nil {
		return nil, fmt.Errorf("create admin key: %w", err)
	}

	// The server logs warnings and errors only, unless asked otherwise:
	// one line per request would drown the report.
	logEnv := func(k string) string {
		if v := getenv(k); v != "" || k != "ORDERLY_LOG_LEVEL" {
			return v
		}
		return "warn"
	}
	serveCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := serve(serveCtx, st, "127.0.0.1:0", false, newLogger(logEnv, stderr), time.Now(), pw, outboundConfig{})
		pw.CloseWithError(fmt.Errorf("server stopped: %w", err))
		done <- err
	}()
	stopServer := func() error {
		stop()
		return <-done
	}
	sc := bufio.NewScanner(pr)
	var base string
	listening := regexp.MustCompile(`listening on (http://\S+)`)
	for base == "" && sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		stop()
		return nil, fmt.Errorf("in-process server did not start: %w", errors.Join(sc.Err(), <-done))
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	// The server stops before the database closes (cleanups run last
	// first).
	cleanups = append(cleanups, stopServer)
	return &target{base: base, key: key, backend: st.Backend(), st: st, ledger: st, close: cleanup}, nil
}

// baselineConns is the connections of the bare transaction: the
// intake issue's reference figures were measured on 8.
const baselineConns = 8

// runBaseline measures the bare transaction (package baseline) on a new
// database of o's backend: a SQLite file beside the one the server will
// use (the same file system), or a new schema in o's PostgreSQL database;
// both are removed afterwards.
func runBaseline(ctx context.Context, o *benchOptions) (_ *baselineReport, err error) {
	var db *sql.DB
	var dia baseline.Dialect
	// No := below: the deferred clean-ups join their errors to the result.
	if o.backend == "postgres" {
		var u string
		var drop func() error
		if u, drop, err = freshSchema(ctx, o.db); err != nil {
			return nil, err
		}
		defer func() { err = errors.Join(err, drop()) }()
		if db, dia, err = baseline.OpenPostgres(ctx, u, baselineConns); err != nil {
			return nil, err
		}
	} else {
		parent := ""
		if o.db != "" {
			parent = filepath.Dir(strings.TrimPrefix(strings.TrimPrefix(o.db, "sqlite:"), "//"))
		}
		var dir string
		if dir, err = os.MkdirTemp(parent, "orderly-baseline-*"); err != nil {
			return nil, err
		}
		// #nosec G703 -- a directory this function just created
		defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
		if db, dia, err = baseline.OpenSQLite(ctx, filepath.Join(dir, "baseline.db"), baselineConns); err != nil {
			return nil, err
		}
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	res, err := baseline.Run(ctx, db, dia, baseline.Config{Conns: baselineConns, Duration: o.baseline})
	if err != nil {
		return nil, err
	}
	return &baselineReport{TransactionsPerS: round(res.Rate(), 1), Transactions: res.Transactions, Connections: res.Conns,
		DurationS: round(res.Elapsed.Seconds(), 3), Retries: res.Retries}, nil
}

// freshSchema creates a new, empty schema in the PostgreSQL database at
// dbURL and returns a URL whose connections use it as their search_path,
// and a function that drops it. Nothing else in the database is touched.
func freshSchema(ctx context.Context, dbURL string) (string, func() error, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", nil, fmt.Errorf("%w: --db is not a URL", errUsage)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "orderly_bench_" + hex.EncodeToString(b[:])
	// One plain connection for CREATE and DROP: without the pool's own
	// parameters, which a single connection would send to the server.
	au := *u
	aq := u.Query()
	for k := range aq {
		if strings.HasPrefix(k, "pool_") {
			aq.Del(k)
		}
	}
	au.RawQuery = aq.Encode()
	adminURL := au.String()
	admin := func(ctx context.Context, stmt string) error {
		c, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return fmt.Errorf("connect to %s: %w", redactDSN(dbURL), err)
		}
		defer func() { _ = c.Close(ctx) }()
		_, err = c.Exec(ctx, stmt)
		return err
	}
	if err := admin(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := admin(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	return u.String(), drop, nil
}

// startCPUProfile starts a CPU profile into the file at path (none when
// path is empty) and returns what stops it and closes the file.
func startCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path) // #nosec G304 -- the operator names the profile file on the command line
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// costMeter takes the readings of what the measured run cost: the CPU
// time of the process that serves and, for an in-process SQLite server,
// the group-commit batches.
type costMeter struct {
	// pid is the serving process (0: this one, in-process; -1: unknown,
	// a --target without --server-pid), and of says which it is.
	pid        int
	of         string
	commits    groupCommitter
	cpu0, cpu1 time.Duration
	ok         bool
	g0, g1     sqlstore.GroupCommitStats
	t0, t1     time.Time // the measured run's wall clock
}

// groupCommitter is a store that batches write transactions (SQLite's).
type groupCommitter interface {
	GroupCommitStats() sqlstore.GroupCommitStats
}

func newCostMeter(tg *target, serverPID int) *costMeter {
	m := &costMeter{}
	switch {
	case tg.st != nil:
		m.of = "this process: the in-process server and the load generator together"
		m.commits, _ = tg.st.(groupCommitter)
	case serverPID > 0:
		m.pid, m.of = serverPID, fmt.Sprintf("server process %d", serverPID)
	default:
		m.pid, m.of = -1, "unknown: give --server-pid for a server on this machine"
	}
	return m
}

func (m *costMeter) start() {
	if m.pid >= 0 {
		m.cpu0, m.ok = loadgen.ProcessCPU(m.pid)
	}
	if m.commits != nil {
		m.g0 = m.commits.GroupCommitStats()
	}
	m.t0 = time.Now()
}

func (m *costMeter) stop() {
	if m.ok {
		m.cpu1, m.ok = loadgen.ProcessCPU(m.pid)
	}
	m.t1 = time.Now()
	if m.commits != nil {
		m.g1 = m.commits.GroupCommitStats()
	}
}

func (m *costMeter) report(rep *benchReport, requests int64) {
	rep.CPUOf = m.of
	if m.ok && requests > 0 {
		ms := round(float64(m.cpu1-m.cpu0)/float64(time.Millisecond)/float64(requests), 3)
		rep.CPUMSPerRequest = &ms
	} else if m.pid >= 0 {
		rep.CPUOf = "unknown: " + m.of + " (/proc not readable)"
	}
	if b := m.g1.Batches - m.g0.Batches; b > 0 {
		tx := round(float64(m.g1.Transactions-m.g0.Transactions)/float64(b), 1)
		rep.TxPerCommit = &tx
		if wall := m.t1.Sub(m.t0); wall > 0 {
			busy := round(float64(m.g1.Busy-m.g0.Busy)/float64(wall), 2)
			rep.WriterBusy = &busy
		}
	}
}
