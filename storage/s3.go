package storage

import (
	"context"
	"fmt"
	"hash"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/minio/crc64nvme"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"golang.org/x/sync/semaphore"
)

// S3Config configures an S3 store.
type S3Config struct {
	Endpoint  string // host:port of the S3-compatible server
	AccessKey string
	SecretKey string
	Bucket    string
	Region    string
	UseSSL    bool
	// Prefix is prepended to every object name, e.g. "fileup/".
	Prefix string
	// PartSize is the multipart part size (default 8 MiB, from 5 MiB to
	// 5 GiB), doubled for an upload whose SizeHint would need more than
	// S3's 10,000 parts, up to BufferMemory (2.4 TiB objects at the
	// defaults); without a hint an object can have at most 10,000 parts
	// (78 GiB at the default).
	PartSize uint64
	// PartConcurrency is the number of part buffers one upload may hold,
	// so the number of its parts in flight (default 4, as minio-go's own
	// uploads): an upload in parts holds at most PartConcurrency ×
	// PartSize of memory (32 MiB at the defaults). Two suffice to overlap
	// reading the source with sending; more parts in flight keep S3 busy
	// on several cores, and a distant S3 busy despite each part's round
	// trip (on loopback MinIO, on a loaded machine, 4 measured 0.96 of a
	// direct minio-go PUT's time and 2 measured 1.06).
	PartConcurrency int
	// BufferMemory bounds the part buffers of all uploads together
	// (default 256 MiB, at least PartSize): an upload waits for its first
	// part buffer while the budget is spent, and takes more (up to
	// PartConcurrency) only while it has room.
	BufferMemory int64
	// Lifecycle, if not nil, is merged into the bucket's lifecycle
	// configuration by NewS3 (see Lifecycle); nil leaves it alone.
	Lifecycle *Lifecycle
}

// ParseS3URL parses s3://BUCKET?endpoint=HOST:PORT&secure=false&region=R&prefix=P
// (&part_size=BYTES&part_concurrency=N&buffer_memory=BYTES). Keys come from the query's access_key and
// secret_key, else from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
func ParseS3URL(raw string) (S3Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return S3Config{}, fmt.Errorf("storage: %q is not s3://BUCKET?endpoint=HOST:PORT", raw)
	}
	q := u.Query()
	cfg := S3Config{
		Bucket:    u.Host,
		Endpoint:  q.Get("endpoint"),
		Region:    q.Get("region"),
		Prefix:    q.Get("prefix"),
		AccessKey: q.Get("access_key"),
		SecretKey: q.Get("secret_key"),
		UseSSL:    true,
	}
	if cfg.Endpoint == "" {
		return S3Config{}, fmt.Errorf("storage: %q has no endpoint=HOST:PORT", raw)
	}
	if s := q.Get("secure"); s != "" {
		if cfg.UseSSL, err = strconv.ParseBool(s); err != nil {
			return S3Config{}, fmt.Errorf("storage: secure=%q: %w", s, err)
		}
	}
	if err := parseTuning(q, &cfg); err != nil {
		return S3Config{}, err
	}
	if cfg.AccessKey == "" {
		cfg.AccessKey = os.Getenv("AWS_ACCESS_KEY_ID")
	}
	if cfg.SecretKey == "" {
		cfg.SecretKey = os.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	return cfg, nil
}

// parseTuning reads the optional part_size, part_concurrency and
// buffer_memory of an s3:// URL's query.
func parseTuning(q url.Values, cfg *S3Config) error {
	var err error
	if s := q.Get("part_size"); s != "" {
		if cfg.PartSize, err = strconv.ParseUint(s, 10, 64); err != nil {
			return fmt.Errorf("storage: part_size=%q: %w", s, err)
		}
	}
	if s := q.Get("part_concurrency"); s != "" {
		if cfg.PartConcurrency, err = strconv.Atoi(s); err != nil || cfg.PartConcurrency < 1 {
			return fmt.Errorf("storage: part_concurrency=%q: want a positive number", s)
		}
	}
	if s := q.Get("buffer_memory"); s != "" {
		if cfg.BufferMemory, err = strconv.ParseInt(s, 10, 64); err != nil || cfg.BufferMemory < 1 {
			return fmt.Errorf("storage: buffer_memory=%q: want a positive number of bytes", s)
		}
	}
	return nil
}

