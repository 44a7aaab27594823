package storage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/lifecycle"
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
	// LifecycleDays installs a bucket rule that expires objects after this
	// many days, a backstop for the janitor (default 4: beyond the 72 h
	// TTL). The rule applies to every object under Prefix, including those
	// whose Meta.Expires is zero, and replaces the bucket's lifecycle
	// configuration. Negative: install no rule (and leave the bucket's
	// configuration alone).
	LifecycleDays int
	// Logger receives what the store recovers from without failing a call,
	// such as a staging copy Move could not remove (default slog.Default()).
	Logger *slog.Logger
}

// ParseS3URL parses s3://BUCKET?endpoint=HOST:PORT&secure=false&region=R&prefix=P
// (&part_size=BYTES&lifecycle_days=N). Keys come from the query's
// access_key and secret_key, else from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY.
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
	if s := q.Get("lifecycle_days"); s != "" {
		if cfg.LifecycleDays, err = strconv.Atoi(s); err != nil {
			return S3Config{}, fmt.Errorf("storage: lifecycle_days=%q: %w", s, err)
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

// S3 stores objects in an S3-compatible bucket as <prefix><tenant>/<key>,
// with Meta as user metadata (x-amz-meta-fileup-*; the ID and original name
// URL-escaped, so any Unicode survives). An object becomes visible only
// when its upload completes (a single PUT, or the completion of a
// multipart upload that minio-go aborts on failure), so readers never see
// partial data and an overwrite is atomic. Put checks the stream as S3
// reads it (MaxSize, the declared size, the context, the source's own
// errors, a truncated source included) and any failure stops the upload
// before it completes. The store keeps no other state: any number of
// servers can share one bucket.
//
// S3 does not hold a SHA-256 of the whole object, and storing one after
// the upload would cost a server-side copy, so Meta.SHA256 is empty and
// Meta.ETag returns the bucket's own entity tag (an MD5 for a single PUT,
// an MD5 of the parts' MD5s plus "-N" for a multipart upload: either way it
// changes with the content).
type S3 struct {
	c     *minio.Client
	cfg   S3Config
	locks keyLocks
}

// User metadata keys (canonical header form, without X-Amz-Meta-).
const (
	s3MetaID       = "Fileup-Id"
	s3MetaName     = "Fileup-Original-Name"
	s3MetaCreated  = "Fileup-Created"
	s3MetaExpires  = "Fileup-Expires"
	s3MetaTenant   = "Fileup-Tenant"
	s3MetaKey      = "Fileup-Key"
	s3DefaultPart  = 8 << 20
	s3SmallObject  = 1 << 20
	s3MinPart      = 5 << 20
	s3DefaultRetry = 4
	s3MaxSinglePut = 5 << 30 // S3's limit for one PUT
)

// s3HeadBufs hold the first s3SmallObject+1 bytes of an upload of unknown
// size, to tell a small object (one PUT) from a large one (multipart).
var s3HeadBufs = sync.Pool{New: func() any { b := make([]byte, s3SmallObject+1); return &b }}

// NewS3 connects to the bucket, creating it if needed, and installs the
// lifecycle backstop rule.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.PartSize == 0 {
		cfg.PartSize = s3DefaultPart
	}
	if cfg.PartSize < s3MinPart {
		cfg.PartSize = s3MinPart
	}
	if cfg.LifecycleDays == 0 {
		cfg.LifecycleDays = 4
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.UseSSL,
		Region:     cfg.Region,
		MaxRetries: s3DefaultRetry,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: s3: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &S3{c: c, cfg: cfg}
	exists, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("storage: s3: bucket %s: %w", cfg.Bucket, err)
	}
	if !exists {
		if err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("storage: s3: creating bucket %s: %w", cfg.Bucket, err)
		}
	}
	if cfg.LifecycleDays > 0 {
		lc := lifecycle.NewConfiguration()
		lc.Rules = []lifecycle.Rule{{
			ID:         "fileup-expiry",
			Status:     "Enabled",
			RuleFilter: lifecycle.Filter{Prefix: cfg.Prefix},
			Expiration: lifecycle.Expiration{Days: lifecycle.ExpirationDays(cfg.LifecycleDays)},
		}}
		if err := c.SetBucketLifecycle(ctx, cfg.Bucket, lc); err != nil {
			return nil, fmt.Errorf("storage: s3: installing lifecycle rule: %w", err)
		}
	}
	return s, nil
}

