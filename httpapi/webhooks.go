package httpapi

import (
	"errors"
	"io"
	"net/http"
	"regexp"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/carrier/easypost"
	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/service"
)

// Inbound webhooks: POST /webhooks/{kind}/{channel}. No API key: the
// platform signs the raw body with the channel's secret, and the signature
// is checked before anything is parsed. The order is applied in the
// request (one short transaction), so the platform gets its answer well
// within its timeout; a job queue will take the heavy work when there is
// one.

// webhookView is the body of a webhook's 200.
type webhookView struct {
	// Status says what the delivery did.
	Status string `json:"status" doc:"created: a new order; updated: an order already stored was updated or cancelled; duplicate: this delivery id was processed before, nothing changed; ignored: a topic without an order, nothing changed."`
	// OrderID and Number name the order the delivery was about.
	OrderID string `json:"order_id,omitempty"`
	Number  int64  `json:"number,omitempty"`
}

// The outcomes counted by orderly_webhooks_total.
const (
	webhookCreated      = "created"
	webhookUpdated      = "updated"
	webhookDuplicate    = "duplicate"
	webhookIgnored      = "ignored"
	webhookUnauthorized = "unauthorized"
	webhookNotFound     = "not_found"
	webhookTooLarge     = "too_large"
	webhookInvalid      = "invalid"
	webhookError        = "error"
)

// wooPing is the body WooCommerce posts, unsigned, when a webhook is saved.
var wooPing = regexp.MustCompile(`^webhook_id=[0-9]+$`)

func (a *api) webhook(w http.ResponseWriter, r *http.Request) error {
	kind := channel.Kind(r.PathValue("kind"))
	code := r.PathValue("channel")
	outcome := webhookError
	defer func() { a.metrics.webhook(kind, outcome) }()
	fail := func(o string, err error) error {
		outcome = o
		return err
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return fail(webhookTooLarge, &requestError{status: http.StatusRequestEntityTooLarge, name: "body_too_large",
				title: "Request body too large", detail: "the request body exceeds 1 MiB"})
		}
		return fail(webhookError, badRequest("", "could not read the request body"))
	}
	ctx := r.Context()
	conn, verifier, err := a.svc.WebhookConnector(ctx, kind, code)
	if err != nil {
		if orderly.KindOf(err) == orderly.KindNotFound {
			return fail(webhookNotFound, err)
		}
		return err
	}
	d, err := verifier.VerifyWebhook(r.Header, body)
	if err != nil {
		if kind == channel.KindWooCommerce && wooPing.Match(body) {
			// WooCommerce checks that the URL answers 2xx when a webhook
			// is saved, with an unsigned form body. Nothing is written.
			outcome = webhookIgnored
			return writeJSON(w, http.StatusOK, webhookView{Status: webhookIgnored})
		}
		// Not through writeError: a WWW-Authenticate: Bearer would
		// suggest an API key helps.
		outcome = webhookUnauthorized
		p, _ := problemFor(err)
		writeProblem(w, p)
		return nil
	}
	if !d.IsOrder {
		outcome = webhookIgnored
		return writeJSON(w, http.StatusOK, webhookView{Status: webhookIgnored})
	}
	in, err := conn.ParseOrder(body)
	if err != nil {
		// Signed by the platform but not an order we can read: say so
		// (the platform retries, and its log shows the problem). The
		// error names a field, never echoes the payload.
		a.log.WarnContext(ctx, "webhook payload refused", "request_id", info(ctx).id, "kind", string(kind),
			"channel", code, "topic", d.Topic, "error", err.Error())
		return fail(webhookInvalid, err)
	}
	o, created, err := a.svc.CaptureChannelOrder(ctx, code, d, in)
	switch {
	case errors.Is(err, service.ErrDuplicateDelivery):
		outcome = webhookDuplicate
		return writeJSON(w, http.StatusOK, webhookView{Status: webhookDuplicate})
	case orderly.KindOf(err) == orderly.KindInvalid:
		a.log.WarnContext(ctx, "webhook order refused", "request_id", info(ctx).id, "kind", string(kind),
			"channel", code, "topic", d.Topic, "error", err.Error())
		return fail(webhookInvalid, err)
	case err != nil:
		return err
	}
	outcome = webhookUpdated
	if created {
		outcome = webhookCreated
	}
	a.log.InfoContext(ctx, "webhook processed", "request_id", info(ctx).id, "kind", string(kind), "channel", code,
		"topic", d.Topic, "outcome", outcome, "order_id", o.ID)
	return writeJSON(w, http.StatusOK, webhookView{Status: outcome, OrderID: o.ID, Number: o.Number})
}

// carrierWebhookView is the body of a carrier webhook's 200.
type carrierWebhookView struct {
	Status     string `json:"status" doc:"updated: the tracker's events were recorded (recorded says how many were new); ignored: not a tracker event, or no shipment has the tracking number; nothing changed."`
	ShipmentID string `json:"shipment_id,omitempty"`
	Recorded   int    `json:"recorded"`
}

// carrierAccount bounds the {carrier_account} path parameter.
var carrierAccount = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

func (a *api) easypostWebhook(w http.ResponseWriter, r *http.Request) error {
	account := r.PathValue("carrier_account")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, easypost.MaxWebhookBody))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return &requestError{status: http.StatusRequestEntityTooLarge, name: "body_too_large",
				title: "Request body too large", detail: "the request body exceeds 1 MiB"}
		}
		return badRequest("", "could not read the request body")
	}
	if err := easypost.VerifyWebhook(a.svc.EasyPostWebhookSecret, r.Header.Get(easypost.SignatureHeader), body); err != nil {
		// Not through writeError: a WWW-Authenticate: Bearer would
		// suggest an API key helps.
		p, _ := problemFor(err)
		writeProblem(w, p)
		return nil
	}
	if !carrierAccount.MatchString(account) {
		return orderly.Errorf(orderly.KindNotFound, "carrier account %q not found", account)
	}
	ev, err := easypost.ParseEvent(body)
	if err != nil {
		return err
	}
	if ev.Tracking == nil {
		return writeJSON(w, http.StatusOK, carrierWebhookView{Status: webhookIgnored})
	}
	ctx := r.Context()
	sh, n, err := a.svc.RecordCarrierTracking(ctx, service.CarrierActor("easypost", account), ev.Tracking)
	if orderly.KindOf(err) == orderly.KindNotFound {
		return writeJSON(w, http.StatusOK, carrierWebhookView{Status: webhookIgnored})
	}
	if err != nil {
		return err
	}
	a.log.InfoContext(ctx, "carrier webhook processed", "request_id", info(ctx).id, "carrier", "easypost",
		"account", account, "event", ev.ID, "shipment_id", sh.ID, "recorded", n)
	return writeJSON(w, http.StatusOK, carrierWebhookView{Status: webhookUpdated, ShipmentID: sh.ID, Recorded: n})
}
