package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/store"
)

func newJob(id string, runAt time.Time, maxAttempts int) *store.Job {
	return &store.Job{ID: id, Kind: "test", Args: []byte(`{"n": 1}`), MaxAttempts: maxAttempts, RunAt: runAt, CreatedAt: T0}
}

// testJobs pins the job queue's life cycle: claim what is due, succeed,
// fail with a retry, die after the last attempt, retry from the dead
// letters, and take over a job whose lease ended.
func testJobs(t *testing.T, s store.Store) {
	ok(t, "insert a", s.JobInsert(ctx, newJob("a", at(0), 2)))
	ok(t, "insert b", s.JobInsert(ctx, newJob("b", at(5), 1)))
	wantIs(t, "taken id", s.JobInsert(ctx, newJob("a", at(0), 1)), store.ErrDuplicate)
	wantKind(t, "bad args", s.JobInsert(ctx, &store.Job{ID: "x", Kind: "k", Args: []byte("{"), MaxAttempts: 1, RunAt: T0, CreatedAt: T0}), orderly.KindInvalid)

	got, err := s.JobClaim(ctx, at(1), time.Minute, 10)
	ok(t, "claim", err)
	if len(got) != 1 || got[0].ID != "a" || got[0].State != store.JobRunning || got[0].Attempt != 1 || string(got[0].Args) == "" {
		t.Fatalf("claim at 1: %+v, want a running at attempt 1", got)
	}
	if got[0].LockedUntil == nil || !got[0].LockedUntil.Equal(at(2)) {
		t.Errorf("locked until %v, want %v", got[0].LockedUntil, at(2))
	}
	again, err := s.JobClaim(ctx, at(1), time.Minute, 10)
	ok(t, "claim again", err)
	if len(again) != 0 {
		t.Errorf("claimed a running job again: %+v", again)
	}
	retry := at(3)
	ok(t, "fail a", s.JobFail(ctx, "a", 1, "boom", &retry, at(1)))
	wantKind(t, "fail a twice", s.JobFail(ctx, "a", 1, "boom", &retry, at(1)), orderly.KindNotFound)
	j, err := s.JobGet(ctx, "a")
	ok(t, "get a", err)
	if j.State != store.JobAvailable || j.LastError != "boom" || !j.RunAt.Equal(at(3)) || j.LockedUntil != nil {
		t.Errorf("a after failure: %+v", j)
	}

	// Its lease ends: at 8 both are due; b (run at 5) first.
	got, err = s.JobClaim(ctx, at(8), time.Minute, 10)
	ok(t, "claim at 8", err)
	if len(got) != 2 || got[0].ID != "a" || got[1].ID != "b" || got[0].Attempt != 2 {
		t.Fatalf("claim at 8: %+v", got)
	}
	ok(t, "succeed b", s.JobSucceed(ctx, "b", 1, at(8)))
	ok(t, "a dies", s.JobFail(ctx, "a", 2, "boom again", nil, at(8)))
	dead, err := s.JobList(ctx, store.JobListParams{State: store.JobDead})
	ok(t, "dead letters", err)
	if len(dead) != 1 || dead[0].ID != "a" || dead[0].FinishedAt == nil || dead[0].LastError != "boom again" {
		t.Errorf("dead letters: %+v", dead)
	}
	all, err := s.JobList(ctx, store.JobListParams{After: "a"})
	ok(t, "list after a", err)
	if len(all) != 1 || all[0].ID != "b" || all[0].State != store.JobSucceeded {
		t.Errorf("after a: %+v", all)
	}
	_, err = s.JobRetry(ctx, "b", at(9))
	wantKind(t, "retry a job that succeeded", err, orderly.KindConflict)
	_, err = s.JobRetry(ctx, "nope", at(9))
	wantKind(t, "retry unknown", err, orderly.KindNotFound)
	j, err = s.JobRetry(ctx, "a", at(9))
	ok(t, "retry a", err)
	if j.State != store.JobAvailable || j.Attempt != 0 || !j.RunAt.Equal(at(9)) {
		t.Errorf("retried: %+v", j)
	}

	// A worker whose lease ended cannot record the outcome over the
	// worker that took the job over.
	got, err = s.JobClaim(ctx, at(9), time.Minute, 10)
	ok(t, "claim retried", err)
	if len(got) != 1 || got[0].Attempt != 1 {
		t.Fatalf("claim retried: %+v", got)
	}
	got, err = s.JobClaim(ctx, at(11), time.Minute, 10)
	ok(t, "take over", err)
	if len(got) != 1 || got[0].Attempt != 2 {
		t.Fatalf("take over: %+v", got)
	}
	wantKind(t, "stale worker", s.JobSucceed(ctx, "a", 1, at(11)), orderly.KindNotFound)
	ok(t, "current worker", s.JobSucceed(ctx, "a", 2, at(11)))

	// A job enqueued in a rolled-back transaction never existed.
	boom := errors.New("boom")
	wantIs(t, "rollback", s.InTx(ctx, func(tx store.Querier) error {
		ok(t, "insert in tx", tx.JobInsert(ctx, newJob("c", at(0), 1)))
		return boom
	}), boom)
	_, err = s.JobGet(ctx, "c")
	wantKind(t, "rolled back", err, orderly.KindNotFound)
}

