package outbound_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/auth"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/outbound"
	"github.com/orderly-oms/orderly/service"
	"github.com/orderly-oms/orderly/store"
)

var admin = auth.Principal{Role: auth.RoleAdmin, Name: "key:test-admin"}

// receiver is a webhook endpoint that answers with the statuses given, in
// turn (the last one repeated), and records what it got.
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []received
}

type received struct {
	body    []byte
	headers http.Header
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	rc := &receiver{statuses: statuses}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		status := 200
		if len(rc.statuses) > 0 {
			status = rc.statuses[0]
			if len(rc.statuses) > 1 {
				rc.statuses = rc.statuses[1:]
			}
		}
		rc.got = append(rc.got, received{body: body, headers: r.Header.Clone()})
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) answer(statuses ...int) {
	rc.mu.Lock()
	rc.statuses = statuses
	rc.mu.Unlock()
}

// node is one Orderly node's background work, with retries due at once.
type node struct {
	disp   *outbound.Dispatcher
	runner *outbound.Runner
}

func newNode(st store.Store, allowPrivate bool) *node {
	clock := orderly.SystemClock{}
	return &node{
		disp: &outbound.Dispatcher{Store: st, Clock: clock},
		runner: &outbound.Runner{Store: st, Clock: clock, Backoff: func(int) time.Duration { return 0 },
			Handlers: map[string]outbound.Handler{
				outbound.KindWebhookDelivery: (&outbound.Sender{Store: st, Clock: clock,
					Client: outbound.NewHTTPClient(5*time.Second, allowPrivate)}).Handle,
			}},
	}
}

