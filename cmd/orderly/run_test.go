package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/store"
)

// server is a running `orderly serve`, started by run in-process.
type server struct {
	base   string
	key    string // the demo admin key, if this start seeded demo data
	cancel context.CancelFunc
	done   chan error
}

var listenRE = regexp.MustCompile(`listening on (http://\S+)`)
var keyRE = regexp.MustCompile(`Admin API key \(shown once\): (\S+)`)

// start runs `orderly serve` with args and waits until it listens.
func start(t *testing.T, args ...string) *server {
	t.Helper()
	return startEnv(t, nil, args...)
}

// startEnv is start with environment variables for the server.
func startEnv(t *testing.T, env map[string]string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &server{cancel: cancel, done: make(chan error, 1)}
	getenv := func(k string) string {
		if k == "ORDERLY_LOG_FORMAT" {
			return "json"
		}
		return env[k]
	}
	go func() {
		err := run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), getenv, strings.NewReader(""), pw, io.Discard)
		pw.CloseWithError(fmt.Errorf("run returned: %w", err))
		s.done <- err
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if m := keyRE.FindStringSubmatch(line); m != nil {
			s.key = m[1]
		}
		if m := listenRE.FindStringSubmatch(line); m != nil {
			s.base = m[1]
			break
		}
	}
	if s.base == "" {
		cancel()
		t.Fatalf("server did not start: %v", sc.Err())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop shuts the server down gracefully and checks that run returned nil.
func (s *server) stop(t *testing.T) {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("server did not shut down")
	}
}

func (s *server) do(t *testing.T, method, path, key string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// TestEndToEnd starts Orderly on a fresh database with demo data, drives the
// API over HTTP, restarts it on the same database and checks that nothing
// was lost and nothing was seeded twice.
func TestEndToEnd(t *testing.T) {
	backends := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "orderly.db") },
		"postgres": func(t *testing.T) string { return dbtest.PostgresURL(t) },
	}
	for name, dbURL := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := dbURL(t)
			s := start(t, "--db", db, "--demo")
			if s.key == "" {
				t.Fatal("demo start printed no admin key")
			}
			if code, _ := s.do(t, "GET", "/healthz", "", nil); code != 200 {
				t.Fatalf("healthz %d", code)
			}
			if code, _ := s.do(t, "GET", "/readyz", "", nil); code != 200 {
				t.Fatalf("readyz %d", code)
			}
			if code, _ := s.do(t, "GET", "/api/v1/orders", "", nil); code != 401 {
				t.Fatalf("orders without a key: %d, want 401", code)
			}
			code, list := s.do(t, "GET", "/api/v1/orders?limit=100", s.key, nil)
			if code != 200 || len(list["items"].([]any)) != 48 {
				t.Fatalf("demo orders: %d, %v", code, list["items"] != nil)
			}
			newOrder := map[string]any{
				"channel": "web", "external_id": "E2E-1", "currency": "GBP",
				"customer":         map[string]any{"name": "Grace Hopper", "email": "grace@example.com"},
				"shipping_address": map[string]any{"line1": "1 Navy Way", "city": "Leeds", "country": "GB"},
				"lines":            []any{map[string]any{"sku": "TEE-BLK-M", "quantity": 2, "unit_price": 2500, "tax": 1000}},
			}
			code, created := s.do(t, "POST", "/api/v1/orders", s.key, newOrder)
			if code != 201 {
				t.Fatalf("create: %d %v", code, created)
			}
			number := fmt.Sprint(int64(created["number"].(float64)))
			if code, _ := s.do(t, "POST", "/api/v1/orders", s.key, newOrder); code != 200 {
				t.Fatalf("repeat create: %d, want 200", code)
			}
			if code, body := s.do(t, "POST", "/api/v1/orders/"+number+"/hold", s.key, map[string]any{"reason": "check"}); code != 200 || body["status"] != "on_hold" {
				t.Fatalf("hold: %d %v", code, body)
			}
			if code, _ := s.do(t, "POST", "/api/v1/orders/"+number+"/release", s.key, map[string]any{}); code != 200 {
				t.Fatalf("release: %d", code)
			}
			if code, _ := s.do(t, "POST", "/api/v1/orders/"+number+"/release", s.key, map[string]any{}); code != 409 {
				t.Fatalf("second release: %d, want 409", code)
			}
			if code, doc := s.do(t, "GET", "/api/v1/openapi.json", "", nil); code != 200 || doc["openapi"] != "3.1.0" {
				t.Fatalf("openapi: %d %v", code, doc["openapi"])
			}
			resp, err := http.Get(s.base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			metrics, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(metrics), `orderly_orders_created_total{channel="web"}`) {
				t.Fatalf("metrics lack orders created by channel:\n%.2000s", metrics)
			}
			s.stop(t)

			var out bytes.Buffer
			if err := run(context.Background(), []string{"reconcile", "--db", db}, func(string) string { return "" },
				strings.NewReader(""), &out, io.Discard); err != nil {
				t.Fatalf("reconcile after the demo: %v\n%s", err, out.String())
			}

			// Restart on the same database: the order is there, the demo
			// data was not seeded again, the key still works.
			s2 := start(t, "--db", db, "--demo")
			if s2.key != "" {
				t.Fatal("second start seeded demo data again")
			}
			code, got := s2.do(t, "GET", "/api/v1/orders/"+number, s.key, nil)
			if code != 200 || got["external_id"] != "E2E-1" || got["status"] != "open" {
				t.Fatalf("after restart: %d %v", code, got)
			}
			tl, _ := got["timeline"].([]any)
			var types []string
			for _, e := range tl {
				types = append(types, fmt.Sprint(e.(map[string]any)["type"]))
			}
			if strings.Join(types, " ") != "order.created order.routed order.allocated fulfilment.requested order.held order.released" {
				t.Fatalf("timeline %v, want created, routed, allocated, fulfilment requested, held, released", types)
			}
		})
	}
}

