package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/store"
	"github.com/orderly-oms/orderly/store/sqlstore"
)

// withKey returns rq with an Idempotency-Key.
func withKey(rq req, key string) req {
	rq.header = map[string]string{"Idempotency-Key": key}
	return rq
}

func TestIdempotencyReplay(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		create := req{method: "POST", path: "/api/v1/orders", key: "agent", body: orderBody(chWeb, "I-1")}
		first := b.do(t, withKey(create, "k-1")).want(t, http.StatusCreated)
		if first.header.Get("Idempotent-Replayed") != "" {
			t.Error("the first response says it is replayed")
		}
		again := b.do(t, withKey(create, "k-1")).want(t, http.StatusCreated)
		if again.header.Get("Idempotent-Replayed") != "true" {
			t.Error("the replay does not say Idempotent-Replayed: true")
		}
		if string(again.body) != string(first.body) || again.header.Get("Location") != first.header.Get("Location") {
			t.Errorf("replay differs:\n%s\n%s\nLocation %q vs %q", first.body, again.body, first.header.Get("Location"), again.header.Get("Location"))
		}
		if n := b.countOrders(t); n != 1 {
			t.Errorf("%d orders, want 1", n)
		}

		// The same key with another body is refused.
		other := create
		other.body = orderBody(chWeb, "I-2")
		p := b.do(t, withKey(other, "k-1")).wantProblem(t, 422, "Idempotency-Key")
		if p["code"] != "idempotency_key_reused" {
			t.Errorf("code %v", p["code"])
		}
		// Keys are scoped to the caller, method and path: another key
		// holder's k-1, or k-1 on another path, is a new request.
		b.do(t, withKey(req{method: "POST", path: "/api/v1/orders", key: "admin", body: orderBody(chWeb, "I-2")}, "k-1")).want(t, 201)
		id := first.json(t)["id"].(string)
		hold := req{method: "POST", path: "/api/v1/orders/" + id + "/hold", key: "agent", body: `{"reason":"r"}`}
		b.do(t, withKey(hold, "k-1")).want(t, 200)

		// Client errors are recorded and replayed too; an invalid
		// transition replays its 409 even after the state changed.
		bad := req{method: "POST", path: "/api/v1/orders", key: "agent", body: strings.Replace(orderBody(chWeb, "I-3"), `"EUR"`, `"EURO"`, 1)}
		b.do(t, withKey(bad, "k-bad")).wantProblem(t, 422, "currency")
		if r := b.do(t, withKey(bad, "k-bad")); r.status != 422 || r.header.Get("Idempotent-Replayed") != "true" ||
			r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("422 replay: %d %v", r.status, r.header)
		}
		b.do(t, withKey(hold, "k-hold-2")).wantProblem(t, 409, "")
		b.post(t, "agent", "/api/v1/orders/"+id+"/release", "").want(t, 200)
		if r := b.do(t, withKey(hold, "k-hold-2")); r.status != 409 || r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("409 replay: %d", r.status)
		}

		// PATCH too.
		patch := req{method: "PATCH", path: "/api/v1/skus/SKU-2", key: "admin", body: `{"name":"Renamed"}`}
		b.do(t, withKey(patch, "k-patch")).want(t, 200)
		if r := b.do(t, withKey(patch, "k-patch")).want(t, 200); r.header.Get("Idempotent-Replayed") != "true" {
			t.Error("PATCH not replayed")
		}

		// Malformed keys.
		b.do(t, withKey(create, strings.Repeat("k", 256))).wantProblem(t, 400, "Idempotency-Key")
		b.do(t, withKey(create, strings.Repeat("k", 255))).want(t, 200) // I-1 exists: 200, not replayed
		if n := b.countOrders(t); n != 2 {
			t.Errorf("%d orders, want 2", n)
		}
	})
}

