package catalogtest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fileup/fileup/catalog"
)

// run calls fn(0) ... fn(n-1) in n goroutines released at once, and
// waits for them.
func run(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// successes counts the nil errors of errs and checks that every other one
// is the quota error for files or bytes and limit.
func successes(t *testing.T, errs []error, files bool, limit int64) int {
	t.Helper()
	ok := 0
	for i, err := range errs {
		if err == nil {
			ok++
			continue
		}
		var q *catalog.QuotaError
		if !errors.As(err, &q) || q.Files != files || q.Limit != limit {
			t.Fatalf("call %d: %v, want success or a quota error (files %v, limit %d)", i, err, files, limit)
		}
	}
	return ok
}

// handles returns the fixture's catalog and a second handle on its
// database, as two processes would share it.
func (x *fixture) handles() []catalog.Catalog {
	return []catalog.Catalog{x.c, x.again(x.t)}
}

// testConcurrentBegin: uploads of one tenant racing from two processes
// never take it past its file quota. It fails if Begin does not lock the
// tenant's row.
func testConcurrentBegin(t *testing.T, x *fixture) {
	h := x.handles()
	limits := catalog.Limits{Files: 5}
	const n = 30
	errs := make([]error, n)
	run(n, func(i int) {
		c := h[i%2]
		f := newFile("t", "p", fmt.Sprint(i), 1)
		errs[i] = c.Begin(x.ctx, upload(f, 1, t0), limits, t0)
		if errs[i] == nil {
			_, errs[i] = c.Commit(x.ctx, f, nil, catalog.Limits{}, t0)
		}
	})
	if ok := successes(t, errs, true, 5); ok != 5 {
		t.Fatalf("%d of %d concurrent uploads committed, want exactly 5", ok, n)
	}
	x.wantUsage("t", t0, catalog.Usage{Bytes: 5, Files: 5})
}

// testConcurrentReserve: reservations racing from two processes never
// take a tenant past its byte quota, and fill it exactly.
func testConcurrentReserve(t *testing.T, x *fixture) {
	h := x.handles()
	limits := catalog.Limits{Bytes: 1000}
	var uploads []catalog.File
	for i := range 4 {
		f := newFile("t", "p", fmt.Sprint(i), 0)
		x.begin(f, 0, limits, t0)
		uploads = append(uploads, f)
	}
	const n, chunk = 60, 30
	errs := make([]error, n)
	run(n, func(i int) {
		errs[i] = h[i%2].Reserve(x.ctx, uploads[i%4].Object, chunk, t0.Add(time.Hour), limits, t0)
	})
	if ok := successes(t, errs, false, 1000); ok != 1000/chunk {
		t.Fatalf("%d reservations of %d bytes succeeded against a quota of 1000, want %d", ok, chunk, 1000/chunk)
	}
	// What is left is exactly what the refusals did not take.
	x.begin(newFile("t", "p", "rest", 0), 1000%chunk, limits, t0)
	wantQuota(t, x.c.Begin(x.ctx, upload(newFile("t", "p", "more", 0), 1, t0), limits, t0), false, 1000)
}

// testConcurrentIdempotency: concurrent retries of one request store one
// file; the others get its record and give back their reservations.
func testConcurrentIdempotency(t *testing.T, x *fixture) {
	h := x.handles()
	limits := catalog.Limits{Files: 10}
	rec := catalog.Record{Tenant: "t", Scope: "kie.stream", Key: "retried", Expires: t0.Add(time.Hour)}
	const n = 10
	files := make([]catalog.File, n)
	errs := make([]error, n)
	run(n, func(i int) {
		f := newFile("t", "p", fmt.Sprint(i), int64(i+1))
		files[i] = f
		if errs[i] = h[i%2].Begin(x.ctx, upload(f, f.Size, t0), limits, t0); errs[i] == nil {
			r := rec
			files[i], errs[i] = h[i%2].Commit(x.ctx, f, &r, catalog.Limits{}, t0)
		}
	})
	winner := slices.IndexFunc(errs, func(err error) bool { return err == nil })
	if winner < 0 {
		t.Fatalf("no commit succeeded: %v", errs)
	}
	want := rec
	want.File = files[winner]
	for i, err := range errs {
		if i == winner {
			continue
		}
		var r *catalog.ReplayError
		if !errors.As(err, &r) || r.Record != want {
			t.Fatalf("commit %d: %v, want a *ReplayError with the winner's record", i, err)
		}
		x.wantNoFile(newFile("t", "p", fmt.Sprint(i), 0), t0)
	}
	x.wantFile(want.File, t0)
	x.wantReplay(want, t0)
	x.wantUsage("t", t0, catalog.Usage{Bytes: want.File.Size, Files: 1})
	for i := range n - 1 { // every loser's file reservation was released
		x.begin(newFile("t", "p", fmt.Sprint("next-", i), 0), 0, limits, t0)
	}
	wantQuota(t, x.c.Begin(x.ctx, upload(newFile("t", "p", "one-more", 0), 0, t0), limits, t0), true, 10)
}

// testConcurrentClaims: janitors of two processes never get the same
// object.
func testConcurrentClaims(t *testing.T, x *fixture) {
	var queued []string
	for range 60 {
		f := newFile("t", "p", unique("n"), 0)
		x.begin(f, 0, unlimited, t0)
		if err := x.c.Abort(x.ctx, f.Object, t0); err != nil {
			t.Fatal(err)
		}
		queued = append(queued, f.Object)
	}
	h := x.handles()
	const n = 6
	claimed := make([][]string, n)
	errs := make([]error, n)
	run(n, func(i int) {
		for {
			got, err := h[i%2].ClaimGarbage(x.ctx, t0, time.Hour, 4)
			if err != nil || len(got) == 0 {
				errs[i] = err
				return
			}
			claimed[i] = append(claimed[i], got...)
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	times := map[string]int{}
	for _, o := range slices.Concat(claimed...) {
		times[o]++
	}
	for _, o := range queued {
		if times[o] != 1 {
			t.Errorf("object %s claimed %d times, want once", o, times[o])
		}
	}
	if len(times) != len(queued) {
		t.Errorf("%d objects claimed, want the %d queued", len(times), len(queued))
	}
}

// testConcurrentSweep: sweepers of two processes handle each row once.
func testConcurrentSweep(t *testing.T, x *fixture) {
	expires := t0.Add(time.Hour)
	var objects []string
	for i := range 60 {
		f := newFile(fmt.Sprint("t", i%4), "p", fmt.Sprint(i), 10)
		f.Expires = expires
		objects = append(objects, x.importFile(f).Object)
	}
	for i := range 20 {
		f := newFile(fmt.Sprint("t", i%4), "p", fmt.Sprint("upload-", i), 0)
		x.begin(f, 5, unlimited, t0) // leased until expires
		objects = append(objects, f.Object)
	}
	h := x.handles()
	now := expires.Add(time.Millisecond)
	const n = 6
	swept := make([]catalog.Swept, n)
	errs := make([]error, n)
	run(n, func(i int) {
		for {
			s, err := h[i%2].Sweep(x.ctx, now, 4)
			if err != nil || s == (catalog.Swept{}) {
				errs[i] = err
				return
			}
			swept[i].Expired += s.Expired
			swept[i].Reaped += s.Reaped
			swept[i].Garbaged += s.Garbaged
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var total catalog.Swept
	for _, s := range swept {
		total.Expired += s.Expired
		total.Reaped += s.Reaped
		total.Garbaged += s.Garbaged
	}
	if total != (catalog.Swept{Expired: 60, Reaped: 20, Garbaged: 80}) {
		t.Fatalf("sweepers did %+v in all, want 60 expired, 20 reaped, 80 garbaged", total)
	}
	for i := range 4 {
		tenant := fmt.Sprint("t", i)
		x.wantUsage(tenant, now, catalog.Usage{})
		x.begin(newFile(tenant, "p", "after", 0), 100, catalog.Limits{Bytes: 100, Files: 1}, now)
	}
	x.wantGarbage(now.Add(delay), objects...)
}
