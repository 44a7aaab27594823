// Package storage holds the reference server's object stores: the Store
// interface, a local-disk implementation (the default) and an S3-compatible
// implementation for running several replicas over one bucket.
//
// Objects are addressed by a tenant (an opaque, path-safe namespace derived
// from an API token) and a key (a slash-separated relative path such as
// "images/user-uploads/photo.png"). Every implementation streams: Put copies
// from an io.Reader with constant memory, and Get returns a seekable reader
// suitable for http.ServeContent (Range requests).
//
// Every implementation guarantees:
//   - a reader never sees a partial object or a mix of two versions: Put
//     makes the new object visible in one atomic step, after all its bytes
//     are durable (an S3 read racing an overwrite fails with ErrChanged);
//   - a Put that fails (read error, context cancelled, size mismatch, disk
//     full) leaves no trace and leaves an existing object under the same key
//     intact;
//   - no key, whatever its bytes, resolves outside the tenant's namespace.
//
// Every method checks its tenant with ValidTenant and its key with
// CleanKey, whatever the caller checked already.
//
// Disk keeps an object in one file, <root>/<tenant>/<key>: the data
// followed by a trailer holding the metadata, so that one rename commits
// both. S3 keeps <prefix><tenant>/<key> with the metadata as the object's
// user metadata, committed with the data by the PUT (or the completion of
// the multipart upload) that makes the object visible.
package storage

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"
)

// Errors returned by Store implementations. Test with errors.Is.
var (
	// ErrNotFound: no object under that tenant and key, or it has expired.
	ErrNotFound = errors.New("storage: object not found")
	// ErrInvalidKey: the key or tenant is not a valid, clean relative path.
	ErrInvalidKey = errors.New("storage: invalid key")
	// ErrSizeMismatch: Put was told a size and the reader delivered another.
	ErrSizeMismatch = errors.New("storage: size mismatch")
	// ErrTooLarge: the reader delivered more than PutOptions.MaxSize bytes.
	ErrTooLarge = errors.New("storage: object too large")
	// ErrChanged: the object was replaced while an Object opened by Get
	// was being read (S3; a disk Object keeps reading the old version).
	ErrChanged = errors.New("storage: object replaced during read")
)

// Meta describes a stored object. Implementations persist every field
// together with the data, so a Stat or Get after a restart (or from another
// replica) returns what Put stored.
type Meta struct {
	Tenant       string `json:"tenant"`
	Key          string `json:"key"`
	ID           string `json:"id,omitempty"`            // caller-chosen identifier (evolink's file_id)
	OriginalName string `json:"original_name,omitempty"` // file name as the client sent it
	ContentType  string `json:"content_type"`
	Size         int64  `json:"size"`
	SHA256       string `json:"sha256,omitempty"` // hex digest of the data where the backend records it (disk), else empty
	// ETagHint is the backend's own entity tag, used when SHA256 is empty.
	ETagHint string    `json:"-"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires,omitzero"` // zero: never expires
}

// ETag returns a strong HTTP entity tag for the object's content.
func (m Meta) ETag() string {
	switch {
	case m.SHA256 != "":
		return `"` + m.SHA256 + `"`
	case m.ETagHint == "":
		return ""
	case strings.HasPrefix(m.ETagHint, `"`):
		return m.ETagHint
	default:
		return `"` + m.ETagHint + `"`
	}
}

// Expired reports whether the object has expired at now.
func (m Meta) Expired(now time.Time) bool {
	return !m.Expires.IsZero() && !now.Before(m.Expires)
}

// PutOptions are the caller's facts about an object being written.
type PutOptions struct {
	// Size is the exact number of bytes the reader will deliver, or -1 when
	// unknown. A known size lets S3 stream in one request; a reader that
	// delivers a different number of bytes fails with ErrSizeMismatch.
	Size int64
	// MaxSize, if positive, fails the Put with ErrTooLarge as soon as more
	// than MaxSize bytes have been read. Nothing is stored.
	MaxSize int64
	// Meta fields other than Tenant, Key, Size and SHA256 (which Put fills
	// in) are stored as given; a zero Created is set to the current time.
	Meta Meta
}

// Object is an open stored object. Close it when done.
type Object interface {
	io.ReadSeeker
	io.Closer
	Meta() Meta
}

// Usage is what a tenant currently stores (unexpired objects).
type Usage struct {
	Bytes int64
	Files int64
}

// Store is an object store. Implementations are safe for concurrent use.
type Store interface {
	// Put streams r into (tenant, key), replacing any existing object
	// atomically, and returns the stored metadata.
	Put(ctx context.Context, tenant, key string, r io.Reader, opts PutOptions) (Meta, error)
	// Get opens an object for reading. Expired objects are ErrNotFound.
	Get(ctx context.Context, tenant, key string) (Object, error)
	// Stat returns an object's metadata. Expired objects are ErrNotFound.
	Stat(ctx context.Context, tenant, key string) (Meta, error)
	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, tenant, key string) error
	// Move moves an object written with Put (typically under a staging
	// tenant) to (toTenant, toKey), replacing any object there atomically.
	// The result keeps the source's Size, SHA256 and Created and takes ID,
	// OriginalName, ContentType and Expires from meta. Once the
	// destination is in place Move succeeds, even if the source could not
	// be removed (it then stays until it expires).
	Move(ctx context.Context, fromTenant, fromKey, toTenant, toKey string, meta Meta) (Meta, error)
	// Usage sums the tenant's unexpired objects.
	Usage(ctx context.Context, tenant string) (Usage, error)
	// DeleteExpired removes every object expired at now and returns how
	// many it removed. An object that a Put or Move replaces while
	// DeleteExpired runs is kept: only the expired version is removed.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
}
