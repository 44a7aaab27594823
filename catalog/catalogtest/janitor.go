package catalogtest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fileup/fileup/catalog"
)

func testIdempotency(t *testing.T, x *fixture) {
	limits := catalog.Limits{Files: 2}
	rec := catalog.Record{Tenant: "t", Scope: "kie.stream", Key: "key-1", Expires: t0.Add(time.Hour)}
	first := newFile("t", "p", "first", 10)
	x.begin(first, 10, limits, t0)
	stored, err := x.c.Commit(x.ctx, first, &rec, catalog.Limits{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := rec
	want.File = stored
	x.wantReplay(want, t0)

	// A retry that raced the first: nothing of it is stored, its upload
	// is aborted (reservation released, object deletable at once), and
	// it gets the first's answer.
	now := t0.Add(time.Minute)
	retry := newFile("t", "p", "retry", 20)
	x.begin(retry, 20, limits, now)
	later := rec
	later.Expires = now.Add(time.Hour)
	_, err = x.c.Commit(x.ctx, retry, &later, catalog.Limits{}, now)
	var replay *catalog.ReplayError
	if !errors.As(err, &replay) || replay.Record != want {
		t.Fatalf("Commit with a used key: %v, want a *ReplayError with %+v", err, want)
	}
	x.wantNoFile(retry, now)
	x.wantGarbage(now, retry.Object)
	if err := x.c.Reserve(x.ctx, retry.Object, 0, now.Add(time.Hour), limits, now); !errors.Is(err, catalog.ErrUploadGone) {
		t.Fatalf("Reserve of the replayed upload: %v, want ErrUploadGone", err)
	}
	x.wantUsage("t", now, catalog.Usage{Bytes: 10, Files: 1})
	x.begin(newFile("t", "p", "fits", 0), 0, limits, now) // 1 used + 1: the retry's file was released

	// The record answers even after its file is replaced.
	x.put(newFile("t", "p", "first", 99), now)
	x.wantReplay(want, now)
	// Keys are per tenant and scope.
	for _, other := range []catalog.Record{
		{Tenant: "t", Scope: "evolink.stream", Key: "key-1", Expires: now.Add(time.Hour)},
		{Tenant: "u", Scope: "kie.stream", Key: "key-1", Expires: now.Add(time.Hour)},
	} {
		f := newFile(other.Tenant, "p", unique("name"), 1)
		x.begin(f, 1, unlimited, now)
		got, err := x.c.Commit(x.ctx, f, &other, catalog.Limits{}, now)
		if err != nil {
			t.Fatalf("Commit with key %+v: %v", other, err)
		}
		other.File = got
		x.wantReplay(other, now)
	}
	for _, key := range [][3]string{{"t", "kie.stream", "key-2"}, {"v", "kie.stream", "key-1"}, {"t", "\xff", "key-1"}} {
		if r, err := x.c.Replay(x.ctx, key[0], key[1], key[2], now); !errors.Is(err, catalog.ErrNotFound) {
			t.Fatalf("Replay(%q) = %+v, %v; want ErrNotFound", key, r, err)
		}
	}
}

// wantReplay checks the record Replay returns at now.
func (x *fixture) wantReplay(want catalog.Record, now time.Time) {
	x.t.Helper()
	got, err := x.c.Replay(x.ctx, want.Tenant, want.Scope, want.Key, now)
	if err != nil || got != want {
		x.t.Fatalf("Replay at %v = %+v, %v; want %+v", now, got, err, want)
	}
}

// testIdempotencyExpired: an expired record is neither replayed nor in
// the way of a new one, and Sweep removes it.
func testIdempotencyExpired(t *testing.T, x *fixture) {
	rec := catalog.Record{Tenant: "t", Scope: "s", Key: "k", Expires: t0.Add(time.Hour)}
	f := newFile("t", "p", "f", 1)
	x.begin(f, 1, unlimited, t0)
	if _, err := x.c.Commit(x.ctx, f, &rec, catalog.Limits{}, t0); err != nil {
		t.Fatal(err)
	}
	now := rec.Expires
	if r, err := x.c.Replay(x.ctx, "t", "s", "k", now); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("Replay of an expired record = %+v, %v; want ErrNotFound", r, err)
	}
	g := newFile("t", "p", "g", 2)
	x.begin(g, 2, unlimited, now)
	renewed := rec
	renewed.Expires = now.Add(time.Hour)
	stored, err := x.c.Commit(x.ctx, g, &renewed, catalog.Limits{}, now)
	if err != nil {
		t.Fatalf("Commit with an expired record's key: %v", err)
	}
	renewed.File = stored
	x.wantReplay(renewed, now)

	other := catalog.Record{Tenant: "t", Scope: "s", Key: "other", Expires: now.Add(time.Minute)}
	h := newFile("t", "p", "h", 3)
	x.begin(h, 3, unlimited, now)
	if _, err := x.c.Commit(x.ctx, h, &other, catalog.Limits{}, now); err != nil {
		t.Fatal(err)
	}
	if s, err := x.c.Sweep(x.ctx, other.Expires.Add(-time.Millisecond), 10); err != nil || s.Records != 0 {
		t.Fatalf("Sweep before any record expired = %+v, %v", s, err)
	}
	if s, err := x.c.Sweep(x.ctx, renewed.Expires, 10); err != nil || s.Records != 2 {
		t.Fatalf("Sweep = %+v, %v; want 2 records removed", s, err)
	}
	// Swept records are gone even for a clock that runs behind.
	if r, err := x.c.Replay(x.ctx, "t", "s", "k", now); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("Replay of a swept record = %+v, %v; want ErrNotFound", r, err)
	}
}