// S3 stores objects in an S3-compatible bucket as <prefix>objects/<key>.
// An object becomes visible only when its upload completes, so nothing
// partial is ever stored; a Put that fails aborts its multipart upload. It
// is created with If-None-Match: * (on the PUT, or on both the start and
// the completion of a multipart upload), so an existing object is never
// replaced, not even one that appeared during the upload. The store keeps
// no other state: any number of servers can share one bucket.
//
// How Put sends an object:
//   - known size (PutOptions.Size) up to PartSize: one streamed PUT,
//     nothing buffered, the CRC-64/NVME in a trailer after the data;
//   - unknown size: the first bytes are read into a buffer sized by
//     SizeHint (64 KiB for a 4 KiB upload; 1 MiB without a hint). An
//     object that fits in one part (PartSize, 8 MiB) goes in one PUT with
//     its checksum in a header. A larger one is a multipart upload: the
//     caller's goroutine fills a part buffer from the source while the
//     parts already filled are sent (PartConcurrency buffers, 4, at
//     most), each part with its own checksum; the completion carries the
//     whole object's (combined from the parts'), which S3 checks;
//   - known size above PartSize: the same multipart upload. One streamed
//     PUT would buffer nothing, but S3 handles a request on one core: on
//     loopback MinIO it took up to 1.3-1.6 times as long as parts sent
//     side by side when the machine was otherwise idle. Parts can also be
//     retried from their buffers, a stream cannot.
//
// Memory: an upload holds at most PartConcurrency part buffers of
// PartSize (32 MiB at the defaults; parts grow past 8 MiB only for
// objects over 78 GiB, to stay within S3's 10,000 parts, and never past
// BufferMemory), an object that fits in one part at most its size rounded
// up to a power of two, and all uploads together at most BufferMemory
// (256 MiB) of part buffers: an upload waits for its first part buffer
// while that is spent. Buffers are pooled (sync.Pool: memory no upload
// uses goes back to the runtime after two garbage collections).
//
// Integrity: S3 verifies every part's and the object's CRC-64/NVME, and
// Put compares the checksum S3 reports with the one it computed. Payloads
// are not hashed with SHA-256 for the request signature (minio-go's
// DisableContentSha256; the headers, checksums in headers included, are
// still signed): over TLS, which is the default (secure=true), TLS protects
// the bytes in transit and the CRC catches any corruption at either end.
// Over plain HTTP the CRC still catches accidental corruption, but a CRC
// is no defence against someone on the network path who alters the bytes
// and their checksum on purpose: use plain HTTP only on loopback or a
// network you trust. Measured on loopback MinIO, payload SHA-256 cost
// 0.6-0.8 s of CPU per GiB in the store and as much in the server.
type S3 struct {
	c   *minio.Client
	cfg S3Config
	// budget is what all uploads together may hold in part buffers
	// (cfg.BufferMemory).
	budget *semaphore.Weighted
}

const (
	s3DefaultPart         = 8 << 20
	s3SmallObject         = 1 << 20
	s3MinPart             = 5 << 20
	s3DefaultRetry        = 4
	s3DefaultConcurrency  = 4
	s3DefaultBufferMemory = 256 << 20
)

