package catalog_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/catalog/catalogtest"
)

var ctx = context.Background()

// dialects are the databases to test on, each a function returning the
// DSN of a fresh database (or skipping).
var dialects = []struct {
	name string
	dsn  func(t testing.TB) string
}{
	{"sqlite", catalogtest.SQLiteDSN},
	{"postgres", catalogtest.PostgresDSN},
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, dsn string
		opts      catalog.Options
		want      string // a part of the error
	}{
		{"missing directory", "sqlite:" + filepath.Join(dir, "missing", "c.db"), catalog.Options{}, "does not exist"},
		{"a file for a directory", "sqlite:" + filepath.Join(dir, "file", "c.db"), catalog.Options{}, "does not exist"},
		{"not a database", "sqlite:" + filepath.Join(dir, "garbage.db"), catalog.Options{}, "not a database"},
		{"negative garbage delay", "sqlite:" + filepath.Join(dir, "c.db"), catalog.Options{GarbageDelay: -time.Second}, "negative"},
		{"unknown scheme", "mysql://fileup:hunter2@127.0.0.1/fileup", catalog.Options{}, "unknown DSN scheme"},
		{"bad postgres URL", "postgres://fileup:hunter2@127.0.0.1:notaport/fileup", catalog.Options{}, "postgres"},
		{"no postgres server", "postgres://fileup:hunter2@127.0.0.1:1/fileup?connect_timeout=5", catalog.Options{}, "127.0.0.1"},
	}
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "garbage.db"), []byte(strings.Repeat("not a database\n", 500)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := catalog.Open(ctx, tt.dsn, tt.opts)
			if err == nil {
				c.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v, want an error about %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("Open: the error %q quotes the password", err)
			}
		})
	}
}

// migrationsRecorded returns the rows of schema_migrations.
func migrationsRecorded(t *testing.T, c catalog.Catalog) []string {
	t.Helper()
	write, _ := catalog.DBs(c)
	rows, err := write.QueryContext(ctx, `SELECT version, name, applied_ms FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v, applied int64
		var name string
		if err := rows.Scan(&v, &name, &applied); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join([]string{name, time.UnixMilli(applied).String()}, " at "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReopen: opening an up-to-date database changes nothing, and the
// catalog in it is intact.
func TestReopen(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			c := catalogtest.OpenDSN(t, dsn, catalog.Options{})
			first := migrationsRecorded(t, c)
			if want, _ := catalog.SchemaVersion(d.name); len(first) != want {
				t.Fatalf("schema_migrations = %q, want %d migrations", first, want)
			}
			if _, err := c.InitSetting(ctx, "k", "v"); err != nil {
				t.Fatal(err)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			before := sqliteFile(t, dsn)
			c = catalogtest.OpenDSN(t, dsn, catalog.Options{})
			if got := migrationsRecorded(t, c); !slices.Equal(got, first) {
				t.Fatalf("after re-opening, schema_migrations = %q, want %q", got, first)
			}
			if v, err := c.Setting(ctx, "k"); err != nil || v != "v" {
				t.Fatalf("Setting after re-opening = %q, %v", v, err)
			}
			c.Close()
			if after := sqliteFile(t, dsn); after != before {
				t.Fatal("re-opening an up-to-date database changed its file")
			}
		})
	}
}

// sqliteFile returns the SHA-256 of a SQLite DSN's database file, or ""
// for another DSN.
func sqliteFile(t *testing.T, dsn string) [32]byte {
	path, ok := strings.CutPrefix(dsn, "sqlite:")
	if !ok {
		return [32]byte{}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestNewerSchema: a database migrated by a newer program is refused, not
// used with a schema this one does not know.
func TestNewerSchema(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			c := catalogtest.OpenDSN(t, dsn, catalog.Options{})
			write, _ := catalog.DBs(c)
			if _, err := write.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_ms) VALUES (999, '0999_future.sql', 0)`); err != nil {
				t.Fatal(err)
			}
			c.Close()
			c, err := catalog.Open(ctx, dsn, catalog.Options{})
			if err == nil {
				c.Close()
				t.Fatal("Open of a newer schema succeeded")
			}
			if !strings.Contains(err.Error(), "newer") {
				t.Fatalf("Open of a newer schema: %v", err)
			}
		})
	}
}

// TestConcurrentOpen: processes starting at once on a new database
// migrate it once.
func TestConcurrentOpen(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			const n = 8
			cats := make([]catalog.Catalog, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { cats[i], errs[i] = catalog.Open(ctx, dsn, catalog.Options{}) })
			}
			wg.Wait()
			for _, c := range cats {
				if c != nil {
					defer c.Close()
				}
			}
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			want, _ := catalog.SchemaVersion(d.name)
			if got := migrationsRecorded(t, cats[0]); len(got) != want {
				t.Fatalf("schema_migrations = %q, want %d migrations", got, want)
			}
		})
	}
}

