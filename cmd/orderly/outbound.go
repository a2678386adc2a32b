package main

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/outbound"
	"github.com/orderly-oms/orderly/store"
)

// outboundConfig configures background work and outbound delivery.
type outboundConfig struct {
	// natsURL, when set (ORDERLY_NATS_URL), publishes every event to NATS
	// JetStream as orderly.<event type>.
	natsURL string
	// allowPrivate (ORDERLY_ALLOW_PRIVATE_WEBHOOKS=1) lets webhooks target
	// loopback, private and link-local addresses.
	allowPrivate bool
	// easypostWebhookSecret (ORDERLY_EASYPOST_WEBHOOK_SECRET) verifies
	// EasyPost's tracker webhooks; empty refuses them.
	easypostWebhookSecret string
	// carriers configures the carriers locations rate and label with.
	carriers carriersConfig
	// handlers are more job handlers for the runner (the channel jobs,
	// channels.go).
	handlers map[string]outbound.Handler
}

func outboundFromEnv(getenv func(string) string) outboundConfig {
	return outboundConfig{natsURL: getenv("ORDERLY_NATS_URL"), allowPrivate: getenv("ORDERLY_ALLOW_PRIVATE_WEBHOOKS") == "1",
		easypostWebhookSecret: getenv("ORDERLY_EASYPOST_WEBHOOK_SECRET"), carriers: carriersFromEnv(getenv)}
}

// startBackground starts this node's job runner and event dispatcher (see
// package outbound); every node runs both, and they share work through the
// database. The returned function stops them and waits.
func startBackground(ctx context.Context, st store.Store, log *slog.Logger, cfg outboundConfig) (stop func(), err error) {
	clock := orderly.SystemClock{}
	handlers := map[string]outbound.Handler{
		outbound.KindWebhookDelivery: (&outbound.Sender{Store: st, Clock: clock,
			Client: outbound.NewHTTPClient(15*time.Second, cfg.allowPrivate)}).Handle,
	}
	maps.Copy(handlers, cfg.handlers)
	var pub *outbound.Publisher
	if cfg.natsURL != "" {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		pub, err = outbound.ConnectNATS(cctx, cfg.natsURL)
		cancel()
		if err != nil {
			return nil, err
		}
		handlers[outbound.KindNATSPublish] = pub.Handle
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		(&outbound.Runner{Store: st, Clock: clock, Log: log, Handlers: handlers}).Run(ctx)
	})
	wg.Go(func() {
		(&outbound.Dispatcher{Store: st, Clock: clock, Log: log, NATS: pub != nil}).Run(ctx)
	})
	return func() {
		cancel()
		wg.Wait()
		if pub != nil {
			pub.Close()
		}
	}, nil
}