func testSweepFiles(t *testing.T, x *fixture) {
	expires := t0.Add(time.Hour)
	var objects []string
	for _, tenant := range []string{"t", "t", "u"} {
		f := newFile(tenant, "p", unique("n"), 10)
		f.Expires = expires
		objects = append(objects, x.put(f, t0).Object)
	}
	keep := x.put(newFile("t", "p", "keep", 1), t0)
	if s, err := x.c.Sweep(x.ctx, expires.Add(-time.Millisecond), 10); err != nil || s != (catalog.Swept{}) {
		t.Fatalf("Sweep before expiry = %+v, %v; want nothing", s, err)
	}
	total := 0
	for _, want := range []int{2, 1, 0} {
		s, err := x.c.Sweep(x.ctx, expires, 2)
		if err != nil || s.Expired != want || s.Garbaged != want {
			t.Fatalf("Sweep(batch 2) = %+v, %v; want %d expired and garbaged", s, err, want)
		}
		total += s.Expired
	}
	if total != len(objects) {
		t.Fatalf("Sweeps expired %d files, want %d", total, len(objects))
	}
	x.wantUsage("t", expires, catalog.Usage{Bytes: 1, Files: 1})
	x.wantUsage("u", expires, catalog.Usage{})
	x.wantFile(keep, expires)
	x.wantGarbage(expires.Add(delay - time.Millisecond))
	x.wantGarbage(expires.Add(delay), objects...)
	_, err := x.c.Sweep(x.ctx, expires, 0)
	wantInvalid(t, "Sweep with batch 0", err)
}