// pump runs n's dispatcher and runner until done reports true.
func (n *node) pump(t *testing.T, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		if _, err := n.disp.DispatchOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := n.runner.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// emit stores events as a service would: in a transaction.
func emit(t *testing.T, st store.Store, types ...string) []*orderly.Event {
	t.Helper()
	var es []*orderly.Event
	for _, typ := range types {
		es = append(es, &orderly.Event{ID: orderly.NewID(), Type: typ, Subject: "order", SubjectID: "o1", OrderID: "",
			Actor: "test", At: orderly.SystemClock{}.Now(), Data: json.RawMessage(`{"number":1001}`)})
	}
	if err := st.InTx(context.Background(), func(tx store.Querier) error { return tx.EventInsert(context.Background(), es...) }); err != nil {
		t.Fatal(err)
	}
	return es
}

func subscribe(t *testing.T, svc *service.Service, url string, events ...string) *store.WebhookSubscription {
	t.Helper()
	sub, err := svc.CreateWebhook(context.Background(), admin, service.WebhookInput{URL: url, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func deliveries(t *testing.T, st store.Store, subID string) []*store.OutboundDelivery {
	t.Helper()
	ds, err := st.OutboundDeliveryList(context.Background(), subID, store.ListParams{})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func setup(t *testing.T, st store.Store) (*service.Service, *node) {
	svc := service.New(st, nil, nil)
	svc.AllowPrivateWebhooks = true // the receivers listen on 127.0.0.1
	return svc, newNode(st, true)
}

// A delivery is signed per Standard Webhooks: the official library
// verifies it with the subscription's secret.
func TestDeliverySigned(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		svc, n := setup(t, st)
		rc := newReceiver(t, 204)
		sub := subscribe(t, svc, rc.srv.URL+"/hook", "order.*")
		es := emit(t, st, "order.created", "stock.adjusted")
		n.pump(t, "the delivery", func() bool {
			ds := deliveries(t, st, sub.ID)
			return len(ds) == 1 && ds[0].Status == store.DeliverySucceeded
		})
		got := rc.received()
		if len(got) != 1 {
			t.Fatalf("received %d requests, want 1 (stock.adjusted does not match order.*)", len(got))
		}
		wh, err := standardwebhooks.NewWebhook(sub.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(got[0].body, got[0].headers); err != nil {
			t.Fatalf("the official library rejects the signature: %v", err)
		}
		tampered := append([]byte(nil), got[0].body...)
		tampered[len(tampered)-2] = ' '
		if wh.Verify(tampered, got[0].headers) == nil {
			t.Error("a tampered body verifies")
		}
		var p outbound.Payload
		if err := json.Unmarshal(got[0].body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Type != "order.created" || p.Data.ID != es[0].ID || string(p.Data.Data) != `{"number":1001}` && string(p.Data.Data) != `{"number": 1001}` {
			t.Errorf("payload %s", got[0].body)
		}
		d := deliveries(t, st, sub.ID)[0]
		if got[0].headers.Get("webhook-id") != d.ID || d.Attempts != 1 || d.LastStatusCode != 204 || d.DeliveredAt == nil || d.EventID != es[0].ID {
			t.Errorf("delivery %+v, webhook-id %q", d, got[0].headers.Get("webhook-id"))
		}
	})
}

// A failing endpoint is retried with the same webhook-id until it answers
// 2xx.
func TestRetriesUntilSuccess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		svc, n := setup(t, st)
		rc := newReceiver(t, 500, 503, 200)
		sub := subscribe(t, svc, rc.srv.URL, "order.*")
		emit(t, st, "order.created")
		n.pump(t, "the delivery", func() bool {
			ds := deliveries(t, st, sub.ID)
			return len(ds) == 1 && ds[0].Status == store.DeliverySucceeded
		})
		got := rc.received()
		d := deliveries(t, st, sub.ID)[0]
		if len(got) != 3 || d.Attempts != 3 {
			t.Fatalf("%d requests, %d attempts; want 3", len(got), d.Attempts)
		}
		for _, r := range got {
			if r.headers.Get("webhook-id") != d.ID {
				t.Errorf("webhook-id %q, want %q on every attempt", r.headers.Get("webhook-id"), d.ID)
			}
		}
		jobs, err := st.JobList(context.Background(), store.JobListParams{})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != 1 || jobs[0].State != store.JobSucceeded || jobs[0].Attempt != 3 || jobs[0].LastError == "" {
			t.Errorf("jobs %+v", jobs)
		}
	})
}

// 410 Gone disables the subscription at once: no retry, no later delivery.
func TestGoneDisables(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		svc, n := setup(t, st)
		rc := newReceiver(t, 410)
		sub := subscribe(t, svc, rc.srv.URL, "order.*")
		emit(t, st, "order.created")
		n.pump(t, "the delivery", func() bool {
			ds := deliveries(t, st, sub.ID)
			return len(ds) == 1 && ds[0].Status == store.DeliveryFailed
		})
		got, err := st.WebhookSubscriptionGet(context.Background(), sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Active || got.DisabledReason == "" {
			t.Errorf("subscription after 410: %+v", got)
		}
		emit(t, st, "order.held")
		n.pump(t, "the queue to drain", func() bool {
			jobs, _ := st.JobList(context.Background(), store.JobListParams{State: store.JobAvailable})
			return len(jobs) == 0
		})
		if len(rc.received()) != 1 || len(deliveries(t, st, sub.ID)) != 1 {
			t.Errorf("a disabled subscription got more: %d requests", len(rc.received()))
		}
		if _, err := svc.ReplayWebhookDelivery(context.Background(), admin, sub.ID, deliveries(t, st, sub.ID)[0].ID); orderly.KindOf(err) != orderly.KindConflict {
			t.Errorf("replay to a disabled subscription: %v", err)
		}
	})
}

// After the last attempt the delivery and its job are dead; a replay (or
// a retry of the dead job) sends it again.
func TestDeadLetterAndReplay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		svc, n := setup(t, st)
		rc := newReceiver(t, 500)
		sub := subscribe(t, svc, rc.srv.URL, "order.created")
		emit(t, st, "order.created")
		n.pump(t, "the dead letter", func() bool {
			ds := deliveries(t, st, sub.ID)
			return len(ds) == 1 && ds[0].Status == store.DeliveryDead
		})
		if got := len(rc.received()); got != outbound.MaxAttempts {
			t.Errorf("%d attempts, want %d", got, outbound.MaxAttempts)
		}
		dead, _, err := svc.ListJobs(context.Background(), admin, store.JobDead, store.ListParams{})
		if err != nil || len(dead) != 1 {
			t.Fatalf("dead letters %v %v", dead, err)
		}

		rc.answer(200)
		d := deliveries(t, st, sub.ID)[0]
		if _, err := svc.ReplayWebhookDelivery(context.Background(), admin, sub.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		n.pump(t, "the replay", func() bool { return deliveries(t, st, sub.ID)[0].Status == store.DeliverySucceeded })
		got := rc.received()
		if last := got[len(got)-1]; last.headers.Get("webhook-id") != d.ID || string(last.body) != string(d.Payload) {
			t.Errorf("the replay is not the same message")
		}

		// Retrying the dead job delivers it once more.
		if _, err := svc.RetryJob(context.Background(), admin, dead[0].ID); err != nil {
			t.Fatal(err)
		}
		before := len(got)
		n.pump(t, "the retried job", func() bool { return len(rc.received()) == before+1 })
		if _, err := svc.RetryJob(context.Background(), admin, dead[0].ID); orderly.KindOf(err) != orderly.KindConflict {
			t.Errorf("retry of a job that is no longer dead: %v", err)
		}
		if _, err := svc.RetryJob(context.Background(), auth.Principal{Role: auth.RoleAgent}, dead[0].ID); orderly.KindOf(err) != orderly.KindForbidden {
			t.Errorf("an agent retried a job: %v", err)
		}
	})
}

