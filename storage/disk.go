package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Disk stores objects as files under a root directory:
//
//	<root>/<tenant>/<key>
//
// Each file holds the object's bytes followed by a trailer: the JSON
// metadata, its length (8 bytes, big-endian) and the magic "FILEUPM1". Data
// and metadata therefore change together in one rename: a Put streams into
// a temporary file ".fileup-tmp-*" in the destination directory, fsyncs it,
// and renames it over the final name, so readers see the old object or the
// new one, never a mix or a partial file. NewDisk removes temporary files a
// crash left behind. All access goes through an os.Root, so no key and no
// symbolic link can reach outside the root.
type Disk struct {
	root *os.Root
	dir  string
}

const (
	tmpPrefix = ".fileup-tmp-"
	// asidePrefix names an object the janitor has renamed aside to compare
	// it with the expired version it read (see removeIfSame).
	asidePrefix = ".fileup-aside-"
	trailerSize = 16
	diskMagic   = "FILEUPM1"
	maxMetaSize = 64 << 10
)

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// NewDisk opens (creating it if needed) a disk store at dir and removes
// temporary files left by interrupted writes (a crash or SIGKILL mid-Put).
// An object the janitor had renamed aside when the process died is put
// back, unless it had expired or a newer version has replaced it.
// One process owns a root: a second NewDisk on a root in use would remove
// the temporary files of Puts in progress, failing them.
func NewDisk(dir string) (*Disk, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	d := &Disk{root: root, dir: dir}
	if err := d.removeTemps(); err != nil {
		root.Close()
		return nil, err
	}
	return d, nil
}

// Close releases the store's root directory handle.
func (d *Disk) Close() error { return d.root.Close() }

func (d *Disk) removeTemps() error {
	return fs.WalkDir(d.root.FS(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable entries are skipped, not fatal
		}
		if e.IsDir() {
			return nil
		}
		switch {
		case strings.HasPrefix(e.Name(), tmpPrefix):
		case strings.HasPrefix(e.Name(), asidePrefix):
			if err := d.restoreAside(p); err != nil {
				return err
			}
		default:
			return nil
		}
		if err := d.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("storage: removing leftover %s: %w", p, err)
		}
		return nil
	})
}

// restoreAside puts an object left aside by an interrupted removeIfSame
// back under its key (recorded in its trailer), if it has not expired and
// the key is free. The caller then removes the aside name.
func (d *Disk) restoreAside(p string) error {
	f, err := d.root.Open(p)
	if err != nil {
		return nil
	}
	m, err := readMeta(f)
	f.Close()
	if err != nil || m.Expired(time.Now()) {
		return nil
	}
	name, err := objectPath(m.Tenant, m.Key)
	if err != nil || path.Dir(name) != path.Dir(p) {
		return nil // not where removeIfSame would have put it
	}
	return d.putBack(p, name)
}

func objectPath(tenant, key string) (string, error) {
	if err := ValidTenant(tenant); err != nil {
		return "", err
	}
	if _, err := CleanKey(key); err != nil {
		return "", err
	}
	return tenant + "/" + key, nil
}

// Put implements Store.
func (d *Disk) Put(ctx context.Context, tenant, key string, r io.Reader, opts PutOptions) (Meta, error) {
	name, err := objectPath(tenant, key)
	if err != nil {
		return Meta{}, err
	}
	if opts.MaxSize > 0 && opts.Size > opts.MaxSize {
		return Meta{}, ErrTooLarge
	}
	if err := ctx.Err(); err != nil {
		return Meta{}, err
	}
	dir := path.Dir(name)
	tmp := dir + "/" + tmpPrefix + randomHex(8)
	var f *os.File
	err = d.inDir(dir, func() error {
		f, err = d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		return err
	})
	if err != nil {
		return Meta{}, conflict(err)
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			d.root.Remove(tmp)
			d.pruneDirs(tenant, dir)
		}
	}()

	meta := opts.Meta
	n, sum, err := copyData(ctx, f, r, opts)
	if err != nil {
		return Meta{}, err
	}
	meta.Tenant, meta.Key, meta.Size, meta.SHA256 = tenant, key, n, sum
	if meta.Created.IsZero() {
		meta.Created = time.Now()
	}
	meta.Created = meta.Created.UTC().Truncate(time.Millisecond)
	if err := writeTrailer(f, meta); err != nil {
		return Meta{}, err
	}
	if err := f.Sync(); err != nil {
		return Meta{}, fmt.Errorf("storage: %w", err)
	}
	if err := f.Close(); err != nil {
		return Meta{}, fmt.Errorf("storage: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Meta{}, err
	}
	if err := d.root.Rename(tmp, name); err != nil {
		return Meta{}, conflict(err)
	}
	committed = true
	d.syncDir(dir)
	return meta, nil
}

