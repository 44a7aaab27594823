package catalogtest

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/fileup/fileup/catalog"
)

func testSettings(t *testing.T, x *fixture) {
	if v, err := x.c.Setting(x.ctx, "secret"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("Setting of a key never set = %q, %v; want ErrNotFound", v, err)
	}
	for i, v := range []string{"first", "second"} {
		got, err := x.c.InitSetting(x.ctx, "secret", v)
		if err != nil || got != "first" {
			t.Fatalf("InitSetting #%d = %q, %v; want the first value", i+1, got, err)
		}
	}
	if got, err := x.c.Setting(x.ctx, "secret"); err != nil || got != "first" {
		t.Fatalf("Setting = %q, %v; want first", got, err)
	}
	if got, err := x.c.InitSetting(x.ctx, "empty", ""); err != nil || got != "" {
		t.Fatalf("InitSetting of an empty value = %q, %v", got, err)
	}
	if v, err := x.c.Setting(x.ctx, "empty"); err != nil || v != "" {
		t.Fatalf("Setting of an empty value = %q, %v", v, err)
	}
	_, err := x.c.InitSetting(x.ctx, "", "value")
	wantInvalid(t, "InitSetting with an empty key", err)
}

// testSettingsRace: processes starting at once all get the same value.
func testSettingsRace(t *testing.T, x *fixture) {
	handles := []catalog.Catalog{x.c, x.again(t)}
	const n = 24
	got := make([]string, n)
	errs := make([]error, n)
	run(n, func(i int) {
		got[i], errs[i] = handles[i%2].InitSetting(x.ctx, "race", fmt.Sprint("value-", i))
	})
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("InitSetting #%d: %v", i, errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("InitSetting #%d = %q, #0 = %q: the values differ", i, got[i], got[0])
		}
	}
	for _, h := range handles {
		if v, err := h.Setting(x.ctx, "race"); err != nil || v != got[0] {
			t.Fatalf("Setting = %q, %v; want %q", v, err, got[0])
		}
	}
}

func testBeginQuota(t *testing.T, x *fixture) {
	// Each case's tenant already holds three files of 100 bytes.
	tests := []struct {
		name      string
		limits    catalog.Limits
		bytes     int64
		wantFiles bool  // a file quota error
		wantLimit int64 // the limit of the quota error; 0 for none
	}{
		{"unlimited", unlimited, 1 << 50, false, 0},
		{"files fit", catalog.Limits{Files: 4}, 0, false, 0},
		{"files full", catalog.Limits{Files: 3}, 0, true, 3},
		{"bytes fit exactly", catalog.Limits{Bytes: 1000}, 700, false, 0},
		{"bytes over by one", catalog.Limits{Bytes: 1000}, 701, false, 1000},
		{"no bytes on a full tenant", catalog.Limits{Bytes: 300}, 0, false, 0},
		{"no bytes on a tenant over its limit", catalog.Limits{Bytes: 200}, 0, false, 200},
		{"both over: files reported", catalog.Limits{Files: 3, Bytes: 100}, 1, true, 3},
		{"huge reservation", catalog.Limits{Bytes: 1000}, math.MaxInt64, false, 1000},
		{"huge limit", catalog.Limits{Files: math.MaxInt64, Bytes: math.MaxInt64}, math.MaxInt64 - 300, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &fixture{t: t, ctx: x.ctx, c: x.c}
			tenant := unique("tenant")
			for i := range 3 {
				x.importFile(newFile(tenant, "p", fmt.Sprint(i), 100))
			}
			err := x.c.Begin(x.ctx, upload(newFile(tenant, "p", "new", 0), tt.bytes, t0), tt.limits, t0)
			if tt.wantLimit == 0 {
				if err != nil {
					t.Fatalf("Begin: %v", err)
				}
				return
			}
			wantQuota(t, err, tt.wantFiles, tt.wantLimit)
		})
	}
}

// testBeginReservationsCount: uploads in flight count against the quota
// until they end.
func testBeginReservationsCount(t *testing.T, x *fixture) {
	files := catalog.Limits{Files: 2}
	x.begin(newFile("t", "p", "a", 0), 0, files, t0)
	x.begin(newFile("t", "p", "b", 0), 0, files, t0)
	wantQuota(t, x.c.Begin(x.ctx, upload(newFile("t", "p", "c", 0), 0, t0), files, t0), true, 2)

	bytes := catalog.Limits{Bytes: 100}
	x.begin(newFile("u", "p", "a", 0), 60, bytes, t0)
	wantQuota(t, x.c.Begin(x.ctx, upload(newFile("u", "p", "b", 0), 41, t0), bytes, t0), false, 100)
	x.begin(newFile("u", "p", "c", 0), 40, bytes, t0)
	// Another tenant's quota is its own.
	x.begin(newFile("v", "p", "a", 0), 100, bytes, t0)
}

