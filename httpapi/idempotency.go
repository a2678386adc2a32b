package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/store"
)

// The Idempotency-Key header makes a POST, PUT or PATCH safe to retry. The first
// request with a key claims it in the store; its response is recorded once
// written; later requests with the same key and the same body get that
// response again (Idempotent-Replayed: true), without running the handler.
// The record lives in the database, not in memory, so a retry that lands on
// another node behaves the same.

// maxIdempotencyKey bounds the header's length.
const maxIdempotencyKey = 255

// idempotencyConfig tunes how long a duplicate waits for the first request
// and when an unfinished first request counts as dead.
type idempotencyConfig struct {
	// wait is how long a concurrent duplicate waits for the first
	// request's response before giving up with 409.
	wait time.Duration
	// poll is the interval at which it looks.
	poll time.Duration
	// staleAfter is how long a claim may stay unfinished before a retry
	// may take it over: the first request died (crash, killed node).
	staleAfter time.Duration
	// local keeps claims in this process's memory (store.SingleProcess):
	// no claim is written, and an unfinished record in the database is
	// one a dead process left.
	local bool
}

var defaultIdempotency = idempotencyConfig{wait: 2 * time.Second, poll: 50 * time.Millisecond, staleAfter: time.Minute}

// idempotent serves a mutating request that carries an Idempotency-Key.
func (a *api) idempotent(w http.ResponseWriter, r *http.Request, rt route, keys []string, body []byte,
	serve func(http.ResponseWriter, *http.Request)) {
	key := keys[0]
	switch {
	case len(keys) > 1:
		a.writeError(w, r, badRequest("Idempotency-Key", "must be sent once"))
		return
	case key == "":
		a.writeError(w, r, badRequest("Idempotency-Key", "must not be empty"))
		return
	case len(key) > maxIdempotencyKey:
		a.writeError(w, r, badRequest("Idempotency-Key", "must be at most "+strconv.Itoa(maxIdempotencyKey)+" characters"))
		return
	}
	ctx := r.Context()
	// The scope keeps keys of different callers and endpoints apart: a key
	// reused by another client or on another path is a different request.
	scope := principal(r).Name + " " + r.Method + " " + r.URL.Path
	sum := sha256.Sum256(body)
	now := a.svc.Now().Now()
	rec := &store.IdempotencyRecord{Scope: scope, Key: key, RequestHash: hex.EncodeToString(sum[:]), CreatedAt: now, LockedAt: now}
	var release func() // the claim held in memory, if it is
	if a.idem.local {
		var run bool
		if release, run = a.claimLocal(w, r, rt, rec); !run {
			return
		}
		defer func() {
			if release != nil {
				release()
			}
		}()
	} else if !a.claimShared(w, r, rt, rec) {
		return
	}
	st := a.svc.Store()

	// Record what the handler answers. The record is written after the
	// response, with a context the client cannot cancel: a client that
	// hangs up must not leave the key claimed.
	cw := &captureWriter{ResponseWriter: w}
	done := false
	defer func() {
		if done {
			return
		}
		// The handler panicked: free the key so a retry can run, and let
		// the panic reach the recovery middleware.
		_ = st.IdempotencyDelete(context.WithoutCancel(ctx), scope, key)
	}()
	if !rt.rerunSafe {
		// Every write transaction of the request marks the key applied
		// as it commits (store.MarkIdempotency), so that a retry after a
		// crash never runs a committed change again.
		r = r.WithContext(store.WithIdempotencyClaim(ctx, rec))
	}
	serve(cw, r)
	done = true
	bg := context.WithoutCancel(ctx)
	status := cw.statusCode()
	if status >= 500 {
		// A server error says nothing about the request: forget the key so
		// that a retry runs again.
		if err := st.IdempotencyDelete(bg, scope, key); err != nil {
			a.log.ErrorContext(ctx, "idempotency: delete record", "request_id", info(ctx).id, "error", err.Error())
		}
		return
	}
	rec.Status, rec.Body = status, cw.body.Bytes()
	record := func() {
		if err := st.IdempotencyComplete(bg, rec); err != nil {
			// The client has its answer; a retry will find the claim stale
			// after staleAfter (or, with claims in memory, at once) and run
			// again or, if the request committed a change, be told that its
			// response was lost.
			a.log.ErrorContext(ctx, "idempotency: record response", "request_id", info(ctx).id, "error", err.Error())
		}
	}
	if release == nil {
		record()
		return
	}
	// With the claim in memory the answer goes out now and the response
	// is recorded behind it, the claim held until it is: a duplicate waits
	// for the record as it waited for the request, and the client does not
	// wait for a second pass through the one writer (docs/decisions/0015).
	// A crash before the record is written leaves what a crash just after
	// the commit always left: capture runs again and finds its order, any
	// other request is answered idempotency_response_lost.
	held := release
	release = nil
	a.pending.Go(func() {
		defer held()
		record()
	})
}