// TestIdempotencyInProgress covers a duplicate that arrives while the first
// request is still running, and one whose first request died.
func TestIdempotencyInProgress(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		create := req{method: "POST", path: "/api/v1/orders", key: "agent", body: orderBody(chWeb, "P-1")}
		scope := "key:agent-key POST /api/v1/orders"
		hash := sha256Hex(create.body)

		// A claim taken just now: the duplicate waits, then gets 409.
		now := b.clock.Now()
		release := b.holdClaim(t, &store.IdempotencyRecord{Scope: scope, Key: "busy", RequestHash: hash, CreatedAt: now, LockedAt: now})
		defer release()
		start := time.Now()
		p := b.do(t, withKey(create, "busy")).wantProblem(t, 409, "")
		if p["code"] != "idempotency_in_progress" {
			t.Errorf("code %v", p["code"])
		}
		if waited := time.Since(start); waited < b.api.idem.wait {
			t.Errorf("answered after %v, want a wait of %v first", waited, b.api.idem.wait)
		}

		// A claim older than staleAfter (or, with claims in memory, any
		// claim in the database): its request died, so this one runs.
		old := now.Add(-2 * b.api.idem.staleAfter)
		if _, err := b.store.IdempotencyBegin(ctx, &store.IdempotencyRecord{Scope: scope, Key: "dead", RequestHash: "other", CreatedAt: old, LockedAt: old}); err != nil {
			t.Fatal(err)
		}
		b.do(t, withKey(create, "dead")).want(t, 201)
		if r := b.do(t, withKey(create, "dead")).want(t, 201); r.header.Get("Idempotent-Replayed") != "true" {
			t.Error("the reclaimed key's response was not recorded")
		}
		if n := b.countOrders(t); n != 1 {
			t.Errorf("%d orders, want 1", n)
		}
	})
}

// TestIdempotencyConcurrent fires the same request with the same key at
// once: exactly one runs; the others replay its response or get 409.
func TestIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		const n = 8
		type result struct {
			status   int
			replayed bool
		}
		results := make([]result, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				r, _ := http.NewRequest("POST", b.srv.URL+"/api/v1/orders", strings.NewReader(orderBody(chWeb, "C-1")))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Authorization", "Bearer "+b.keys["agent"])
				r.Header.Set("Idempotency-Key", "same")
				res, err := b.srv.Client().Do(r)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				results[i] = result{res.StatusCode, res.Header.Get("Idempotent-Replayed") == "true"}
			})
		}
		wg.Wait()
		ran := 0
		for i, r := range results {
			switch {
			case r.status == 201 && !r.replayed:
				ran++
			case r.status == 201 && r.replayed, r.status == 409:
			default:
				t.Errorf("request %d: %+v", i, r)
			}
		}
		if ran != 1 {
			t.Errorf("%d requests ran, want 1: %+v", ran, results)
		}
		if c := b.countOrders(t); c != 1 {
			t.Errorf("%d orders, want 1", c)
		}
	})
}

// holdClaim claims rec's key as a request running right now would: in
// the database, or in the API's memory where claims live there
// (store.SingleProcess). It returns how to let go of a claim in memory.
func (b *bundle) holdClaim(t *testing.T, rec *store.IdempotencyRecord) (release func()) {
	t.Helper()
	if b.api.idem.local {
		release, err := b.api.claims.acquire(context.Background(), rec.Scope+"\x00"+rec.Key, 0)
		if err != nil {
			t.Fatal(err)
		}
		return release
	}
	if ex, err := b.store.IdempotencyBegin(context.Background(), rec); err != nil || ex != nil {
		t.Fatal(ex, err)
	}
	return func() {}
}

// TestIdempotencyClaimInMemory: on SQLite (one process) a request with a
// key writes no claim before it runs — the one writer runs its
// transaction and the recording of its response, and nothing else — and
// a claim left in the database by a process that died does not hold up a
// retry.
func TestIdempotencyClaimInMemory(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		if !b.api.idem.local {
			if store.SingleProcess(b.store) {
				t.Fatal("claims are not in memory on a single-process backend")
			}
			t.Skip("claims live in the database on " + b.store.Backend() + ": several processes share it")
		}
		stats, ok := b.store.(interface {
			GroupCommitStats() sqlstore.GroupCommitStats
		})
		if !ok {
			t.Fatalf("%T has no group-commit statistics", b.store)
		}
		adjust := req{method: "POST", path: "/api/v1/inventory/adjustments", key: "admin",
			body: `{"location":"leeds","sku":"SKU-1","delta":5,"reason":"receive"}`}
		before := stats.GroupCommitStats().Transactions
		b.do(t, withKey(adjust, "k1")).want(t, http.StatusCreated)
		b.api.pending.Wait() // the response is recorded after the answer
		if n := stats.GroupCommitStats().Transactions - before; n != 2 {
			t.Errorf("a request with a key ran %d write transactions, want 2 (its change, its response)", n)
		}
		if r := b.do(t, withKey(adjust, "k1")).want(t, http.StatusCreated); r.header.Get("Idempotent-Replayed") != "true" {
			t.Error("not replayed")
		}

		// Fresh in the database, but no request of this process holds it.
		now := b.clock.Now()
		scope := "key:admin-key POST /api/v1/inventory/adjustments"
		if ex, err := b.store.IdempotencyBegin(context.Background(), &store.IdempotencyRecord{Scope: scope, Key: "k2", RequestHash: sha256Hex(adjust.body), CreatedAt: now, LockedAt: now}); err != nil || ex != nil {
			t.Fatal(ex, err)
		}
		start := time.Now()
		b.do(t, withKey(adjust, "k2")).want(t, http.StatusCreated)
		if waited := time.Since(start); waited >= b.api.idem.wait {
			t.Errorf("waited %v for a claim nobody holds", waited)
		}
	})
}

