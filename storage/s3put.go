package storage

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/minio/crc64nvme"
	"github.com/minio/minio-go/v7"
)

// S3 limits on multipart uploads.
const (
	s3MaxParts    = 10_000
	s3MaxPartSize = 5 << 30
)

// Buffers are pooled by size: a few classes for small objects, and part
// buffers of the configured part size times a power of two.
var bufPools sync.Map // int → *sync.Pool of *[]byte

func getBuf(size int) *[]byte {
	p, ok := bufPools.Load(size)
	if !ok {
		p, _ = bufPools.LoadOrStore(size, &sync.Pool{New: func() any { b := make([]byte, size); return &b }})
	}
	return p.(*sync.Pool).Get().(*[]byte)
}

func putBuf(b *[]byte) {
	if p, ok := bufPools.Load(len(*b)); ok {
		p.(*sync.Pool).Put(b)
	}
}

// getPart takes a part buffer of size bytes from the pool, waiting until
// the store's budget has room for it.
func (s *S3) getPart(ctx context.Context, size int) (*[]byte, error) {
	if err := s.budget.Acquire(ctx, s.weight(size)); err != nil {
		return nil, err
	}
	return getBuf(size), nil
}

// tryGetPart is getPart without waiting: it fails when the budget is
// spent or other uploads wait for it.
func (s *S3) tryGetPart(size int) (*[]byte, bool) {
	if !s.budget.TryAcquire(s.weight(size)) {
		return nil, false
	}
	return getBuf(size), true
}

// putPart returns a buffer taken by firstPart, getPart or tryGetPart:
// one of the upload's part size holds budget, a smaller one does not.
func (s *S3) putPart(b *[]byte, part int) {
	if len(*b) == part {
		s.budget.Release(s.weight(part))
	}
	putBuf(b)
}

// dropPart gives up a buffer that a failed request may still be reading
// from (net/http can go on sending a body after the response): its budget
// returns, the buffer is left to the garbage collector.
func (s *S3) dropPart(b *[]byte, part int) {
	if len(*b) == part {
		s.budget.Release(s.weight(part))
	}
}

// weight is the share of the budget a part buffer holds: its size (parts
// are never larger than the budget).
func (s *S3) weight(size int) int64 { return int64(size) }

// s3SmallClass is the smallest buffer a Put takes: a 4 KiB upload does
// not hold a part's worth of memory.
const s3SmallClass = 64 << 10

// headSize is the size of the first buffer of an upload of unknown size:
// one more byte than the hint, in a power-of-two class of at least
// s3SmallClass, and never more than a part; without a hint, 1 MiB.
func headSize(hint int64, part int) int {
	if hint < 0 {
		return min(s3SmallObject, part)
	}
	n := s3SmallClass
	for int64(n) <= hint && n < part {
		n *= 2
	}
	return min(n, part)
}

// partSize chooses the part size for an upload of at most hint bytes
// (-1: unknown): the configured size, doubled until 10,000 parts hold
// hint, but never past S3's largest part or the store's whole buffer
// budget. An object that outgrows 10,000 such parts fails with
// ErrTooLarge when its bytes do, not because of a hint.
func (s *S3) partSize(hint int64) int {
	limit := min(s3MaxPartSize, s.cfg.BufferMemory)
	p := int64(s.cfg.PartSize)
	for hint > 0 && p*s3MaxParts < hint && p*2 <= limit {
		p *= 2
	}
	return int(p)
}

// checksumHeader carries a CRC-64/NVME (checksumValue) in a request; S3
// verifies it against the bytes it received.
const checksumHeader = "X-Amz-Checksum-Crc64nvme"

func checksumValue(sum uint64) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, sum))
}

