package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/minio/crc64nvme"
)

// recorder is a writer that keeps what it is given, fails once it holds
// failAt bytes (when failAt > 0), and flags any write after closed is set.
type recorder struct {
	bytes.Buffer
	failAt int
	closed atomic.Bool
	late   atomic.Bool
}

var errDiskFull = errors.New("no space left on device")

func (w *recorder) Write(p []byte) (int, error) {
	if w.closed.Load() {
		w.late.Store(true)
	}
	if w.failAt > 0 && w.Len()+len(p) > w.failAt {
		return 0, errDiskFull
	}
	return w.Buffer.Write(p)
}

// endless yields zeros for ever.
type endless struct{}

func (endless) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// copyCase is a case of TestCopyData.
type copyCase struct {
	name    string
	ctx     context.Context
	src     io.Reader
	opts    PutOptions
	failAt  int
	wantErr error // nil: success with data's bytes and checksum
}

func TestCopyData(t *testing.T) {
	data := make([]byte, 3*256<<10+17) // spans several pipeline buffers
	rand.NewChaCha8([32]byte{1}).Read(data)
	sum := crc64nvme.New()
	sum.Write(data)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := func() []copyCase {
		return []copyCase{
			{name: "unknown size", src: bytes.NewReader(data), opts: PutOptions{Size: -1}},
			{name: "declared size", src: bytes.NewReader(data), opts: PutOptions{Size: int64(len(data))}},
			{name: "one byte per read", src: iotest.OneByteReader(bytes.NewReader(data[:70<<10])), opts: PutOptions{Size: -1}},
			{name: "empty", src: bytes.NewReader(nil), opts: PutOptions{Size: 0}},
			{name: "over max size", src: bytes.NewReader(data), opts: PutOptions{Size: -1, MaxSize: 300 << 10}, wantErr: ErrTooLarge},
			{name: "endless over max size", src: endless{}, opts: PutOptions{Size: -1, MaxSize: 1 << 20}, wantErr: ErrTooLarge},
			{name: "more than declared", src: bytes.NewReader(data), opts: PutOptions{Size: 100}, wantErr: ErrSizeMismatch},
			{name: "less than declared", src: bytes.NewReader(data), opts: PutOptions{Size: int64(len(data)) + 1}, wantErr: ErrSizeMismatch},
			{name: "source fails mid-stream", src: io.MultiReader(bytes.NewReader(data), iotest.ErrReader(io.ErrUnexpectedEOF)), opts: PutOptions{Size: -1}, wantErr: io.ErrUnexpectedEOF},
			{name: "write fails on the first chunk", src: endless{}, opts: PutOptions{Size: -1}, failAt: 1, wantErr: errDiskFull},
			{name: "write fails later", src: endless{}, opts: PutOptions{Size: -1}, failAt: 600 << 10, wantErr: errDiskFull},
			{name: "canceled", ctx: canceled, src: endless{}, opts: PutOptions{Size: -1}, wantErr: context.Canceled},
		}
	}
	// Every case runs through both paths: the pipeline for a plain reader
	// and the direct one for a source that writes itself.
	paths := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"reader", func(r io.Reader) io.Reader { return struct{ io.Reader }{r} }},
		{"writerTo", func(r io.Reader) io.Reader { return &selfWriter{r: r} }},
	}
	for _, path := range paths {
		for _, tc := range tests() {
			t.Run(path.name+"/"+tc.name, func(t *testing.T) {
				testCopyData(t, tc, path.wrap(tc.src), data, sum.Sum(nil))
			})
		}
	}
}

// selfWriter is a source that implements io.WriterTo, writing what r
// yields in chunks of up to 48 KiB, as a multipart part does from its
// read buffer.
type selfWriter struct{ r io.Reader }

func (s *selfWriter) Read(p []byte) (int, error) { return s.r.Read(p) }

func (s *selfWriter) WriteTo(w io.Writer) (int64, error) {
	buf := make([]byte, 48<<10)
	var total int64
	for {
		n, rerr := s.r.Read(buf)
		if n > 0 {
			m, err := w.Write(buf[:n])
			total += int64(m)
			if err != nil {
				return total, err
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// testCopyData runs tc with src as its source; fullSum is the checksum
// of data.
func testCopyData(t *testing.T, tc copyCase, src io.Reader, data, fullSum []byte) {
	ctx, opts, wantErr := tc.ctx, tc.opts, tc.wantErr
	if ctx == nil {
		ctx = context.Background()
	}
	w := &recorder{failAt: tc.failAt}
	n, got, err := copyData(ctx, w, src, opts)
	w.closed.Store(true)
	if wantErr != nil {
		if !errors.Is(err, wantErr) {
			t.Fatalf("copyData = %v, want %v", err, wantErr)
		}
		if got != nil {
			t.Errorf("checksum %x returned with an error", got)
		}
	} else {
		if err != nil {
			t.Fatalf("copyData: %v", err)
		}
		want := data[:n]
		if !bytes.Equal(w.Bytes(), want) {
			t.Fatalf("wrote %d bytes, differing from the %d read", w.Len(), len(want))
		}
		h := crc64nvme.New()
		h.Write(want)
		if !bytes.Equal(got, h.Sum(nil)) {
			t.Errorf("checksum %x, want %x", got, h.Sum(nil))
		}
		if opts.Size >= 0 && n != opts.Size {
			t.Errorf("n = %d, want %d", n, opts.Size)
		}
		if tc.name == "unknown size" && !bytes.Equal(got, fullSum) {
			t.Errorf("checksum %x, want %x", got, fullSum)
		}
	}
	if opts.MaxSize > 0 && int64(w.Len()) > opts.MaxSize {
		t.Errorf("wrote %d bytes past the %d-byte limit", w.Len(), opts.MaxSize)
	}
	if w.late.Load() {
		t.Error("a write reached the writer after copyData returned")
	}
}

// writeOnly is a source that must be written through WriteTo: its Read
// fails the test.
type writeOnly struct {
	t *testing.T
	selfWriter
}

func (w *writeOnly) Read([]byte) (int, error) {
	w.t.Error("Read called on a source that writes itself")
	return 0, io.ErrUnexpectedEOF
}

// A source that writes itself (a multipart file part) is written through
// WriteTo, straight into the file, never read into a buffer of the store.
func TestCopyDataUsesWriteTo(t *testing.T) {
	data := make([]byte, 300<<10)
	rand.NewChaCha8([32]byte{2}).Read(data)
	w := &recorder{}
	src := &writeOnly{t: t, selfWriter: selfWriter{r: bytes.NewReader(data)}}
	n, _, err := copyData(context.Background(), w, src, PutOptions{Size: -1})
	if err != nil || n != int64(len(data)) || !bytes.Equal(w.Bytes(), data) {
		t.Fatalf("copyData = %d, %v; wrote %d bytes, want %d", n, err, w.Len(), len(data))
	}
}