func testBeginExists(t *testing.T, x *fixture) {
	limits := catalog.Limits{Files: 3}
	inFlight := newFile("t", "p", "in-flight", 1)
	x.begin(inFlight, 1, limits, t0)
	committed := x.put(newFile("t", "p", "committed", 1), t0)
	aborted := newFile("t", "p", "aborted", 1)
	x.begin(aborted, 1, unlimited, t0)
	if err := x.c.Abort(x.ctx, aborted.Object, t0); err != nil {
		t.Fatal(err)
	}
	for _, f := range []catalog.File{inFlight, committed, aborted} {
		// Another tenant, even, may not take a key in use.
		for _, tenant := range []string{"t", "other"} {
			u := catalog.Upload{Object: f.Object, Tenant: tenant, Lease: t0.Add(time.Hour)}
			if err := x.c.Begin(x.ctx, u, limits, t0); !errors.Is(err, catalog.ErrExists) {
				t.Fatalf("Begin of the key of the %s upload for %s: %v, want ErrExists", f.Name, tenant, err)
			}
		}
	}
	// The refusals reserved nothing: one in flight, one committed, one
	// more fits.
	x.begin(newFile("t", "p", "third", 0), 0, limits, t0)
}

func testBeginInvalid(t *testing.T, x *fixture) {
	lease := t0.Add(time.Hour)
	for name, u := range map[string]catalog.Upload{
		"negative bytes":     {Object: "o1", Tenant: "t", Bytes: -1, Lease: lease},
		"no object":          {Tenant: "t", Lease: lease},
		"no tenant":          {Object: "o2", Lease: lease},
		"object not UTF-8":   {Object: "o\xff", Tenant: "t", Lease: lease},
		"tenant with a NUL":  {Object: "o3", Tenant: "t\x00", Lease: lease},
		"object with a NUL":  {Object: "o\x004", Tenant: "t", Lease: lease},
		"tenant not UTF-8":   {Object: "o5", Tenant: "\xc3", Lease: lease},
		"negative bytes (2)": {Object: "o6", Tenant: "t", Bytes: math.MinInt64, Lease: lease},
		"no lease":           {Object: "o7", Tenant: "t"},
		"object over 1 KiB":  {Object: strings.Repeat("o", 1025), Tenant: "t", Lease: lease},
		"tenant over 1 KiB":  {Object: "o8", Tenant: strings.Repeat("t", 1025), Lease: lease},
	} {
		wantInvalid(t, "Begin with "+name, x.c.Begin(x.ctx, u, unlimited, t0))
	}
	// Nothing was reserved.
	x.begin(newFile("t", "p", "n", 0), 0, catalog.Limits{Files: 1}, t0)
}

// testBeginRemovesExpired: expired files never count against a quota,
// even before Sweep has removed them.
func testBeginRemovesExpired(t *testing.T, x *fixture) {
	expires := t0.Add(time.Hour)
	old := newFile("t", "p", "old", 100)
	old.Expires = expires
	old = x.importFile(old)
	keep := x.importFile(newFile("t", "p", "keep", 50))
	other := newFile("other", "p", "old", 10)
	other.Expires = expires
	x.importFile(other)
	limits := catalog.Limits{Files: 2, Bytes: 200}

	// Before it expires, the old file counts.
	wantQuota(t, x.c.Begin(x.ctx, upload(newFile("t", "p", "a", 0), 0, t0), limits, expires.Add(-time.Millisecond)), true, 2)
	// Once it has, it is removed and the upload fits.
	x.begin(newFile("t", "p", "a", 0), 150, limits, expires)
	x.wantUsage("t", expires, catalog.Usage{Bytes: keep.Size, Files: 1})
	// Its object is deleted only after the garbage delay; the other
	// tenant's expired file was left to Sweep.
	x.wantGarbage(expires.Add(delay - time.Millisecond))
	x.wantGarbage(expires.Add(delay), old.Object)
	s, err := x.c.Sweep(x.ctx, expires, 10)
	if err != nil || s.Expired != 1 {
		t.Fatalf("Sweep = %+v, %v; want the other tenant's file expired", s, err)
	}
}

