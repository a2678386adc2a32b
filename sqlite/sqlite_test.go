package sqlite_test

import (
	"os"
	"slices"
	"testing"

	"github.com/orderly-oms/orderly/internal/dbtest"
	"github.com/orderly-oms/orderly/store"
	"github.com/orderly-oms/orderly/store/storetest"
)

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T) store.Store { return dbtest.SQLite(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, dbtest.SQLite)
}

// TestMigrationNames checks that both backends have the same migrations:
// a schema change exists in both or in neither.
func TestMigrationNames(t *testing.T) {
	t.Parallel()
	names := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	lite, pg := names("migration"), names("../postgres/migration")
	if len(lite) == 0 || !slices.Equal(lite, pg) {
		t.Errorf("sqlite/migration holds %q, postgres/migration holds %q; want the same names", lite, pg)
	}
}