// NewS3 connects to the bucket, creating it if needed, and merges the
// configured lifecycle rules into it.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.PartSize == 0 {
		cfg.PartSize = s3DefaultPart
	}
	cfg.PartSize = min(max(cfg.PartSize, s3MinPart), s3MaxPartSize)
	if cfg.PartConcurrency <= 0 {
		cfg.PartConcurrency = s3DefaultConcurrency
	}
	if cfg.BufferMemory <= 0 {
		cfg.BufferMemory = s3DefaultBufferMemory
	}
	cfg.BufferMemory = max(cfg.BufferMemory, int64(cfg.PartSize))
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:           credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:          cfg.UseSSL,
		Region:          cfg.Region,
		MaxRetries:      s3DefaultRetry,
		TrailingHeaders: true, // checksums sent after the data they cover
	})
	if err != nil {
		return nil, fmt.Errorf("storage: s3: %w", err)
	}
	s := &S3{c: c, cfg: cfg, budget: semaphore.NewWeighted(cfg.BufferMemory)}
	exists, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("storage: s3: bucket %s: %w", cfg.Bucket, err)
	}
	if !exists {
		err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		// Another server sharing the bucket may have created it since.
		if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
			return nil, fmt.Errorf("storage: s3: creating bucket %s: %w", cfg.Bucket, err)
		}
	}
	if cfg.Lifecycle != nil {
		if err := s.applyLifecycle(ctx, *cfg.Lifecycle); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Client is the store's S3 client (for tests and tools).
func (s *S3) Client() *minio.Client { return s.c }

// objectPrefix is the name prefix of every object the store writes.
func (s *S3) objectPrefix() string { return s.cfg.Prefix + objectsDir + "/" }

func (s *S3) object(key string) (string, error) {
	if _, err := CleanKey(key); err != nil {
		return "", err
	}
	return s.objectPrefix() + key, nil
}

// limitReader enforces PutOptions on the stream S3 reads: MaxSize, the
// declared size (probing one byte past it), and the context; it also
// computes the CRC-64/NVME of what it delivered. Its first error is
// sticky, and a source's io.ErrUnexpectedEOF (a truncated request body) is
// wrapped: minio-go compares with == and would take a bare one for the end
// of the data, completing a truncated object.
type limitReader struct {
	ctx  context.Context
	r    io.Reader
	opts PutOptions
	n    int64
	sum  hash.Hash64
	err  error
}

// errTruncated wraps a source's io.ErrUnexpectedEOF; errors.Is still
// matches io.ErrUnexpectedEOF.
type errTruncated struct{ err error }

func (e errTruncated) Error() string { return "storage: upload truncated: " + e.err.Error() }
func (e errTruncated) Unwrap() error { return e.err }

func (l *limitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	m, err := l.read(p)
	if l.sum != nil {
		l.sum.Write(p[:m])
	}
	if err == io.ErrUnexpectedEOF {
		err = errTruncated{err}
	}
	l.err = err
	return m, err
}

func (l *limitReader) read(p []byte) (int, error) {
	if err := l.ctx.Err(); err != nil {
		return 0, err
	}
	m, err := l.r.Read(p)
	l.n += int64(m)
	if l.opts.MaxSize > 0 && l.n > l.opts.MaxSize {
		return m, ErrTooLarge
	}
	if l.opts.Size < 0 {
		return m, err
	}
	switch {
	case l.n > l.opts.Size:
		return m, fmt.Errorf("%w: more than the declared %d bytes", ErrSizeMismatch, l.opts.Size)
	case l.n == l.opts.Size && err == nil:
		return m, l.probeEnd()
	case err == io.EOF && l.n < l.opts.Size:
		return m, fmt.Errorf("%w: %d bytes, declared %d", ErrSizeMismatch, l.n, l.opts.Size)
	}
	return m, err
}

// probeEnd checks that a source of declared size has nothing more.
func (l *limitReader) probeEnd() error {
	var probe [1]byte
	k, err := io.ReadFull(l.r, probe[:])
	if k > 0 {
		return fmt.Errorf("%w: more than the declared %d bytes", ErrSizeMismatch, l.opts.Size)
	}
	if err != io.EOF {
		return err
	}
	return io.EOF
}

// Put implements Store.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (Written, error) {
	name, err := s.object(key)
	if err != nil {
		return Written{}, err
	}
	if opts.MaxSize > 0 && opts.Size > opts.MaxSize {
		return Written{}, ErrTooLarge
	}
	if err := ctx.Err(); err != nil {
		return Written{}, err
	}
	lim := &limitReader{ctx: ctx, r: r, opts: opts}
	if opts.Size >= 0 && opts.Size <= int64(s.cfg.PartSize) {
		return s.putStream(ctx, name, lim, opts)
	}
	bound := sizeBound(opts)
	part := s.partSize(bound)
	buf, n, more, err := s.firstPart(ctx, lim, bound, part)
	if err != nil {
		return Written{}, err
	}
	if !more {
		w, err := s.putBuffered(ctx, name, (*buf)[:n], opts)
		if err != nil {
			s.dropPart(buf, part)
			return Written{}, err
		}
		s.putPart(buf, part)
		return w, nil
	}
	return s.putMultipart(ctx, name, lim, buf, opts)
}