// TestSQLiteSettings: the SQLite connections are configured as the
// package documents.
func TestSQLiteSettings(t *testing.T) {
	c := catalogtest.OpenDSN(t, catalogtest.SQLiteDSN(t), catalog.Options{})
	write, read := catalog.DBs(c)
	for _, p := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
		{"query_only", "0"},
	} {
		var got string
		if err := write.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(&got); err != nil || got != p.want {
			t.Errorf("writer: PRAGMA %s = %q, %v; want %q", p.pragma, got, err, p.want)
		}
	}
	if write.Stats().MaxOpenConnections != 1 {
		t.Errorf("writer pool of %d connections, want 1", write.Stats().MaxOpenConnections)
	}
	var qo string
	if err := read.QueryRowContext(ctx, "PRAGMA query_only").Scan(&qo); err != nil || qo != "1" {
		t.Errorf("reader: PRAGMA query_only = %q, %v; want 1", qo, err)
	}
	if _, err := read.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('k', 'v')`); err == nil {
		t.Error("a reader connection wrote")
	}
	var check string
	if err := write.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
}

// TestGarbageDelay: Options.GarbageDelay is how long a replaced object
// waits.
func TestGarbageDelay(t *testing.T) {
	c := catalogtest.OpenDSN(t, catalogtest.SQLiteDSN(t), catalog.Options{GarbageDelay: time.Minute})
	now := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	var objects []string
	for _, o := range []string{"o1", "o2"} {
		f := catalog.File{ID: o, Tenant: "t", Path: "p", Name: "n", Link: o, Object: o, Created: now}
		if err := c.Begin(ctx, catalog.Upload{Object: o, Tenant: "t", Lease: now.Add(time.Hour)}, catalog.Limits{}, now); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Commit(ctx, f, nil, catalog.Limits{}, now); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, o)
	}
	for _, at := range []struct {
		now  time.Time
		want []string
	}{
		{now.Add(time.Minute - time.Millisecond), nil},
		{now.Add(time.Minute), objects[:1]},
	} {
		got, err := c.ClaimGarbage(ctx, at.now, time.Hour, 10)
		if err != nil || !slices.Equal(got, at.want) {
			t.Fatalf("ClaimGarbage at %v = %q, %v; want %q", at.now, got, err, at.want)
		}
	}
}

// TestExpiryInBatches: Begin and Usage remove all of a tenant's expired
// files however many batches that takes.
func TestExpiryInBatches(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			c := catalogtest.OpenDSN(t, d.dsn(t), catalog.Options{})
			catalog.SetExpireBatch(c, 2)
			t0 := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
			expires := t0.Add(time.Hour)
			for i := range 8 {
				f := catalog.File{ID: names("id", i), Tenant: "t", Path: "p", Name: names("n", i),
					Link: names("l", i), Object: names("o", i), Size: 10, Created: t0}
				if i > 0 {
					f.Expires = expires
				}
				if _, err := c.Import(ctx, f, t0); err != nil {
					t.Fatal(err)
				}
			}
			u := catalog.Upload{Object: "new", Tenant: "t", Bytes: 10, Lease: expires.Add(time.Hour)}
			if err := c.Begin(ctx, u, catalog.Limits{Files: 2, Bytes: 20}, expires); err != nil {
				t.Fatalf("Begin with 7 expired files in batches of 2: %v", err)
			}
			if got, err := c.Usage(ctx, "t", expires); err != nil || got != (catalog.Usage{Bytes: 10, Files: 1}) {
				t.Fatalf("Usage = %+v, %v; want the one live file", got, err)
			}
			for i := range 5 {
				f := catalog.File{ID: names("uid", i), Tenant: "u", Path: "p", Name: names("n", i),
					Link: names("ul", i), Object: names("uo", i), Size: 10, Created: t0, Expires: expires}
				if _, err := c.Import(ctx, f, t0); err != nil {
					t.Fatal(err)
				}
			}
			if got, err := c.Usage(ctx, "u", expires); err != nil || got != (catalog.Usage{}) {
				t.Fatalf("Usage with 5 expired files in batches of 2 = %+v, %v; want none", got, err)
			}
			got, err := c.ClaimGarbage(ctx, expires.Add(catalog.DefaultGarbageDelay), time.Hour, 100)
			if err != nil || len(got) != 12 {
				t.Fatalf("garbage = %q, %v; want the 12 expired objects", got, err)
			}
		})
	}
}

func names(prefix string, i int) string { return prefix + "-" + string(rune('a'+i)) }