func TestCommands(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "cmd.db")
	env := func(k string) string {
		if k == "ORDERLY_DB" {
			return db
		}
		return ""
	}
	runCmd := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, env, strings.NewReader(""), &out, &errOut)
		return out.String(), errOut.String(), err
	}
	out, _, err := runCmd("migrate", "status")
	if err != nil || !strings.Contains(out, "0001_init.sql") || !strings.Contains(out, "pending") {
		t.Fatalf("migrate status on a new database: %v\n%s", err, out)
	}
	if out, _, err = runCmd("migrate"); err != nil || strings.Contains(out, "pending") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, _, err = runCmd("keys", "create", "--name", "ops", "--role", "admin")
	if err != nil || !regexp.MustCompile(`^ork_[a-z2-7]{32}\n$`).MatchString(out) {
		t.Fatalf("keys create printed %q, %v", out, err)
	}
	if _, _, err := runCmd("keys", "create", "--name", "w", "--role", "warehouse"); err == nil {
		t.Fatal("warehouse key without a location was created")
	}
	if _, _, err := runCmd("keys", "create", "--name", "x", "--role", "king"); err == nil {
		t.Fatal("key with an unknown role was created")
	}
	secret := strings.TrimSpace(out)
	if out, _, err := runCmd("keys", "list"); err != nil || !regexp.MustCompile(`(?m)^ops\s+admin\s+-\s+ork_\w+…\s+\S+\s+-$`).MatchString(out) ||
		strings.Contains(out, secret) {
		t.Fatalf("keys list: %v\n%s", err, out)
	}
	if out, _, err := runCmd("keys", "revoke", "--name", "ops"); err != nil || !strings.HasPrefix(out, "revoked ops (ork_") {
		t.Fatalf("keys revoke: %q %v", out, err)
	}
	if out, _, err := runCmd("keys", "list"); err != nil || !regexp.MustCompile(`(?m)^ops\s+admin\s+-\s+ork_\w+…\s+\S+\s+\d{4}-\d\d-\d\dT`).MatchString(out) {
		t.Fatalf("keys list after revoking: %v\n%s", err, out)
	}
	if _, _, err := runCmd("keys", "revoke", "--name", "nobody"); err == nil || exitCode(err) != 1 {
		t.Fatalf("revoke of an unknown key: %v", err)
	}
	if _, _, err := runCmd("keys", "revoke"); exitCode(err) != 2 {
		t.Fatalf("revoke without --name: %v", err)
	}
	if _, _, err := runCmd("keys", "rotate"); exitCode(err) != 2 {
		t.Fatalf("unknown keys subcommand: %v", err)
	}
	if out, _, err := runCmd("reconcile"); err != nil || !strings.HasPrefix(out, "ok") {
		t.Fatalf("reconcile on a consistent database: %q %v", out, err)
	}
	if out, _, err := runCmd("version"); err != nil || !strings.HasPrefix(out, "orderly ") {
		t.Fatalf("version: %q %v", out, err)
	}
	if _, _, err := runCmd("frobnicate"); exitCode(err) != 2 {
		t.Fatalf("unknown command: %v", err)
	}
	if _, _, err := runCmd("serve", "--db", "mysql://x"); exitCode(err) != 2 {
		t.Fatalf("unsupported database URL: %v", err)
	}
	if _, err := os.Stat(strings.TrimPrefix(db, "sqlite:")); err != nil {
		t.Fatalf("database file: %v", err)
	}
}

