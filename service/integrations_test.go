package service_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/connector/connectortest"
	"github.com/orderly-oms/orderly/connector/woocommerce"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

func integration(t *testing.T, b bundle, code string) service.Integration {
	t.Helper()
	rep, err := b.svc.Integrations(context.Background(), admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range rep.Channels {
		if it.Channel == code {
			return it
		}
	}
	t.Fatalf("no integration %s in %+v", code, rep)
	return service.Integration{}
}

// TestIntegrationsHealth: a channel whose credentials are refused
// dead-letters its poll and shows failing with the error; once the
// credentials are fixed, retrying the dead job recovers it, and an hour
// later it is ok.
func TestIntegrationsHealth(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := channelSetup(t, st)
		ctx := context.Background()
		fake := connectortest.NewFake(t)
		var calls atomic.Int64
		fake.Handle("GET /wp-json/wc/v3/orders", func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			if user, _, _ := r.BasicAuth(); user != "ck_good" {
				connectortest.JSON(w, 401, map[string]any{"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources."})
				return
			}
			connectortest.Raw(w, 200, []byte(`[]`))
		})
		configure(t, b, "woo", fake.URL, map[string]string{woocommerce.SettingConsumerKey: "ck_bad", woocommerce.SettingConsumerSecret: "cs"})
		if it := integration(t, b, "woo"); it.Status != service.IntegrationOK || it.PendingJobs != 1 ||
			strings.Join(it.SettingKeys, ",") != "consumer_key,consumer_secret" || !strings.Contains(strings.Join(it.Capabilities, ","), "poll") {
			t.Fatalf("before polling: %+v", it)
		}
		runJobs(t, b, 3)
		if calls.Load() != 1 {
			t.Fatalf("%d calls: a 401 was retried", calls.Load())
		}
		dead := jobs(t, st, service.KindChannelPoll, store.JobDead)
		if len(dead) != 1 {
			t.Fatalf("dead polls %d, want 1", len(dead))
		}
		it := integration(t, b, "woo")
		if it.Status != service.IntegrationFailing || it.DeadLetters != 1 || it.LastError == nil ||
			!strings.Contains(it.LastError.Message, "401") || it.ErrorRate != 1 || it.LastSuccessAt != nil {
			t.Fatalf("after a refused poll: %+v (last error %+v)", it, it.LastError)
		}
		if _, err := b.svc.Integrations(ctx, agent); orderly.KindOf(err) != orderly.KindForbidden {
			t.Errorf("an agent read integrations: %v", err)
		}

		// Fix the credentials (the value stays write-only), retry the dead job.
		if _, err := b.svc.PutChannelConnector(ctx, admin, "woo", service.ConnectorInput{
			Settings: map[string]string{woocommerce.SettingConsumerKey: "ck_good", woocommerce.SettingConsumerSecret: "cs"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.RetryJob(ctx, admin, dead[0].ID); err != nil {
			t.Fatal(err)
		}
		runJobs(t, b, 3)
		it = integration(t, b, "woo")
		if it.Status != service.IntegrationDegraded || it.DeadLetters != 0 || it.LastSuccessAt == nil || it.Attempts != 2 || it.ErrorRate != 0.5 {
			t.Fatalf("after the retry: %+v", it)
		}
		if it.Watermark == nil || it.LagSeconds != 120 {
			t.Errorf("watermark %v lag %d, want 2 minutes behind", it.Watermark, it.LagSeconds)
		}
		b.clock.Advance(time.Hour + time.Minute)
		runJobs(t, b, 3)
		if it = integration(t, b, "woo"); it.Status != service.IntegrationOK || it.Failures != 0 {
			t.Errorf("an hour later: %+v", it)
		}

		// Disabled: shown as such, and its poll stops.
		off := false
		if _, err := b.svc.PutChannelConnector(ctx, admin, "woo", service.ConnectorInput{Enabled: &off}); err != nil {
			t.Fatal(err)
		}
		if it = integration(t, b, "woo"); it.Status != service.IntegrationDisabled {
			t.Errorf("disabled: %+v", it)
		}
	})
}

// TestPutChannelConnectorValidates: bad configuration is a 422 naming the
// field, and nothing is stored.
func TestPutChannelConnectorValidates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := channelSetup(t, st)
		ctx := context.Background()
		bad := "ftp://x"
		_, err := b.svc.PutChannelConnector(ctx, admin, "woo", service.ConnectorInput{BaseURL: &bad})
		assertField(t, err, "base_url")
		n := 5
		_, err = b.svc.PutChannelConnector(ctx, admin, "woo", service.ConnectorInput{PollIntervalSeconds: &n})
		assertField(t, err, "poll_interval_seconds")
		_, err = b.svc.PutChannelConnector(ctx, admin, "web", service.ConnectorInput{})
		assertField(t, err, "channel")
		_, err = b.svc.PutChannelConnector(ctx, agent, "woo", service.ConnectorInput{})
		if orderly.KindOf(err) != orderly.KindForbidden {
			t.Errorf("agent: %v", err)
		}
		if _, err := st.ChannelConnectorGet(ctx, "woo"); orderly.KindOf(err) != orderly.KindNotFound {
			t.Errorf("something was stored: %v", err)
		}
	})
}