// Without the flag, targets on loopback, private or link-local addresses
// are refused when subscribing, and again when connecting.
func TestPrivateTargetsRefused(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]/x", "http://10.1.2.3/",
		"http://192.168.0.1/", "http://172.16.0.1/", "http://169.254.169.254/latest/meta-data", "http://[fe80::1]/",
		"http://[fd00::1]/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/", "http://224.0.0.1/", "http://100.64.0.1/",
		"ftp://example.com/", "/relative", "http://user:pw@example.com/"} {
		if err := outbound.CheckURL(ctx, u, false); orderly.KindOf(err) != orderly.KindInvalid {
			t.Errorf("CheckURL(%q) = %v, want KindInvalid", u, err)
		}
	}
	for _, ip := range []string{"8.8.8.8", "2606:4700:4700::1111", "93.184.216.34"} {
		if outbound.Blocked(netip.MustParseAddr(ip)) {
			t.Errorf("%s is blocked", ip)
		}
	}
	if err := outbound.CheckURL(ctx, "http://127.0.0.1:8080/x", true); err != nil {
		t.Errorf("with the flag: %v", err)
	}

	dbtest.Each(t, func(t *testing.T, st store.Store) {
		svc := service.New(st, nil, nil)
		rc := newReceiver(t, 200)
		_, err := svc.CreateWebhook(ctx, admin, service.WebhookInput{URL: rc.srv.URL, Events: []string{"*"}})
		if orderly.KindOf(err) != orderly.KindInvalid {
			t.Fatalf("subscribing %s without the flag: %v", rc.srv.URL, err)
		}
		// A subscription made while allowed (or whose DNS changed) is still
		// refused at dial time by a node without the flag.
		svc.AllowPrivateWebhooks = true
		sub := subscribe(t, svc, rc.srv.URL, "order.*")
		n := newNode(st, false)
		emit(t, st, "order.created")
		n.pump(t, "the refused attempt", func() bool {
			ds := deliveries(t, st, sub.ID)
			return len(ds) == 1 && ds[0].Status == store.DeliveryRetrying
		})
		if len(rc.received()) != 0 {
			t.Error("the dialer connected to a loopback address")
		}
		if d := deliveries(t, st, sub.ID)[0]; d.LastStatusCode != 0 || d.LastError == "" {
			t.Errorf("delivery %+v", d)
		}
	})
}

