package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// DefaultGarbageDelay is the GarbageDelay of Options that leave it zero.
const DefaultGarbageDelay = 10 * time.Minute

// Open opens the catalog dsn names and brings its schema up to date:
//
//   - "sqlite:PATH" is the SQLite database file PATH, created if it does
//     not exist (its directory must);
//   - "postgres://..." or "postgresql://..." is a PostgreSQL database, in
//     the URL form libpq and pgx accept.
//
// Several processes may open one database at once; the first migrates
// it. The catalog must be closed when done.
func Open(ctx context.Context, dsn string, opts Options) (Catalog, error) {
	kind, target, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if opts.GarbageDelay < 0 {
		return nil, invalid("garbage delay %v is negative", opts.GarbageDelay)
	}
	if opts.GarbageDelay == 0 {
		opts.GarbageDelay = DefaultGarbageDelay
	}
	var c *sqlCatalog
	switch kind {
	case "sqlite":
		c, err = openSQLite(ctx, target, sqliteSynchronous)
	default:
		c, err = openPostgres(target)
	}
	if err != nil {
		return nil, err
	}
	c.garbageDelay = opts.GarbageDelay
	c.expireBatch = expireBatch
	if err := c.migrate(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("catalog: migrate the %s schema: %w", c.d.name, err)
	}
	return c, nil
}

// parseDSN splits a DSN into its kind, "sqlite" or "postgres", and what
// the kind's driver opens: the path, or the whole URL. Its errors never
// quote the DSN, which may hold a password.
func parseDSN(dsn string) (kind, target string, err error) {
	scheme, rest, ok := strings.Cut(dsn, ":")
	switch {
	case !ok:
		return "", "", errors.New("catalog: the DSN has no scheme: want sqlite:PATH or postgres://...")
	case scheme == "sqlite":
		return "sqlite", rest, checkSQLitePath(rest)
	case scheme == "postgres" || scheme == "postgresql":
		if !strings.HasPrefix(rest, "//") {
			return "", "", fmt.Errorf("catalog: a %s DSN is a URL: %s://[user[:password]@]host[:port]/database[?...]", scheme, scheme)
		}
		return "postgres", dsn, nil
	}
	if len(scheme) > 20 {
		scheme = scheme[:20] + "..."
	}
	return "", "", fmt.Errorf("catalog: unknown DSN scheme %q: want sqlite:PATH or postgres://...", scheme)
}

// checkSQLitePath refuses what cannot be a database file shared by the
// catalog's two connection pools.
func checkSQLitePath(p string) error {
	switch {
	case p == "":
		return errors.New("catalog: sqlite: DSN without a path: want sqlite:PATH")
	case p == ":memory:" || strings.HasPrefix(p, "file::memory:"):
		return errors.New("catalog: sqlite: in-memory databases are not supported: give a file path")
	case strings.ContainsAny(p, "?#\x00"):
		return errors.New("catalog: sqlite: the path may not contain '?', '#' or NUL")
	}
	return nil
}

// sqliteSynchronous is PRAGMA synchronous for SQLite catalogs. FULL syncs
// the write-ahead log at every commit, so a committed row survives a
// power loss too, not only a crash of the process; see the package
// documentation and BenchmarkSQLiteSynchronous for its cost.
const sqliteSynchronous = "FULL"

// sqliteBusyTimeout is how long a SQLite writer waits for another
// process's write transaction to end before failing with SQLITE_BUSY.
const sqliteBusyTimeout = 10 * time.Second

// openSQLite opens the database file at path in WAL mode, with
// synchronous set to sync: one connection for writes, whose transactions
// begin IMMEDIATE, and a pool of read-only ones.
func openSQLite(ctx context.Context, path, sync string) (*sqlCatalog, error) {
	if dir := filepath.Dir(path); dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("catalog: sqlite: directory %q of the database does not exist", dir)
		}
	}
	common := fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(%s)",
		path, sqliteBusyTimeout.Milliseconds(), sync)
	write, err := sql.Open("sqlite", common+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("catalog: sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)
	// The writer connects first, so the file exists and is in WAL mode
	// before any reader opens it.
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("catalog: sqlite: open %q: %w", path, err)
	}
	read, err := sql.Open("sqlite", common+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("catalog: sqlite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	return &sqlCatalog{d: sqliteDialect, write: write, read: read, group: &txGroup{db: write, d: sqliteDialect, stmts: newStmtCache(write)}}, nil
}

// pgMaxConns bounds one catalog's connections to PostgreSQL. Several
// server processes share the server's max_connections (100 by default).
const pgMaxConns = 16

// openPostgres opens a pool of connections to the PostgreSQL database
// the URL names.
func openPostgres(url string) (*sqlCatalog, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("catalog: postgres: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(pgMaxConns)
	db.SetMaxIdleConns(pgMaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &sqlCatalog{d: postgresDialect, write: db, read: db, group: &txGroup{db: db, d: postgresDialect}}, nil
}