// sizeBound is the most bytes an upload can have, from its options, or -1
// when nothing bounds it.
func sizeBound(opts PutOptions) int64 {
	switch {
	case opts.Size >= 0:
		return opts.Size
	case opts.MaxSize > 0 && (opts.SizeHint < 0 || opts.SizeHint > opts.MaxSize):
		return opts.MaxSize
	}
	return opts.SizeHint
}

// firstPart reads the start of an upload of at most bound bytes (-1:
// unknown): all of it, when it fits in a part (more is false), or a full
// first part. The first read goes to a buffer sized by the bound, so that
// a small upload holds little memory; a buffer of the part's size is
// taken from the store's budget (release it with putPart).
func (s *S3) firstPart(ctx context.Context, r io.Reader, bound int64, part int) (buf *[]byte, n int, more bool, err error) {
	if size := headSize(bound, part); size < part {
		buf = getBuf(size)
	} else if buf, err = s.getPart(ctx, part); err != nil {
		return nil, 0, false, err
	}
	n, err = fill(r, *buf)
	if err == nil && len(*buf) < part {
		// Longer than the bound said (no bound, or a wrong hint): go on
		// in a part buffer.
		pb, perr := s.getPart(ctx, part)
		if perr != nil {
			putBuf(buf)
			return nil, 0, false, perr
		}
		copy(*pb, (*buf)[:n])
		putBuf(buf)
		buf = pb
		var m int
		m, err = fill(r, (*buf)[n:])
		n += m
	}
	switch {
	case err == io.EOF:
		return buf, n, false, nil
	case err != nil:
		s.putPart(buf, part)
		return nil, 0, false, err
	}
	return buf, n, true, nil
}

// putStream sends a source of known size in one streamed PUT: its
// checksum follows the data in a trailer, and nothing is buffered.
func (s *S3) putStream(ctx context.Context, name string, lim *limitReader, opts PutOptions) (Written, error) {
	lim.sum = crc64nvme.New()
	po := s.baseOptions(opts)
	po.Checksum = minio.ChecksumCRC64NVME
	po.DisableMultipart = true
	body := &stopReader{r: lim}
	info, err := s.c.PutObject(ctx, s.cfg.Bucket, name, body, opts.Size, po)
	body.stop()
	// The reader's own error is the cause (client gone, too large, ...):
	// minio-go may have replaced it with a generic one on the way.
	if lim.err != nil && lim.err != io.EOF {
		if err == nil {
			// Unreachable with minio-go's readers, but never keep an
			// object whose source failed.
			s.c.RemoveObject(context.WithoutCancel(ctx), s.cfg.Bucket, name, minio.RemoveObjectOptions{})
		}
		return Written{}, lim.err
	}
	if err != nil {
		return Written{}, s.putError(ctx, name, err)
	}
	if info.Size != opts.Size {
		return Written{}, fmt.Errorf("%w: stored %d bytes, declared %d", ErrSizeMismatch, info.Size, opts.Size)
	}
	return s.written(info, lim.sum.Sum(nil))
}

