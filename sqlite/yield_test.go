package sqlite

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/store"
)

// TestReadersYield: a read outside a transaction yields once its
// statement ends (conn.yield, and why); writes, and reads inside a
// transaction (on the writer), do not.
func TestReadersYield(t *testing.T) {
	var n atomic.Int64
	old := readerYield
	readerYield = func() { n.Add(1) }
	t.Cleanup(func() { readerYield = old })

	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "y.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	before := n.Load()
	if err := s.ChannelInsert(ctx, &channel.Channel{Code: "web", Kind: channel.KindAPI, Name: "Web", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if got := n.Load() - before; got != 0 {
		t.Errorf("a write yielded %d times", got)
	}
	before = n.Load()
	if _, err := s.ChannelGet(ctx, "web"); err != nil { // one row: QueryRow
		t.Fatal(err)
	}
	if got := n.Load() - before; got != 1 {
		t.Errorf("a one-row read yielded %d times, want 1", got)
	}
	before = n.Load()
	if _, err := s.LocationList(ctx, store.ListParams{Limit: store.MaxLimit}); err != nil { // rows: Query
		t.Fatal(err)
	}
	if got := n.Load() - before; got != 1 {
		t.Errorf("a list read yielded %d times, want 1", got)
	}
}
