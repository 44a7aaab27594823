package wrapper

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Source is the file an upload sends. Build one with File, Reader,
// ReaderAt or ReadSeeker. Sources made by File, ReaderAt and ReadSeeker can
// be re-read from the start, so their uploads are retried and redirected;
// a Reader is read once.
type Source struct {
	name string
	size int64 // -1: unknown
	// open returns a fresh reader positioned at the start, or nil for a
	// one-shot source.
	open    func() (io.ReadCloser, int64, error)
	oneShot io.Reader
	used    *bool
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

// Reader is a one-shot stream. size is its exact length, or -1 when
// unknown (the body is then sent chunked). An upload from a Reader is not
// retried once it has started reading.
func Reader(r io.Reader, name string, size int64) Source {
	if size < 0 {
		size = -1
	}
	used := false
	return Source{name: name, size: size, oneShot: r, used: &used}
}

// ReaderAt is size bytes readable at any offset (an *os.File, a
// bytes.Reader, an mmap...). It is replayable.
func ReaderAt(ra io.ReaderAt, name string, size int64) Source {
	return Source{
		name: name,
		size: size,
		open: func() (io.ReadCloser, int64, error) {
			return io.NopCloser(io.NewSectionReader(ra, 0, size)), size, nil
		},
	}
}

// ReadSeeker reads rs from its current offset to its end; replays seek
// back to that offset. The size is measured by seeking.
func ReadSeeker(rs io.ReadSeeker, name string) Source {
	start, startErr := rs.Seek(0, io.SeekCurrent)
	return Source{
		name: name,
		size: -1,
		open: func() (io.ReadCloser, int64, error) {
			if startErr != nil {
				return nil, 0, startErr
			}
			end, err := rs.Seek(0, io.SeekEnd)
			if err != nil {
				return nil, 0, err
			}
			if _, err := rs.Seek(start, io.SeekStart); err != nil {
				return nil, 0, err
			}
			return io.NopCloser(rs), end - start, nil
		},
	}
}

// Name is the file name sent in the part's Content-Disposition.
func (s Source) Name() string { return s.name }

// Replayable reports whether the source can be read again from the start.
func (s Source) Replayable() bool { return s.open != nil }

var errSourceUsed = errors.New("wrapper: a Reader source can be uploaded only once")

// reader returns the data stream and its size (-1 unknown).
func (s Source) reader() (io.ReadCloser, int64, error) {
	if s.open != nil {
		return s.open()
	}
	if s.oneShot == nil {
		return nil, 0, errors.New("wrapper: empty Source")
	}
	if *s.used {
		return nil, 0, errSourceUsed
	}
	*s.used = true
	return io.NopCloser(s.oneShot), s.size, nil
}
