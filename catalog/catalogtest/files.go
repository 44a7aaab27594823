package catalogtest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fileup/fileup/catalog"
)

func testCommit(t *testing.T, x *fixture) {
	f := newFile("t", "images/user-uploads", "photo.png", 1234)
	f.Expires = t0.Add(72 * time.Hour)
	x.begin(f, f.Size, unlimited, t0)
	got := x.commit(f, t0)
	if got != f {
		t.Fatalf("Commit = %+v, want %+v", got, f)
	}
	x.wantFile(f, t0)
	x.wantUsage("t", t0, catalog.Usage{Bytes: 1234, Files: 1})
	// Same name, another path or tenant: other files.
	g := x.put(newFile("t", "other", "photo.png", 1), t0)
	h := x.put(newFile("u", "images/user-uploads", "photo.png", 2), t0)
	x.wantFile(f, t0)
	x.wantFile(g, t0)
	x.wantFile(h, t0)
	x.wantUsage("t", t0, catalog.Usage{Bytes: 1235, Files: 2})
	x.wantUsage("u", t0, catalog.Usage{Bytes: 2, Files: 1})
	x.wantGarbage(t0.Add(time.Hour))
}

// testCommitReleasesReservation: a commit charges the file's size and
// releases the upload's reservation, whatever it was.
func testCommitReleasesReservation(t *testing.T, x *fixture) {
	limits := catalog.Limits{Bytes: 100, Files: 2}
	a := newFile("t", "p", "a", 50)
	x.begin(a, 80, limits, t0)
	x.commit(a, t0)
	x.wantUsage("t", t0, catalog.Usage{Bytes: 50, Files: 1})
	b := newFile("t", "p", "b", 0)
	x.begin(b, 50, limits, t0) // 50 used + 50: would not fit if 80 were still reserved
	wantQuota(t, x.c.Begin(x.ctx, upload(newFile("t", "p", "c", 0), 0, t0), limits, t0), true, 2)
	// A file larger than its reservation is charged in full.
	b.Size = 70
	x.commit(b, t0)
	x.wantUsage("t", t0, catalog.Usage{Bytes: 120, Files: 2})
}

func testCommitUploadGone(t *testing.T, x *fixture) {
	if _, err := x.c.Commit(x.ctx, newFile("t", "p", "never", 1), nil, catalog.Limits{}, t0); !errors.Is(err, catalog.ErrUploadGone) {
		t.Fatalf("Commit without Begin: %v, want ErrUploadGone", err)
	}
	f := x.put(newFile("t", "p", "twice", 1), t0)
	again := f
	again.ID, again.Link = unique("id"), unique("link")
	if _, err := x.c.Commit(x.ctx, again, nil, catalog.Limits{}, t0); !errors.Is(err, catalog.ErrUploadGone) {
		t.Fatalf("second Commit of one upload: %v, want ErrUploadGone", err)
	}
	x.wantFile(f, t0)
	// An upload begun for one tenant cannot be committed as another's.
	theirs := newFile("t", "p", "theirs", 1)
	x.begin(theirs, 1, unlimited, t0)
	mine := theirs
	mine.Tenant = "u"
	if _, err := x.c.Commit(x.ctx, mine, nil, catalog.Limits{}, t0); !errors.Is(err, catalog.ErrUploadGone) {
		t.Fatalf("Commit as another tenant: %v, want ErrUploadGone", err)
	}
	x.wantNoFile(mine, t0)
	x.wantUsage("u", t0, catalog.Usage{})
	x.commit(theirs, t0) // the upload is still there for its tenant
	x.wantFile(theirs, t0)
}

