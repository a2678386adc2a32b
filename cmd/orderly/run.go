package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/connector/amazon"
	"github.com/orderly-oms/orderly/connector/shopify"
	"github.com/orderly-oms/orderly/connector/woocommerce"
	"github.com/orderly-oms/orderly/httpapi"
	"github.com/orderly-oms/orderly/internal/demo"
	"github.com/orderly-oms/orderly/postgres"
	"github.com/orderly-oms/orderly/secret"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/sqlite"
	"github.com/orderly-oms/orderly/store"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// the module version recorded by the go command is used.
var version = ""

const usage = `Orderly — order management system

Usage:
  orderly serve [--addr ADDR] [--db DB] [--demo]   run the API server
  orderly migrate [status] [--db DB]               apply or list schema migrations
  orderly keys create --name N --role R [--channel C] [--location L] [--db DB]
                                                   create an API key and print it once
  orderly keys list [--db DB]                      list the API keys (never their secrets)
  orderly keys revoke --name N [--db DB]           revoke an API key: it authenticates nothing more
  orderly users create --email E --role R [--location L] [--password-stdin] [--db DB]
                                                   create a console user; prints its password once
  orderly reconcile [--db DB]                      check every balance against its ledger and
                                                   reservations; exit 1 on any mismatch
  orderly secrets status|seal [--db DB]            how the stored secrets are kept; seal them all
                                                   with ORDERLY_SECRET_KEY (first key, rotation)
  orderly import orders FILE --channel C [--format csv|jsonl] [--db DB]
                                                   import orders from a CSV or JSON Lines file
                                                   (docs/api.md); exit 1 if any row failed
  orderly bench [--mode uniform|hot-sku|availability] [--clients 32] [--duration 30s]
                [--orders N] [--skus 1000] [--locations 5] [--hot-stock 100] [--json]
                [--backend sqlite|postgres --db DB | --target URL --key KEY [--server-pid PID]]
                [--baseline 10s]                   (with --target, --db names the server's database)
                                                   load-test a server (by default one started
                                                   in-process on a temporary database), then
                                                   check nothing was lost or oversold
  orderly version                                  print the version

Configuration (flags win over environment):
  --addr  ORDERLY_ADDR  listen address           (default 127.0.0.1:8080)
  --db    ORDERLY_DB    sqlite:PATH or postgres://… (default sqlite:orderly.db)
          ORDERLY_LOG_FORMAT  text or json        (default: text on a terminal, else json)
          ORDERLY_LOG_LEVEL   debug, info, warn, error (default info)
          ORDERLY_NATS_URL    publish every event to NATS JetStream (stream ORDERLY, subjects orderly.<type>)
          ORDERLY_ALLOW_PRIVATE_WEBHOOKS=1  let webhooks target loopback/private addresses (testing only)
          ORDERLY_SECRET_KEY  seal stored secrets (channel and webhook secrets, connector
                              credentials) with this key: base64 of 32 bytes (openssl rand -base64 32)
          ORDERLY_SECRET_KEY_PREVIOUS  keys that still open, comma-separated (during a rotation)
          GOGC                Go's garbage-collector target (default 200 here, Go's own is 100:
                              lower spends more CPU to hold less memory)
`

// errUsage marks a command-line mistake: exit status 2.
var errUsage = errors.New("usage")

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// run is the whole program, with its environment passed in so tests can
// run it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdin, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the command printed its flags and did nothing else
	}
	return err
}

