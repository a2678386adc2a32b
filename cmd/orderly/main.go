// Command orderly is the Orderly order management system: one binary that
// serves the JSON API on an embedded SQLite database (or PostgreSQL) and
// carries the operator's commands (migrate, keys, version).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "orderly:", err)
		os.Exit(exitCode(err))
	}
}
