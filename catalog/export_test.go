package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// What the external tests (package catalog_test, which may use
// catalogtest) need of the implementation.

// SetExpireBatch sets how many expired files of a tenant one statement of
// Begin, Reserve and Usage removes.
func SetExpireBatch(c Catalog, n int) { c.(*sqlCatalog).expireBatch = n }

// DBs returns the catalog's database handles.
func DBs(c Catalog) (write, read *sql.DB) {
	s := c.(*sqlCatalog)
	return s.write, s.read
}

// OpenSQLite opens a SQLite catalog with PRAGMA synchronous set to sync.
func OpenSQLite(ctx context.Context, path, sync string) (Catalog, error) {
	c, err := openSQLite(ctx, path, sync)
	if err != nil {
		return nil, err
	}
	c.garbageDelay, c.expireBatch = DefaultGarbageDelay, expireBatch
	if err := c.migrate(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// SchemaVersion is the number of migrations of the dialect.
func SchemaVersion(dialect string) (int, error) {
	m, err := migrations(migrationFiles, dialect)
	return len(m), err
}

// Seed adds n files of size bytes to the tenant in one transaction, as n
// Imports would: a fixture for benchmarks.
func Seed(ctx context.Context, c Catalog, tenant string, n int, size int64, created time.Time) error {
	s := c.(*sqlCatalog)
	return s.withTx(ctx, func(tx conn) error {
		if err := ensureTenant(ctx, tx, tenant); err != nil {
			return err
		}
		for i := range n {
			name := fmt.Sprintf("seed-%s-%d", tenant, i)
			f := File{ID: name, Tenant: tenant, Path: "seed", Name: name, Link: name, Object: name,
				Size: size, Created: created}
			if err := s.insertFile(ctx, tx, f); err != nil {
				return err
			}
		}
		return adjust(ctx, tx, tenant, delta{usedBytes: int64(n) * size, usedFiles: int64(n)})
	})
}
