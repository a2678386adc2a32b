package dbtest

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/orderly-oms/orderly/store"
)

func TestEach(t *testing.T) {
	var mu sync.Mutex
	ran := map[string]bool{}
	t.Run("each", func(t *testing.T) {
		Each(t, func(t *testing.T, s store.Store) {
			if err := s.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
			ms, err := s.MigrationStatus(context.Background())
			if err != nil || len(ms) == 0 || ms[len(ms)-1].AppliedAt == nil {
				t.Errorf("%s: not migrated: %+v, %v", s.Backend(), ms, err)
			}
			mu.Lock()
			ran[s.Backend()] = true
			mu.Unlock()
		})
	})
	if !ran["sqlite"] {
		t.Error("Each did not run on sqlite")
	}
	if !ran["postgres"] && os.Getenv(PostgresURLEnv) != "" {
		t.Errorf("Each did not run on postgres although %s is set", PostgresURLEnv)
	}
}