// inDir creates dir (and its parents) and runs create, which makes an entry
// in it. A concurrent Delete or DeleteExpired removes directories once they
// are empty, so either step can find a directory gone (ENOENT), and
// MkdirAll can fail with EEXIST for a directory that is gone by the time it
// checks what exists: both are retried. A file where a directory should be
// fails with EEXIST or ENOTDIR every time.
func (d *Disk) inDir(dir string, create func() error) error {
	var err error
	for range 20 {
		err = d.root.MkdirAll(dir, 0o755)
		if err == nil {
			err = create()
		} else if errors.Is(err, fs.ErrExist) {
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	return err
}

// conflict maps a filesystem error caused by the key's shape (one of its
// directories is a file, or the key names a directory) to ErrInvalidKey.
func conflict(err error) error {
	if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY) {
		return fmt.Errorf("%w: the key conflicts with an existing object or directory (a/b when a is an object, or a when a/b exists)", ErrInvalidKey)
	}
	return fmt.Errorf("storage: %w", err)
}

// copyData streams r into w in constant memory, enforcing the size rules
// and ctx, and returns the byte count and hex SHA-256.
//
// Reading, hashing and writing overlap: while one chunk is hashed and
// written (each on its own goroutine), the next is read from r into a
// second buffer. On a multipart upload the read side (socket reads and the
// boundary scan) and the write side (SHA-256 and the file write) each cost
// about half, so ingest is set by the slowest of the three rather than by
// their sum. The last chunk, and so the whole of a source that fits in one
// buffer, is hashed and written in place, with no second buffer and no
// goroutine. copyData waits for every chunk it started, so nothing reaches
// w after it returns.
func copyData(ctx context.Context, w io.Writer, r io.Reader, opts PutOptions) (int64, string, error) {
	h := sha256.New()
	var bufs [2]*[]byte
	defer func() {
		for _, b := range bufs {
			if b != nil {
				copyBufs.Put(b)
			}
		}
	}()
	var n int64
	inFlight := func() error { return nil } // waits for the chunk being written
	for i := 0; ; i = 1 - i {
		if bufs[i] == nil {
			bufs[i] = copyBufs.Get().(*[]byte)
		}
		chunk, more, err := nextChunk(ctx, r, *bufs[i], &n, opts)
		if werr := inFlight(); err == nil {
			err = werr
		}
		if err != nil {
			return n, "", err
		}
		if more {
			inFlight = hashAndWrite(h, w, chunk)
			continue
		}
		h.Write(chunk)
		if _, err := w.Write(chunk); err != nil {
			return n, "", fmt.Errorf("storage: %w", err)
		}
		break
	}
	if opts.Size >= 0 && n != opts.Size {
		return n, "", fmt.Errorf("%w: %d bytes, declared %d", ErrSizeMismatch, n, opts.Size)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// nextChunk fills buf from r and applies the size rules to the running
// total *n. more reports whether r may hold more data.
func nextChunk(ctx context.Context, r io.Reader, buf []byte, n *int64, opts PutOptions) (chunk []byte, more bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	// Fill the buffer before writing: a multipart part yields a few KiB
	// per Read, and one write per Read would cost a syscall each.
	m, rerr := fill(r, buf)
	*n += int64(m)
	switch {
	case opts.MaxSize > 0 && *n > opts.MaxSize:
		return nil, false, ErrTooLarge
	case opts.Size >= 0 && *n > opts.Size:
		return nil, false, fmt.Errorf("%w: more than the declared %d bytes", ErrSizeMismatch, opts.Size)
	case rerr == io.EOF:
		return buf[:m], false, nil
	case rerr != nil:
		return nil, false, rerr
	}
	return buf[:m], true, nil
}

// hashAndWrite starts adding p to h and writing it to w, each on its own
// goroutine, and returns a function that waits for both and reports the
// write's error. p must not change until that function returns.
func hashAndWrite(h hash.Hash, w io.Writer, p []byte) (wait func() error) {
	hashed := make(chan struct{})
	go func() { h.Write(p); close(hashed) }()
	written := make(chan error, 1)
	go func() { _, err := w.Write(p); written <- err }()
	return func() error {
		<-hashed
		if err := <-written; err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		return nil
	}
}

// fill reads into buf until it is full or r returns an error, which is
// passed on unchanged (io.EOF at the end, any other error as is: unlike
// io.ReadFull, a truncated source is never mistaken for a clean end).
func fill(r io.Reader, buf []byte) (int, error) {
	n, empty := 0, 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			if empty++; empty > 100 {
				return n, io.ErrNoProgress
			}
		}
	}
	return n, nil
}

func writeTrailer(w io.Writer, meta Meta) error {
	js, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	var tail [trailerSize]byte
	binary.BigEndian.PutUint64(tail[:8], uint64(len(js)))
	copy(tail[8:], diskMagic)
	if _, err := w.Write(append(js, tail[:]...)); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// readMeta reads the trailer of an open object file.
func readMeta(f *os.File) (Meta, error) {
	st, err := f.Stat()
	if err != nil {
		return Meta{}, err
	}
	if !st.Mode().IsRegular() || st.Size() < trailerSize {
		return Meta{}, ErrNotFound
	}
	var tail [trailerSize]byte
	if _, err := f.ReadAt(tail[:], st.Size()-trailerSize); err != nil {
		return Meta{}, err
	}
	if string(tail[8:]) != diskMagic {
		return Meta{}, fmt.Errorf("storage: %s: not an object file", f.Name())
	}
	n := int64(binary.BigEndian.Uint64(tail[:8]))
	if n <= 0 || n > maxMetaSize || n > st.Size()-trailerSize {
		return Meta{}, fmt.Errorf("storage: %s: corrupt trailer", f.Name())
	}
	js := make([]byte, n)
	if _, err := f.ReadAt(js, st.Size()-trailerSize-n); err != nil {
		return Meta{}, err
	}
	var m Meta
	if err := json.Unmarshal(js, &m); err != nil {
		return Meta{}, fmt.Errorf("storage: %s: corrupt metadata: %w", f.Name(), err)
	}
	if m.Size != st.Size()-trailerSize-n {
		return Meta{}, fmt.Errorf("storage: %s: size does not match metadata", f.Name())
	}
	return m, nil
}

// open opens an object file and its metadata, expired or not.
func (d *Disk) open(tenant, key string) (*os.File, Meta, error) {
	name, err := objectPath(tenant, key)
	if err != nil {
		return nil, Meta{}, err
	}
	f, err := d.root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, Meta{}, ErrNotFound
		}
		return nil, Meta{}, fmt.Errorf("storage: %w", err)
	}
	m, err := readMeta(f)
	if err != nil {
		f.Close()
		return nil, Meta{}, err
	}
	return f, m, nil
}

