package sqlstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
)

// ctxTx is a Tx that records, for each statement "mark", whether its
// context could be cancelled.
type ctxTx struct {
	mu          *sync.Mutex
	cancellable *[]bool
}

func (t ctxTx) Exec(ctx context.Context, q string, _ ...any) (int64, error) {
	if q == "mark" {
		t.mu.Lock()
		*t.cancellable = append(*t.cancellable, ctx.Done() != nil)
		t.mu.Unlock()
	}
	return 0, nil
}

func (ctxTx) Query(context.Context, string, ...any) (Rows, error) {
	return nil, errors.New("no queries here")
}
func (ctxTx) QueryRow(context.Context, string, ...any) Row { return nil }
func (ctxTx) Commit(context.Context) error                 { return nil }
func (ctxTx) Rollback(context.Context) error               { return nil }

// TestGroupCommitDetachesBatches: the statements of a batch of several
// callers' transactions run without the callers' cancellation (conn
// detached) — on SQLite a caller hanging up mid-statement would otherwise
// interrupt it and roll back everybody's — while a transaction alone keeps
// its caller's.
func TestGroupCommitDetachesBatches(t *testing.T) {
	var mu sync.Mutex
	var cancellable []bool
	s := New(Config{
		Dialect: &Dialect{Name: "fake", InterpretError: func(error) *orderly.Error { return nil }},
		Begin: func(context.Context) (Tx, error) {
			return ctxTx{mu: &mu, cancellable: &cancellable}, nil
		},
		GroupCommit: 64,
		// No stock cache: nothing here reads.
		StockCacheBalances: -1,
	})
	ctxOf := func() context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		return ctx
	}

	// Alone: the caller's context.
	ctx := ctxOf()
	if err := s.runTx(ctx, func(c conn) error { _, err := c.exec(ctx, "mark"); return err }); err != nil {
		t.Fatal(err)
	}

	// A blocker holds the writer while three transactions queue, which
	// then run as one batch.
	started, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = s.runTx(ctxOf(), func(conn) error {
			close(started)
			<-release
			return nil
		})
	})
	<-started
	for range 3 {
		ctx := ctxOf()
		wg.Go(func() {
			if err := s.runTx(ctx, func(c conn) error { _, err := c.exec(ctx, "mark"); return err }); err != nil {
				t.Error(err)
			}
		})
	}
	for deadline := time.Now().Add(5 * time.Second); s.GroupCommitQueued() < 3; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the three transactions never queued")
		}
	}
	close(release)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(cancellable) != 4 {
		t.Fatalf("%d statements recorded, want 4", len(cancellable))
	}
	if !cancellable[0] {
		t.Error("a transaction alone ran without its caller's context")
	}
	for i, c := range cancellable[1:] {
		if c {
			t.Errorf("statement %d of the batch of three ran with its caller's cancellable context", i+1)
		}
	}
	if st := s.GroupCommitStats(); st.Batches != 3 || st.Transactions != 5 {
		t.Errorf("group commit ran %+v, want 3 batches (alone, blocker, three) of 5 transactions", st)
	}
}
