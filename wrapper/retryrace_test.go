package wrapper_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/fileup/fileup/wrapper"
)

// seekOnly hides every method but Read and Seek, so the source cannot be
// read through io.ReaderAt.
type seekOnly struct{ rs io.ReadSeeker }

func (s seekOnly) Read(p []byte) (int, error)                { return s.rs.Read(p) }
func (s seekOnly) Seek(off int64, whence int) (int64, error) { return s.rs.Seek(off, whence) }

// A server that answers 503 before reading the body leaves the previous
// attempt's transport goroutine reading the source while the retry
// starts. Under -race this caught bytes.Reader.Read racing Seek, and a
// false ErrSourceSize. Every replayable source must come through intact.
func TestRetryAfterEarlyAnswerLeavesSourceAlone(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB: more than socket buffers hold
	path := filepath.Join(t.TempDir(), "x.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	kinds := []struct {
		name   string
		upload func(*wrapper.Client, context.Context, wrapper.Source, wrapper.UploadParams, ...wrapper.Option) (*wrapper.Result, error)
		file   func(*testing.T, *http.Request) []byte
	}{
		{"multipart", (*wrapper.Client).Upload, func(t *testing.T, r *http.Request) []byte { _, _, _, file := parseFormReader(t, r); return file }},
		{"base64", (*wrapper.Client).UploadBase64, func(t *testing.T, r *http.Request) []byte {
			raw, err := io.ReadAll(r.Body)
			if err != nil {
				t.Error(err)
			}
			_, _, file := decodeBase64Body(t, raw, "base64Data")
			return file
		}},
	}
	sources := []struct {
		name string
		src  func() wrapper.Source
	}{
		{"ReadSeeker that is a ReaderAt", func() wrapper.Source { return wrapper.ReadSeeker(bytes.NewReader(data), "x.bin") }},
		{"ReadSeeker only", func() wrapper.Source { return wrapper.ReadSeeker(seekOnly{bytes.NewReader(data)}, "x.bin") }},
		{"ReaderAt", func() wrapper.Source { return wrapper.ReaderAt(bytes.NewReader(data), "x.bin", int64(len(data))) }},
		{"File", func() wrapper.Source { return wrapper.File(path) }},
	}
	for _, kind := range kinds {
		for _, tt := range sources {
			t.Run(kind.name+"/"+tt.name, func(t *testing.T) {
				var calls atomic.Int32
				var got atomic.Value
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if calls.Add(1) < 3 {
						envelopeReply(503, 503, "busy")(w) // before reading anything
						return
					}
					got.Store(sha256.Sum256(kind.file(t, r)))
					kieOK(w)
				}))
				defer srv.Close()
				up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, fast)
				if _, err := kind.upload(up, context.Background(), tt.src(), wrapper.UploadParams{Path: "p", ContentType: "application/octet-stream"}); err != nil {
					t.Fatalf("after %d attempts: %v", calls.Load(), err)
				}
				if calls.Load() != 3 || got.Load() != want {
					t.Errorf("%d attempts; the last carried a different file", calls.Load())
				}
			})
		}
	}
}

// parseFormReader parses a request's form as parseForm does.
func parseFormReader(t *testing.T, r *http.Request) ([]wrapper.Field, string, string, []byte) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		t.Error(err)
	}
	return parseForm(t, r.Header.Get("Content-Type"), raw)
}

// A ReadSeeker that is not a ReaderAt is read by one open Body at a time;
// GetBody closes the copy it replaces, so replays never overlap.
func TestReadSeekerOneBodyAtATime(t *testing.T) {
	src := wrapper.ReadSeeker(seekOnly{bytes.NewReader([]byte("hello"))}, "h.txt")
	b1, err := wrapper.NewBody(src, nil, wrapper.BodyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrapper.NewBody(src, nil, wrapper.BodyOptions{}); err == nil {
		t.Fatal("a second body opened while the first is open")
	}
	r2, err := b1.GetBody() // closes b1
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b1.Read(make([]byte, 10)); err == nil {
		t.Error("the replaced body still reads")
	}
	raw, err := io.ReadAll(r2)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, data := parseForm(t, b1.ContentType(), raw)
	if string(data) != "hello" {
		t.Errorf("replay carried %q", data)
	}
	r2.Close()
	b3, err := wrapper.NewBody(src, nil, wrapper.BodyOptions{})
	if err != nil {
		t.Fatalf("source still busy after every body closed: %v", err)
	}
	b3.Close()
}

// gateReader blocks in Read until released, and records the order in
// which its Read and the body's Close return.
type gateReader struct {
	entered, release chan struct{}
	seq              *atomic.Int32
	readReturned     atomic.Int32
}

func (g *gateReader) Read(p []byte) (int, error) {
	close(g.entered)
	<-g.release
	g.readReturned.Store(g.seq.Add(1))
	return copy(p, "x"), io.EOF
}

// Close waits for a Read in progress: with a Read blocked in the source,
// Close returns only after the Read has.
func TestBodyCloseWaitsForRead(t *testing.T) {
	var seq atomic.Int32
	g := &gateReader{entered: make(chan struct{}), release: make(chan struct{}), seq: &seq}
	b, err := wrapper.NewBody(wrapper.Reader(g, "g", -1), nil, wrapper.BodyOptions{ContentType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		b.Read(make([]byte, 4096)) // header, then blocks in the source
	}()
	<-g.entered
	var closeReturned atomic.Int32
	closeDone := make(chan struct{})
	go func() {
		defer close(closeDone)
		b.Close()
		closeReturned.Store(seq.Add(1))
	}()
	// Give Close every chance to return early before the Read is released.
	for range 100 {
		runtime.Gosched()
	}
	close(g.release)
	<-readDone
	<-closeDone
	if r, c := g.readReturned.Load(), closeReturned.Load(); c < r {
		t.Errorf("Close returned (%d) before the Read in progress (%d)", c, r)
	}
	if _, err := b.Read(make([]byte, 10)); err == nil {
		t.Error("Read after Close succeeded")
	}
}
