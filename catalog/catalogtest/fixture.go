package catalogtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fileup/fileup/catalog"
)

// t0 is the suite's clock at the start of every test; times are passed
// in, so no test depends on the real clock.
var t0 = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

// delay is the garbage delay of catalogs opened with the zero Options.
const delay = catalog.DefaultGarbageDelay

// unlimited are Limits of zero: no quota.
var unlimited = catalog.Limits{}

// fixture is one test's catalog and helpers that fail the test on
// unexpected errors. Its methods must be called from the test's
// goroutine.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	c     catalog.Catalog
	again func(t *testing.T) catalog.Catalog
}

var seq atomic.Int64

// unique returns a name no other call returns.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, seq.Add(1))
}

// newFile returns a file of tenant at path/name with fresh ID, Link and
// Object, created at t0 and never expiring.
func newFile(tenant, path, name string, size int64) catalog.File {
	return catalog.File{
		ID:           unique("id"),
		Tenant:       tenant,
		Path:         path,
		Name:         name,
		Link:         unique("link"),
		Object:       unique("object"),
		Size:         size,
		ContentType:  "text/plain",
		Checksum:     "sha256:" + unique("digest"),
		OriginalName: name,
		Created:      t0,
	}
}

// upload returns the Upload that Begin records for f, leased for an hour
// from now.
func upload(f catalog.File, bytes int64, now time.Time) catalog.Upload {
	return catalog.Upload{Object: f.Object, Tenant: f.Tenant, Bytes: bytes, Lease: now.Add(time.Hour)}
}

// begin begins f's upload reserving bytes.
func (x *fixture) begin(f catalog.File, bytes int64, l catalog.Limits, now time.Time) {
	x.t.Helper()
	if err := x.c.Begin(x.ctx, upload(f, bytes, now), l, now); err != nil {
		x.t.Fatalf("Begin(%s): %v", f.Object, err)
	}
}

// commit commits f and returns it as stored.
func (x *fixture) commit(f catalog.File, now time.Time) catalog.File {
	x.t.Helper()
	got, err := x.c.Commit(x.ctx, f, nil, catalog.Limits{}, now)
	if err != nil {
		x.t.Fatalf("Commit(%s): %v", f.Object, err)
	}
	return got
}

// put begins and commits f without limits.
func (x *fixture) put(f catalog.File, now time.Time) catalog.File {
	x.t.Helper()
	x.begin(f, f.Size, unlimited, now)
	return x.commit(f, now)
}

// importFile imports f and returns it as stored.
func (x *fixture) importFile(f catalog.File) catalog.File {
	x.t.Helper()
	got, err := x.c.Import(x.ctx, f, t0)
	if err != nil {
		x.t.Fatalf("Import(%s): %v", f.Name, err)
	}
	return got
}

// wantUsage checks the tenant's usage at now.
func (x *fixture) wantUsage(tenant string, now time.Time, want catalog.Usage) {
	x.t.Helper()
	got, err := x.c.Usage(x.ctx, tenant, now)
	if err != nil {
		x.t.Fatalf("Usage(%s): %v", tenant, err)
	}
	if got != want {
		x.t.Fatalf("Usage(%s) = %+v, want %+v", tenant, got, want)
	}
}

// wantFile checks that the live file at f's (tenant, path, name) is f,
// and that its ID and Link find it too.
func (x *fixture) wantFile(f catalog.File, now time.Time) {
	x.t.Helper()
	for _, look := range x.lookups(f) {
		got, err := look.fn(now)
		if err != nil {
			x.t.Fatalf("%s at %v: %v", look.name, now, err)
		}
		if got != f {
			x.t.Fatalf("%s at %v = %+v, want %+v", look.name, now, got, f)
		}
	}
}

// wantNoFile checks that no lookup of f finds it at now.
func (x *fixture) wantNoFile(f catalog.File, now time.Time) {
	x.t.Helper()
	for _, look := range x.lookups(f) {
		if got, err := look.fn(now); !errors.Is(err, catalog.ErrNotFound) {
			x.t.Fatalf("%s at %v = %+v, %v; want ErrNotFound", look.name, now, got, err)
		}
	}
}

type lookup struct {
	name string
	fn   func(now time.Time) (catalog.File, error)
}

// lookups are the three ways to find f.
func (x *fixture) lookups(f catalog.File) []lookup {
	return []lookup{
		{"File", func(now time.Time) (catalog.File, error) { return x.c.File(x.ctx, f.Tenant, f.Path, f.Name, now) }},
		{"FileByID", func(now time.Time) (catalog.File, error) { return x.c.FileByID(x.ctx, f.ID, now) }},
		{"FileByLink", func(now time.Time) (catalog.File, error) { return x.c.FileByLink(x.ctx, f.Link, f.Name, now) }},
	}
}

// garbage claims every object due at now for an instant (a claim of 0
// hands them out again at once) and returns them sorted.
func (x *fixture) garbage(now time.Time) []string {
	x.t.Helper()
	got, err := x.c.ClaimGarbage(x.ctx, now, 0, 100000)
	if err != nil {
		x.t.Fatalf("ClaimGarbage(%v): %v", now, err)
	}
	slices.Sort(got)
	return got
}

// wantGarbage checks what is due for deletion at now.
func (x *fixture) wantGarbage(now time.Time, want ...string) {
	x.t.Helper()
	slices.Sort(want)
	if got := x.garbage(now); !slices.Equal(got, want) {
		x.t.Fatalf("garbage due at %v = %q, want %q", now, got, want)
	}
}

// wantQuota checks that err is a *QuotaError for files or bytes and limit.
func wantQuota(t *testing.T, err error, files bool, limit int64) {
	t.Helper()
	var q *catalog.QuotaError
	if !errors.As(err, &q) {
		t.Fatalf("err = %v, want a *QuotaError", err)
	}
	if q.Files != files || q.Limit != limit {
		t.Fatalf("QuotaError = %+v, want Files %v, Limit %d", *q, files, limit)
	}
}

// wantInvalid checks that err refuses bad input: an error, and none of
// the catalog's sentinels or types that would mean something else.
func wantInvalid(t *testing.T, what string, err error) {
	t.Helper()
	var q *catalog.QuotaError
	var r *catalog.ReplayError
	switch {
	case err == nil:
		t.Fatalf("%s: no error", what)
	case errors.Is(err, catalog.ErrExists), errors.Is(err, catalog.ErrNotFound),
		errors.Is(err, catalog.ErrUploadGone), errors.As(err, &q), errors.As(err, &r):
		t.Fatalf("%s: %v, want an error about the input", what, err)
	}
}
