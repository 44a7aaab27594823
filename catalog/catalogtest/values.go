package catalogtest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fileup/fileup/catalog"
)

// testStrings: text columns hold whatever UTF-8 the server passes, long or
// odd, and a string they cannot hold corrupts nothing else.
func testStrings(t *testing.T, x *fixture) {
	long := strings.Repeat("é𝄞\"'\\", 20000) // 100,000 characters
	f := newFile("t", `dir/it's "quoted"/`, `名前'; DROP TABLE files; --.txt`, 1)
	f.OriginalName = long
	f.ContentType = `text/plain; charset="utf-8"`
	f.Link = `l'i"n\k%_*?$1`
	f.Checksum = "sha256:\u2028\u2029\t\r\n"
	rec := catalog.Record{Tenant: "t", Scope: `s"'\`, Key: "{\"json\": [1, \"\\u0000\"]}\n", Expires: t0.Add(time.Hour)}
	x.begin(f, 1, unlimited, t0)
	got, err := x.c.Commit(x.ctx, f, &rec, catalog.Limits{}, t0)
	if err != nil || got != f {
		t.Fatalf("Commit of odd strings = %+v, %v", got, err)
	}
	x.wantFile(f, t0)
	rec.File = f
	x.wantReplay(rec, t0)
	// Wildcards are not patterns.
	if g, err := x.c.FileByLink(x.ctx, `l%`, f.Name, t0); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("FileByLink with a wildcard = %+v, %v; want ErrNotFound", g, err)
	}
	if v, err := x.c.InitSetting(x.ctx, "long", long); err != nil || v != long {
		t.Fatalf("InitSetting of a long value: %v", err)
	}

	// The server never sends a NUL, but one must not hurt other rows:
	// the commit is refused or the file stored exactly.
	neighbour := x.put(newFile("t", "p", "neighbour", 1), t0)
	nul := newFile("t", "p", "nul\x00name", 1)
	nul.OriginalName = "a\x00b"
	x.begin(nul, 1, unlimited, t0)
	if got, err := x.c.Commit(x.ctx, nul, nil, catalog.Limits{}, t0); err == nil {
		if got != nul {
			t.Fatalf("Commit with a NUL stored %+v, want %+v", got, nul)
		}
		x.wantFile(nul, t0)
	}
	x.wantFile(neighbour, t0)
	x.wantFile(f, t0)
	x.wantReplay(rec, t0)
}

// testTimes: times come back in UTC, truncated to the millisecond.
func testTimes(t *testing.T, x *fixture) {
	zone := time.FixedZone("UTC+5", 5*3600)
	f := newFile("t", "p", "n", 1)
	f.Created = time.Date(2031, 5, 6, 12, 8, 9, 123456789, zone)
	f.Expires = f.Created.Add(72*time.Hour + 999999*time.Nanosecond)
	want := f
	want.Created = time.Date(2031, 5, 6, 7, 8, 9, 123000000, time.UTC)
	want.Expires = time.Date(2031, 5, 9, 7, 8, 9, 124000000, time.UTC)
	x.begin(f, 1, unlimited, t0)
	rec := catalog.Record{Tenant: "t", Scope: "s", Key: "k", Expires: want.Expires.Add(999 * time.Microsecond).In(zone)}
	got, err := x.c.Commit(x.ctx, f, &rec, catalog.Limits{}, t0)
	if err != nil || got != want {
		t.Fatalf("Commit = %+v, %v; want %+v", got, err, want)
	}
	if got.Created.Location() != time.UTC || got.Expires.Location() != time.UTC {
		t.Fatalf("times in %v and %v, want UTC", got.Created.Location(), got.Expires.Location())
	}
	x.wantFile(want, want.Expires.Add(-time.Nanosecond))
	x.wantNoFile(want, want.Expires)
	r, err := x.c.Replay(x.ctx, "t", "s", "k", t0)
	if err != nil || !r.Expires.Equal(want.Expires) || r.Expires.Location() != time.UTC || r.File != want {
		t.Fatalf("Replay = %+v, %v; want expiry %v and file %+v", r, err, want.Expires, want)
	}
	// The zero time stays zero: never expires.
	g := x.put(newFile("t", "p", "forever", 1), t0)
	if !g.Expires.IsZero() {
		t.Fatalf("Expires = %v, want the zero time", g.Expires)
	}
}

// testPingClose: a handle answers until it is closed, then fails cleanly;
// closing one handle leaves the others and the database as they were.
func testPingClose(t *testing.T, x *fixture) {
	f := x.put(newFile("t", "p", "n", 1), t0)
	h := x.again(t)
	if err := h.Ping(x.ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := h.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := h.Ping(x.ctx); err == nil {
		t.Fatal("Ping after Close: no error")
	}
	if _, err := h.File(x.ctx, "t", "p", "n", t0); err == nil || errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("File after Close: %v, want an error that is not ErrNotFound", err)
	}
	if err := h.Begin(x.ctx, upload(newFile("t", "p", "m", 0), 0, t0), unlimited, t0); err == nil {
		t.Fatal("Begin after Close: no error")
	}
	if err := x.c.Ping(x.ctx); err != nil {
		t.Fatalf("Ping of the other handle: %v", err)
	}
	x.wantFile(f, t0)
}

// testSecondHandle: a second handle, as another process, sees the same
// catalog, and re-opening a migrated database keeps it.
func testSecondHandle(t *testing.T, x *fixture) {
	f := x.put(newFile("t", "p", "n", 7), t0)
	if _, err := x.c.InitSetting(x.ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	y := &fixture{t: t, ctx: x.ctx, c: x.again(t)}
	y.wantFile(f, t0)
	y.wantUsage("t", t0, catalog.Usage{Bytes: 7, Files: 1})
	if v, err := y.c.Setting(x.ctx, "k"); err != nil || v != "v" {
		t.Fatalf("Setting on the second handle = %q, %v", v, err)
	}
	wantQuota(t, y.c.Begin(x.ctx, upload(newFile("t", "p", "m", 0), 0, t0), catalog.Limits{Files: 1}, t0), true, 1)
	g := newFile("t", "p", "m", 1)
	y.begin(g, 1, unlimited, t0)
	x.commit(g, t0) // begun on one handle, committed on the other
	x.wantUsage("t", t0, catalog.Usage{Bytes: 8, Files: 2})
}
