package catalog

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds the schema, one directory per dialect, each a
// sequence of NNNN_what.sql files applied in order and never edited once
// released: a change to the schema is a new file.
//
//go:embed migrations
var migrationFiles embed.FS

// A migration is one step of the schema.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the dialect's migrations in order.
func migrations(fsys fs.FS, dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %s/%s is not named NNNN_what.sql", dir, e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(body)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations of %s: %s where version %d was expected", dialect, m.name, i+1)
		}
	}
	return out, nil
}

// migrate brings the schema up to date. A database that is up to date
// is only read. Otherwise the pending migrations are applied in one
// transaction, under the dialect's migration lock, and recorded in
// schema_migrations, so that of several processes opening one database
// at once one migrates and the others find it done.
func (c *sqlCatalog) migrate(ctx context.Context) error {
	all, err := migrations(migrationFiles, c.d.name)
	if err != nil {
		return err
	}
	var v int
	err = c.write.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	if err == nil && v == len(all) {
		return nil
	}
	return c.withTx(ctx, func(tx conn) error {
		return applyMigrations(ctx, tx, all)
	})
}

func applyMigrations(ctx context.Context, tx conn, all []migration) error {
	if tx.d.migrationLock != "" {
		if _, err := tx.exec(ctx, tx.d.migrationLock); err != nil {
			return err
		}
	}
	if _, err := tx.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER NOT NULL PRIMARY KEY,
		name TEXT NOT NULL,
		applied_ms BIGINT NOT NULL)`); err != nil {
		return err
	}
	var v int
	if err := tx.row(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return err
	}
	if v > len(all) {
		return fmt.Errorf("the database's schema version %d is newer than this program's %d: run a newer fileup", v, len(all))
	}
	for _, m := range all[v:] {
		if _, err := tx.q.ExecContext(ctx, m.sql); err != nil { // as written, untranslated
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)`,
			m.version, m.name, time.Now().UnixMilli()); err != nil {
			return err
		}
	}
	return nil
}
