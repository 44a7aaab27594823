package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/storage"
)

// reserveChunk is how many bytes an upload reserves in the catalog at a
// time as they arrive (unless the request's Content-Length, reserved at
// once, fits); the reservation is held under Config.UploadLease.
const reserveChunk = 8 << 20

// ingest is one file being received, whatever the API: its reservation
// in the catalog and its object in the store. Its life is begin, write,
// then commit or abort (abort is safe to call after commit: it does
// nothing then).
type ingest struct {
	s      *Server
	tenant string
	id     string // the file's id
	object string // its bytes' key in the store
	limits catalog.Limits
	// path and name are where the file goes, when known as it begins: an
	// upload that replaces a live file reserves no file.
	path, name string

	reserved int64     // bytes reserved in the catalog
	read     int64     // bytes read from the source
	renewAt  time.Time // when the lease is renewed at the next read
	begun    bool
	done     bool
}

func (s *Server) newIngest(tenant string) *ingest {
	id := newID()
	return &ingest{
		s: s, tenant: tenant, id: id, object: tenant + "/" + id,
		limits: catalog.Limits{Bytes: s.cfg.QuotaBytes, Files: s.cfg.QuotaFiles},
	}
}

// newID returns a random 128-bit identifier in hex.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// begin records the upload in the catalog before any byte is stored,
// reserving one file and, when a byte quota is set, up to hint bytes
// (the most the file can hold, from Content-Length; -1 unknown) if they
// fit.
func (in *ingest) begin(ctx context.Context, hint int64) *apiError {
	now := in.s.now()
	u := catalog.Upload{Object: in.object, Tenant: in.tenant, Path: in.path, Name: in.name, Lease: now.Add(in.s.cfg.UploadLease)}
	if in.limits.Bytes > 0 && hint > 0 {
		u.Bytes = min(hint, in.s.cfg.MaxUploadSize)
		if err := in.s.cat.Begin(ctx, u, in.limits, now); err == nil {
			in.begun, in.reserved, in.renewAt = true, u.Bytes, now.Add(in.s.cfg.UploadLease/2)
			return nil
		} else if !isQuotaBytes(err) {
			return in.s.catalogError(ctx, err)
		}
		u.Bytes = 0 // it does not all fit: reserve as the bytes arrive
	}
	if err := in.s.cat.Begin(ctx, u, in.limits, now); err != nil {
		return in.s.catalogError(ctx, err)
	}
	in.begun, in.renewAt = true, now.Add(in.s.cfg.UploadLease/2)
	return nil
}

func isQuotaBytes(err error) bool {
	var qe *catalog.QuotaError
	return errors.As(err, &qe) && !qe.Files
}

// catalogError maps a catalog failure to the client's error.
func (s *Server) catalogError(ctx context.Context, err error) *apiError {
	var qe *catalog.QuotaError
	switch {
	case errors.As(err, &qe) && qe.Files:
		return errorf(http.StatusForbidden, fmt.Sprintf("Quota exhausted: file limit of %d reached", qe.Limit))
	case errors.As(err, &qe):
		return errorf(http.StatusForbidden, fmt.Sprintf("Quota exhausted: storage limit of %d bytes reached", qe.Limit))
	case ctx.Err() != nil:
		return errorf(http.StatusBadRequest, "Upload interrupted: the request was cancelled")
	}
	s.log.ErrorContext(ctx, "catalog failed", "err", err)
	return errorf(http.StatusInternalServerError, "Internal server error")
}

