package outbound

import (
	"context"
	"log/slog"
	"time"
)

// Every runs fn at once and then every interval until ctx ends: the
// scheduler of periodic upkeep that any node may do because the work it
// starts is claimed in the database (the channels' poll safety net, purges).
// An error is logged and the next tick tries again.
func Every(ctx context.Context, log *slog.Logger, name string, interval time.Duration, fn func(ctx context.Context) error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			log.Warn("scheduled "+name+" failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
