// Package service holds Orderly's use cases. It owns every transaction that
// spans modules: each change and the event that records it are written in one
// store.InTx. It checks the caller's permissions and scope on every call, so
// the JSON API, the console and the CLI cannot differ in what they allow.
//
// It imports the domain packages and store, never a storage backend, HTTP
// or HTML.
package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/carrier"
	"github.com/orderly-oms/orderly/connector"
	"github.com/orderly-oms/orderly/store"
)

// Service is the application: a store, a clock and hooks for metrics.
type Service struct {
	store store.Store
	clock orderly.Clock
	log   *slog.Logger
	// OnOrderCreated, if set, is called after an order is committed (for
	// metrics). It must not block.
	OnOrderCreated func(channel string)
	// Connectors opens the connector of a channel's kind (webhooks); nil
	// means no channel has a webhook endpoint.
	Connectors *connector.Registry
	// AllowPrivateWebhooks lets webhook subscriptions, and channel
	// connectors' base URLs, target loopback, private and link-local
	// addresses (ORDERLY_ALLOW_PRIVATE_WEBHOOKS=1; tests). See
	// webhooks_out.go and integrations.go.
	AllowPrivateWebhooks bool
	// connectorHTTP is the client connectors call their platforms with:
	// outbound's SSRF-guarded client unless AllowPrivateWebhooks, built on
	// first use (after the fields above are set).
	connectorHTTPOnce sync.Once
	connectorHTTP     *http.Client
	// EasyPostWebhookSecret verifies POST /webhooks/easypost/{account}
	// (ORDERLY_EASYPOST_WEBHOOK_SECRET); empty refuses every delivery.
	EasyPostWebhookSecret string
	// Carriers maps a location's carrier kind (inventory.CarrierTableRate,
	// inventory.CarrierEasyPost) to the configured carrier that rates and
	// labels its parcels. A kind missing here is not configured: rates
	// and labels at its locations are refused (422, carrier).
	Carriers map[string]carrier.Carrier

	stockStats stockStats
}

// New returns a service over st. A nil clock is the system clock; a nil
// logger discards.
func New(st store.Store, clock orderly.Clock, log *slog.Logger) *Service {
	if clock == nil {
		clock = orderly.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{clock: clock, log: log}
	// pushback.go: transactions enqueue what channels must hear;
	// store.MarkIdempotency: they mark their request's Idempotency-Key applied.
	s.store = channelAwareStore{Store: store.MarkIdempotency(st), s: s}
	return s
}

// Store returns the service's store (for health checks and metrics).
func (s *Service) Store() store.Store { return s.store }

// Now returns the service clock's time.
func (s *Service) Now() orderly.Clock { return s.clock }

// require returns a KindForbidden error unless p holds perm.
func require(p auth.Principal, perm auth.Permission) error {
	if !p.Can(perm) {
		return orderly.Errorf(orderly.KindForbidden, "the %s role may not do this (needs %s)", p.Role, perm)
	}
	return nil
}

// event builds an event row for subject, with data marshalled to JSON.
func (s *Service) event(typ, subject, subjectID, orderID, actor string, data any) *orderly.Event {
	raw, err := json.Marshal(data)
	if err != nil {
		// Event payloads are plain structs and maps built here; failing to
		// marshal one is a programming error.
		panic(fmt.Sprintf("service: marshal %s event: %v", typ, err))
	}
	return &orderly.Event{
		ID: orderly.NewID(), Type: typ, Subject: subject, SubjectID: subjectID,
		OrderID: orderID, Actor: actor, At: s.clock.Now(), Data: raw,
	}
}

// maxAttempts bounds optimistic-concurrency retries of read-modify-write
// transactions.
const maxAttempts = 5

// retryOnVersionConflict runs fn again when another writer changed the same
// row between our read and our write (PostgreSQL at READ COMMITTED; SQLite's
// single writer never sees this).
func retryOnVersionConflict(ctx context.Context, fn func() error) error {
	var err error
	for range maxAttempts {
		err = fn()
		if !errors.Is(err, store.ErrVersionConflict) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return err
}
