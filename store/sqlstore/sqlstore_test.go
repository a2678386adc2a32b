package sqlstore

import (
	"testing"
	"testing/fstest"
)

func TestRebind(t *testing.T) {
	t.Parallel()
	d := &Dialect{Numbered: true}
	for q, want := range map[string]string{
		`SELECT 1`:        `SELECT 1`,
		`a = ? AND b = ?`: `a = $1 AND b = $2`,
		`x LIKE ? ESCAPE '!' AND y = '?' AND z = ?`:  `x LIKE $1 ESCAPE '!' AND y = '?' AND z = $2`,
		`"odd?col" = ? AND s = 'it''s ?' AND t = ?`:  `"odd?col" = $1 AND s = 'it''s ?' AND t = $2`,
		`VALUES (?, ?), (?, ?), (?, ?), (?, ?), (?)`: `VALUES ($1, $2), ($3, $4), ($5, $6), ($7, $8), ($9)`,
	} {
		for range 2 { // the second time from the cache
			if got := d.Rebind(q); got != want {
				t.Errorf("Rebind(%s) = %s, want %s", q, got, want)
			}
		}
	}
	if q := `a = ?`; (&Dialect{}).Rebind(q) != q {
		t.Error("a ? dialect rewrote its query")
	}
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	good := fstest.MapFS{"0002_more.sql": {}, "0001_init.sql": {}, "0010_later_on.sql": {}}
	names, err := Migrations(good)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"0001_init.sql", "0002_more.sql", "0010_later_on.sql"}; len(names) != 3 || names[0] != want[0] || names[1] != want[1] || names[2] != want[2] {
		t.Errorf("names %q, want %q", names, want)
	}
	for _, bad := range []fstest.MapFS{
		{"0001_init.sql": {}, "README.md": {}},
		{"1_init.sql": {}},
		{"0001_Init.sql": {}},
		{"0001_init.sql": {}, "0001_again.sql": {}},
	} {
		if _, err := Migrations(bad); err == nil {
			t.Errorf("Migrations accepted %v", bad)
		}
	}
}