// testConcurrentJobClaims: claimers racing for the same jobs never take
// one twice.
func testConcurrentJobClaims(t *testing.T, s store.Store) {
	const n = 40
	for i := range n {
		ok(t, "insert", s.JobInsert(ctx, newJob(fmt.Sprintf("j%02d", i), at(0), 1)))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				got, err := s.JobClaim(ctx, at(1), time.Minute, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, j := range got {
					seen[j.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("claimed %d distinct jobs, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("job %s claimed %d times", id, c)
		}
	}
}

// testWebhookSubscriptions pins subscriptions and their delivery log.
func testWebhookSubscriptions(t *testing.T, s store.Store) {
	sub := &store.WebhookSubscription{ID: "s1", URL: "https://example.com/hook", Events: []string{"order.*"},
		Secret: "whsec_abc", Active: true, CreatedAt: T0, UpdatedAt: T0}
	ok(t, "insert", s.WebhookSubscriptionInsert(ctx, sub))
	ok(t, "insert 2", s.WebhookSubscriptionInsert(ctx, &store.WebhookSubscription{ID: "s2", URL: "https://example.org/",
		Events: []string{"*"}, Secret: "whsec_def", Active: true, CreatedAt: T0, UpdatedAt: T0}))
	got, err := s.WebhookSubscriptionGet(ctx, "s1")
	ok(t, "get", err)
	if got.URL != sub.URL || len(got.Events) != 1 || got.Events[0] != "order.*" || got.Secret != "whsec_abc" || !got.Active || !got.CreatedAt.Equal(T0) {
		t.Errorf("got %+v", got)
	}
	ok(t, "disable", s.WebhookSubscriptionDisable(ctx, "s1", "410", at(1)))
	wantKind(t, "disable unknown", s.WebhookSubscriptionDisable(ctx, "nope", "410", at(1)), orderly.KindNotFound)
	active, err := s.WebhookSubscriptionList(ctx, true, store.ListParams{})
	ok(t, "list active", err)
	if len(active) != 1 || active[0].ID != "s2" {
		t.Errorf("active: %+v", active)
	}
	all, err := s.WebhookSubscriptionList(ctx, false, store.ListParams{})
	ok(t, "list", err)
	if len(all) != 2 || all[0].Active || all[0].DisabledReason != "410" {
		t.Errorf("all: %+v", all)
	}

	d := func(id, event string) *store.OutboundDelivery {
		return &store.OutboundDelivery{ID: id, SubscriptionID: "s2", EventID: event, EventType: "order.created",
			Payload: []byte(`{"a":1}`), Status: store.DeliveryPending, CreatedAt: T0, UpdatedAt: T0}
	}
	ok(t, "delivery 1", s.OutboundDeliveryInsert(ctx, d("d1", "e1")))
	ok(t, "delivery 2", s.OutboundDeliveryInsert(ctx, d("d2", "e2")))
	wantIs(t, "same event twice", s.OutboundDeliveryInsert(ctx, d("d3", "e1")), store.ErrDuplicate)
	wantKind(t, "unknown subscription", s.OutboundDeliveryInsert(ctx, &store.OutboundDelivery{ID: "d4", SubscriptionID: "nope",
		EventID: "e1", EventType: "x", Payload: []byte("{}"), Status: store.DeliveryPending, CreatedAt: T0, UpdatedAt: T0}), orderly.KindInvalid)
	del, err := s.OutboundDeliveryGet(ctx, "d1")
	ok(t, "get delivery", err)
	if string(del.Payload) != `{"a":1}` || del.Status != store.DeliveryPending {
		t.Errorf("delivery: %+v", del)
	}
	now := at(2)
	del.Status, del.Attempts, del.LastStatusCode, del.UpdatedAt, del.DeliveredAt = store.DeliverySucceeded, 1, 204, now, &now
	ok(t, "update delivery", s.OutboundDeliveryUpdate(ctx, del))
	list, err := s.OutboundDeliveryList(ctx, "s2", store.ListParams{})
	ok(t, "list deliveries", err)
	if len(list) != 2 || list[0].ID != "d2" || list[1].Status != store.DeliverySucceeded || list[1].DeliveredAt == nil || !list[1].DeliveredAt.Equal(now) {
		t.Errorf("deliveries: %+v", list)
	}
	list, err = s.OutboundDeliveryList(ctx, "s2", store.ListParams{After: "d2"})
	ok(t, "list deliveries page 2", err)
	if len(list) != 1 || list[0].ID != "d1" {
		t.Errorf("page 2: %+v", list)
	}
	_, err = s.OutboundDeliveryGet(ctx, "nope")
	wantKind(t, "unknown delivery", err, orderly.KindNotFound)
}

// testOutboxCursor pins the dispatcher's view of the event log: events
// after the cursor in dispatch order, the cursor locked by one transaction
// at a time.
func testOutboxCursor(t *testing.T, s store.Store) {
	start, lockedOK, err := s.OutboxCursorLock(ctx, "dispatcher")
	ok(t, "read cursor", err)
	if !lockedOK {
		t.Fatal("cursor not readable outside a transaction")
	}
	_, _, err = s.OutboxCursorLock(ctx, "nope")
	wantKind(t, "unknown cursor", err, orderly.KindNotFound)

	var evs []*orderly.Event
	for i := range 5 {
		e := &orderly.Event{ID: fmt.Sprintf("ev%d", i), Type: "test.happened", Subject: "test", SubjectID: "x", Actor: "t", At: at(i), Data: []byte(`{"i":1}`)}
		ok(t, "event", s.EventInsert(ctx, e))
		evs = append(evs, e)
	}
	var got []store.OutboxEvent
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < 5 && time.Now().Before(deadline) { // PostgreSQL: other transactions of the cluster may hold the horizon back
		got, err = s.OutboxEvents(ctx, start, 10)
		ok(t, "outbox events", err)
	}
	if len(got) != 5 {
		t.Fatalf("got %d events, want 5", len(got))
	}
	for i, e := range got {
		if e.ID != evs[i].ID || e.Seq != evs[i].Seq || e.Type != "test.happened" {
			t.Errorf("event %d: %+v", i, e.Event)
		}
	}
	page, err := s.OutboxEvents(ctx, got[1].Cursor(), 2)
	ok(t, "after the second", err)
	if len(page) != 2 || page[0].ID != "ev2" || page[1].ID != "ev3" {
		t.Errorf("page: %+v", page)
	}

	// Inside a transaction the cursor is locked; it moves on commit.
	ok(t, "move", s.InTx(ctx, func(tx store.Querier) error {
		c, locked, err := tx.OutboxCursorLock(ctx, "dispatcher")
		if err != nil || !locked || c != start {
			return fmt.Errorf("lock: %v %v: %w", c, locked, err)
		}
		return tx.OutboxCursorSet(ctx, "dispatcher", got[4].Cursor())
	}))
	c, _, err := s.OutboxCursorLock(ctx, "dispatcher")
	ok(t, "read moved", err)
	if c != got[4].Cursor() {
		t.Errorf("cursor %v, want %v", c, got[4].Cursor())
	}
	rest, err := s.OutboxEvents(ctx, c, 10)
	ok(t, "rest", err)
	if len(rest) != 0 {
		t.Errorf("events after the end: %+v", rest)
	}
}
