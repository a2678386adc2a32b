package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/inventory"
	"github.com/orderly-oms/orderly/store"
)

// TestGroupCommitIsolation runs many transactions at once, so that group
// commit batches them, and checks that each one still commits or fails on
// its own: a failing or panicking transaction leaves nothing behind and
// takes nobody else with it.
func TestGroupCommitIsolation(t *testing.T) {
	t.Parallel()
	st := dbtest.SQLite(t)
	ctx := context.Background()
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	errPlanned := errors.New("planned failure")

	const n = 300
	var wg sync.WaitGroup
	results := make([]error, n)
	panics := make([]any, n)
	for i := range n {
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			results[i] = st.InTx(ctx, func(tx store.Querier) error {
				for _, suffix := range []string{"a", "b"} {
					code := fmt.Sprintf("G-%03d-%s", i, suffix)
					if err := tx.SKUInsert(ctx, &inventory.SKU{SKU: code, Name: code, CreatedAt: at, UpdatedAt: at}); err != nil {
						return err
					}
				}
				switch {
				case i%5 == 0:
					return errPlanned
				case i%7 == 0:
					panic(fmt.Sprint("planned panic ", i))
				case i%11 == 0:
					// A duplicate inside the transaction: an expected
					// failure the caller may handle, leaving it usable.
					err := tx.SKUInsert(ctx, &inventory.SKU{SKU: fmt.Sprintf("G-%03d-a", i), Name: "dup", CreatedAt: at, UpdatedAt: at})
					if !errors.Is(err, store.ErrDuplicate) {
						return fmt.Errorf("second insert: %w, want a duplicate", err)
					}
				}
				return nil
			})
		})
	}
	wg.Wait()

	for i := range n {
		failed := i%5 == 0
		panicked := !failed && i%7 == 0
		switch {
		case failed && !errors.Is(results[i], errPlanned):
			t.Errorf("transaction %d: err %v, want the planned failure", i, results[i])
		case panicked && panics[i] != fmt.Sprint("planned panic ", i):
			t.Errorf("transaction %d: panic %v, want the planned one re-raised to its caller", i, panics[i])
		case !failed && !panicked && (results[i] != nil || panics[i] != nil):
			t.Errorf("transaction %d: err %v, panic %v; want it committed", i, results[i], panics[i])
		}
		for _, suffix := range []string{"a", "b"} {
			code := fmt.Sprintf("G-%03d-%s", i, suffix)
			_, err := st.SKUGet(ctx, code)
			switch {
			case failed || panicked:
				if orderly.KindOf(err) != orderly.KindNotFound {
					t.Errorf("SKU %s of rolled-back transaction %d: err %v, want not found", code, i, err)
				}
			case err != nil:
				t.Errorf("SKU %s of committed transaction %d: %v", code, i, err)
			}
		}
	}
}

// TestGroupCommitCancelled checks that a transaction whose context has
// ended before it ran returns the context's error and writes nothing.
func TestGroupCommitCancelled(t *testing.T) {
	t.Parallel()
	st := dbtest.SQLite(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := st.InTx(ctx, func(tx store.Querier) error {
		ran = true
		return nil
	})
	if !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("InTx on a cancelled context: err %v, ran %v; want context.Canceled without running", err, ran)
	}
}

// TestGroupCommitAlone runs transactions one at a time, so that each is a
// batch of one (no savepoint): a failure or panic still leaves nothing, and
// the next transaction is unaffected.
func TestGroupCommitAlone(t *testing.T) {
	t.Parallel()
	st := dbtest.SQLite(t)
	ctx := context.Background()
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	insert := func(tx store.Querier, code string) error {
		return tx.SKUInsert(ctx, &inventory.SKU{SKU: code, Name: code, CreatedAt: at, UpdatedAt: at})
	}
	errPlanned := errors.New("planned failure")
	if err := st.InTx(ctx, func(tx store.Querier) error {
		if err := insert(tx, "ALONE-FAIL"); err != nil {
			return err
		}
		return errPlanned
	}); !errors.Is(err, errPlanned) {
		t.Fatalf("failing transaction: %v", err)
	}
	func() {
		defer func() {
			if p := recover(); p != "planned panic" {
				t.Errorf("panic %v, want the planned one", p)
			}
		}()
		_ = st.InTx(ctx, func(tx store.Querier) error {
			if err := insert(tx, "ALONE-PANIC"); err != nil {
				return err
			}
			panic("planned panic")
		})
	}()
	if err := st.InTx(ctx, func(tx store.Querier) error { return insert(tx, "ALONE-OK") }); err != nil {
		t.Fatalf("committing transaction: %v", err)
	}
	for code, want := range map[string]bool{"ALONE-FAIL": false, "ALONE-PANIC": false, "ALONE-OK": true} {
		_, err := st.SKUGet(ctx, code)
		if got := err == nil; got != want {
			t.Errorf("SKU %s stored %v, want %v (err %v)", code, got, want, err)
		}
	}
}
