package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/store"
)

// KindWebhookDelivery is the job that posts one outbound delivery.
const KindWebhookDelivery = "webhook.deliver"

// deliveryArgs are a KindWebhookDelivery job's arguments.
type deliveryArgs struct {
	DeliveryID string `json:"delivery_id"`
}

// DeliveryJob returns the job that posts delivery id (enqueue it in the
// transaction that stores or replays the delivery).
func DeliveryJob(id string, now time.Time) *store.Job {
	return NewJob(KindWebhookDelivery, deliveryArgs{DeliveryID: id}, now)
}

// Payload is the body of every delivery: the Standard Webhooks envelope
// around one of Orderly's events.
type Payload struct {
	Type      string       `json:"type"`
	Timestamp time.Time    `json:"timestamp"`
	Data      PayloadEvent `json:"data"`
}

// PayloadEvent is the event a payload carries.
type PayloadEvent struct {
	ID        string          `json:"id"`
	Seq       int64           `json:"seq"`
	Type      string          `json:"type"`
	Subject   string          `json:"subject"`
	SubjectID string          `json:"subject_id"`
	OrderID   string          `json:"order_id,omitempty"`
	Actor     string          `json:"actor"`
	At        time.Time       `json:"at"`
	Data      json.RawMessage `json:"data"`
}

// EncodePayload returns the body delivered (and published) for e.
func EncodePayload(e *orderly.Event) []byte {
	data := json.RawMessage(e.Data)
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	b, err := json.Marshal(Payload{Type: e.Type, Timestamp: e.At, Data: PayloadEvent{
		ID: e.ID, Seq: e.Seq, Type: e.Type, Subject: e.Subject, SubjectID: e.SubjectID, OrderID: e.OrderID,
		Actor: e.Actor, At: e.At, Data: data,
	}})
	if err != nil {
		panic(fmt.Sprintf("outbound: marshal payload of event %s: %v", e.ID, err)) // stored event data is JSON
	}
	return b
}

// Matches reports whether a subscription's event patterns take typ: an
// exact type, "*", or a prefix ending in ".*" ("order.*").
func Matches(patterns []string, typ string) bool {
	for _, p := range patterns {
		if p == "*" || p == typ {
			return true
		}
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasSuffix(prefix, ".") && strings.HasPrefix(typ, prefix) {
			return true
		}
	}
	return false
}

// Sender posts deliveries: the KindWebhookDelivery handler.
type Sender struct {
	Store  store.Store
	Clock  orderly.Clock
	Client *http.Client
}

// Handle posts one delivery and records the outcome in its log: a 2xx
// succeeds; a 410 disables the subscription and ends the delivery as
// failed, without retries; anything else (another status, a network
// error, a refused address) is an error, so the job is retried, and the
// delivery is dead after the last attempt.
func (s *Sender) Handle(ctx context.Context, j *store.Job) error {
	var args deliveryArgs
	if err := json.Unmarshal(j.Args, &args); err != nil {
		return Permanent(fmt.Errorf("job args: %w", err))
	}
	d, err := s.Store.OutboundDeliveryGet(ctx, args.DeliveryID)
	if err != nil {
		if orderly.KindOf(err) == orderly.KindNotFound {
			return Permanent(err)
		}
		return err
	}
	sub, err := s.Store.WebhookSubscriptionGet(ctx, d.SubscriptionID)
	if err != nil {
		return err
	}
	if !sub.Active {
		d.Status, d.UpdatedAt = store.DeliveryCancelled, s.Clock.Now()
		d.LastError = "the subscription is disabled: " + sub.DisabledReason
		return s.Store.OutboundDeliveryUpdate(ctx, d)
	}

	code, sendErr := s.post(ctx, sub, d)
	now := s.Clock.Now()
	d.Attempts++
	d.LastStatusCode, d.UpdatedAt, d.LastError = code, now, ""
	switch {
	case sendErr == nil && code >= 200 && code < 300:
		d.Status, d.DeliveredAt = store.DeliverySucceeded, &now
		return s.Store.OutboundDeliveryUpdate(ctx, d)
	case sendErr == nil && code == http.StatusGone:
		d.Status, d.LastError = store.DeliveryFailed, "410 Gone: the subscription is disabled"
		return s.Store.InTx(ctx, func(tx store.Querier) error {
			if err := tx.WebhookSubscriptionDisable(ctx, sub.ID, "the endpoint answered 410 Gone", now); err != nil {
				return err
			}
			return tx.OutboundDeliveryUpdate(ctx, d)
		})
	}
	if sendErr == nil {
		sendErr = fmt.Errorf("the endpoint answered %d", code)
	}
	d.LastError = truncate(sendErr.Error(), 1000)
	d.Status = store.DeliveryRetrying
	if j.Attempt >= j.MaxAttempts {
		d.Status = store.DeliveryDead
	}
	if err := s.Store.OutboundDeliveryUpdate(ctx, d); err != nil {
		return fmt.Errorf("%w (and recording it: %w)", sendErr, err)
	}
	return sendErr
}

// post sends d's payload to sub, signed, and returns the status.
func (s *Sender) post(ctx context.Context, sub *store.WebhookSubscription, d *store.OutboundDelivery) (int, error) {
	at := s.Clock.Now()
	sig, err := Sign(sub.Secret, d.ID, at, d.Payload)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Orderly-Webhooks/1")
	req.Header.Set("webhook-id", d.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}
