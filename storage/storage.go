// Package storage holds the bytes of the reference server's files: each
// upload is written once, as an immutable object under a key the server
// chooses (such as "<tenant>/<file id>"), to a local directory (Disk, the
// default) or an S3-compatible bucket (S3). File names, sizes, types and
// expiry live in the catalog (package catalog), which points at objects;
// a store keeps no metadata of its own.
//
// Every implementation guarantees:
//   - Put streams in bounded memory, whatever the object's size (Disk:
//     two 256 KiB buffers, none for a source that is an io.WriterTo;
//     S3: see its doc, 32 MiB per upload at most) and
//     returns only once the object's bytes are durable (fsync on disk, a
//     completed PUT on S3), with the exact size and a CRC-64/NVME
//     checksum of what it wrote; it never reads its source after
//     returning;
//   - Put never replaces an object: a key that exists is ErrExists;
//   - a Put that fails (read error, context cancelled, size rules, disk
//     full) removes what it wrote, on S3 before anything becomes visible;
//   - no key, whatever its bytes, resolves outside the store (CleanKey).
//
// Disk keeps an object as a plain file, <root>/objects/<key>, which
// downloads can hand to sendfile(2). S3 keeps <prefix>objects/<key>.
package storage

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
)

// Errors returned by Store implementations. Test with errors.Is.
var (
	// ErrNotFound: no object under that key.
	ErrNotFound = errors.New("storage: object not found")
	// ErrExists: Put to a key that already holds an object.
	ErrExists = errors.New("storage: object exists")
	// ErrInvalidKey: the key is not a valid, clean relative path.
	ErrInvalidKey = errors.New("storage: invalid key")
	// ErrSizeMismatch: Put was told a size and the reader delivered another.
	ErrSizeMismatch = errors.New("storage: size mismatch")
	// ErrTooLarge: the reader delivered more than PutOptions.MaxSize bytes.
	ErrTooLarge = errors.New("storage: object too large")
)

// PutOptions are the caller's facts about an object being written.
type PutOptions struct {
	// Size is the exact number of bytes the reader will deliver, or -1 when
	// unknown. A known size lets S3 stream in one request; a reader that
	// delivers a different number of bytes fails with ErrSizeMismatch.
	Size int64
	// MaxSize, if positive, fails the Put with ErrTooLarge as soon as more
	// than MaxSize bytes have been read. Nothing is stored.
	MaxSize int64
	// SizeHint, when Size is unknown, is an upper bound on it (for example
	// from a request's Content-Length), or -1. S3 uses it to choose part
	// sizes; it is never trusted as the size.
	SizeHint int64
	// ContentType is recorded as the object's Content-Type where the
	// backend keeps one (S3); informational only.
	ContentType string
}

// Written is what Put stored.
type Written struct {
	Size int64
	// Checksum is "crc64nvme:" and the base64 of the big-endian CRC-64/NVME
	// of the bytes, the form S3 uses for its x-amz-checksum-crc64nvme.
	Checksum string
}

// ChecksumPrefix starts every Written.Checksum.
const ChecksumPrefix = "crc64nvme:"

func formatChecksum(sum []byte) string {
	return ChecksumPrefix + base64.StdEncoding.EncodeToString(sum)
}

// Store is an object store. Implementations are safe for concurrent use.
type Store interface {
	// Put streams r into a new object under key and returns once it is
	// durable. A key that exists is ErrExists.
	Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (Written, error)
	// Open opens an object for reading (Seek to io.SeekEnd gives its
	// size). Disk returns an *os.File, so net/http can send it with
	// sendfile(2).
	Open(ctx context.Context, key string) (io.ReadSeekCloser, error)
	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
}