func testSweepUploads(t *testing.T, x *fixture) {
	limits := catalog.Limits{Bytes: 100}
	lapsed, renewed := newFile("t", "p", "lapsed", 0), newFile("t", "p", "renewed", 0)
	x.begin(lapsed, 60, limits, t0)
	x.begin(renewed, 40, limits, t0)
	lease := t0.Add(time.Hour) // both leases
	if err := x.c.Reserve(x.ctx, renewed.Object, 0, lease.Add(time.Hour), limits, t0); err != nil {
		t.Fatal(err)
	}
	if s, err := x.c.Sweep(x.ctx, lease, 10); err != nil || s != (catalog.Swept{}) {
		t.Fatalf("Sweep at the lease = %+v, %v; want nothing (it passes after)", s, err)
	}
	now := lease.Add(time.Millisecond)
	if s, err := x.c.Sweep(x.ctx, now, 10); err != nil || s != (catalog.Swept{Reaped: 1, Garbaged: 1}) {
		t.Fatalf("Sweep after the lease = %+v, %v; want one upload reaped", s, err)
	}
	x.wantGarbage(now, lapsed.Object)
	for name, err := range map[string]error{
		"Reserve": x.c.Reserve(x.ctx, lapsed.Object, 0, now.Add(time.Hour), limits, now),
		"Commit":  func() error { _, err := x.c.Commit(x.ctx, lapsed, nil, catalog.Limits{}, now); return err }(),
	} {
		if !errors.Is(err, catalog.ErrUploadGone) {
			t.Fatalf("%s of a reaped upload: %v, want ErrUploadGone", name, err)
		}
	}
	// Its reservation is free; the renewed upload's is not.
	x.begin(newFile("t", "p", "next", 0), 60, limits, now)
	wantQuota(t, x.c.Begin(x.ctx, upload(newFile("t", "p", "more", 0), 1, now), limits, now), false, 100)
	x.commit(renewed, now)
}

func testGarbage(t *testing.T, x *fixture) {
	var queued []string
	for i := range 5 {
		f := newFile("t", "p", unique("n"), 0)
		x.begin(f, 0, unlimited, t0)
		if err := x.c.Abort(x.ctx, f.Object, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
		queued = append(queued, f.Object)
	}
	claim := func(now time.Time, batch int) []string {
		got, err := x.c.ClaimGarbage(x.ctx, now, time.Minute, batch)
		if err != nil {
			t.Fatalf("ClaimGarbage: %v", err)
		}
		return got
	}
	now := t0.Add(time.Hour)
	first := sorted(claim(now, 3))
	if !slices.Equal(first, sorted(queued[:3])) {
		t.Fatalf("ClaimGarbage(batch 3) = %q, want the 3 due first: %q", first, queued[:3])
	}
	if rest := sorted(claim(now, 10)); !slices.Equal(rest, sorted(queued[3:])) {
		t.Fatalf("second ClaimGarbage = %q, want the unclaimed %q", rest, queued[3:])
	}
	if got := claim(now.Add(time.Minute-time.Millisecond), 10); len(got) != 0 {
		t.Fatalf("ClaimGarbage while claimed = %q, want none", got)
	}
	// Claims lapse: a janitor that died leaves its objects to the next.
	now = now.Add(time.Minute)
	if again := sorted(claim(now, 10)); !slices.Equal(again, sorted(queued)) {
		t.Fatalf("ClaimGarbage after the claims lapsed = %q, want %q", again, queued)
	}
	if err := x.c.Collected(x.ctx, queued[:3]); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if left := sorted(claim(now, 10)); !slices.Equal(left, sorted(queued[3:])) {
		t.Fatalf("ClaimGarbage after Collected = %q, want %q", left, queued[3:])
	}
	for _, objects := range [][]string{nil, {"unknown", "\xff"}, queued} {
		if err := x.c.Collected(x.ctx, objects); err != nil {
			t.Fatalf("Collected(%q): %v", objects, err)
		}
	}
	x.wantGarbage(now.Add(24 * time.Hour))
	_, err := x.c.ClaimGarbage(x.ctx, now, time.Minute, 0)
	wantInvalid(t, "ClaimGarbage of batch 0", err)
	_, err = x.c.ClaimGarbage(x.ctx, now, -time.Minute, 1)
	wantInvalid(t, "ClaimGarbage of a negative claim", err)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