// dispatch runs the command args name.
func dispatch(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, getenv, stdout, stderr)
	case "keys":
		sub := ""
		if len(rest) > 0 {
			sub = rest[0]
		}
		switch sub {
		case "create":
			return cmdKeysCreate(ctx, rest[1:], getenv, stdout, stderr)
		case "list":
			return cmdKeysList(ctx, rest[1:], getenv, stdout, stderr)
		case "revoke":
			return cmdKeysRevoke(ctx, rest[1:], getenv, stdout, stderr)
		}
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: keys needs a subcommand: create, list or revoke", errUsage)
	case "users":
		return cmdUsers(ctx, rest, getenv, stdin, stdout, stderr)
	case "reconcile":
		return cmdReconcile(ctx, rest, getenv, stdout, stderr)
	case "secrets":
		return cmdSecrets(ctx, rest, getenv, stdout, stderr)
	case "import":
		return cmdImport(ctx, rest, getenv, stdout, stderr)
	case "bench":
		return cmdBench(ctx, rest, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "orderly", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// newFlags returns a flag set that reports errors to stderr and a --db flag
// defaulting to ORDERLY_DB.
func newFlags(name string, getenv func(string) string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", envOr(getenv, "ORDERLY_DB", "sqlite:orderly.db"), "database: sqlite:PATH or postgres://…")
	return fs, db
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			// Printed the flags; the command must stop here (run
			// exits 0): `serve --help` used to go on and serve.
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// openStore opens the database named by dsn: "sqlite:PATH" (or a bare
// path) or a postgres:// / postgresql:// URL, with the secret keys the
// environment gives (secretKeys).
func openStore(ctx context.Context, dsn string, getenv func(string) string) (store.Store, error) {
	keys, err := secretKeys(getenv)
	if err != nil {
		return nil, err
	}
	st, err := openBackend(ctx, dsn)
	if err != nil {
		return nil, err
	}
	st.UseSecrets(keys)
	return st, nil
}

// secretKeys returns the keyring of ORDERLY_SECRET_KEY (seals) and
// ORDERLY_SECRET_KEY_PREVIOUS (comma-separated; open only, during a
// rotation), or nil when no key is set.
func secretKeys(getenv func(string) string) (*secret.Keyring, error) {
	cur := getenv("ORDERLY_SECRET_KEY")
	prev := getenv("ORDERLY_SECRET_KEY_PREVIOUS")
	if cur == "" {
		if prev != "" {
			return nil, fmt.Errorf("%w: ORDERLY_SECRET_KEY_PREVIOUS is set without ORDERLY_SECRET_KEY", errUsage)
		}
		return nil, nil
	}
	key, err := secret.ParseKey(cur)
	if err != nil {
		return nil, fmt.Errorf("%w: ORDERLY_SECRET_KEY: %w", errUsage, err)
	}
	var old [][]byte
	for p := range strings.SplitSeq(prev, ",") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		k, err := secret.ParseKey(p)
		if err != nil {
			return nil, fmt.Errorf("%w: ORDERLY_SECRET_KEY_PREVIOUS: %w", errUsage, err)
		}
		old = append(old, k)
	}
	return secret.NewKeyring(key, old...)
}

// openBackend opens the database named by dsn.
func openBackend(ctx context.Context, dsn string) (store.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return postgres.Open(ctx, dsn)
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		if path == "" {
			return nil, fmt.Errorf("%w: --db sqlite: needs a file path, e.g. sqlite:orderly.db", errUsage)
		}
		return sqlite.Open(ctx, path)
	case strings.Contains(dsn, "://"):
		return nil, fmt.Errorf("%w: --db %q: use sqlite:PATH or postgres://…", errUsage, redactDSN(dsn))
	}
	return sqlite.Open(ctx, dsn)
}

// redactDSN hides a password in a database URL before it is printed.
func redactDSN(dsn string) string {
	if at := strings.LastIndex(dsn, "@"); at > 0 {
		if scheme := strings.Index(dsn, "://"); scheme >= 0 && scheme < at {
			return dsn[:scheme+3] + "…" + dsn[at:]
		}
	}
	return dsn
}

