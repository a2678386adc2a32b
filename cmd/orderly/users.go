package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
	"github.com/orderly-oms/orderly/web"
)

// firstAdminEmail is the console user `serve` creates when there is none.
const firstAdminEmail = "admin@orderly.local"

// cmdUsers runs `orderly users create`.
func cmdUsers(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: users needs a subcommand: create", errUsage)
	}
	fs, db := newFlags("users create", getenv, stderr)
	email := fs.String("email", "", "the user's e-mail address (their sign-in name)")
	role := fs.String("role", "", "role: admin, agent, warehouse, finance, viewer")
	loc := fs.String("location", "", "location code (warehouse users)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of generating one")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	password := ""
	if *fromStdin {
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
		if password == "" {
			return fmt.Errorf("%w: --password-stdin: standard input holds no password", errUsage)
		}
	}
	return withStore(ctx, *db, getenv, true, func(st store.Store) error {
		svc := service.New(st, orderly.SystemClock{}, nil)
		u, pw, err := svc.CreateUser(ctx, *email, auth.Role(*role), *loc, password)
		if err != nil {
			return err
		}
		if *fromStdin {
			fmt.Fprintf(stdout, "created %s (%s)\n", u.Email, u.Role)
			return nil
		}
		// The password, and nothing else, on stdout: scripts capture it.
		// It is shown once and stored nowhere.
		fmt.Fprintln(stdout, pw)
		return nil
	})
}

// withConsole mounts the console at / beside the API, creating the first
// admin user (and printing its password, once) if there are no users, and
// starts the purge of expired sessions.
func withConsole(ctx context.Context, svc *service.Service, api http.Handler, log *slog.Logger, stdout io.Writer) (http.Handler, error) {
	email, password, err := svc.EnsureAdmin(ctx, firstAdminEmail)
	if err != nil {
		return nil, fmt.Errorf("first console user: %w", err)
	}
	if password != "" {
		// Shown once, to the operator, on stdout rather than in the logs.
		fmt.Fprintf(stdout, "Console admin created: %s, password (shown once): %s\n", email, password)
	}
	go purgeSessions(ctx, svc, log)
	console := web.New(svc, web.Config{Logger: log})
	return web.Mount(api, console), nil
}

// purgeSessions deletes expired console sessions and old sign-in failures,
// at start and then hourly, until ctx ends. Every node may run it.
func purgeSessions(ctx context.Context, svc *service.Service, log *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		n, err := svc.PurgeSessions(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("purge console sessions", "err", err)
		case n > 0:
			log.Info("purged console sessions and sign-in failures", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
