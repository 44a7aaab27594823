// Package catalogtest is the conformance suite every catalog.Catalog must
// pass, and the helpers that open catalogs for tests. The catalog package
// runs the suite against SQLite always and against PostgreSQL when
// FILEUP_TEST_PG_DSN names a server (scripts/postgres.sh starts one); with
// FILEUP_TEST_PG_REQUIRED=1, as in CI, the PostgreSQL tests fail instead
// of skipping when it does not.
package catalogtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create test databases

	"github.com/fileup/fileup/catalog"
)

// Opener opens a fresh, empty catalog for one test and returns it with
// again, which opens one more handle on the same database as another
// process sharing it would. Both are opened with the zero
// catalog.Options (a GarbageDelay of catalog.DefaultGarbageDelay) and
// closed when the test that opened them ends.
type Opener func(t *testing.T) (c catalog.Catalog, again func(t *testing.T) catalog.Catalog)

// DSNOpener is the Opener of catalogs opened with catalog.Open on a DSN
// that newDSN returns for a fresh database: SQLiteDSN or PostgresDSN.
func DSNOpener(newDSN func(t testing.TB) string) Opener {
	return func(t *testing.T) (catalog.Catalog, func(t *testing.T) catalog.Catalog) {
		dsn := newDSN(t)
		open := func(t *testing.T) catalog.Catalog {
			t.Helper()
			return OpenDSN(t, dsn, catalog.Options{})
		}
		return open(t), open
	}
}

// OpenDSN opens the catalog dsn names, failing the test if it cannot, and
// closes it when the test ends.
func OpenDSN(t testing.TB, dsn string, opts catalog.Options) catalog.Catalog {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := catalog.Open(ctx, dsn, opts)
	if err != nil {
		t.Fatalf("open catalog: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close catalog: %v", err)
		}
	})
	return c
}

// SQLiteDSN returns the DSN of a new SQLite catalog in a temporary
// directory of the test.
func SQLiteDSN(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "catalog.db")
}

// PostgresServer returns FILEUP_TEST_PG_DSN, the postgres:// URL of a
// PostgreSQL server and a user who may create databases there. Without it
// it skips the test, or fails it when FILEUP_TEST_PG_REQUIRED=1.
func PostgresServer(t testing.TB) string {
	t.Helper()
	base := os.Getenv("FILEUP_TEST_PG_DSN")
	if base == "" {
		if os.Getenv("FILEUP_TEST_PG_REQUIRED") == "1" {
			t.Fatal("FILEUP_TEST_PG_REQUIRED=1 but FILEUP_TEST_PG_DSN is not set: run the tests under scripts/postgres.sh")
		}
		t.Skip("FILEUP_TEST_PG_DSN not set: no PostgreSQL to test against (run the tests under scripts/postgres.sh)")
	}
	return base
}

// PostgresDSN creates a database, fileup_<random>, on the PostgreSQL server
// of PostgresServer, drops it when the test ends, and returns its DSN.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := PostgresServer(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal("FILEUP_TEST_PG_DSN is not a URL")
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "fileup_" + hex.EncodeToString(b[:])
	if err := adminExec(base, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if err := adminExec(base, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// adminExec runs one statement on the database dsn names.
func adminExec(dsn, stmt string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
}

// Run runs the conformance suite. Its tests run in parallel, each on a
// catalog of its own.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"Settings", testSettings},
		{"SettingsRace", testSettingsRace},
		{"BeginQuota", testBeginQuota},
		{"BeginReservationsCount", testBeginReservationsCount},
		{"BeginExists", testBeginExists},
		{"BeginInvalid", testBeginInvalid},
		{"BeginRemovesExpired", testBeginRemovesExpired},
		{"Reserve", testReserve},
		{"ReserveErrors", testReserveErrors},
		{"ReserveRemovesExpired", testReserveRemovesExpired},
		{"Commit", testCommit},
		{"CommitReleasesReservation", testCommitReleasesReservation},
		{"CommitUploadGone", testCommitUploadGone},
		{"CommitInvalid", testCommitInvalid},
		{"Overwrite", testOverwrite},
		{"OverwriteExpired", testOverwriteExpired},
		{"ReplaceAtFileLimit", testReplaceAtFileLimit},
		{"Abort", testAbort},
		{"Import", testImport},
		{"Lookups", testLookups},
		{"Usage", testUsage},
		{"Idempotency", testIdempotency},
		{"IdempotencyExpired", testIdempotencyExpired},
		{"SweepFiles", testSweepFiles},
		{"SweepUploads", testSweepUploads},
		{"Garbage", testGarbage},
		{"Strings", testStrings},
		{"Times", testTimes},
		{"SecondHandle", testSecondHandle},
		{"PingClose", testPingClose},
		{"ConcurrentBegin", testConcurrentBegin},
		{"ConcurrentReserve", testConcurrentReserve},
		{"ConcurrentIdempotency", testConcurrentIdempotency},
		{"ConcurrentClaims", testConcurrentClaims},
		{"ConcurrentSweep", testConcurrentSweep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, again := open(t)
			tt.fn(t, &fixture{t: t, ctx: context.Background(), c: c, again: again})
		})
	}
}
