package storage

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"syscall"

	"github.com/minio/crc64nvme"
)

// Disk stores objects as plain files under a root directory:
//
//	<root>/objects/<key>
//
// A Put creates the file exclusively under its final name, streams into
// it, fsyncs it and its directory, and only then returns: the catalog
// points at an object only after Put returned, so nobody reads a file that
// is still being written, and a Put cut short (a crash, a kill -9) leaves a
// file the catalog knows as an upload in flight, which the janitor removes
// once its lease has passed. Objects are never rewritten, so a download can
// send the file with sendfile(2) while it is replaced under its name in the
// catalog. All access goes through an os.Root: no key and no symbolic link
// reaches outside the root.
type Disk struct {
	root *os.Root
	dir  string
	dirs dirSyncer
}

// objectsDir holds the objects, under the store's root directory.
const objectsDir = "objects"

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// NewDisk opens (creating it if needed) a disk store at dir. It does not
// walk the store.
func NewDisk(dir string) (*Disk, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	if err := root.MkdirAll(objectsDir, 0o755); err != nil {
		root.Close()
		return nil, fmt.Errorf("storage: %w", err)
	}
	return &Disk{root: root, dir: dir}, nil
}

// Dir is the store's root directory.
func (d *Disk) Dir() string { return d.dir }

// Close releases the store's root directory handle.
func (d *Disk) Close() error { return d.root.Close() }

func objectName(key string) (string, error) {
	if _, err := CleanKey(key); err != nil {
		return "", err
	}
	return objectsDir + "/" + key, nil
}

// Put implements Store.
func (d *Disk) Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (Written, error) {
	name, err := objectName(key)
	if err != nil {
		return Written{}, err
	}
	if opts.MaxSize > 0 && opts.Size > opts.MaxSize {
		return Written{}, ErrTooLarge
	}
	if err := ctx.Err(); err != nil {
		return Written{}, err
	}
	dir := path.Dir(name)
	created, err := d.mkdirs(dir)
	if err != nil {
		return Written{}, conflict(err)
	}
	f, err := d.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return Written{}, fmt.Errorf("%w: %s", ErrExists, key)
		}
		return Written{}, conflict(err)
	}
	w, err := d.write(ctx, f, r, opts)
	if err != nil {
		f.Close()
		d.root.Remove(name)
		return Written{}, err
	}
	d.syncDirs(dir, created)
	return w, nil
}

// write streams r into f, makes it durable and closes it.
func (d *Disk) write(ctx context.Context, f *os.File, r io.Reader, opts PutOptions) (Written, error) {
	n, sum, err := copyData(ctx, f, r, opts)
	if err != nil {
		return Written{}, err
	}
	if err := f.Sync(); err != nil {
		return Written{}, fmt.Errorf("storage: %w", err)
	}
	if err := f.Close(); err != nil {
		return Written{}, fmt.Errorf("storage: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Written{}, err
	}
	return Written{Size: n, Checksum: formatChecksum(sum)}, nil
}

// mkdirs creates dir and its missing parents and reports how many levels
// it created (their entries in their parents must be synced too).
func (d *Disk) mkdirs(dir string) (int, error) {
	created := 0
	for p := dir; p != "." && p != objectsDir; p = path.Dir(p) {
		if _, err := d.root.Lstat(p); err == nil {
			break
		}
		created++
	}
	if created == 0 {
		return 0, nil
	}
	return created, d.root.MkdirAll(dir, 0o755)
}

// conflict maps a filesystem error caused by the key's shape (one of its
// directories is an object, or the key names a directory) to ErrInvalidKey.
func conflict(err error) error {
	if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("%w: the key conflicts with an existing object or directory", ErrInvalidKey)
	}
	return fmt.Errorf("storage: %w", err)
}

// Open implements Store: the object's file, for sendfile.
func (d *Disk) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	name, err := objectName(key)
	if err != nil {
		return nil, err
	}
	f, err := d.root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("storage: %w", err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, ErrNotFound
	}
	return f, nil
}