// Two nodes dispatching and delivering from one database deliver every
// event exactly once, while events are being written concurrently.
func TestTwoNodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		svc, _ := setup(t, st)
		rc := newReceiver(t, 200)
		sub := subscribe(t, svc, rc.srv.URL, "order.*")
		a, b := newNode(st, true), newNode(st, true)
		const writers, each = 4, 10
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var wg sync.WaitGroup
		for _, n := range []*node{a, b} {
			n.disp.Poll, n.runner.Poll = 5*time.Millisecond, 5*time.Millisecond
			wg.Go(func() { n.disp.Run(ctx) })
			wg.Go(func() { n.runner.Run(ctx) })
		}
		var written atomic.Int64
		var ww sync.WaitGroup
		for range writers {
			ww.Go(func() {
				for range each {
					emit(t, st, "order.created")
					written.Add(1)
				}
			})
		}
		ww.Wait()
		deadline := time.Now().Add(30 * time.Second)
		for len(rc.received()) < writers*each && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // room for a duplicate to show
		cancel()
		wg.Wait()
		events := map[string]int{}
		ids := map[string]int{}
		for _, r := range rc.received() {
			var p outbound.Payload
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			events[p.Data.ID]++
			ids[r.headers.Get("webhook-id")]++
		}
		if len(events) != writers*each || len(ids) != writers*each || len(rc.received()) != writers*each {
			t.Fatalf("%d events written; %d requests for %d distinct events", written.Load(), len(rc.received()), len(events))
		}
		if ds := deliveries(t, st, sub.ID); len(ds) != store.DefaultLimit && len(ds) != writers*each {
			t.Errorf("%d deliveries logged", len(ds))
		}
	})
}

// With NATS on, each event is published to JetStream as
// orderly.<type>, with its id as Nats-Msg-Id.
func TestNATS(t *testing.T) {
	url := os.Getenv("ORDERLY_TEST_NATS_URL")
	if url == "" {
		url = nats.DefaultURL
		c, err := net.DialTimeout("tcp", "127.0.0.1:4222", time.Second)
		if err != nil {
			t.Skip("no NATS server at 127.0.0.1:4222 and ORDERLY_TEST_NATS_URL is unset")
		}
		_ = c.Close()
	}
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		pub, err := outbound.ConnectNATS(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer pub.Close()
		nc, err := nats.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		typ := "natstest.t" + orderly.NewID() // a subject of this test's own
		sub, err := nc.SubscribeSync(outbound.SubjectPrefix + typ)
		if err != nil {
			t.Fatal(err)
		}
		n := newNode(st, true)
		n.disp.NATS = true
		n.runner.Handlers[outbound.KindNATSPublish] = pub.Handle
		es := emit(t, st, typ)
		n.pump(t, "the publish", func() bool {
			jobs, _ := st.JobList(ctx, store.JobListParams{State: store.JobSucceeded})
			return len(jobs) == 1
		})
		msg, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("no message on %s: %v", outbound.SubjectPrefix+typ, err)
		}
		var p outbound.Payload
		if err := json.Unmarshal(msg.Data, &p); err != nil || p.Data.ID != es[0].ID {
			t.Errorf("message %s (%v)", msg.Data, err)
		}
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		stream, err := js.Stream(ctx, outbound.StreamName)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := stream.GetLastMsgForSubject(ctx, outbound.SubjectPrefix+typ)
		if err != nil {
			t.Fatalf("not in the stream: %v", err)
		}
		if stored.Header.Get(jetstream.MsgIDHeader) != es[0].ID {
			t.Errorf("Nats-Msg-Id %q, want %q", stored.Header.Get(jetstream.MsgIDHeader), es[0].ID)
		}
	})
}