func testCommitInvalid(t *testing.T, x *fixture) {
	first := x.put(newFile("t", "p", "first", 1), t0)
	f := newFile("t", "p", "second", 1)
	x.begin(f, 1, unlimited, t0)
	for name, mutate := range map[string]func(*catalog.File){
		"no ID":                 func(f *catalog.File) { f.ID = "" },
		"no name":               func(f *catalog.File) { f.Name = "" },
		"negative size":         func(f *catalog.File) { f.Size = -1 },
		"name not UTF-8":        func(f *catalog.File) { f.Name = "a\xffb" },
		"path with a NUL":       func(f *catalog.File) { f.Path = "a\x00b" },
		"original name NUL":     func(f *catalog.File) { f.OriginalName = "\x00" },
		"content type not UTF8": func(f *catalog.File) { f.ContentType = "\xe2\x82" },
		"a name over 1 KiB":     func(f *catalog.File) { f.Name = strings.Repeat("n", 1025) },
		"path and name > 2 KiB": func(f *catalog.File) { f.Path, f.Name = strings.Repeat("p", 1024), strings.Repeat("n", 1024) },
		"an object key > 1 KiB": func(f *catalog.File) { f.Object = strings.Repeat("o", 1025) },
	} {
		bad := f
		mutate(&bad)
		_, err := x.c.Commit(x.ctx, bad, nil, catalog.Limits{}, t0)
		wantInvalid(t, "Commit with "+name, err)
	}
	for name, rec := range map[string]catalog.Record{
		"no key":               {Tenant: "t", Scope: "s", Expires: t0.Add(time.Hour)},
		"no expiry":            {Tenant: "t", Scope: "s", Key: "k"},
		"another tenant's":     {Tenant: "u", Scope: "s", Key: "k", Expires: t0.Add(time.Hour)},
		"key not UTF-8":        {Tenant: "t", Scope: "s", Key: "\xff", Expires: t0.Add(time.Hour)},
		"scope with a NUL":     {Tenant: "t", Scope: "\x00", Key: "k", Expires: t0.Add(time.Hour)},
		"no tenant (not mine)": {Scope: "s", Key: "k", Expires: t0.Add(time.Hour)},
		"a key over 1 KiB":     {Tenant: "t", Scope: "s", Key: strings.Repeat("k", 1025), Expires: t0.Add(time.Hour)},
	} {
		_, err := x.c.Commit(x.ctx, f, &rec, catalog.Limits{}, t0)
		wantInvalid(t, "Commit with a record with "+name, err)
	}
	// A file whose ID, object, or link and name another file has is
	// refused, and nothing is committed.
	for name, mutate := range map[string]func(*catalog.File){
		"the ID of another file":            func(f *catalog.File) { f.ID = first.ID },
		"the link and name of another file": func(f *catalog.File) { f.Link, f.Name = first.Link, first.Name; f.Path = "elsewhere" },
	} {
		bad := f
		mutate(&bad)
		if _, err := x.c.Commit(x.ctx, bad, nil, catalog.Limits{}, t0); err == nil {
			t.Fatalf("Commit with %s: no error", name)
		}
	}
	// The refusals changed nothing: the first file is there, the upload
	// still waits, and it commits.
	x.wantFile(first, t0)
	x.wantUsage("t", t0, catalog.Usage{Bytes: 1, Files: 1})
	x.commit(f, t0)
	x.wantFile(f, t0)
}

func testOverwrite(t *testing.T, x *fixture) {
	v1 := x.put(newFile("t", "p", "n", 10), t0)
	now := t0.Add(time.Minute)
	v2 := newFile("t", "p", "n", 25)
	x.begin(v2, 25, unlimited, now)
	got := x.commit(v2, now)
	if got.Link != v1.Link {
		t.Fatalf("overwrite: Link = %q, want the replaced file's %q", got.Link, v1.Link)
	}
	want := v2
	want.Link = v1.Link
	if got != want {
		t.Fatalf("overwrite: Commit = %+v, want %+v", got, want)
	}
	x.wantFile(want, now)
	if _, err := x.c.FileByID(x.ctx, v1.ID, now); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("FileByID of the replaced file: %v, want ErrNotFound", err)
	}
	x.wantUsage("t", now, catalog.Usage{Bytes: 25, Files: 1})
	// The replaced object stays for downloads already reading it.
	x.wantGarbage(now.Add(delay - time.Millisecond))
	x.wantGarbage(now.Add(delay), v1.Object)
	// And again: the link survives every overwrite.
	v3 := newFile("t", "p", "n", 5)
	x.begin(v3, 5, unlimited, now)
	if got := x.commit(v3, now); got.Link != v1.Link {
		t.Fatalf("second overwrite: Link = %q, want %q", got.Link, v1.Link)
	}
	x.wantUsage("t", now, catalog.Usage{Bytes: 5, Files: 1})
}