func (s *S3) object(tenant, key string) (string, error) {
	name, err := objectPath(tenant, key)
	if err != nil {
		return "", err
	}
	return s.cfg.Prefix + name, nil
}

// limitReader enforces PutOptions on the stream S3 reads: MaxSize, the
// declared size (probing one byte past it), and the context. Its first
// error is sticky, and a source's io.ErrUnexpectedEOF (a truncated request
// body) is wrapped: minio-go compares with == and would take a bare one for
// the end of the data, completing a truncated object.
type limitReader struct {
	ctx  context.Context
	r    io.Reader
	opts PutOptions
	n    int64
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
	if l.opts.Size >= 0 {
		if l.n > l.opts.Size {
			return m, fmt.Errorf("%w: more than the declared %d bytes", ErrSizeMismatch, l.opts.Size)
		}
		if l.n == l.opts.Size && err == nil {
			var probe [1]byte
			k, perr := io.ReadFull(l.r, probe[:])
			if k > 0 {
				return m, fmt.Errorf("%w: more than the declared %d bytes", ErrSizeMismatch, l.opts.Size)
			}
			if perr != io.EOF {
				return m, perr
			}
			return m, io.EOF
		}
		if err == io.EOF && l.n < l.opts.Size {
			return m, fmt.Errorf("%w: %d bytes, declared %d", ErrSizeMismatch, l.n, l.opts.Size)
		}
	}
	return m, err
}

func (s *S3) userMeta(m Meta) map[string]string {
	um := map[string]string{
		s3MetaTenant:  m.Tenant,
		s3MetaKey:     url.PathEscape(m.Key),
		s3MetaCreated: m.Created.UTC().Format(time.RFC3339Nano),
	}
	if m.ID != "" {
		um[s3MetaID] = url.PathEscape(m.ID)
	}
	if m.OriginalName != "" {
		um[s3MetaName] = url.PathEscape(m.OriginalName)
	}
	if !m.Expires.IsZero() {
		um[s3MetaExpires] = m.Expires.UTC().Format(time.RFC3339Nano)
	}
	return um
}

// Put implements Store.
func (s *S3) Put(ctx context.Context, tenant, key string, r io.Reader, opts PutOptions) (Meta, error) {
	name, err := s.object(tenant, key)
	if err != nil {
		return Meta{}, err
	}
	defer s.locks.write(name)()
	meta := opts.Meta
	meta.Tenant, meta.Key, meta.SHA256 = tenant, key, ""
	if meta.Created.IsZero() {
		meta.Created = time.Now()
	}
	meta.Created = meta.Created.UTC().Truncate(time.Millisecond)
	size := opts.Size
	if opts.MaxSize > 0 && size > opts.MaxSize {
		return Meta{}, ErrTooLarge
	}
	lim := &limitReader{ctx: ctx, r: r, opts: opts}
	var lr io.Reader = lim
	if size < 0 {
		// Unknown size: a small object fits in one PUT of known length
		// without a multipart upload (and without a whole part buffer).
		bp := s3HeadBufs.Get().(*[]byte)
		defer s3HeadBufs.Put(bp)
		n, err := fill(lr, *bp) // unlike io.ReadFull, only io.EOF is the end
		head := bytes.NewReader((*bp)[:n])
		switch {
		case err == io.EOF:
			size, lr = int64(n), head
		case err != nil:
			return Meta{}, err
		default:
			lr = io.MultiReader(head, lr)
		}
	}
	ct := meta.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	info, err := s.c.PutObject(ctx, s.cfg.Bucket, name, lr, size, minio.PutObjectOptions{
		ContentType:  ct,
		UserMetadata: s.userMeta(meta),
		PartSize:     s.cfg.PartSize,
		// A known size up to S3's single-PUT limit streams in one request
		// (chunk by chunk, constant memory); multipart would buffer a part.
		DisableMultipart: size >= 0 && size <= s3MaxSinglePut,
	})
	// The reader's own error is the cause (client gone, too large, ...):
	// minio-go may have replaced it with a generic one on the way.
	if lim.err != nil && lim.err != io.EOF {
		if err == nil {
			// Unreachable with minio-go's readers, but never keep an
			// object whose source failed.
			s.c.RemoveObject(context.WithoutCancel(ctx), s.cfg.Bucket, name, minio.RemoveObjectOptions{})
		}
		return Meta{}, lim.err
	}
	if err != nil {
		if ctx.Err() != nil {
			return Meta{}, ctx.Err()
		}
		return Meta{}, fmt.Errorf("storage: s3 put: %w", err)
	}
	if size >= 0 && info.Size != size {
		return Meta{}, fmt.Errorf("%w: stored %d bytes, declared %d", ErrSizeMismatch, info.Size, size)
	}
	meta.Size = info.Size
	meta.ETagHint = info.ETag
	return meta, nil
}