type diskObject struct {
	*io.SectionReader
	f    *os.File
	meta Meta
}

func (o *diskObject) Close() error { return o.f.Close() }
func (o *diskObject) Meta() Meta   { return o.meta }

// Get implements Store.
func (d *Disk) Get(ctx context.Context, tenant, key string) (Object, error) {
	f, m, err := d.open(tenant, key)
	if err != nil {
		return nil, err
	}
	if m.Expired(time.Now()) {
		f.Close()
		return nil, ErrNotFound
	}
	return &diskObject{SectionReader: io.NewSectionReader(f, 0, m.Size), f: f, meta: m}, nil
}

// Stat implements Store.
func (d *Disk) Stat(ctx context.Context, tenant, key string) (Meta, error) {
	f, m, err := d.open(tenant, key)
	if err != nil {
		return Meta{}, err
	}
	f.Close()
	if m.Expired(time.Now()) {
		return Meta{}, ErrNotFound
	}
	return m, nil
}

// Delete implements Store.
func (d *Disk) Delete(ctx context.Context, tenant, key string) error {
	name, err := objectPath(tenant, key)
	if err != nil {
		return err
	}
	if err := d.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: %w", err)
	}
	d.pruneDirs(tenant, path.Dir(name))
	return nil
}

// Move implements Store: it rewrites the staged file's trailer with the
// destination's metadata and renames it into place.
func (d *Disk) Move(ctx context.Context, fromTenant, fromKey, toTenant, toKey string, meta Meta) (Meta, error) {
	from, err := objectPath(fromTenant, fromKey)
	if err != nil {
		return Meta{}, err
	}
	to, err := objectPath(toTenant, toKey)
	if err != nil {
		return Meta{}, err
	}
	f, err := d.root.OpenFile(from, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Meta{}, ErrNotFound
		}
		return Meta{}, fmt.Errorf("storage: %w", err)
	}
	defer f.Close()
	old, err := readMeta(f)
	if err != nil {
		return Meta{}, err
	}
	m := meta
	m.Tenant, m.Key, m.Size, m.SHA256, m.Created = toTenant, toKey, old.Size, old.SHA256, old.Created
	if err := f.Truncate(old.Size); err != nil {
		return Meta{}, fmt.Errorf("storage: %w", err)
	}
	if _, err := f.Seek(old.Size, io.SeekStart); err != nil {
		return Meta{}, fmt.Errorf("storage: %w", err)
	}
	if err := writeTrailer(f, m); err != nil {
		return Meta{}, err
	}
	if err := f.Sync(); err != nil {
		return Meta{}, fmt.Errorf("storage: %w", err)
	}
	dir := path.Dir(to)
	if err := d.inDir(dir, func() error { return d.root.Rename(from, to) }); err != nil {
		return Meta{}, conflict(err)
	}
	d.syncDir(dir)
	d.pruneDirs(fromTenant, path.Dir(from))
	return m, nil
}