func testReserve(t *testing.T, x *fixture) {
	limits := catalog.Limits{Bytes: 100}
	a, b := newFile("t", "p", "a", 0), newFile("t", "p", "b", 0)
	x.begin(a, 40, limits, t0)
	lease := t0.Add(2 * time.Hour)
	reserve := func(f catalog.File, bytes int64) error {
		return x.c.Reserve(x.ctx, f.Object, bytes, lease, limits, t0)
	}
	wantQuota(t, reserve(a, 61), false, 100)
	if err := reserve(a, 60); err != nil { // the refusal left 40 reserved
		t.Fatalf("Reserve of what is left: %v", err)
	}
	wantQuota(t, reserve(a, 1), false, 100)
	x.begin(b, 0, limits, t0) // 100 of 100: no bytes still fit
	wantQuota(t, reserve(b, 1), false, 100)
	if err := reserve(b, 0); err != nil {
		t.Fatalf("Reserve of 0 bytes on a full tenant (renewing the lease): %v", err)
	}
	if err := x.c.Abort(x.ctx, a.Object, t0); err != nil {
		t.Fatal(err)
	}
	if err := reserve(b, 100); err != nil {
		t.Fatalf("Reserve after Abort released the other upload: %v", err)
	}
	// Without limits anything goes.
	c := newFile("u", "p", "c", 0)
	x.begin(c, 0, unlimited, t0)
	if err := x.c.Reserve(x.ctx, c.Object, 1<<50, lease, unlimited, t0); err != nil {
		t.Fatal(err)
	}
}

func testReserveErrors(t *testing.T, x *fixture) {
	lease := t0.Add(time.Hour)
	if err := x.c.Reserve(x.ctx, "never-begun", 1, lease, unlimited, t0); !errors.Is(err, catalog.ErrUploadGone) {
		t.Fatalf("Reserve of an unknown upload: %v, want ErrUploadGone", err)
	}
	if err := x.c.Reserve(x.ctx, "\xff", 1, lease, unlimited, t0); !errors.Is(err, catalog.ErrUploadGone) {
		t.Fatalf("Reserve of a key that is not UTF-8: %v, want ErrUploadGone", err)
	}
	committed := x.put(newFile("t", "p", "committed", 1), t0)
	aborted := newFile("t", "p", "aborted", 1)
	x.begin(aborted, 1, unlimited, t0)
	if err := x.c.Abort(x.ctx, aborted.Object, t0); err != nil {
		t.Fatal(err)
	}
	for _, f := range []catalog.File{committed, aborted} {
		if err := x.c.Reserve(x.ctx, f.Object, 1, lease, unlimited, t0); !errors.Is(err, catalog.ErrUploadGone) {
			t.Fatalf("Reserve of the %s upload: %v, want ErrUploadGone", f.Name, err)
		}
	}
	f := newFile("t", "p", "f", 0)
	x.begin(f, 10, unlimited, t0)
	wantInvalid(t, "Reserve of negative bytes", x.c.Reserve(x.ctx, f.Object, -1, lease, unlimited, t0))
	wantInvalid(t, "Reserve past the largest int64", x.c.Reserve(x.ctx, f.Object, math.MaxInt64, lease, unlimited, t0))
	wantInvalid(t, "Reserve without a lease", x.c.Reserve(x.ctx, f.Object, 1, time.Time{}, unlimited, t0))
}

// testReserveRemovesExpired: Reserve, like Begin, removes the tenant's
// expired files before refusing.
func testReserveRemovesExpired(t *testing.T, x *fixture) {
	expires := t0.Add(time.Hour)
	old := newFile("t", "p", "old", 80)
	old.Expires = expires
	x.importFile(old)
	limits := catalog.Limits{Bytes: 100}
	a := newFile("t", "p", "a", 0)
	x.begin(a, 10, limits, t0)
	lease := expires.Add(time.Hour)
	wantQuota(t, x.c.Reserve(x.ctx, a.Object, 80, lease, limits, expires.Add(-time.Millisecond)), false, 100)
	if err := x.c.Reserve(x.ctx, a.Object, 80, lease, limits, expires); err != nil {
		t.Fatalf("Reserve once the old file has expired: %v", err)
	}
	x.wantUsage("t", expires, catalog.Usage{})
}

func testAbort(t *testing.T, x *fixture) {
	limits := catalog.Limits{Bytes: 100, Files: 1}
	a := newFile("t", "p", "a", 0)
	x.begin(a, 60, limits, t0)
	now := t0.Add(time.Minute)
	if err := x.c.Abort(x.ctx, a.Object, now); err != nil {
		t.Fatal(err)
	}
	// Its object may be deleted at once; its reservation is free.
	x.wantGarbage(now, a.Object)
	x.begin(newFile("t", "p", "b", 0), 100, limits, now)
	// Gone is gone: aborting again, or what never was, is no error.
	for _, object := range []string{a.Object, "never-begun", "\xff"} {
		if err := x.c.Abort(x.ctx, object, now); err != nil {
			t.Fatalf("Abort(%q) of no upload: %v", object, err)
		}
	}
	if _, err := x.c.Commit(x.ctx, a, nil, catalog.Limits{}, now); !errors.Is(err, catalog.ErrUploadGone) {
		t.Fatalf("Commit after Abort: %v, want ErrUploadGone", err)
	}
	x.wantNoFile(a, now)
}
