package httpapi

import (
	"net/http"
	"time"

	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

// Outbound webhook subscriptions, their delivery logs and replays, and the
// job queue's dead-letter list: admin only (integrations:manage).

// webhookRequest is the body of POST /api/v1/webhooks.
type webhookRequest struct {
	URL    string   `json:"url" openapi:"required" doc:"Where deliveries are posted: http or https. A host resolving to a loopback, private, link-local or other non-public address is refused (here and on every connection)."`
	Events []string `json:"events" openapi:"required" doc:"Event types (order.created), prefixes ending in .* (order.*), or * for every event."`
	Secret string   `json:"secret,omitempty" writeOnly:"true" doc:"Signing secret in the Standard Webhooks format: whsec_ and base64 of 24 to 64 bytes. Left out: one is generated and returned once, in this response only. Write-only otherwise."`
}

// webhookSubscriptionView is a subscription as the API shows it: never the
// secret, except a generated one in the create response.
type webhookSubscriptionView struct {
	ID             string    `json:"id"`
	URL            string    `json:"url"`
	Events         []string  `json:"events"`
	Active         bool      `json:"active" doc:"false once the endpoint answered 410 Gone."`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	Secret         string    `json:"secret,omitempty" doc:"Only in the response that generated it."`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func webhookSubscriptionOf(w *store.WebhookSubscription) webhookSubscriptionView {
	return webhookSubscriptionView{ID: w.ID, URL: w.URL, Events: nonNil(w.Events), Active: w.Active,
		DisabledReason: w.DisabledReason, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

type webhookSubscriptionList struct {
	Items      []webhookSubscriptionView `json:"items"`
	NextCursor *string                   `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

// deliveryView is one entry of a subscription's delivery log.
type deliveryView struct {
	ID             string     `json:"id" doc:"The webhook-id header: the same on every retry and replay."`
	SubscriptionID string     `json:"subscription_id"`
	EventID        string     `json:"event_id"`
	EventType      string     `json:"event_type"`
	Status         string     `json:"status" doc:"pending, retrying, succeeded, failed (410: the subscription was disabled), dead (out of attempts) or cancelled (the subscription was disabled first)."`
	Attempts       int        `json:"attempts"`
	LastStatusCode int        `json:"last_status_code" doc:"The endpoint's last HTTP status; 0 if it did not answer."`
	LastError      string     `json:"last_error,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	DeliveredAt    *time.Time `json:"delivered_at"`
}

func deliveryOf(d *store.OutboundDelivery) deliveryView {
	return deliveryView{ID: d.ID, SubscriptionID: d.SubscriptionID, EventID: d.EventID, EventType: d.EventType, Status: d.Status,
		Attempts: d.Attempts, LastStatusCode: d.LastStatusCode, LastError: d.LastError, CreatedAt: d.CreatedAt,
		UpdatedAt: d.UpdatedAt, DeliveredAt: d.DeliveredAt}
}

type deliveryList struct {
	Items      []deliveryView `json:"items"`
	NextCursor *string        `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

// jobView is one job of the queue.
type jobView struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	State       string     `json:"state" doc:"available, running, succeeded or dead (the dead-letter list)."`
	Attempt     int        `json:"attempt"`
	MaxAttempts int        `json:"max_attempts"`
	RunAt       time.Time  `json:"run_at"`
	LastError   string     `json:"last_error,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	FinishedAt  *time.Time `json:"finished_at"`
}

func jobOf(j *store.Job) jobView {
	return jobView{ID: j.ID, Kind: j.Kind, State: string(j.State), Attempt: j.Attempt, MaxAttempts: j.MaxAttempts,
		RunAt: j.RunAt, LastError: j.LastError, CreatedAt: j.CreatedAt, FinishedAt: j.FinishedAt}
}

type jobList struct {
	Items      []jobView `json:"items"`
	NextCursor *string   `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

func (a *api) createWebhookSubscription(w http.ResponseWriter, r *http.Request) error {
	var req webhookRequest
	if err := decodeJSON(bodyOf(r), &req); err != nil {
		return err
	}
	sub, err := a.svc.CreateWebhook(r.Context(), principal(r), service.WebhookInput{URL: req.URL, Events: req.Events, Secret: req.Secret})
	if err != nil {
		return err
	}
	v := webhookSubscriptionOf(sub)
	if req.Secret == "" {
		v.Secret = sub.Secret // generated: shown once
	}
	w.Header().Set("Location", resourcePath(r.URL.Path, sub.ID))
	return writeJSON(w, http.StatusCreated, v)
}

func (a *api) listWebhookSubscriptions(w http.ResponseWriter, r *http.Request) error {
	lp, err := listParams(r, "webhooks")
	if err != nil {
		return err
	}
	items, next, err := a.svc.ListWebhooks(r.Context(), principal(r), lp)
	if err != nil {
		return err
	}
	out := webhookSubscriptionList{Items: make([]webhookSubscriptionView, len(items)), NextCursor: encodeCursor("webhooks", next)}
	for i, s := range items {
		out.Items[i] = webhookSubscriptionOf(s)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *api) getWebhookSubscription(w http.ResponseWriter, r *http.Request) error {
	sub, err := a.svc.GetWebhook(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, webhookSubscriptionOf(sub))
}

func (a *api) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	lp, err := listParams(r, "deliveries")
	if err != nil {
		return err
	}
	items, next, err := a.svc.ListWebhookDeliveries(r.Context(), principal(r), r.PathValue("id"), lp)
	if err != nil {
		return err
	}
	out := deliveryList{Items: make([]deliveryView, len(items)), NextCursor: encodeCursor("deliveries", next)}
	for i, d := range items {
		out.Items[i] = deliveryOf(d)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *api) replayWebhookDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := a.svc.ReplayWebhookDelivery(r.Context(), principal(r), r.PathValue("id"), r.PathValue("delivery"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, deliveryOf(d))
}

func (a *api) listJobs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	state := q.Get("state")
	q.Del("state")
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = q.Encode()
	lp, err := listParams(r2, "jobs")
	if err != nil {
		return err
	}
	items, next, err := a.svc.ListJobs(r.Context(), principal(r), store.JobState(state), lp)
	if err != nil {
		return err
	}
	out := jobList{Items: make([]jobView, len(items)), NextCursor: encodeCursor("jobs", next)}
	for i, j := range items {
		out.Items[i] = jobOf(j)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *api) retryJob(w http.ResponseWriter, r *http.Request) error {
	j, err := a.svc.RetryJob(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, jobOf(j))
}