// Usage implements Store.
func (d *Disk) Usage(ctx context.Context, tenant string) (Usage, error) {
	if err := ValidTenant(tenant); err != nil {
		return Usage{}, err
	}
	var u Usage
	now := time.Now()
	err := d.walkObjects(ctx, tenant, func(_ string, m Meta, _ *os.File) error {
		if !m.Expired(now) {
			u.Bytes += m.Size
			u.Files++
		}
		return nil
	})
	return u, err
}

// DeleteExpired implements Store.
func (d *Disk) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	entries, err := fs.ReadDir(d.root.FS(), ".")
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	deleted := 0
	for _, e := range entries {
		if !e.IsDir() || ValidTenant(e.Name()) != nil {
			continue
		}
		tenant := e.Name()
		err := d.walkObjects(ctx, tenant, func(name string, m Meta, read *os.File) error {
			if !m.Expired(now) {
				return nil
			}
			ok, err := d.removeIfSame(name, read)
			if err != nil {
				return err
			}
			if ok {
				deleted++
				d.pruneDirs(tenant, path.Dir(name))
			}
			return nil
		})
		if err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}

// removeIfSame removes name if it is still the file read (the expired
// version DeleteExpired read, still open, so that its inode number cannot
// be reused meanwhile), and reports whether it did. A Put or Move may have
// renamed a new version into place since: the file is renamed aside first,
// which is atomic, and only then compared. A new version taken aside by
// mistake is put back at once (it is out of sight for those microseconds).
// If the process dies in between, NewDisk puts it back.
func (d *Disk) removeIfSame(name string, read *os.File) (bool, error) {
	seen, err := read.Stat()
	if err != nil {
		return false, fmt.Errorf("storage: %w", err)
	}
	dir := path.Dir(name)
	aside := dir + "/" + asidePrefix + randomHex(8)
	if err := d.root.Rename(name, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil // deleted or moved meanwhile
		}
		return false, fmt.Errorf("storage: %w", err)
	}
	fi, err := d.root.Lstat(aside)
	if err != nil {
		return false, fmt.Errorf("storage: %w", err) // left aside: NewDisk puts it back
	}
	same := os.SameFile(fi, seen)
	if !same {
		if err := d.putBack(aside, name); err != nil {
			return false, err
		}
	}
	if err := d.root.Remove(aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("storage: %w", err)
	}
	if !same {
		d.syncDir(dir)
	}
	return same, nil
}

// putBack links the object at aside back to name, unless a newer version
// has taken name since (then the one aside was superseded anyway). Where
// hard links are not supported it renames it back instead, which could
// only replace a version newer still that landed in the same microseconds.
func (d *Disk) putBack(aside, name string) error {
	err := d.root.Link(aside, name)
	switch {
	case err == nil, errors.Is(err, fs.ErrExist):
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return nil // aside is gone: nothing to put back
	}
	if err := d.root.Rename(aside, name); err != nil {
		return fmt.Errorf("storage: putting %s back: %w", name, err)
	}
	return nil
}

// walkObjects calls fn for every object file of a tenant, with its
// metadata and the file it was read from, open until fn returns.
func (d *Disk) walkObjects(ctx context.Context, tenant string, fn func(name string, m Meta, f *os.File) error) error {
	var objects []string
	err := fs.WalkDir(d.root.FS(), tenant, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), tmpPrefix) && !strings.HasPrefix(e.Name(), asidePrefix) {
			objects = append(objects, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	for _, p := range objects {
		f, err := d.root.Open(p)
		if err != nil {
			continue // removed meanwhile
		}
		m, err := readMeta(f)
		if err != nil {
			f.Close()
			continue // not an object file: left alone
		}
		err = fn(p, m, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// pruneDirs removes now-empty directories from dir up to, not including,
// the tenant directory.
func (d *Disk) pruneDirs(tenant, dir string) {
	for dir != tenant && strings.HasPrefix(dir, tenant+"/") {
		if err := d.root.Remove(dir); err != nil {
			return // not empty, or gone
		}
		dir = path.Dir(dir)
	}
}

// syncDir makes a rename in dir durable, and the entries of directories
// the Put may have created along the way: it syncs dir and each of its
// parents up to the root (a directory with nothing to flush syncs at
// little cost).
func (d *Disk) syncDir(dir string) {
	for {
		if f, err := d.root.Open(dir); err == nil {
			f.Sync()
			f.Close()
		}
		if dir == "." {
			return
		}
		dir = path.Dir(dir)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var _ Store = (*Disk)(nil)