// baseOptions are the options of every object the store writes: its
// type, create-only, and no SHA-256 of the payload (the CRC-64/NVME that
// comes with it is verified instead).
func (s *S3) baseOptions(opts PutOptions) minio.PutObjectOptions {
	ct := opts.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	po := minio.PutObjectOptions{ContentType: ct, DisableContentSha256: true}
	po.SetMatchETagExcept("*") // create only: never replace an object
	return po
}

// multipartOptions start a multipart upload whose parts carry their
// CRC-64/NVME and whose completion carries the whole object's.
func (s *S3) multipartOptions(opts PutOptions) minio.PutObjectOptions {
	po := s.baseOptions(opts)
	po.UserMetadata = map[string]string{
		"x-amz-checksum-algorithm": "CRC64NVME",
		"x-amz-checksum-type":      "FULL_OBJECT",
	}
	return po
}

func (s *S3) putError(ctx context.Context, key string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if minio.ToErrorResponse(err).Code == "PreconditionFailed" {
		return fmt.Errorf("%w: %s", ErrExists, key)
	}
	return fmt.Errorf("storage: s3 put: %w", err)
}

// written turns minio-go's answer into a Written with the checksum of
// the bytes sent, which must be the one the server computed when it
// returns one (it verified the one sent with the data; it sends none for
// an empty object).
func (s *S3) written(info minio.UploadInfo, sent []byte) (Written, error) {
	w := Written{Size: info.Size, Checksum: formatChecksum(sent)}
	if info.ChecksumCRC64NVME == "" && info.Size == 0 {
		return w, nil
	}
	if got := ChecksumPrefix + info.ChecksumCRC64NVME; got != w.Checksum {
		return Written{}, fmt.Errorf("storage: s3 put: the server's checksum %q differs from the data sent (%q)", got, w.Checksum)
	}
	return w, nil
}

func notFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound"
}

// Open implements Store. The object is fetched lazily: reads and seeks
// issue ranged GETs. Objects never change once written.
func (s *S3) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, err
	}
	o, err := s.c.GetObject(ctx, s.cfg.Bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("storage: s3 get: %w", err)
	}
	if _, err := o.Stat(); err != nil {
		o.Close()
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("storage: s3 get: %w", err)
	}
	return o, nil
}

// Delete implements Store. It also aborts a multipart upload of the key
// that never completed (its process died mid-upload), whose parts would
// otherwise stay in the bucket.
func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.cfg.Bucket, name, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return fmt.Errorf("storage: s3 delete: %w", err)
	}
	if err := s.c.RemoveIncompleteUpload(ctx, s.cfg.Bucket, name); err != nil && !notFound(err) {
		return fmt.Errorf("storage: s3 aborting an incomplete upload: %w", err)
	}
	return nil
}

// AbortIncomplete aborts the store's multipart uploads that were started
// before olderThan and never completed (their process died mid-upload),
// and returns how many it aborted. Their parts otherwise occupy the bucket
// until a lifecycle rule removes them, where the server supports one.
func (s *S3) AbortIncomplete(ctx context.Context, olderThan time.Time) (int, error) {
	n := 0
	// MinIO lists uploads for no prefix but "" and exact object names.
	for u := range s.c.ListIncompleteUploads(ctx, s.cfg.Bucket, "", true) {
		if u.Err != nil {
			return n, fmt.Errorf("storage: s3 listing incomplete uploads: %w", u.Err)
		}
		if !u.Initiated.Before(olderThan) || !strings.HasPrefix(u.Key, s.objectPrefix()) {
			continue
		}
		if err := s.c.RemoveIncompleteUpload(ctx, s.cfg.Bucket, u.Key); err != nil && !notFound(err) {
			return n, fmt.Errorf("storage: s3 aborting an incomplete upload: %w", err)
		}
		n++
	}
	return n, nil
}

var _ Store = (*S3)(nil)