// putBuffered stores data, all of the object, in one PUT with its
// checksum in a header: no chunked encoding, no payload hashing.
func (s *S3) putBuffered(ctx context.Context, name string, data []byte, opts PutOptions) (Written, error) {
	sum := crc64nvme.Checksum(data)
	po := s.baseOptions(opts)
	po.UserMetadata = map[string]string{checksumHeader: checksumValue(sum)}
	core := minio.Core{Client: s.c}
	info, err := core.PutObject(ctx, s.cfg.Bucket, name, bytes.NewReader(data), int64(len(data)), "", "", po)
	if err != nil {
		return Written{}, s.putError(ctx, name, err)
	}
	info.Size = int64(len(data))
	return s.written(info, binary.BigEndian.AppendUint64(nil, sum))
}

// multipart is one multipart upload in progress: the caller's goroutine
// fills part buffers from the source while up to cap(free) parts are
// sent, each from its own buffer, in goroutines of their own.
type multipart struct {
	s      *S3
	core   minio.Core
	name   string
	id     string
	size   int // of each part buffer
	ctx    context.Context
	cancel context.CancelCauseFunc

	free  chan *[]byte // buffers not in use; at most cap(free) exist
	alloc int          // buffers taken from the pool so far
	wg    sync.WaitGroup

	mu    sync.Mutex
	parts []minio.ObjectPart
	err   error // the first part's failure
}

// putMultipart streams the rest of r into a multipart upload whose first
// part, full, is first (a part buffer from firstPart; putMultipart
// returns it).
func (s *S3) putMultipart(ctx context.Context, name string, r io.Reader, first *[]byte, opts PutOptions) (Written, error) {
	m := &multipart{s: s, core: minio.Core{Client: s.c}, name: name, size: len(*first),
		free: make(chan *[]byte, s.cfg.PartConcurrency)}
	m.ctx, m.cancel = context.WithCancelCause(ctx)
	defer m.cancel(nil)
	id, err := m.core.NewMultipartUpload(ctx, s.cfg.Bucket, name, s.multipartOptions(opts))
	if err != nil {
		s.putPart(first, m.size)
		return Written{}, s.putError(ctx, name, err)
	}
	m.id = id
	m.alloc = 1
	if err := m.stream(r, first); err != nil {
		m.abort()
		return Written{}, m.cause(ctx, err)
	}
	w, err := m.complete(opts)
	if err != nil {
		m.abort()
		return Written{}, s.putError(ctx, name, err)
	}
	return w, nil
}

// stream sends buf, full, as part 1 and the rest of r as the next parts,
// and waits for every part to be stored. Buffers go back to the pool.
func (m *multipart) stream(r io.Reader, buf *[]byte) error {
	defer m.release()
	n, part := len(*buf), 1
	for {
		m.send(part, buf, n)
		if n < m.size { // the last part
			break
		}
		part++
		var err error
		if buf, err = m.next(); err != nil {
			return err
		}
		if n, err = fill(r, *buf); err != nil && err != io.EOF {
			m.free <- buf
			return err
		}
		if n == 0 { // the source ended with the last part
			m.free <- buf
			break
		}
		if part > s3MaxParts {
			m.free <- buf
			return fmt.Errorf("%w: more than %d parts of %d bytes (pass a SizeHint to choose larger parts)", ErrTooLarge, s3MaxParts, m.size)
		}
	}
	m.wg.Wait()
	return m.failure()
}

// next returns a free part buffer, waiting for a part to be sent when
// every buffer the upload may hold is in use.
func (m *multipart) next() (*[]byte, error) {
	if m.ctx.Err() != nil { // a part failed: read no more
		return nil, context.Cause(m.ctx)
	}
	select {
	case b := <-m.free:
		return m.usable(b), nil
	default:
	}
	if m.alloc < cap(m.free) {
		if b, ok := m.s.tryGetPart(m.size); ok {
			m.alloc++
			return b, nil
		}
	}
	select {
	case b := <-m.free:
		return m.usable(b), nil
	case <-m.ctx.Done():
		return nil, context.Cause(m.ctx)
	}
}