// keepAlive renews the upload's lease every third of it until the
// returned function is called, so that an upload whose bytes stop
// flowing for a while (a slow S3 part, a client pausing under the stall
// timeout) is never taken for the upload of a dead process.
func (in *ingest) keepAlive(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(in.s.cfg.UploadLease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now := in.s.now()
			// No bytes: a renewal never fails on the quota.
			if err := in.s.cat.Reserve(ctx, in.object, 0, now.Add(in.s.cfg.UploadLease), catalog.Limits{}, now); err != nil && ctx.Err() == nil {
				in.s.log.WarnContext(ctx, "renewing an upload's lease failed", "err", err)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// meter counts the bytes of src against the upload's reservation,
// reserving more as they arrive and renewing the lease, and fails the
// read with a *apiError (403) when the tenant's byte quota is exceeded.
type meter struct {
	ctx context.Context
	in  *ingest
	src io.Reader
	err error
}

func (m *meter) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	n, err := m.src.Read(p)
	if aerr := m.count(n); aerr != nil {
		return n, aerr
	}
	return n, err
}

// count adds n bytes to the upload and keeps the reservation ahead of
// them; past the quota it fails, then and on every later call.
func (m *meter) count(n int) *apiError {
	m.in.read += int64(n)
	if aerr := m.in.keep(m.ctx); aerr != nil {
		m.err = aerr
		return aerr
	}
	return nil
}

// meterTo is a meter whose source writes itself (a form's file part):
// its WriteTo passes that on, metering each write.
type meterTo struct {
	meter
	src io.WriterTo
}

// WriteTo writes the source to w, counting each write against the
// reservation before passing it on; a write beyond the quota fails with
// the *apiError and reaches w with none of its bytes.
func (m *meterTo) WriteTo(w io.Writer) (int64, error) {
	if m.err != nil {
		return 0, m.err
	}
	return m.src.WriteTo(&meterWriter{m: &m.meter, w: w})
}

// meterWriter is the writer meterTo hands its source.
type meterWriter struct {
	m *meter
	w io.Writer
}

func (mw *meterWriter) Write(p []byte) (int, error) {
	m := mw.m
	if m.err != nil {
		return 0, m.err
	}
	if aerr := m.count(len(p)); aerr != nil {
		return 0, aerr
	}
	return mw.w.Write(p)
}

// keep reserves the bytes read beyond the reservation (a chunk ahead, or
// exactly what is needed when a chunk does not fit), and renews the lease
// when half of it has passed.
func (in *ingest) keep(ctx context.Context) *apiError {
	now := in.s.now()
	need := in.read - in.reserved
	if in.limits.Bytes <= 0 || need <= 0 {
		if now.Before(in.renewAt) {
			return nil
		}
		need = 0
	}
	grant := need
	if need > 0 {
		grant = max(need, reserveChunk)
	}
	err := in.s.cat.Reserve(ctx, in.object, grant, now.Add(in.s.cfg.UploadLease), in.limits, now)
	if isQuotaBytes(err) && grant > need {
		grant = need
		err = in.s.cat.Reserve(ctx, in.object, grant, now.Add(in.s.cfg.UploadLease), in.limits, now)
	}
	if err != nil {
		return in.s.catalogError(ctx, err)
	}
	in.reserved += grant
	in.renewAt = now.Add(in.s.cfg.UploadLease / 2)
	return nil
}

// write streams src into the upload's object.
func (in *ingest) write(ctx context.Context, src io.Reader, opts storage.PutOptions) (storage.Written, error) {
	opts.MaxSize = in.s.cfg.MaxUploadSize
	m := meter{ctx: ctx, in: in, src: src}
	if wt, ok := src.(io.WriterTo); ok {
		return in.s.store.Put(ctx, in.object, &meterTo{meter: m, src: wt}, opts)
	}
	return in.s.store.Put(ctx, in.object, &m, opts)
}

// commit makes the stored object the file f describes (f's tenant, id,
// object, size and checksum are filled in from the upload) and records
// rec if not nil. A *catalog.ReplayError is returned as is: a concurrent
// retry of the same request stored its file first.
func (in *ingest) commit(ctx context.Context, f catalog.File, w storage.Written, rec *catalog.Record) (catalog.File, error) {
	if aerr := in.keep(ctx); aerr != nil {
		return catalog.File{}, aerr
	}
	f.Tenant, f.ID, f.Object, f.Size, f.Checksum = in.tenant, in.id, in.object, w.Size, w.Checksum
	if rec != nil {
		rec.Tenant = in.tenant
	}
	stored, err := in.s.cat.Commit(ctx, f, rec, in.limits, in.s.now())
	var re *catalog.ReplayError
	switch {
	case err == nil:
		in.done = true
		return stored, nil
	case errors.As(err, &re):
		in.done = true // the catalog aborted the upload
		in.s.collect(ctx, in.object)
		return catalog.File{}, err
	}
	return catalog.File{}, in.s.catalogError(ctx, err)
}

// abort gives the upload's reservation back and removes its object, if
// the upload began and was not committed.
func (in *ingest) abort(ctx context.Context) {
	if !in.begun || in.done {
		return
	}
	in.done = true
	ctx = context.WithoutCancel(ctx)
	if err := in.s.cat.Abort(ctx, in.object, in.s.now()); err != nil {
		in.s.log.ErrorContext(ctx, "releasing an upload failed; the janitor will", "err", err)
		return
	}
	in.s.collect(ctx, in.object)
}

// collect deletes an object the catalog has queued for deletion at once,
// rather than at the janitor's next round.
func (s *Server) collect(ctx context.Context, object string) {
	ctx = context.WithoutCancel(ctx)
	if err := s.store.Delete(ctx, object); err != nil {
		return // the janitor retries
	}
	_ = s.cat.Collected(ctx, []string{object})
}