// testReplaceAtFileLimit: an upload that names a live file as it begins
// reserves no file, so a tenant at its file limit can replace its files;
// one whose file is gone by the time it commits needs a file then, and is
// refused (committing nothing) when none is left.
func testReplaceAtFileLimit(t *testing.T, x *fixture) {
	limit := catalog.Limits{Files: 1}
	a := x.put(newFile("t", "p", "a", 10), t0)
	replacing := func(f catalog.File) catalog.Upload {
		u := upload(f, 0, t0)
		u.Path, u.Name = f.Path, f.Name
		return u
	}
	other := newFile("t", "p", "b", 1)
	if err := x.c.Begin(x.ctx, upload(other, 0, t0), limit, t0); err == nil {
		t.Fatal("Begin of a new name at the file limit succeeded")
	}
	a2 := newFile("t", "p", "a", 20)
	if err := x.c.Begin(x.ctx, replacing(a2), limit, t0); err != nil {
		t.Fatalf("Begin replacing a live file at the file limit: %v", err)
	}
	got, err := x.c.Commit(x.ctx, a2, nil, limit, t0)
	if err != nil || got.Link != a.Link {
		t.Fatalf("Commit of the replacement = %+v, %v", got, err)
	}
	x.wantUsage("t", t0, catalog.Usage{Bytes: 20, Files: 1})

	// The replaced file expires and is swept while a replacement is in
	// flight, and another upload takes the free file: the replacement
	// finds nothing to replace and no file left.
	exp := newFile("t", "q", "e", 5)
	exp.Expires = t0.Add(time.Minute)
	x.put(exp, t0) // over the limit: put has no limits
	later := t0.Add(time.Hour)
	late := newFile("t", "q", "e", 7)
	if err := x.c.Begin(x.ctx, replacing(late), limit, t0); err != nil {
		t.Fatalf("Begin replacing e: %v", err)
	}
	if _, err := x.c.Sweep(x.ctx, later, 100); err != nil {
		t.Fatal(err)
	}
	got, err = x.c.Commit(x.ctx, late, nil, limit, later)
	wantQuota(t, err, true, 1)
	x.wantUsage("t", later, catalog.Usage{Bytes: 20, Files: 1})
	if err := x.c.Abort(x.ctx, late.Object, later); err != nil {
		t.Fatalf("Abort after the refused commit: %v", err)
	}
	// With a file free, the same situation commits.
	roomy := catalog.Limits{Files: 2}
	late2 := newFile("t", "q", "e", 7)
	if err := x.c.Begin(x.ctx, replacing(late2), roomy, later); err != nil {
		t.Fatal(err)
	}
	if _, err := x.c.Commit(x.ctx, late2, nil, roomy, later); err != nil {
		t.Fatalf("Commit with a file free: %v", err)
	}
	x.wantUsage("t", later, catalog.Usage{Bytes: 27, Files: 2})
}

// testOverwriteExpired: a file that has expired is replaced without
// handing on its Link.
func testOverwriteExpired(t *testing.T, x *fixture) {
	v1 := newFile("t", "p", "n", 10)
	v1.Expires = t0.Add(time.Hour)
	v1 = x.put(v1, t0)
	now := v1.Expires
	v2 := newFile("t", "p", "n", 25)
	x.begin(v2, 25, unlimited, now)
	if got := x.commit(v2, now); got != v2 {
		t.Fatalf("Commit over an expired file = %+v, want %+v (its own Link)", got, v2)
	}
	x.wantFile(v2, now)
	if _, err := x.c.FileByLink(x.ctx, v1.Link, v1.Name, now); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("FileByLink of the expired file's link: %v, want ErrNotFound", err)
	}
	x.wantUsage("t", now, catalog.Usage{Bytes: 25, Files: 1})
	x.wantGarbage(now.Add(delay - time.Millisecond))
	x.wantGarbage(now.Add(delay), v1.Object)
	if s, err := x.c.Sweep(x.ctx, now, 10); err != nil || s != (catalog.Swept{}) {
		t.Fatalf("Sweep = %+v, %v; want nothing left to do", s, err)
	}
}