// TestReconcileFindsMismatch breaks a balance behind Orderly's back and
// checks that `orderly reconcile` reports it and exits non-zero.
func TestReconcileFindsMismatch(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rec.db")
	db := "sqlite:" + path
	s := start(t, "--db", db, "--demo")
	s.stop(t)
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE stock_balances SET on_hand = on_hand + 1 WHERE sku = 'CAP-NAVY' AND location = 'wh-rotterdam'`); err != nil {
		t.Fatal(err)
	}
	_ = raw.Close()
	var out bytes.Buffer
	err = run(context.Background(), []string{"reconcile", "--db", db}, func(string) string { return "" }, strings.NewReader(""), &out, io.Discard)
	if !errors.Is(err, errMismatch) || exitCode(err) != 1 {
		t.Fatalf("reconcile of a broken balance: %v", err)
	}
	if !strings.Contains(out.String(), "wh-rotterdam") || !strings.Contains(out.String(), "CAP-NAVY") {
		t.Fatalf("reconcile output does not name the broken balance:\n%s", out.String())
	}
}

// TestHelpDoesNothingElse runs every command with --help: each prints its
// flags and exits 0 without touching a database (serve used to go on and
// serve, migrate to migrate).
func TestHelpDoesNothingElse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "never.db")
	env := func(k string) string {
		if k == "ORDERLY_DB" {
			return "sqlite:" + path
		}
		return ""
	}
	for _, args := range [][]string{
		{"serve", "--help"}, {"migrate", "--help"}, {"migrate", "status", "--help"}, {"keys", "create", "--help"}, {"keys", "list", "--help"}, {"keys", "revoke", "--help"},
		{"users", "create", "--help"}, {"reconcile", "--help"}, {"import", "orders", "--help"}, {"bench", "--help"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var out, errOut bytes.Buffer
		err := run(ctx, args, env, strings.NewReader(""), &out, &errOut)
		timedOut := ctx.Err()
		cancel()
		if err != nil || timedOut != nil {
			t.Errorf("%v: %v (context: %v)", args, err, timedOut)
		}
		if !strings.Contains(errOut.String()+out.String(), "-db") && args[0] != "bench" {
			t.Errorf("%v printed no flags: %q", args, errOut.String()+out.String())
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("%v touched the database: %v", args, err)
		}
	}
}

// TestServeReleasesInFlightOnSQLite: `serve` on SQLite, the only process
// on its file, starts by releasing the Idempotency-Key claims and job
// leases a previous process left (a retry is served at once instead of
// after a minute); on PostgreSQL, where another node may be doing that
// work, it leaves them alone.
func TestServeReleasesInFlightOnSQLite(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "release.db")
			if backend == "postgres" {
				dsn = dbtest.PostgresURL(t)
			}
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Microsecond)
			err := withStore(ctx, dsn, noEnv, true, func(st store.Store) error {
				rec := &store.IdempotencyRecord{Scope: "key:x POST /api/v1/orders", Key: "k1", RequestHash: "h", CreatedAt: now, LockedAt: now}
				if _, err := st.IdempotencyBegin(ctx, rec); err != nil {
					return err
				}
				if err := st.JobInsert(ctx, &store.Job{ID: "j1", Kind: "test", Args: []byte(`{}`), State: store.JobAvailable,
					MaxAttempts: 3, RunAt: now, CreatedAt: now}); err != nil {
					return err
				}
				_, err := st.JobClaim(ctx, now, time.Hour, 1)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			srv := start(t, "--db", dsn)
			srv.stop(t)
			err = withStore(ctx, dsn, noEnv, false, func(st store.Store) error {
				got, err := st.IdempotencyBegin(ctx, &store.IdempotencyRecord{Scope: "key:x POST /api/v1/orders", Key: "k1", RequestHash: "h", CreatedAt: now, LockedAt: now})
				if err != nil {
					return err
				}
				j, err := st.JobGet(ctx, "j1")
				if err != nil {
					return err
				}
				// The job's lease ended — or serve's own job runner, finding
				// it ended, ran the job again (a second attempt, which may
				// have finished it: no lease at all) before stop.
				leaseEnded := j.LockedUntil == nil || !j.LockedUntil.After(now.Add(time.Minute)) || j.Attempt > 1
				released := got.LockedAt.Before(now.Add(-time.Hour)) && leaseEnded
				if want := backend == "sqlite"; released != want {
					t.Errorf("after serve on %s: claim locked at %v, job leased until %v (attempt %d); released %v, want %v",
						backend, got.LockedAt, j.LockedUntil, j.Attempt, released, want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestWarnWithoutAutovacuum: serve warns when its PostgreSQL server runs
// without autovacuum, and says nothing when it runs it or on SQLite. The
// server's setting is read independently of the code under test (this
// machine's server has it off; a default server has it on).
func TestWarnWithoutAutovacuum(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		want := false
		if st.Backend() == "postgres" {
			conn, err := pgx.Connect(context.Background(), os.Getenv("ORDERLY_TEST_POSTGRES_URL"))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close(context.Background()) }()
			var v string
			if err := conn.QueryRow(context.Background(), `SHOW autovacuum`).Scan(&v); err != nil {
				t.Fatal(err)
			}
			want = v == "off"
		}
		var logs bytes.Buffer
		warnWithoutAutovacuum(context.Background(), st, slog.New(slog.NewTextHandler(&logs, nil)))
		if got := strings.Contains(logs.String(), "autovacuum off"); got != want {
			t.Errorf("%s: warned %v, want %v; log: %q", st.Backend(), got, want, logs.String())
		}
		if strings.Contains(logs.String(), "could not read") {
			t.Errorf("log: %q", logs.String())
		}
	})
}

// TestGCPercent: orderly sets its collector target only where the
// environment does not name one.
func TestGCPercent(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if p, ok := gcPercent(getenv); !ok || p != 200 {
		t.Errorf("without GOGC: %d %v, want 200 set", p, ok)
	}
	env["GOGC"] = "50"
	if _, ok := gcPercent(getenv); ok {
		t.Error("with GOGC=50: orderly would override it")
	}
}

// noEnv is an empty environment.
func noEnv(string) string { return "" }