// Delete implements Store.
func (d *Disk) Delete(ctx context.Context, key string) error {
	name, err := objectName(key)
	if err != nil {
		return err
	}
	if err := d.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// syncDirs makes a new entry in dir durable: it syncs dir, and the
// parents of the levels of dir that Put created.
func (d *Disk) syncDirs(dir string, created int) {
	for i := 0; i <= created && dir != "."; i++ {
		d.dirs.sync(dir, func() {
			if f, err := d.root.Open(dir); err == nil {
				f.Sync()
				f.Close()
			}
		})
		dir = path.Dir(dir)
	}
}

// copyData streams r into w in constant memory, enforcing the size rules
// and ctx, and returns the byte count and the CRC-64/NVME of the bytes.
//
// Reading overlaps writing: while one chunk is checksummed and written on
// a goroutine, the next is read from r into a second buffer, so ingest is
// set by the slower of the two rather than by their sum. The last chunk,
// and so the whole of a source that fits in one buffer, is written in
// place, with no second buffer and no goroutine. copyData waits for every
// chunk it started, so nothing reaches w after it returns.
//
// A source that is an io.WriterTo (a multipart file part, which writes
// from its own read buffer) writes straight into w through a checkedWriter
// instead: no copy, no goroutine.
func copyData(ctx context.Context, w io.Writer, r io.Reader, opts PutOptions) (int64, []byte, error) {
	if wt, ok := r.(io.WriterTo); ok {
		return copyFrom(ctx, w, wt, opts)
	}
	h := crc64nvme.New()
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
			return n, nil, err
		}
		if more {
			inFlight = sumAndWrite(h, w, chunk)
			continue
		}
		if err := sumAndWrite(h, w, chunk)(); err != nil {
			return n, nil, err
		}
		break
	}
	if opts.Size >= 0 && n != opts.Size {
		return n, nil, fmt.Errorf("%w: %d bytes, declared %d", ErrSizeMismatch, n, opts.Size)
	}
	return n, h.Sum(nil), nil
}

// copyFrom is copyData for a source that writes itself: it hands the
// source a checkedWriter over w.
func copyFrom(ctx context.Context, w io.Writer, src io.WriterTo, opts PutOptions) (int64, []byte, error) {
	cw := &checkedWriter{ctx: ctx, w: w, h: crc64nvme.New(), opts: opts}
	if _, err := src.WriteTo(cw); err != nil {
		return cw.n, nil, err
	}
	if opts.Size >= 0 && cw.n != opts.Size {
		return cw.n, nil, fmt.Errorf("%w: %d bytes, declared %d", ErrSizeMismatch, cw.n, opts.Size)
	}
	return cw.n, cw.h.Sum(nil), nil
}

// checkedWriter passes writes on to w, checksumming and counting them,
// and applies the size rules and ctx before each: a write that would go
// past MaxSize or the declared Size fails whole, so nothing beyond the
// limits reaches w.
type checkedWriter struct {
	ctx  context.Context
	w    io.Writer
	h    hash.Hash
	n    int64
	opts PutOptions
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if err := checkSize(c.n+int64(len(p)), c.opts); err != nil {
		return 0, err
	}
	m, err := c.w.Write(p)
	c.h.Write(p[:m])
	c.n += int64(m)
	if err != nil {
		return m, fmt.Errorf("storage: %w", err)
	}
	return m, nil
}

// checkSize applies the size rules to total, the bytes of the source so
// far: no more than MaxSize, nor than a declared Size.
func checkSize(total int64, opts PutOptions) error {
	switch {
	case opts.MaxSize > 0 && total > opts.MaxSize:
		return ErrTooLarge
	case opts.Size >= 0 && total > opts.Size:
		return fmt.Errorf("%w: more than the declared %d bytes", ErrSizeMismatch, opts.Size)
	}
	return nil
}

// nextChunk fills buf from r and applies the size rules to the running
// total *n. more reports whether r may hold more data.
func nextChunk(ctx context.Context, r io.Reader, buf []byte, n *int64, opts PutOptions) (chunk []byte, more bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	// Fill the buffer before writing: one write per small Read would cost
	// a syscall each.
	m, rerr := fill(r, buf)
	*n += int64(m)
	if err := checkSize(*n, opts); err != nil {
		return nil, false, err
	}
	switch {
	case rerr == io.EOF:
		return buf[:m], false, nil
	case rerr != nil:
		return nil, false, rerr
	}
	return buf[:m], true, nil
}

// sumAndWrite starts adding p to h and writing it to w on a goroutine
// when p is large, and returns a function that waits for it and reports
// the write's error. p must not change until that function returns.
func sumAndWrite(h hash.Hash, w io.Writer, p []byte) (wait func() error) {
	do := func() error {
		h.Write(p)
		if _, err := w.Write(p); err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		return nil
	}
	if len(p) < 64<<10 {
		err := do()
		return func() error { return err }
	}
	done := make(chan error, 1)
	go func() { done <- do() }()
	return func() error { return <-done }
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

var _ Store = (*Disk)(nil)