func testImport(t *testing.T, x *fixture) {
	f := x.importFile(newFile("t", "p", "n", 500))
	x.wantFile(f, t0)
	x.wantUsage("t", t0, catalog.Usage{Bytes: 500, Files: 1})
	// An imported file counts against the quota like any other.
	wantQuota(t, x.c.Begin(x.ctx, upload(newFile("t", "p", "m", 0), 0, t0), catalog.Limits{Files: 1}, t0), true, 1)
	// A live file is left as it is.
	dup := newFile("t", "p", "n", 7)
	got, err := x.c.Import(x.ctx, dup, t0)
	if !errors.Is(err, catalog.ErrExists) || got != f {
		t.Fatalf("Import over a live file = %+v, %v; want the live file and ErrExists", got, err)
	}
	x.wantFile(f, t0)
	x.wantUsage("t", t0, catalog.Usage{Bytes: 500, Files: 1})
	// An expired one is replaced.
	old := newFile("t", "p", "old", 300)
	old.Expires = t0.Add(time.Minute)
	old = x.importFile(old)
	now := old.Expires
	fresh := newFile("t", "p", "old", 30)
	got, err = x.c.Import(x.ctx, fresh, now)
	if err != nil || got != fresh {
		t.Fatalf("Import over an expired file = %+v, %v; want %+v", got, err, fresh)
	}
	x.wantUsage("t", now, catalog.Usage{Bytes: 530, Files: 2})
	x.wantGarbage(now.Add(delay), old.Object)
	bad := newFile("t", "p", "bad", 1)
	bad.Name = "\xff"
	_, err = x.c.Import(x.ctx, bad, now)
	wantInvalid(t, "Import of a name that is not UTF-8", err)
}

// testLookups: a file is found until the instant it expires, whether or
// not Sweep has run.
func testLookups(t *testing.T, x *fixture) {
	f := newFile("t", "p", "n", 1)
	f.Expires = t0.Add(time.Hour)
	f = x.put(f, t0)
	forever := x.put(newFile("t", "p", "forever", 1), t0)
	x.wantFile(f, f.Expires.Add(-time.Millisecond))
	x.wantNoFile(f, f.Expires)
	x.wantNoFile(f, f.Expires.Add(time.Hour))
	x.wantFile(forever, t0.Add(100*365*24*time.Hour))
	for name, look := range map[string]func() (catalog.File, error){
		"File of another tenant":   func() (catalog.File, error) { return x.c.File(x.ctx, "u", "p", "forever", t0) },
		"File at another path":     func() (catalog.File, error) { return x.c.File(x.ctx, "t", "q", "forever", t0) },
		"File of an unknown name":  func() (catalog.File, error) { return x.c.File(x.ctx, "t", "p", "none", t0) },
		"FileByID of unknown ID":   func() (catalog.File, error) { return x.c.FileByID(x.ctx, "none", t0) },
		"FileByLink, another name": func() (catalog.File, error) { return x.c.FileByLink(x.ctx, forever.Link, "n", t0) },
		"File not UTF-8":           func() (catalog.File, error) { return x.c.File(x.ctx, "t", "p", "\xff", t0) },
		"FileByID with a NUL":      func() (catalog.File, error) { return x.c.FileByID(x.ctx, "\x00", t0) },
		"FileByLink not UTF-8":     func() (catalog.File, error) { return x.c.FileByLink(x.ctx, "\xff", "n", t0) },
	} {
		if got, err := look(); !errors.Is(err, catalog.ErrNotFound) {
			t.Fatalf("%s = %+v, %v; want ErrNotFound", name, got, err)
		}
	}
	// Lookups remove nothing: Sweep still finds the expired file.
	if s, err := x.c.Sweep(x.ctx, f.Expires, 10); err != nil || s.Expired != 1 {
		t.Fatalf("Sweep = %+v, %v; want one expired file", s, err)
	}
}

func testUsage(t *testing.T, x *fixture) {
	x.wantUsage("nobody", t0, catalog.Usage{})
	x.wantUsage("\xff", t0, catalog.Usage{})
	a := newFile("t", "p", "a", 100)
	a.Expires = t0.Add(time.Hour)
	a = x.put(a, t0)
	b := newFile("t", "p", "b", 20)
	b.Expires = t0.Add(2 * time.Hour)
	b = x.put(b, t0)
	x.put(newFile("t", "p", "c", 3), t0)
	x.wantUsage("t", t0, catalog.Usage{Bytes: 123, Files: 3})
	x.wantUsage("t", a.Expires, catalog.Usage{Bytes: 23, Files: 2})
	x.wantUsage("t", b.Expires, catalog.Usage{Bytes: 3, Files: 1})
	// Usage removed them as Sweep would have: objects queued after the
	// delay, nothing left to sweep.
	x.wantGarbage(b.Expires.Add(delay), a.Object, b.Object)
	if s, err := x.c.Sweep(x.ctx, b.Expires, 10); err != nil || s != (catalog.Swept{}) {
		t.Fatalf("Sweep = %+v, %v; want nothing left", s, err)
	}
	// An upload in flight is not usage.
	x.begin(newFile("t", "p", "d", 0), 1000, unlimited, t0)
	x.wantUsage("t", b.Expires, catalog.Usage{Bytes: 3, Files: 1})
}
