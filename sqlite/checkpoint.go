package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Checkpoints copy the pages that commits appended to the WAL back into the
// database file, so that the WAL can start again from its beginning. SQLite
// runs one by itself inside the COMMIT that takes the WAL past
// wal_autocheckpoint pages — on the one writer, which every capture waits
// for. Measured under intake load, that checkpoint (reading the WAL,
// writing the database file, its fsync) was 43% of the writer's time in
// system calls, and the writer spent a third of its time in system calls
// (docs/benchmarks.md, eighth session).
//
// So a connection of its own checkpoints in the background (PASSIVE: it
// never blocks the writer or the readers, and copies what it can), shortly
// after commits, while the writer goes on appending; the writer's automatic
// checkpoint stays as a backstop at a larger size (WALBackstopPages). Under
// a steady stream of commits a passive checkpoint rarely finds the WAL
// complete and unread, which is what lets it restart the log, so the
// backstop still runs now and then — but finds most pages already copied.
// Durability is unchanged: a commit is durable once its WAL frames are
// synced, and a checkpoint cut short by a crash is finished by recovery.
// See decision 0018.

// CheckpointInterval is how often the background checkpointer looks for
// commits since its last checkpoint.
const CheckpointInterval = 50 * time.Millisecond

// WALBackstopPages is the writer's wal_autocheckpoint: the WAL size, in
// pages, at which a COMMIT checkpoints by itself (SQLite's default is 1,000).
// It bounds the WAL (to about 16 MB of 4 KB pages plus one batch) should the
// background checkpointer fall behind or be unable to restart the log.
const WALBackstopPages = 4000

// checkpointer runs passive checkpoints on a connection of its own.
type checkpointer struct {
	db      *sql.DB
	commits func() int64 // write transactions committed so far
	stop    chan struct{}
	done    chan struct{}
	closing sync.Once
	log     atomic.Pointer[slog.Logger] // nil: slog's default (see SetLogger)
	failing bool                        // the last checkpoint failed (logged once, not on every tick)

	mu   sync.Mutex
	last CheckpointStats
}

// CheckpointStats is what the background checkpointer has done: checkpoints
// run, and after the last one the frames in the WAL and how many of them
// are copied into the database file.
type CheckpointStats struct {
	Runs, Frames, Copied int64
}

// SetLogger sets where the store reports trouble that no caller sees (the
// background checkpointer's); until then, slog's default logger.
func (s *Store) SetLogger(l *slog.Logger) { s.ckpt.log.Store(l) }

// CheckpointStats returns the background checkpointer's counts so far.
func (s *Store) CheckpointStats() CheckpointStats {
	s.ckpt.mu.Lock()
	defer s.ckpt.mu.Unlock()
	return s.ckpt.last
}

func startCheckpointer(db *sql.DB, commits func() int64, every time.Duration) *checkpointer {
	c := &checkpointer{db: db, commits: commits, stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop(every)
	return c
}

func (c *checkpointer) loop(every time.Duration) {
	defer close(c.done)
	t := time.NewTicker(every)
	defer t.Stop()
	last := c.commits()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		n := c.commits()
		if n == last {
			continue // nothing appended since the last checkpoint
		}
		last = n
		c.checkpoint()
	}
}

// checkpoint runs one passive checkpoint. A failure is logged when it
// starts and when it ends, not on every tick, and the next tick tries
// again: the writer's backstop keeps the WAL bounded meanwhile.
func (c *checkpointer) checkpoint() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// busy: 1 if another checkpoint held the lock; frames: in the WAL;
	// done: frames copied into the database (-1 both if not in WAL mode).
	var busy, frames, done int64
	err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done)
	log := c.log.Load()
	if log == nil {
		log = slog.Default()
	}
	if err != nil {
		if !c.failing {
			log.Warn("sqlite: background checkpoint failed; the writer checkpoints by itself until it works again", "error", err)
			c.failing = true
		}
		return
	}
	if c.failing {
		log.Info("sqlite: background checkpoints work again")
		c.failing = false
	}
	c.mu.Lock()
	c.last = CheckpointStats{Runs: c.last.Runs + 1, Frames: frames, Copied: done}
	c.mu.Unlock()
}

// close stops the loop and closes the connection; closing again does
// nothing.
func (c *checkpointer) close() error {
	c.closing.Do(func() { close(c.stop) })
	<-c.done
	return c.db.Close()
}