// slowRecordStore holds every IdempotencyComplete until recording is
// closed.
type slowRecordStore struct {
	store.Store
	recording chan struct{}
}

func (s *slowRecordStore) IdempotencyComplete(ctx context.Context, rec *store.IdempotencyRecord) error {
	<-s.recording
	return s.Store.IdempotencyComplete(ctx, rec)
}

// TestIdempotencyAnswerBeforeRecord: with claims in memory the answer
// does not wait for its response to be recorded; a duplicate meanwhile
// waits for the record (the claim is held until then) and replays it.
func TestIdempotencyAnswerBeforeRecord(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, s store.Store) {
		if !store.SingleProcess(s) {
			t.Skip("claims live in the database on " + s.Backend() + ": the response is recorded before the answer")
		}
		slow := &slowRecordStore{Store: s, recording: make(chan struct{})}
		b := setup(t, slow)
		create := withKey(req{method: "POST", path: "/api/v1/orders", key: "agent", body: orderBody(chWeb, "A-1")}, "k-async")
		send := func() <-chan *response {
			ch := make(chan *response, 1)
			go func() {
				var r *response
				defer func() { ch <- r }() // nil if do gave up (t.Fatal)
				r = b.do(t, create)
			}()
			return ch
		}
		select {
		case r := <-send():
			if r == nil {
				t.FailNow()
			}
			r.want(t, 201) // answered while its record waits
		case <-time.After(5 * time.Second):
			close(slow.recording)
			t.Fatal("the answer waited for its response to be recorded")
		}
		replayed := send()
		select {
		case <-replayed:
			t.Fatal("the duplicate was answered before the first response was recorded")
		case <-time.After(100 * time.Millisecond):
		}
		close(slow.recording)
		r := <-replayed
		if r == nil {
			t.FailNow()
		}
		if r.want(t, 201); r.header.Get("Idempotent-Replayed") != "true" {
			t.Error("the duplicate was not a replay")
		}
		if n := b.countOrders(t); n != 1 {
			t.Errorf("%d orders, want 1", n)
		}
	})
}

// flakyStore fails every write transaction while failing is set, as a
// database that has gone away would.
type flakyStore struct {
	store.Store
	failing atomic.Bool
}

func (f *flakyStore) InTx(ctx context.Context, fn func(tx store.Querier) error) error {
	if f.failing.Load() {
		return errors.New("connection reset by peer")
	}
	return f.Store.InTx(ctx, fn)
}

// TestIdempotencyServerError checks that a 5xx frees the key for a retry,
// and that the 500 tells the client nothing internal.
func TestIdempotencyServerError(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, s store.Store) {
		fs := &flakyStore{Store: s}
		b := setup(t, fs)
		create := withKey(req{method: "POST", path: "/api/v1/orders", key: "agent", body: orderBody(chWeb, "F-1")}, "k-500")
		fs.failing.Store(true)
		p := b.do(t, create).wantProblem(t, 500, "")
		if p["detail"] != "internal error" || strings.Contains(string(jsonString(p)), "connection") {
			t.Errorf("500 says %v", p)
		}
		fs.failing.Store(false)
		if r := b.do(t, create).want(t, 201); r.header.Get("Idempotent-Replayed") != "" {
			t.Error("the retry after a 500 was a replay")
		}
	})
}
