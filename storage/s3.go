package storage

import (
	"bytes"
	"context"
	"fmt"
	"hash"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minio/crc64nvme"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
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
	// PartSize is the multipart part size for uploads of unknown size
	// (default 8 MiB, minimum 5 MiB). S3 needs each part's length before
	// sending it, so such an upload buffers one part: memory per upload is
	// bounded by PartSize plus 1 MiB, and an object can have at most 10,000
	// parts (80 GiB at the default). Objects of unknown size up to 1 MiB
	// are buffered and sent in one PUT; objects of known size up to 5 GiB
	// stream in one PUT and buffer nothing.
	PartSize uint64
	// Lifecycle, if not nil, is merged into the bucket's lifecycle
	// configuration by NewS3 (see Lifecycle); nil leaves it alone.
	Lifecycle *Lifecycle
}

// ParseS3URL parses s3://BUCKET?endpoint=HOST:PORT&secure=false&region=R&prefix=P
// (&part_size=BYTES). Keys come from the query's access_key and
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
	if s := q.Get("part_size"); s != "" {
		if cfg.PartSize, err = strconv.ParseUint(s, 10, 64); err != nil {
			return S3Config{}, fmt.Errorf("storage: part_size=%q: %w", s, err)
		}
	}
	if cfg.AccessKey == "" {
		cfg.AccessKey = os.Getenv("AWS_ACCESS_KEY_ID")
	}
	if cfg.SecretKey == "" {
		cfg.SecretKey = os.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	return cfg, nil
}

// S3 stores objects in an S3-compatible bucket as <prefix>objects/<key>.
// An object becomes visible only when its upload completes (a single PUT,
// or the completion of a multipart upload that minio-go aborts on
// failure), so nothing partial is ever stored. Put checks the stream as S3
// reads it (MaxSize, the declared size, the context, the source's own
// errors, a truncated source included) and any failure stops the upload
// before it completes. Every object is sent with its CRC-64/NVME checksum,
// which the server verifies, and is created with If-None-Match: * so an
// existing object is never replaced. The store keeps no other state: any
// number of servers can share one bucket.
type S3 struct {
	c   *minio.Client
	cfg S3Config
}

const (
	s3DefaultPart  = 8 << 20
	s3SmallObject  = 1 << 20
	s3MinPart      = 5 << 20
	s3DefaultRetry = 4
	s3MaxSinglePut = 5 << 30 // S3's limit for one PUT
)

// s3HeadBufs hold the first s3SmallObject+1 bytes of an upload of unknown
// size, to tell a small object (one PUT) from a large one (multipart).
var s3HeadBufs = sync.Pool{New: func() any { b := make([]byte, s3SmallObject+1); return &b }}

// NewS3 connects to the bucket, creating it if needed, and merges the
// configured lifecycle rules into it.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.PartSize == 0 {
		cfg.PartSize = s3DefaultPart
	}
	if cfg.PartSize < s3MinPart {
		cfg.PartSize = s3MinPart
	}
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
	s := &S3{c: c, cfg: cfg}
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
	l.sum.Write(p[:m])
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
	lim := &limitReader{ctx: ctx, r: r, opts: opts, sum: crc64nvme.New()}
	body, size := io.Reader(lim), opts.Size
	if size < 0 {
		// Unknown size: a small object fits in one PUT of known length
		// without a multipart upload (and without a whole part buffer).
		bp := s3HeadBufs.Get().(*[]byte)
		defer s3HeadBufs.Put(bp)
		if body, size, err = headOf(lim, *bp); err != nil {
			return Written{}, err
		}
	}
	info, err := s.c.PutObject(ctx, s.cfg.Bucket, name, body, size, s.putOptions(opts, size))
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
		return Written{}, s.putError(ctx, key, err)
	}
	if size >= 0 && info.Size != size {
		return Written{}, fmt.Errorf("%w: stored %d bytes, declared %d", ErrSizeMismatch, info.Size, size)
	}
	return s.written(info, lim.sum.Sum(nil))
}

// headOf reads up to len(buf) bytes of r: a source that ends within them
// is returned as a reader of known size, a longer one as the buffered head
// followed by the rest, of unknown size.
func headOf(r io.Reader, buf []byte) (io.Reader, int64, error) {
	n, err := fill(r, buf) // unlike io.ReadFull, only io.EOF is the end
	head := bytes.NewReader(buf[:n])
	switch {
	case err == io.EOF:
		return head, int64(n), nil
	case err != nil:
		return nil, 0, err
	}
	return io.MultiReader(head, r), -1, nil
}

func (s *S3) putOptions(opts PutOptions, size int64) minio.PutObjectOptions {
	ct := opts.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	po := minio.PutObjectOptions{
		ContentType: ct,
		PartSize:    s.cfg.PartSize,
		Checksum:    minio.ChecksumCRC64NVME,
		// A known size up to S3's single-PUT limit streams in one request
		// (chunk by chunk, constant memory); multipart would buffer a part.
		DisableMultipart: size >= 0 && size <= s3MaxSinglePut,
	}
	po.SetMatchETagExcept("*") // create only: never replace an object
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