// claimShared claims rec's key in the database, where every node sees it
// (IdempotencyBegin), and reports whether the request should run; if not,
// it has answered: a replay, a refusal, or 409 after waiting for the
// request that holds the key.
func (a *api) claimShared(w http.ResponseWriter, r *http.Request, rt route, rec *store.IdempotencyRecord) bool {
	ctx := r.Context()
	st := a.svc.Store()
	clock := a.svc.Now()
	deadline := time.Now().Add(a.idem.wait)
	for {
		now := clock.Now()
		rec.CreatedAt, rec.LockedAt = now, now
		existing, err := st.IdempotencyBegin(ctx, rec)
		if err != nil {
			a.writeError(w, r, err)
			return false
		}
		if existing == nil {
			return true // ours: run the request
		}
		// In progress: claimed (0), or applied (a transaction of it
		// committed) with its response not yet recorded.
		inProgress := existing.Status == 0 || existing.Status == store.IdempotencyApplied
		stale := inProgress && existing.LockedAt.Before(now.Add(-a.idem.staleAfter))
		if stale && existing.Status == 0 {
			// The first request died before answering, and before it
			// committed anything (store.MarkIdempotency), so whatever body
			// this one has, it may run.
			took, err := st.IdempotencyReclaim(ctx, rec.Scope, rec.Key, rec.RequestHash, now.Add(-a.idem.staleAfter), now)
			if err != nil {
				a.writeError(w, r, err)
				return false
			}
			if took {
				return true
			}
			continue // another retry reclaimed it first: look again
		}
		if a.answered(w, r, rt, rec, existing) {
			return false
		}
		if stale {
			a.writeError(w, r, errResponseLost)
			return false
		}
		// The first request is still running: wait a little for its
		// answer rather than make every client handle a 409.
		if time.Now().After(deadline) {
			a.writeError(w, r, errInProgress)
			return false
		}
		select {
		case <-ctx.Done():
			a.writeError(w, r, ctx.Err())
			return false
		case <-time.After(a.idem.poll):
		}
	}
}

// claimLocal claims rec's key in this process's memory — enough on a
// backend only one process uses (store.SingleProcess), and no write: a
// request with a key costs the one writer one transaction fewer. The
// database is read for the key's record once the claim is held: a
// complete one is replayed; an in-progress one was left by a process that
// died (none other can hold the key), so the request runs again, unless
// it had committed a change (applied) and may not run twice. The record
// is written by the request's first transaction (store.MarkIdempotency)
// or with its response (IdempotencyComplete), taking over a dead claim.
// It reports whether the request should run, with release to call once
// its response is recorded; if not, it has answered.
func (a *api) claimLocal(w http.ResponseWriter, r *http.Request, rt route, rec *store.IdempotencyRecord) (release func(), run bool) {
	ctx := r.Context()
	release, err := a.claims.acquire(ctx, rec.Scope+"\x00"+rec.Key, a.idem.wait)
	if err != nil {
		a.writeError(w, r, err)
		return nil, false
	}
	existing, err := a.svc.Store().IdempotencyGet(ctx, rec.Scope, rec.Key)
	switch {
	case orderly.KindOf(err) == orderly.KindNotFound:
		return release, true
	case err != nil:
		release()
		a.writeError(w, r, err)
		return nil, false
	case existing.Status == 0:
		// Claimed by a process that died before committing anything:
		// whatever body this one has, it may run.
		return release, true
	}
	if a.answered(w, r, rt, rec, existing) {
		release()
		return nil, false
	}
	if existing.Status == store.IdempotencyApplied && !rt.rerunSafe {
		release()
		a.writeError(w, r, errResponseLost)
		return nil, false
	}
	return release, true
}