// metaFrom rebuilds Meta from an object's info.
func (s *S3) metaFrom(tenant, key string, oi minio.ObjectInfo) Meta {
	um := oi.UserMetadata
	get := func(k string) string {
		v := um[k]
		if u, err := url.PathUnescape(v); err == nil {
			return u
		}
		return v
	}
	m := Meta{
		Tenant:       tenant,
		Key:          key,
		ID:           get(s3MetaID),
		OriginalName: get(s3MetaName),
		ContentType:  oi.ContentType,
		Size:         oi.Size,
		ETagHint:     oi.ETag,
	}
	if t, err := time.Parse(time.RFC3339Nano, um[s3MetaCreated]); err == nil {
		m.Created = t
	} else {
		m.Created = oi.LastModified.UTC()
	}
	if t, err := time.Parse(time.RFC3339Nano, um[s3MetaExpires]); err == nil {
		m.Expires = t
	}
	return m
}

func notFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound"
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, tenant, key string) (Meta, error) {
	name, err := s.object(tenant, key)
	if err != nil {
		return Meta{}, err
	}
	oi, err := s.c.StatObject(ctx, s.cfg.Bucket, name, minio.StatObjectOptions{})
	if err != nil {
		if notFound(err) {
			return Meta{}, ErrNotFound
		}
		return Meta{}, fmt.Errorf("storage: s3 stat: %w", err)
	}
	m := s.metaFrom(tenant, key, oi)
	if m.Expired(time.Now()) {
		return Meta{}, ErrNotFound
	}
	return m, nil
}

type s3Object struct {
	*minio.Object
	meta Meta
}

func (o *s3Object) Meta() Meta { return o.meta }

// Read reports an overwrite that happened after Get as ErrChanged.
func (o *s3Object) Read(p []byte) (int, error) {
	n, err := o.Object.Read(p)
	if err != nil && minio.ToErrorResponse(err).Code == "PreconditionFailed" {
		err = ErrChanged
	}
	return n, err
}

// Get implements Store. The object is fetched lazily: reads and seeks
// issue ranged GETs, each pinned to the version Get found (If-Match on its
// ETag), so an overwrite during a read fails the read with ErrChanged
// instead of mixing two versions.
func (s *S3) Get(ctx context.Context, tenant, key string) (Object, error) {
	name, err := s.object(tenant, key)
	if err != nil {
		return nil, err
	}
	oi, err := s.c.StatObject(ctx, s.cfg.Bucket, name, minio.StatObjectOptions{})
	if err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("storage: s3 get: %w", err)
	}
	m := s.metaFrom(tenant, key, oi)
	if m.Expired(time.Now()) {
		return nil, ErrNotFound
	}
	opts := minio.GetObjectOptions{}
	if err := opts.SetMatchETag(oi.ETag); err != nil {
		return nil, fmt.Errorf("storage: s3 get: %w", err)
	}
	o, err := s.c.GetObject(ctx, s.cfg.Bucket, name, opts)
	if err != nil {
		return nil, fmt.Errorf("storage: s3 get: %w", err)
	}
	return &s3Object{Object: o, meta: m}, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, tenant, key string) error {
	name, err := s.object(tenant, key)
	if err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.cfg.Bucket, name, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return fmt.Errorf("storage: s3 delete: %w", err)
	}
	return nil
}

