package server

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/fileup/fileup/storage"
)

// usageFunc adapts a function to usageReader.
type usageFunc func(ctx context.Context, tenant string) (storage.Usage, error)

func (f usageFunc) Usage(ctx context.Context, tenant string) (storage.Usage, error) {
	return f(ctx, tenant)
}

func fixedUsage(u storage.Usage) usageReader {
	return usageFunc(func(context.Context, string) (storage.Usage, error) { return u, nil })
}

func mustOpen(t *testing.T, l *quotaLedger, store usageReader) *quotaCharge {
	t.Helper()
	c, err := l.open(context.Background(), store, "t")
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return c
}

func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var aerr *apiError
	if !errors.As(err, &aerr) || aerr.Status != status {
		t.Errorf("error = %v, want a %d envelope", err, status)
	}
}

func TestQuotaLedger(t *testing.T) {
	ctx := context.Background()
	empty := fixedUsage(storage.Usage{})

	t.Run("no quotas means no ledger", func(t *testing.T) {
		l := newQuotaLedger(0, 0)
		c, err := l.open(ctx, empty, "t")
		if c != nil || err != nil || c.add(1<<40) != nil {
			t.Errorf("nil ledger: %v %v", c, err)
		}
		c.finish(true) // must not panic
	})

	t.Run("what is left is the quota minus the store's usage", func(t *testing.T) {
		l := newQuotaLedger(1000, 0)
		c := mustOpen(t, l, fixedUsage(storage.Usage{Bytes: 300, Files: 1}))
		if err := c.add(700); err != nil {
			t.Fatalf("the 700 bytes left: %v", err)
		}
		wantStatus(t, c.add(1), http.StatusForbidden)
		c.finish(false)
		_, err := l.open(ctx, fixedUsage(storage.Usage{Bytes: 1000}), "t")
		wantStatus(t, err, http.StatusForbidden)
	})

	// What is left when an upload opens is no limit for it: uploads in
	// flight then may fail, or commit an overwrite that adds nothing.
	t.Run("an upload may use what others in flight give back", func(t *testing.T) {
		l := newQuotaLedger(1000, 0)
		failing := mustOpen(t, l, empty)
		if err := failing.add(500); err != nil {
			t.Fatal(err)
		}
		overwrite := mustOpen(t, l, fixedUsage(storage.Usage{Bytes: 200, Files: 1}))
		overwrite.replacing(storage.Meta{Size: 200}, true)
		if err := overwrite.add(200); err != nil {
			t.Fatal(err)
		}
		c := mustOpen(t, l, fixedUsage(storage.Usage{Bytes: 200, Files: 1})) // 100 left now
		failing.finish(false)
		overwrite.finish(true)
		if err := c.add(800); err != nil {
			t.Errorf("the 800 bytes given back: %v", err)
		}
		wantStatus(t, c.add(1), http.StatusForbidden)
		c.finish(false)
	})

	t.Run("a refused upload gives its bytes back at once", func(t *testing.T) {
		l := newQuotaLedger(1000, 0)
		a, b := mustOpen(t, l, empty), mustOpen(t, l, empty)
		if err := a.add(600); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, b.add(600), http.StatusForbidden)
		wantStatus(t, b.add(1), http.StatusForbidden) // and keeps refusing
		if err := a.add(300); err != nil {
			t.Errorf("A within the quota after B was refused: %v", err)
		}
		wantStatus(t, a.add(101), http.StatusForbidden)
	})

	t.Run("committed bytes count until the store is read again", func(t *testing.T) {
		l := newQuotaLedger(1000, 0)
		a, b := mustOpen(t, l, empty), mustOpen(t, l, empty)
		if err := a.add(700); err != nil {
			t.Fatal(err)
		}
		a.finish(true) // B is still in flight, so the entry lives on
		wantStatus(t, b.add(301), http.StatusForbidden)
		// The next upload reads the store, which now holds A's 700 bytes:
		// counted once, not twice.
		c := mustOpen(t, l, fixedUsage(storage.Usage{Bytes: 700, Files: 1}))
		if err := c.add(300); err != nil {
			t.Errorf("the 300 bytes left: %v", err)
		}
		wantStatus(t, c.add(1), http.StatusForbidden)
	})

	t.Run("an overwrite commits only what it adds", func(t *testing.T) {
		l := newQuotaLedger(1000, 3)
		stored := fixedUsage(storage.Usage{Bytes: 300, Files: 1}) // k, 300 bytes
		a := mustOpen(t, l, stored)                               // a new file, in flight throughout
		if err := a.add(100); err != nil {
			t.Fatal(err)
		}
		b := mustOpen(t, l, stored) // replaces k with 350 bytes
		b.replacing(storage.Meta{Size: 300}, true)
		if err := b.add(350); err != nil {
			t.Fatalf("in flight, both versions fit: %v", err)
		}
		b.finish(true)
		// Stored: k (350) + a so far (100); a may add 550 more, not 250.
		if err := a.add(550); err != nil {
			t.Errorf("the overwrite was counted twice: %v", err)
		}
		wantStatus(t, a.add(1), http.StatusForbidden)
		// Files: k and a; a third fits, a fourth does not.
		c := mustOpen(t, l, stored)
		_, err := l.open(ctx, stored, "t")
		wantStatus(t, err, http.StatusForbidden)
		c.finish(false)
		a.finish(false)
	})

	// A commit that lands while another upload reads the store is counted
	// twice: harmless for one that adds bytes, but one that frees bytes
	// (a file replaced by a smaller one) must not be subtracted twice.
	t.Run("a shrinking overwrite during a reading of the store", func(t *testing.T) {
		l := newQuotaLedger(1000, 0)
		before := fixedUsage(storage.Usage{Bytes: 900, Files: 1}) // k, 900 bytes
		r := mustOpen(t, l, before)                               // replaces k with 10 bytes
		r.replacing(storage.Meta{Size: 900}, true)
		if err := r.add(10); err != nil {
			t.Fatal(err)
		}
		entered, proceed := make(chan struct{}), make(chan struct{})
		slow := usageFunc(func(context.Context, string) (storage.Usage, error) {
			close(entered)
			<-proceed
			return storage.Usage{Bytes: 10, Files: 1}, nil // read after r's file landed
		})
		type opened struct {
			c   *quotaCharge
			err error
		}
		done := make(chan opened)
		go func() { c, err := l.open(ctx, slow, "t"); done <- opened{c, err} }()
		<-entered
		r.finish(true)
		close(proceed)
		o := <-done
		if o.err != nil {
			t.Fatalf("open: %v", o.err)
		}
		stored := int64(10)
		for o.c.add(10) == nil {
			stored += 10
		}
		if stored > 1000 {
			t.Errorf("quota 1000, but %d bytes accepted", stored)
		}
		o.c.finish(false)
	})

	t.Run("files are reserved in flight and given back on failure", func(t *testing.T) {
		l := newQuotaLedger(0, 2)
		a, b := mustOpen(t, l, empty), mustOpen(t, l, empty)
		_, err := l.open(ctx, empty, "t")
		wantStatus(t, err, http.StatusForbidden)
		b.finish(false)
		c := mustOpen(t, l, empty)
		a.finish(true)
		c.finish(true)
		a.finish(true) // twice is once
		if len(l.tenants) != 0 {
			t.Errorf("ledger keeps %d tenants after every upload finished", len(l.tenants))
		}
	})

	t.Run("tenants are separate", func(t *testing.T) {
		l := newQuotaLedger(0, 1)
		a := mustOpen(t, l, empty)
		defer a.finish(false)
		if _, err := l.open(ctx, empty, "other"); err != nil {
			t.Errorf("another tenant: %v", err)
		}
	})

	t.Run("a stale reading of the store is ignored", func(t *testing.T) {
		l := newQuotaLedger(1000, 0)
		entered, proceed := make(chan struct{}), make(chan struct{})
		slow := usageFunc(func(context.Context, string) (storage.Usage, error) {
			close(entered)
			<-proceed
			return storage.Usage{}, nil // read before B's file landed
		})
		done := make(chan *quotaCharge)
		go func() {
			c, _ := l.open(ctx, slow, "t")
			done <- c
		}()
		<-entered
		b := mustOpen(t, l, fixedUsage(storage.Usage{Bytes: 800, Files: 1}))
		close(proceed)
		a := <-done
		if a == nil {
			t.Fatal("slow open failed")
		}
		wantStatus(t, a.add(201), http.StatusForbidden)
		b.finish(false)
	})

	t.Run("a failed reading of the store is an error and no reservation", func(t *testing.T) {
		l := newQuotaLedger(0, 1)
		broken := usageFunc(func(context.Context, string) (storage.Usage, error) { return storage.Usage{}, errors.New("disk gone") })
		if _, err := l.open(ctx, broken, "t"); err == nil {
			t.Fatal("open succeeded with a failing store")
		}
		if len(l.tenants) != 0 {
			t.Errorf("a failed open left %d tenants", len(l.tenants))
		}
		mustOpen(t, l, empty).finish(false)
	})
}