// newLogger returns the process logger: text for a person at a terminal,
// JSON for a log collector.
func newLogger(getenv func(string) string, stderr io.Writer) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(getenv("ORDERLY_LOG_LEVEL")))
	opts := &slog.HandlerOptions{Level: level}
	format := getenv("ORDERLY_LOG_FORMAT")
	if format == "" {
		format = "json"
		if f, ok := stderr.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(stderr, opts))
}

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, db := newFlags("serve", getenv, stderr)
	addr := fs.String("addr", envOr(getenv, "ORDERLY_ADDR", "127.0.0.1:8080"), "listen address")
	withDemo := fs.Bool("demo", false, "seed an empty database with demo data")
	if err := parse(fs, args); err != nil {
		return err
	}
	log := newLogger(getenv, stderr)
	started := time.Now()

	return withStore(ctx, *db, getenv, true, func(st store.Store) error {
		return serve(ctx, st, *addr, *withDemo, log, started, stdout, outboundFromEnv(getenv))
	})
}

// serve runs the API server on st until ctx ends, then shuts it down
// gracefully.
func serve(ctx context.Context, st store.Store, addr string, withDemo bool, log *slog.Logger, started time.Time, stdout io.Writer, oc outboundConfig) error {
	if st.Backend() == "sqlite" {
		// Before anything claims or leases. SQLite serves from this one
		// process: whatever a previous process left claimed or leased
		// died with it. Release it now rather than make retries wait out
		// the staleness bound (a minute) and jobs their lease (5
		// minutes). On PostgreSQL other nodes may be running that work.
		claims, jobs, err := st.ReleaseInFlight(ctx, time.Now())
		if err != nil {
			return err
		}
		if claims > 0 || jobs > 0 {
			log.InfoContext(ctx, "released work left in flight by a previous process", "idempotency_claims", claims, "jobs", jobs)
		}
	}
	warnWithoutAutovacuum(ctx, st, log)
	if err := checkSecrets(ctx, st, log); err != nil {
		return err
	}
	if l, ok := st.(interface{ SetLogger(*slog.Logger) }); ok {
		l.SetLogger(log) // PostgreSQL's stock listener, SQLite's background checkpointer
	}
	if c, ok := st.(interface{ StockChannel() string }); ok {
		// For an operator whose own SQL changed stock: a notice of '*' on
		// this channel empties every node's availability cache
		// (docs/operations.md).
		log.InfoContext(ctx, "stock notices between nodes", "channel", c.StockChannel())
	}
	svc := service.New(st, orderly.SystemClock{}, log)
	svc.AllowPrivateWebhooks = oc.allowPrivate
	svc.EasyPostWebhookSecret = oc.easypostWebhookSecret
	if err := configureCarriers(svc, oc.carriers); err != nil {
		return err
	}
	if withDemo {
		secret, err := demo.Seed(ctx, svc)
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if secret != "" {
			// Shown once, to the operator who asked for demo data, on
			// stdout rather than in the logs.
			fmt.Fprintf(stdout, "Demo data loaded. Admin API key (shown once): %s\n", secret)
		}
	}

	reg := prometheus.NewRegistry()
	svc.OnOrderCreated = httpapi.OrderCreatedHook(reg)
	svc.Connectors = connectors()
	oc.handlers = svc.ChannelJobHandlers() // channels.go
	defer startChannelJobs(ctx, svc, log)()
	// Responses still being recorded after their answer went out
	// (Idempotency-Keys on SQLite) finish before the store closes.
	var pending sync.WaitGroup
	defer pending.Wait()
	handler := httpapi.NewHandler(svc, httpapi.Config{Logger: log, Registry: reg, Version: buildVersion(), Pending: &pending})
	handler, err := withConsole(ctx, svc, handler, log, stdout) // users.go: the console at /
	if err != nil {
		return err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// The purges write: serve waits for them before it returns, or one
	// could still hold SQLite's write lock (or a pooled connection) after
	// the store was closed — `orderly reconcile` right after a stop met
	// "database is locked".
	purgeCtx, stopPurges := context.WithCancel(ctx)
	var purges sync.WaitGroup
	defer func() {
		stopPurges()
		purges.Wait()
	}()
	purges.Go(func() { purgeIdempotencyKeys(purgeCtx, st, log) })
	purges.Go(func() { purgeWebhookDeliveries(purgeCtx, svc, log) })
	stopBackground, err := startBackground(ctx, st, log, oc)
	if err != nil {
		_ = srv.Close()
		return err
	}
	defer stopBackground()
	fmt.Fprintf(stdout, "Orderly %s listening on http://%s (database: %s)\n", buildVersion(), ln.Addr(), st.Backend())
	log.Info("serving", "addr", ln.Addr().String(), "backend", st.Backend(), "startup", time.Since(started).Round(time.Millisecond).String())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Graceful shutdown: stop accepting, let in-flight requests finish.
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	status := len(args) > 0 && args[0] == "status"
	if status {
		args = args[1:]
	}
	fs, db := newFlags("migrate", getenv, stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	return withStore(ctx, *db, getenv, !status, func(st store.Store) error {
		ms, err := st.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "MIGRATION\tAPPLIED")
		for _, m := range ms {
			applied := "pending"
			if m.AppliedAt != nil {
				applied = m.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\n", m.Name, applied)
		}
		return tw.Flush()
	})
}

func cmdKeysList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, db := newFlags("keys list", getenv, stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	return withStore(ctx, *db, getenv, true, func(st store.Store) error {
		keys, err := service.New(st, orderly.SystemClock{}, nil).ListAPIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tSCOPE\tPREFIX\tCREATED\tREVOKED")
		for _, k := range keys {
			scope := k.Channel + k.Location
			if scope == "" {
				scope = "-"
			}
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\t%s\n", k.Name, k.Role, scope, k.Prefix, k.CreatedAt.UTC().Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	})
}

func cmdKeysRevoke(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, db := newFlags("keys revoke", getenv, stderr)
	name := fs.String("name", "", "name of the key to revoke")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return fmt.Errorf("%w: keys revoke needs --name", errUsage)
	}
	return withStore(ctx, *db, getenv, true, func(st store.Store) error {
		k, err := service.New(st, orderly.SystemClock{}, nil).RevokeAPIKey(ctx, *name)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s (%s…) at %s\n", k.Name, k.Prefix, k.RevokedAt.UTC().Format(time.RFC3339))
		return nil
	})
}

func cmdKeysCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, db := newFlags("keys create", getenv, stderr)
	name := fs.String("name", "", "key name (unique)")
	role := fs.String("role", "", "role: admin, agent, warehouse, finance, viewer, channel")
	ch := fs.String("channel", "", "channel code (channel keys)")
	loc := fs.String("location", "", "location code (warehouse keys)")
	if err := parse(fs, args); err != nil {
		return err
	}
	return withStore(ctx, *db, getenv, true, func(st store.Store) error {
		svc := service.New(st, orderly.SystemClock{}, nil)
		_, secret, err := svc.CreateAPIKey(ctx, *name, auth.Role(*role), *ch, *loc)
		if err != nil {
			return err
		}
		// The key, and nothing else, on stdout: scripts capture it.
		fmt.Fprintln(stdout, secret)
		return nil
	})
}

// errMismatch makes `orderly reconcile` exit 1 after printing what differs.
var errMismatch = errors.New("the books do not balance")

func cmdReconcile(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, db := newFlags("reconcile", getenv, stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	return withStore(ctx, *db, getenv, true, func(st store.Store) error {
		mismatches, err := service.New(st, orderly.SystemClock{}, nil).CheckLedger(ctx)
		if err != nil {
			return err
		}
		if len(mismatches) == 0 {
			fmt.Fprintln(stdout, "ok: every balance equals its ledger, and reserved equals open allocations")
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LOCATION\tSKU\tON_HAND\tLEDGER_ON_HAND\tRESERVED\tLEDGER_RESERVED\tALLOCATED")
		for _, m := range mismatches {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\n", m.Location, m.SKU, m.OnHand, m.LedgerOnHand, m.Reserved, m.LedgerReserved, m.Allocated)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		return fmt.Errorf("%w: %d mismatches", errMismatch, len(mismatches))
	})
}

// withStore opens the database, applies migrations if asked, runs fn and
// closes the database.
func withStore(ctx context.Context, dsn string, getenv func(string) string, migrate bool, fn func(store.Store) error) (err error) {
	st, err := openStore(ctx, dsn, getenv)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	if migrate {
		if err := st.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return fn(st)
}

// idempotencyTTL is how long an Idempotency-Key is remembered.
const idempotencyTTL = 24 * time.Hour

// purgeIdempotencyKeys forgets idempotency records older than the TTL, at
// start and then hourly, until ctx ends. Every node may run it: the delete
// is idempotent. (It moves to the job queue when that exists.)
func purgeIdempotencyKeys(ctx context.Context, st store.Store, log *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		n, err := st.IdempotencyPurge(ctx, time.Now().Add(-idempotencyTTL))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("purge idempotency keys", "err", err)
		case n > 0:
			log.Info("purged idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// connectors registers every channel connector the program ships.
func connectors() *connector.Registry {
	r := connector.NewRegistry()
	r.Register(channel.KindShopify, shopify.Factory)
	r.Register(channel.KindWooCommerce, woocommerce.Factory)
	r.Register(channel.KindAmazon, amazon.Factory)
	return r
}

// purgeWebhookDeliveries forgets processed webhook delivery ids older than
// service.DeliveryRetention, at start and then hourly, until ctx ends.
// (It moves to the job queue when that exists.)
func purgeWebhookDeliveries(ctx context.Context, svc *service.Service, log *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		n, err := svc.PurgeWebhookDeliveries(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("purge webhook deliveries", "err", err)
		case n > 0:
			log.Info("purged webhook deliveries", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// warnWithoutAutovacuum logs a warning when st is a PostgreSQL server
// that runs without autovacuum: balances, which every reservation
// updates, and the system catalogs then only grow (this repository's CI
// server once held a million dead catalog rows), and statistics go stale
// after bulk loads. Serving goes on: the operator decides.
func warnWithoutAutovacuum(ctx context.Context, st store.Store, log *slog.Logger) {
	pg, ok := st.(interface {
		Autovacuum(context.Context) (bool, error)
	})
	if !ok {
		return
	}
	on, err := pg.Autovacuum(ctx)
	switch {
	case err != nil:
		log.WarnContext(ctx, "could not read PostgreSQL's autovacuum setting", "error", err.Error())
	case !on:
		log.WarnContext(ctx, "PostgreSQL runs with autovacuum off: stock balances and the system catalogs will bloat and "+
			"planner statistics go stale; turn it on (docs/operations.md, \"Bulk loads on PostgreSQL\")")
	}
}

// checkSecrets refuses to serve when a stored secret is sealed with a key
// this process was not given (every webhook of that channel, every push to
// it, would fail), and says what to do about secrets not sealed with the
// current key.
func checkSecrets(ctx context.Context, st store.Store, log *slog.Logger) error {
	status, err := st.SecretsStatus(ctx)
	if err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	if status.Unreadable > 0 {
		return fmt.Errorf("%d stored secrets cannot be opened with the keys this process was given (%s): "+
			"set ORDERLY_SECRET_KEY to the key that sealed them (or ORDERLY_SECRET_KEY_PREVIOUS during a rotation)",
			status.Unreadable, strings.Join(status.UnreadablePlaces, ", "))
	}
	switch {
	case status.Key == "" && status.Plain > 0:
		log.WarnContext(ctx, "secrets are stored unencrypted: set ORDERLY_SECRET_KEY, then run orderly secrets seal (docs/operations.md)",
			"secrets", status.Plain)
	case status.Key != "" && (status.Plain > 0 || status.Previous > 0):
		log.WarnContext(ctx, "secrets not sealed with the current key: run orderly secrets seal", "unencrypted", status.Plain, "previous_key", status.Previous)
	}
	return nil
}
