package wrapper

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
)

// Source is the file an upload sends. Build one with File, Reader,
// ReaderAt or ReadSeeker. Sources made by File, ReaderAt and ReadSeeker can
// be re-read from the start, so their uploads are retried and redirected;
// a Reader is read once.
//
// Every attempt of an upload reads its own copy of a replayable source: a
// File is opened again, a ReaderAt is read through its own
// io.SectionReader, and a ReadSeeker that is not an io.ReaderAt is seeked
// and read only by one open Body at a time, never while a previous
// attempt's transport may still be reading it.
type Source struct {
	name string
	size int64 // -1: unknown
	// open returns a fresh reader positioned at the start, or nil for a
	// one-shot source. Closing the reader ends its use of the source.
	open    func() (io.ReadCloser, int64, error)
	oneShot io.Reader
	used    *atomic.Bool // shared by copies of a one-shot Source
}

// File is the file at path, opened when an upload (or a retry) starts.
// Its name is the path's base name and its size is taken at open time.
func File(path string) Source {
	return Source{
		name: filepath.Base(path),
		size: -1,
		open: func() (io.ReadCloser, int64, error) {
			f, err := os.Open(path)
			if err != nil {
				return nil, 0, err
			}
			st, err := f.Stat()
			if err != nil {
				f.Close()
				return nil, 0, err
			}
			if !st.Mode().IsRegular() {
				f.Close()
				return nil, 0, fmt.Errorf("wrapper: %s is not a regular file", path)
			}
			return f, st.Size(), nil
		},
	}
}

// Reader is a one-shot stream. size is its exact length (the body then has
// an exact Content-Length, and a stream of another length fails the
// upload), or -1 when unknown (the body is then sent chunked). A Reader is
// read at most once: its upload is never retried or redirected, and a
// second upload of the same Source fails. As with an http.Request body,
// the HTTP transport may still be finishing a Read from r when a failed
// upload returns; r belongs to the upload once it is given.
func Reader(r io.Reader, name string, size int64) Source {
	if size < 0 {
		size = -1
	}
	return Source{name: name, size: size, oneShot: r, used: new(atomic.Bool)}
}

// ReaderAt is the first size bytes of ra (an *os.File, a bytes.Reader, an
// mmap...), read from offset 0 on every attempt through an
// io.SectionReader of its own, so attempts share no offset. size must be
// known (>= 0).
func ReaderAt(ra io.ReaderAt, name string, size int64) Source {
	return sectionSource(ra, name, 0, size)
}

func sectionSource(ra io.ReaderAt, name string, off, size int64) Source {
	return Source{
		name: name,
		size: size,
		open: func() (io.ReadCloser, int64, error) {
			if ra == nil || size < 0 {
				return nil, 0, fmt.Errorf("wrapper: ReaderAt source %q needs a reader and a size >= 0 (got %d)", name, size)
			}
			return io.NopCloser(io.NewSectionReader(ra, off, size)), size, nil
		},
	}
}

// ReadSeeker is rs from its current offset (at the time ReadSeeker is
// called) to its end, measured then by seeking; the body has an exact
// Content-Length.
//
// When rs is also an io.ReaderAt (bytes.Reader, strings.Reader, *os.File),
// it is read as ReaderAt would read it: through an io.SectionReader per
// attempt, leaving rs's offset where it was. Otherwise each attempt seeks
// rs back to the start offset and reads it, and only one Body at a time
// may be open on it: NewBody fails while another is, and an upload's
// retries wait until the previous attempt's body is closed. rs must not be
// used by anything else during an upload.
func ReadSeeker(rs io.ReadSeeker, name string) Source {
	if rs == nil {
		return Source{name: name, size: -1}
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	var end int64
	if err == nil {
		end, err = rs.Seek(0, io.SeekEnd)
	}
	if err == nil {
		_, err = rs.Seek(start, io.SeekStart)
	}
	if err != nil {
		return Source{name: name, size: -1, open: func() (io.ReadCloser, int64, error) { return nil, 0, err }}
	}
	if ra, ok := rs.(io.ReaderAt); ok {
		return sectionSource(ra, name, start, end-start)
	}
	busy := new(atomic.Bool)
	return Source{
		name: name,
		size: end - start,
		open: func() (io.ReadCloser, int64, error) {
			if !busy.CompareAndSwap(false, true) {
				return nil, 0, errSourceBusy
			}
			if _, err := rs.Seek(start, io.SeekStart); err != nil {
				busy.Store(false)
				return nil, 0, err
			}
			return &exclusiveReader{r: rs, busy: busy}, end - start, nil
		},
	}
}

// exclusiveReader reads a shared ReadSeeker for one Body; Close hands the
// ReadSeeker back. Body.Close calls it only once no Read is in progress.
type exclusiveReader struct {
	r    io.Reader
	busy *atomic.Bool
	done bool
}

func (e *exclusiveReader) Read(p []byte) (int, error) { return e.r.Read(p) }

func (e *exclusiveReader) Close() error {
	if !e.done {
		e.done = true
		e.busy.Store(false)
	}
	return nil
}

// Name is the file name sent in the part's Content-Disposition.
func (s Source) Name() string { return s.name }

// Replayable reports whether the source can be read again from the start.
func (s Source) Replayable() bool { return s.open != nil }

var (
	errSourceUsed = errors.New("wrapper: a Reader source can be uploaded only once")
	errSourceBusy = errors.New("wrapper: the ReadSeeker source is being read by another open Body; close it first")
)

// reader returns the data stream and its size (-1 unknown).
func (s Source) reader() (io.ReadCloser, int64, error) {
	if s.open != nil {
		return s.open()
	}
	if s.oneShot == nil {
		return nil, 0, errors.New("wrapper: empty Source")
	}
	if s.used.Swap(true) {
		return nil, 0, errSourceUsed
	}
	return io.NopCloser(s.oneShot), s.size, nil
}