// answered handles an existing record of rec's key that is no reason to
// wait: one for another request body is refused, a complete one replayed.
// It reports whether it answered.
func (a *api) answered(w http.ResponseWriter, r *http.Request, rt route, rec, existing *store.IdempotencyRecord) bool {
	if existing.RequestHash != rec.RequestHash {
		a.writeError(w, r, &orderly.Error{Kind: orderly.KindInvalid, Code: "idempotency_key_reused",
			Message: "this Idempotency-Key was used with a different request body",
			Fields:  []orderly.FieldError{{Field: "Idempotency-Key", Detail: "was used with a different request body"}}})
		return true
	}
	if existing.Status != 0 && existing.Status != store.IdempotencyApplied {
		a.replay(w, r, rt, existing)
		return true
	}
	return false
}

var (
	// errResponseLost: the request was applied, then the process died
	// before recording the response; running it again would apply it
	// twice.
	errResponseLost = &orderly.Error{Kind: orderly.KindConflict, Code: "idempotency_response_lost",
		Message: "the request with this Idempotency-Key was carried out, but the server stopped before recording its " +
			"response; it will not run again: read the resource to see the result"}
	errInProgress = &orderly.Error{Kind: orderly.KindConflict, Code: "idempotency_in_progress",
		Message: "a request with this Idempotency-Key is still in progress; retry later"}
)

// localClaims are the Idempotency-Keys this process's requests hold
// (claimLocal), each with a channel closed when it is released.
type localClaims struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

// acquire takes the claim id, waiting up to wait for a holder to release
// it; after that it is errInProgress.
func (c *localClaims) acquire(ctx context.Context, id string, wait time.Duration) (release func(), err error) {
	var timeout <-chan time.Time
	for {
		c.mu.Lock()
		if c.held == nil {
			c.held = map[string]chan struct{}{}
		}
		freed, busy := c.held[id]
		if !busy {
			freed = make(chan struct{})
			c.held[id] = freed
			c.mu.Unlock()
			return func() {
				c.mu.Lock()
				delete(c.held, id)
				c.mu.Unlock()
				close(freed)
			}, nil
		}
		c.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-freed:
		case <-timeout:
			return nil, errInProgress
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// replay sends a recorded response again.
func (a *api) replay(w http.ResponseWriter, r *http.Request, rt route, rec *store.IdempotencyRecord) {
	h := w.Header()
	if rec.Status >= 400 {
		h.Set("Content-Type", "application/problem+json")
	} else {
		h.Set("Content-Type", "application/json")
	}
	if rec.Status == http.StatusCreated && rt.locate != "" {
		var created map[string]any
		if json.Unmarshal(rec.Body, &created) == nil {
			if k, ok := created[rt.locate].(string); ok {
				h.Set("Location", rt.createdAt(r, k))
			}
		}
	}
	h.Set("Idempotent-Replayed", "true")
	h.Set("Content-Length", strconv.Itoa(len(rec.Body)))
	w.WriteHeader(rec.Status)
	w.Write(rec.Body)
}

// captureWriter passes a response through and keeps a copy of its status
// and body for the idempotency record.
type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *captureWriter) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

func (c *captureWriter) statusCode() int {
	if c.status == 0 {
		return http.StatusOK
	}
	return c.status
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
