package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/orderly-oms/orderly/store"
)

// TestBackgroundCheckpoint checks that commits are copied into the database
// file by the background checkpointer, not by the writer: a few hundred
// pages of commits, well below the writer's backstop (WALBackstopPages),
// reach the database file.
func TestBackgroundCheckpoint(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	ctx := context.Background()
	before := s.CheckpointStats()
	// About 300 pages (a 6 KB record takes two 4 KB pages), committed
	// through group commit as the service's writes are.
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	body := bytes.Repeat([]byte("x"), 6000)
	for i := range 150 {
		rec := &store.IdempotencyRecord{Scope: "test", Key: fmt.Sprint("k", i), RequestHash: "h",
			Status: 201, Body: body, CreatedAt: now, LockedAt: now}
		if err := s.IdempotencyComplete(ctx, rec); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	// The rows reach the database file itself (the writer's own checkpoint
	// would not run before WALBackstopPages): wait for the file to grow by
	// them, which the checkpoint after the last commit must bring about.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := s.CheckpointStats()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Runs > before.Runs && fi.Size() >= 150*6000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the commits were not copied into the database file within 10 s: %d bytes; checkpoints %+v (before %+v)",
				fi.Size(), st, before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCheckpointerIdle checks that a commit is followed by one checkpoint
// and then nothing while nothing is committed, and that Close stops the
// checkpointer (twice is harmless).
func TestCheckpointerIdle(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	// One commit through group commit, and the checkpoint that follows it.
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	rec := &store.IdempotencyRecord{Scope: "test", Key: "k", RequestHash: "h", Status: 201, Body: []byte(`{}`), CreatedAt: now, LockedAt: now}
	if err := s.IdempotencyComplete(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.CheckpointStats().Runs == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint ran after a commit within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Then nothing more while nothing is committed.
	idle := s.CheckpointStats()
	time.Sleep(5 * CheckpointInterval)
	if got := s.CheckpointStats(); got.Runs != idle.Runs {
		t.Errorf("checkpoints ran with nothing committed: %+v, then %+v", idle, got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.ckpt.done:
	default:
		t.Error("the checkpointer still runs after Close")
	}
	_ = s.Close()
}

// TestCheckpointFailureLoggedOnce checks that a checkpointer that cannot
// checkpoint says so once, not on every tick, and says when it works again.
func TestCheckpointFailureLoggedOnce(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	c := s.ckpt
	// Stop the loop, then drive checkpoint as the loop would: with a
	// connection that cannot checkpoint (a closed one), then the real one.
	c.closing.Do(func() { close(c.stop) })
	<-c.done
	var buf bytes.Buffer
	s.SetLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	good := c.db
	bad, err := openDB(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = bad.Close()
	c.db = bad
	for range 3 {
		c.checkpoint()
	}
	c.db = good
	c.checkpoint()
	c.checkpoint()
	out := buf.String()
	if n := strings.Count(out, "background checkpoint failed"); n != 1 {
		t.Errorf("failure logged %d times, want once:\n%s", n, out)
	}
	if n := strings.Count(out, "work again"); n != 1 {
		t.Errorf("recovery logged %d times, want once:\n%s", n, out)
	}
}
