package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/orderly-oms/orderly/outbound"
	"github.com/orderly-oms/orderly/service"
)

// Channel jobs (docs/decisions/0010-channel-jobs.md): the handlers of the
// poll and push-back jobs run in every node's job runner (added to the
// runner's handlers by startBackground through outboundConfig.handlers);
// every node also runs the poll safety net and the purge of old attempt
// outcomes. Connector credentials are configured per channel through
// PUT /api/v1/integrations/{channel}, stored in the database, so every
// node sees the same.

// pollEnsureInterval is how often a node checks that every polling
// channel has a poll job.
const pollEnsureInterval = time.Minute

// startChannelJobs starts the channel upkeep loops; the returned function
// stops them and waits.
func startChannelJobs(ctx context.Context, svc *service.Service, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { outbound.Every(ctx, log, "channel polls", pollEnsureInterval, svc.EnsureChannelPolls) })
	wg.Go(func() {
		outbound.Every(ctx, log, "integration runs purge", time.Hour, func(ctx context.Context) error {
			n, err := svc.PurgeIntegrationRuns(ctx)
			if n > 0 {
				log.Info("purged integration runs", "count", n)
			}
			return err
		})
	})
	return func() {
		cancel()
		wg.Wait()
	}
}
