// Command orderly is the Orderly order management system: one binary that
// serves the JSON API on an embedded SQLite database (or PostgreSQL) and
// carries the operator's commands (migrate, keys, version).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// defaultGCPercent is the garbage collector's target when GOGC is not set.
// Go's default of 100 collects whenever the heap doubles; an availability
// lookup allocates ~100 KB and a capture ~50 KB, so at thousands a second
// the collector ran constantly. At 200, measured (docs/benchmarks.md):
// availability +25% lookups/s, intake +5–9% orders/s, for ~25 MB more
// peak RSS during intake (94 MB, well under the 200 MB target). Setting
// GOGC (or GOMEMLIMIT with it) still decides.
const defaultGCPercent = 200

// gcPercent returns the collector target to set, or ok false to leave the
// runtime's (the environment names one).
func gcPercent(getenv func(string) string) (percent int, ok bool) {
	if getenv("GOGC") != "" {
		return 0, false
	}
	return defaultGCPercent, true
}

func main() {
	if p, ok := gcPercent(os.Getenv); ok {
		debug.SetGCPercent(p)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "orderly:", err)
		os.Exit(exitCode(err))
	}
}