// send uploads buf[:n] as part number part in a goroutine; the buffer
// returns to m.free when the part is stored or has failed.
func (m *multipart) send(part int, buf *[]byte, n int) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		data := (*buf)[:n]
		sum := checksumValue(crc64nvme.Checksum(data))
		opts := minio.PutObjectPartOptions{DisableContentSha256: true, CustomHeader: http.Header{checksumHeader: {sum}}}
		p, err := m.core.PutObjectPart(m.ctx, m.s.cfg.Bucket, m.name, m.id, part, bytes.NewReader(data), int64(n), opts)
		if err != nil {
			// net/http may still be sending from buf: never reuse it.
			buf = nil
		}
		m.free <- buf
		m.mu.Lock()
		defer m.mu.Unlock()
		if err != nil {
			if m.err == nil {
				m.err = fmt.Errorf("storage: s3 part %d: %w", part, err)
				m.cancel(m.err)
			}
			return
		}
		p.ChecksumCRC64NVME = sum // what was sent, not what came back
		p.Size = int64(n)
		m.parts = append(m.parts, p)
	}()
}

// usable replaces a buffer that was dropped (nil: its part failed) by a
// new one, which inherits its share of the budget.
func (m *multipart) usable(b *[]byte) *[]byte {
	if b == nil {
		return getBuf(m.size)
	}
	return b
}

func (m *multipart) failure() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// release waits for the parts in flight and returns every buffer to the
// pool.
func (m *multipart) release() {
	m.wg.Wait()
	for range m.alloc {
		if b := <-m.free; b != nil {
			m.s.putPart(b, m.size)
		} else { // dropped after its part failed: only the budget returns
			m.s.budget.Release(m.s.weight(m.size))
		}
	}
	m.alloc = 0
}

// cause picks the error to report: the caller's context first, then the
// source's own error (the client went away, too large, ...) or the part
// that failed, whichever stopped the upload.
func (m *multipart) cause(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// complete assembles the parts, asking S3 to verify the whole object's
// checksum (combined from the parts') and, with If-None-Match, to refuse
// an object that appeared under the name meanwhile.
func (m *multipart) complete(opts PutOptions) (Written, error) {
	slices.SortFunc(m.parts, func(a, b minio.ObjectPart) int { return cmp.Compare(a.PartNumber, b.PartNumber) })
	full, err := minio.ChecksumCRC64NVME.FullObjectChecksum(m.parts)
	if err != nil {
		return Written{}, err
	}
	var size int64
	done := make([]minio.CompletePart, len(m.parts))
	for i, p := range m.parts {
		size += p.Size
		done[i] = minio.CompletePart{PartNumber: p.PartNumber, ETag: p.ETag, ChecksumCRC64NVME: p.ChecksumCRC64NVME}
	}
	if opts.Size >= 0 && size != opts.Size {
		return Written{}, fmt.Errorf("%w: %d bytes, declared %d", ErrSizeMismatch, size, opts.Size)
	}
	po := minio.PutObjectOptions{UserMetadata: map[string]string{
		checksumHeader:        full.Encoded(),
		"x-amz-checksum-type": "FULL_OBJECT",
	}}
	po.SetMatchETagExcept("*")
	info, err := m.core.CompleteMultipartUpload(m.ctx, m.s.cfg.Bucket, m.name, m.id, done, po)
	if err != nil {
		return Written{}, err
	}
	info.Size = size
	return m.s.written(info, full.Raw())
}

// abort removes the parts sent so far, whatever happened to the caller's
// context.
func (m *multipart) abort() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(m.ctx), time.Minute)
	defer cancel()
	_ = m.core.AbortMultipartUpload(ctx, m.s.cfg.Bucket, m.name, m.id)
}

// stopReader passes reads to r until stop is called. net/http may go on
// reading a request's body after the response came (when the server
// answered before reading all of it, as S3 does to refuse an object that
// exists), and minio-go does not close the bodies it sends: stop waits
// for a read in progress and fails every later one, so that nothing
// reads the caller's source once Put has returned.
type stopReader struct {
	mu      sync.Mutex
	r       io.Reader
	stopped bool
}

var errStopped = errors.New("storage: upload already finished")

func (s *stopReader) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return 0, errStopped
	}
	return s.r.Read(p)
}

func (s *stopReader) stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
}
