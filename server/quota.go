package server

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/fileup/fileup/storage"
)

// quotaLedger makes per-token quotas hold when one token uploads several
// files at once. The store's Usage alone cannot: every concurrent upload
// would see the same usage and each could fill the whole remaining quota.
//
// For each tenant with uploads in flight, the ledger keeps the usage last
// read from the store (base), what this process has committed since, and
// what uploads in flight have read so far (bytes) or reserved (files).
// Every upload re-reads the store's usage when it starts, so deletions and
// expiries are picked up; commits that land while the store is being read
// may be counted twice until the next refresh, which errs on the side of
// refusing. An upload that replaces a file commits only what it adds
// (see quotaCharge.replacing); while it is in flight, both versions count,
// as both are stored until it commits. The ledger lives in one process:
// replicas sharing a bucket each enforce the quota on their own uploads
// only.
type quotaLedger struct {
	bytes, files int64 // the quotas; 0 means unlimited

	mu      sync.Mutex
	tenants map[string]*tenantUsage
}

type tenantUsage struct {
	refs int // uploads in flight (the entry is dropped at 0)

	// refreshes started and the newest one applied to base: an older
	// reading that finishes late is ignored.
	started, applied uint64
	base             storage.Usage // the store's usage at the applied refresh
	committedAtBase  storage.Usage // committed when that refresh began

	committed storage.Usage // uploads this process finished while the entry lived
	inflight  storage.Usage // bytes read and files reserved by uploads in flight
}

func (t *tenantUsage) total() storage.Usage {
	return storage.Usage{
		Bytes: t.base.Bytes + t.committed.Bytes - t.committedAtBase.Bytes + t.inflight.Bytes,
		Files: t.base.Files + t.committed.Files - t.committedAtBase.Files + t.inflight.Files,
	}
}

// usageReader is the part of storage.Store the ledger reads.
type usageReader interface {
	Usage(ctx context.Context, tenant string) (storage.Usage, error)
}

func newQuotaLedger(bytes, files int64) *quotaLedger {
	if bytes <= 0 && files <= 0 {
		return nil
	}
	return &quotaLedger{bytes: bytes, files: files, tenants: map[string]*tenantUsage{}}
}

// quotaCharge is one upload's account with the ledger. A nil charge (no
// quotas configured) accepts everything.
type quotaCharge struct {
	l     *quotaLedger
	name  string
	t     *tenantUsage
	bytes int64 // read so far
	// replaced is the file the upload will replace, if any: its commit
	// changes the tenant's usage by the difference.
	replaced storage.Usage
	// reserved: the charge holds one in-flight file; refused: it went over
	// the byte quota; done: finished.
	reserved, refused, done bool
}

// open starts an upload for tenant: it refreshes the tenant's usage from
// the store, refuses the upload when a quota is already exhausted, and
// reserves one file. The caller must call finish.
//
// open gives no byte limit for the upload: what is left changes while it
// runs (other uploads fail, or commit an overwrite that adds nothing), so
// the bytes are judged as they arrive, by add.
func (l *quotaLedger) open(ctx context.Context, store usageReader, tenant string) (*quotaCharge, error) {
	if l == nil {
		return nil, nil
	}
	l.mu.Lock()
	t := l.tenants[tenant]
	if t == nil {
		t = &tenantUsage{}
		l.tenants[tenant] = t
	}
	t.refs++
	t.started++
	seq, committed := t.started, t.committed
	l.mu.Unlock()

	c := &quotaCharge{l: l, name: tenant, t: t}
	u, err := store.Usage(ctx, tenant)

	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		c.releaseLocked()
		return nil, err
	}
	if seq > t.applied {
		t.applied, t.base, t.committedAtBase = seq, u, committed
	}
	now := t.total()
	if l.files > 0 && now.Files >= l.files {
		c.releaseLocked()
		return nil, errorf(http.StatusForbidden, fmt.Sprintf("Quota exhausted: file limit of %d reached", l.files))
	}
	if l.bytes > 0 && now.Bytes >= l.bytes {
		c.releaseLocked()
		return nil, l.bytesExhausted()
	}
	t.inflight.Files++
	c.reserved = true
	return c, nil
}

func (l *quotaLedger) bytesExhausted() *apiError {
	return errorf(http.StatusForbidden, fmt.Sprintf("Quota exhausted: storage limit of %d bytes reached", l.bytes))
}

// add charges n more bytes read by the upload; it fails once the tenant's
// stored and in-flight bytes together exceed the quota. The refused upload
// stops counting at once, so the uploads still running can use its share.
func (c *quotaCharge) add(n int) error {
	if c == nil || n == 0 {
		return nil
	}
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	if c.refused {
		return c.l.bytesExhausted()
	}
	c.bytes += int64(n)
	c.t.inflight.Bytes += int64(n)
	if c.l.bytes > 0 && c.t.total().Bytes > c.l.bytes {
		c.t.inflight.Bytes -= c.bytes
		c.bytes, c.refused = 0, true
		return c.l.bytesExhausted()
	}
	return nil
}

// replacing records the file the upload is about to replace (its size, and
// one file), as found just before the upload commits.
func (c *quotaCharge) replacing(m storage.Meta, exists bool) {
	if c == nil || !exists {
		return
	}
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	c.replaced = storage.Usage{Bytes: m.Size, Files: 1}
}

// finish ends the upload: a stored file moves from in flight to
// committed; a failed one gives back what it reserved.
func (c *quotaCharge) finish(stored bool) {
	if c == nil {
		return
	}
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	if c.done {
		return
	}
	if stored && !c.refused {
		// A commit may be counted twice (see quotaLedger), so it never
		// lowers the count: a file replaced by a smaller one frees its
		// bytes at the next reading of the store.
		c.t.committed.Bytes += max(0, c.bytes-c.replaced.Bytes)
		c.t.committed.Files += 1 - c.replaced.Files
	}
	c.releaseLocked()
}

// releaseLocked drops the charge's in-flight share and, with the last
// upload of the tenant, the tenant's entry. l.mu is held.
func (c *quotaCharge) releaseLocked() {
	c.done = true
	c.t.inflight.Bytes -= c.bytes
	if c.reserved {
		c.t.inflight.Files--
	}
	c.t.refs--
	if c.t.refs == 0 {
		delete(c.l.tenants, c.name)
	}
}
