package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/orderly-oms/orderly/store"
)

// migrationName is the shape of a migration file: a four-digit number, an
// underscore, a lower-case name and .sql.
var migrationName = regexp.MustCompile(`^[0-9]{4}_[a-z0-9_]+\.sql$`)

// migration is one file of the backend's migration folder.
type migration struct {
	name string
	sql  string
}

// Migrations returns the names of the migration files in fsys, in the
// order they apply. Any other file is an error, so that a misnamed
// migration cannot be skipped silently.
func Migrations(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !migrationName.MatchString(e.Name()) || e.IsDir() {
			return nil, fmt.Errorf("migration %q: name must look like 0001_name.sql", e.Name())
		}
		if len(names) > 0 && names[len(names)-1][:4] == e.Name()[:4] {
			return nil, fmt.Errorf("migrations %q and %q share a number", names[len(names)-1], e.Name())
		}
		names = append(names, e.Name()) // fs.ReadDir sorts by name
	}
	return names, nil
}

func (s *Store) migrations() ([]migration, error) {
	names, err := Migrations(s.cfg.Migrations)
	if err != nil {
		return nil, err
	}
	ms := make([]migration, len(names))
	for i, name := range names {
		b, err := fs.ReadFile(s.cfg.Migrations, name)
		if err != nil {
			return nil, err
		}
		ms[i] = migration{name: name, sql: string(b)}
	}
	return ms, nil
}

// Migrate applies every pending migration, each in its own transaction
// together with its row in schema_migrations. Under the dialect's
// LockMigrations, each transaction checks again that its migration is
// still pending, so concurrent migrators apply each file once.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	applied, err := s.applied(ctx)
	if err != nil {
		return err
	}
	if applied == nil {
		err := s.soloTx(ctx, func(c conn) error {
			if err := s.lockMigrations(ctx, c); err != nil {
				return err
			}
			_, err := c.raw.Exec(ctx, s.cfg.Dialect.MigrationsTable)
			return c.d.Interpret(err)
		})
		if err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
	}
	for _, m := range ms {
		if _, ok := applied[m.name]; ok {
			continue
		}
		err := s.soloTx(ctx, func(c conn) error {
			if err := s.lockMigrations(ctx, c); err != nil {
				return err
			}
			var n int
			if err := c.queryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, m.name).Scan(&n); err != nil || n > 0 {
				return err
			}
			// The script goes to the driver as it is: it holds no
			// placeholders, and may hold several statements.
			if _, err := c.raw.Exec(ctx, m.sql); err != nil {
				return c.d.Interpret(err)
			}
			_, err := c.exec(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`,
				m.name, time.Now().UTC().Truncate(time.Microsecond))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

func (s *Store) lockMigrations(ctx context.Context, c conn) error {
	if s.cfg.Dialect.LockMigrations == "" {
		return nil
	}
	_, err := c.exec(ctx, s.cfg.Dialect.LockMigrations)
	return err
}

// applied returns when each applied migration was applied, or nil if
// schema_migrations does not exist yet.
func (s *Store) applied(ctx context.Context) (map[string]time.Time, error) {
	var exists int
	if err := s.read.queryRow(ctx, s.cfg.Dialect.MigrationsTableExists).Scan(&exists); err != nil {
		return nil, fmt.Errorf("look for schema_migrations: %w", err)
	}
	if exists == 0 {
		return nil, nil
	}
	rs, err := s.read.query(ctx, `SELECT name, applied_at FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	type row struct {
		name string
		at   time.Time
	}
	rows, err := collect(rs, func(sc scanner) (row, error) {
		var r row
		return r, sc.Scan(&r.name, &r.at)
	})
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	applied := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		applied[r.name] = r.at
	}
	return applied, nil
}

// MigrationStatus lists every migration the backend knows, and any the
// database records that this build does not know (from a newer build), in
// name order, each with the time it was applied or nil.
func (s *Store) MigrationStatus(ctx context.Context) ([]store.Migration, error) {
	ms, err := s.migrations()
	if err != nil {
		return nil, err
	}
	applied, err := s.applied(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Migration
	for _, m := range ms {
		st := store.Migration{Name: m.name}
		if at, ok := applied[m.name]; ok {
			st.AppliedAt = &at
			delete(applied, m.name)
		}
		out = append(out, st)
	}
	for name, at := range applied {
		out = append(out, store.Migration{Name: name, AppliedAt: &at})
	}
	slices.SortFunc(out, func(a, b store.Migration) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