// Move implements Store with a server-side copy (no data passes through
// this process) and a delete of the source.
func (s *S3) Move(ctx context.Context, fromTenant, fromKey, toTenant, toKey string, meta Meta) (Meta, error) {
	from, err := s.object(fromTenant, fromKey)
	if err != nil {
		return Meta{}, err
	}
	to, err := s.object(toTenant, toKey)
	if err != nil {
		return Meta{}, err
	}
	defer s.locks.write(from)()
	defer s.locks.write(to)()
	src, err := s.c.StatObject(ctx, s.cfg.Bucket, from, minio.StatObjectOptions{})
	if err != nil {
		if notFound(err) {
			return Meta{}, ErrNotFound
		}
		return Meta{}, fmt.Errorf("storage: s3 move: %w", err)
	}
	old := s.metaFrom(fromTenant, fromKey, src)
	m := meta
	m.Tenant, m.Key, m.Size, m.SHA256, m.Created = toTenant, toKey, old.Size, "", old.Created
	um := s.userMeta(m)
	if m.ContentType != "" {
		um["Content-Type"] = m.ContentType
	}
	info, err := s.c.ComposeObject(ctx,
		minio.CopyDestOptions{Bucket: s.cfg.Bucket, Object: to, UserMetadata: um, ReplaceMetadata: true},
		minio.CopySrcOptions{Bucket: s.cfg.Bucket, Object: from})
	if err != nil {
		return Meta{}, fmt.Errorf("storage: s3 move: %w", err)
	}
	m.ETagHint = info.ETag
	// The destination is in place: the move has happened. A source that
	// cannot be removed now is left to DeleteExpired.
	if err := s.c.RemoveObject(ctx, s.cfg.Bucket, from, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		s.cfg.Logger.Warn("storage: s3 move: source left behind for the janitor", "object", from, "err", err)
	}
	return m, nil
}

// list calls fn for each object of a tenant ("" for all tenants).
func (s *S3) list(ctx context.Context, tenant string, fn func(tenant, key string, m Meta) error) error {
	prefix := s.cfg.Prefix
	if tenant != "" {
		prefix += tenant + "/"
	}
	for oi := range s.c.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if oi.Err != nil {
			return fmt.Errorf("storage: s3 list: %w", oi.Err)
		}
		rest := strings.TrimPrefix(oi.Key, s.cfg.Prefix)
		t, k, ok := strings.Cut(rest, "/")
		if !ok || ValidTenant(t) != nil {
			continue
		}
		if _, err := CleanKey(k); err != nil {
			continue
		}
		full, err := s.c.StatObject(ctx, s.cfg.Bucket, oi.Key, minio.StatObjectOptions{})
		if err != nil {
			if notFound(err) {
				continue // deleted meanwhile
			}
			return fmt.Errorf("storage: s3 stat: %w", err)
		}
		if err := fn(t, k, s.metaFrom(t, k, full)); err != nil {
			return err
		}
	}
	return nil
}

// Usage implements Store.
func (s *S3) Usage(ctx context.Context, tenant string) (Usage, error) {
	if err := ValidTenant(tenant); err != nil {
		return Usage{}, err
	}
	var u Usage
	now := time.Now()
	err := s.list(ctx, tenant, func(_, _ string, m Meta) error {
		if !m.Expired(now) {
			u.Bytes += m.Size
			u.Files++
		}
		return nil
	})
	return u, err
}

// DeleteExpired implements Store. S3 cannot make a delete conditional on
// the version listed, so each expired object is stat'ed again, and
// deleted, while no Put or Move of this store writes its key: a key being
// written is skipped. Stores of other processes sharing the bucket are not
// excluded.
func (s *S3) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.list(ctx, "", func(tenant, key string, m Meta) error {
		if !m.Expired(now) {
			return nil
		}
		deleted, err := s.deleteIfExpired(ctx, tenant, key, now)
		if deleted {
			n++
		}
		return err
	})
	return n, err
}

func (s *S3) deleteIfExpired(ctx context.Context, tenant, key string, now time.Time) (bool, error) {
	name, err := s.object(tenant, key)
	if err != nil {
		return false, err
	}
	unlock, ok := s.locks.tryDelete(name)
	if !ok {
		return false, nil // being overwritten
	}
	defer unlock()
	oi, err := s.c.StatObject(ctx, s.cfg.Bucket, name, minio.StatObjectOptions{})
	if err != nil {
		if notFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("storage: s3 stat: %w", err)
	}
	if !s.metaFrom(tenant, key, oi).Expired(now) {
		return false, nil // replaced since it was listed
	}
	if err := s.c.RemoveObject(ctx, s.cfg.Bucket, name, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return false, fmt.Errorf("storage: s3 delete: %w", err)
	}
	return true, nil
}

var _ Store = (*S3)(nil)
