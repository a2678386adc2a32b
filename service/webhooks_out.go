package service

import (
	"context"
	"strings"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/outbound"
	"github.com/orderly-oms/orderly/store"
)

// Outbound webhooks and the job queue's dead-letter list: admin work
// (auth.PermIntegrationsManage). The dispatcher and the sender themselves
// live in package outbound.

// WebhookInput is a new subscription.
type WebhookInput struct {
	URL    string
	Events []string
	// Secret signs deliveries ("whsec_" + base64); empty generates one.
	Secret string
}

// CreateWebhook stores a subscription and returns it, secret included (the
// caller shows a generated secret once). The URL must be http(s) and, unless
// AllowPrivateWebhooks, resolve only to public addresses.
func (s *Service) CreateWebhook(ctx context.Context, p auth.Principal, in WebhookInput) (*store.WebhookSubscription, error) {
	if err := require(p, auth.PermIntegrationsManage); err != nil {
		return nil, err
	}
	if len(in.Events) == 0 {
		return nil, orderly.Invalid("events", "must name at least one event type, a prefix such as \"order.*\", or \"*\"")
	}
	for _, e := range in.Events {
		if e == "" || len(e) > 100 || strings.ContainsAny(e, " \t\n>") || (strings.Contains(e, "*") && e != "*" && !strings.HasSuffix(e, ".*")) {
			return nil, orderly.Invalid("events", "%q is not an event type, a prefix ending in \".*\", or \"*\"", e)
		}
	}
	if len(in.URL) > 2000 {
		return nil, orderly.Invalid("url", "is longer than 2000 characters")
	}
	if err := outbound.CheckURL(ctx, in.URL, s.AllowPrivateWebhooks); err != nil {
		return nil, err
	}
	if in.Secret == "" {
		in.Secret = outbound.NewSecret()
	} else if err := outbound.CheckSecret(in.Secret); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	w := &store.WebhookSubscription{ID: orderly.NewID(), URL: in.URL, Events: in.Events, Secret: in.Secret, Active: true,
		CreatedAt: now, UpdatedAt: now}
	err := s.store.InTx(ctx, func(tx store.Querier) error {
		if err := tx.WebhookSubscriptionInsert(ctx, w); err != nil {
			return err
		}
		return tx.EventInsert(ctx, s.event("webhook.created", "webhook", w.ID, "", p.Actor(),
			map[string]any{"events": w.Events}))
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// GetWebhook returns a subscription.
func (s *Service) GetWebhook(ctx context.Context, p auth.Principal, id string) (*store.WebhookSubscription, error) {
	if err := require(p, auth.PermIntegrationsManage); err != nil {
		return nil, err
	}
	return s.store.WebhookSubscriptionGet(ctx, id)
}

// ListWebhooks pages subscriptions by id; the string is the position of
// the next page ("" on the last).
func (s *Service) ListWebhooks(ctx context.Context, p auth.Principal, lp store.ListParams) ([]*store.WebhookSubscription, string, error) {
	if err := require(p, auth.PermIntegrationsManage); err != nil {
		return nil, "", err
	}
	return page(ctx, lp, func(ctx context.Context, lp store.ListParams) ([]*store.WebhookSubscription, error) {
		return s.store.WebhookSubscriptionList(ctx, false, lp)
	}, func(w *store.WebhookSubscription) string { return w.ID })
}

// ListWebhookDeliveries pages a subscription's delivery log, newest first.
func (s *Service) ListWebhookDeliveries(ctx context.Context, p auth.Principal, id string, lp store.ListParams) ([]*store.OutboundDelivery, string, error) {
	if _, err := s.GetWebhook(ctx, p, id); err != nil {
		return nil, "", err
	}
	return page(ctx, lp, func(ctx context.Context, lp store.ListParams) ([]*store.OutboundDelivery, error) {
		return s.store.OutboundDeliveryList(ctx, id, lp)
	}, func(d *store.OutboundDelivery) string { return d.ID })
}

// ReplayWebhookDelivery sends a delivery again — the same id and body,
// a new signature — with a fresh set of attempts, whatever its status. The
// subscription must be active.
func (s *Service) ReplayWebhookDelivery(ctx context.Context, p auth.Principal, subscriptionID, deliveryID string) (*store.OutboundDelivery, error) {
	sub, err := s.GetWebhook(ctx, p, subscriptionID)
	if err != nil {
		return nil, err
	}
	if !sub.Active {
		return nil, &orderly.Error{Kind: orderly.KindConflict, Code: "webhook_disabled",
			Message: "webhook subscription " + sub.ID + " is disabled (" + sub.DisabledReason + ")"}
	}
	var d *store.OutboundDelivery
	err = s.store.InTx(ctx, func(tx store.Querier) error {
		var err error
		d, err = tx.OutboundDeliveryGet(ctx, deliveryID)
		if err != nil {
			return err
		}
		if d.SubscriptionID != subscriptionID {
			return orderly.Errorf(orderly.KindNotFound, "delivery %s not found", deliveryID)
		}
		now := s.clock.Now()
		d.Status, d.UpdatedAt = store.DeliveryPending, now
		if err := tx.OutboundDeliveryUpdate(ctx, d); err != nil {
			return err
		}
		return tx.JobInsert(ctx, outbound.DeliveryJob(d.ID, now))
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// ListJobs pages the job queue by id, filtered by state ("dead" is the
// dead-letter list).
func (s *Service) ListJobs(ctx context.Context, p auth.Principal, state store.JobState, lp store.ListParams) ([]*store.Job, string, error) {
	if err := require(p, auth.PermIntegrationsManage); err != nil {
		return nil, "", err
	}
	switch state {
	case "", store.JobAvailable, store.JobRunning, store.JobSucceeded, store.JobDead:
	default:
		return nil, "", orderly.Invalid("state", "must be available, running, succeeded or dead")
	}
	return page(ctx, lp, func(ctx context.Context, lp store.ListParams) ([]*store.Job, error) {
		return s.store.JobList(ctx, store.JobListParams{State: state, After: lp.After, Limit: lp.Limit})
	}, func(j *store.Job) string { return j.ID })
}

// RetryJob puts a dead job back in the queue with fresh attempts.
func (s *Service) RetryJob(ctx context.Context, p auth.Principal, id string) (*store.Job, error) {
	if err := require(p, auth.PermIntegrationsManage); err != nil {
		return nil, err
	}
	return s.store.JobRetry(ctx, id, s.clock.Now())
}
