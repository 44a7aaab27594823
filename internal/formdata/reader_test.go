package formdata_test

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fileup/fileup/internal/formdata"
)

func TestBoundary(t *testing.T) {
	long := strings.Repeat("x", 70)
	tests := []struct {
		contentType, want string
		err               error
	}{
		{"multipart/form-data; boundary=abc", "abc", nil},
		{`Multipart/Form-Data; boundary="----WebKitFormBoundary7MA4YWxkTrZu0gW"`, "----WebKitFormBoundary7MA4YWxkTrZu0gW", nil},
		{`multipart/form-data; charset=utf-8; boundary="a'()+_,-./:=? b"`, "a'()+_,-./:=? b", nil},
		{"multipart/form-data; boundary=" + long, long, nil},
		{"multipart/form-data; boundary=" + long + "x", "", formdata.ErrBadBoundary},
		{`multipart/form-data; boundary="ab "`, "", formdata.ErrBadBoundary},
		{`multipart/form-data; boundary=""`, "", formdata.ErrBadBoundary},
		{`multipart/form-data; boundary="a\"b"`, "", formdata.ErrBadBoundary},
		{"multipart/form-data; boundary=a*b", "", formdata.ErrBadBoundary},
		{"multipart/form-data", "", formdata.ErrBadBoundary},
		{"multipart/mixed; boundary=abc", "", formdata.ErrNotFormData},
		{"application/json", "", formdata.ErrNotFormData},
		{"", "", formdata.ErrNotFormData},
		{"multipart/form-data; boundary", "", formdata.ErrNotFormData},
	}
	for _, tt := range tests {
		got, err := formdata.Boundary(tt.contentType)
		if got != tt.want || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("Boundary(%q) = %q, %v; want %q, %v", tt.contentType, got, err, tt.want, tt.err)
		}
	}
}

func TestBadBoundaryInReader(t *testing.T) {
	for _, b := range []string{"", "a\r\nb", "ab ", strings.Repeat("b", 71)} {
		mr := formdata.NewReader(strings.NewReader("--"+b+"\r\n\r\n\r\n--"+b+"--"), b, formdata.Options{})
		if _, err := mr.NextPart(); !errors.Is(err, formdata.ErrBadBoundary) {
			t.Errorf("boundary %q: %v, want ErrBadBoundary", b, err)
		}
	}
}

// form builds a body of n parts with the given header block size each.
func form(n, headerBytes int) string {
	var b strings.Builder
	for i := range n {
		h := disp + "name=a" + string(rune('a'+i%26)) + "\r\n"
		pad := headerBytes - len(h) - len("X: \r\n") - 2
		b.WriteString("--B\r\n" + h + "X: " + strings.Repeat("x", pad) + "\r\n\r\ndata\r\n")
	}
	b.WriteString("--B--\r\n")
	return b.String()
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		opts        formdata.Options
		parts       int
		err         error
		errFromNext bool
	}{
		{"header at default limit", form(1, formdata.DefaultMaxHeaderBytes), formdata.Options{}, 1, nil, false},
		{"header over default limit", form(1, formdata.DefaultMaxHeaderBytes+1), formdata.Options{}, 0, formdata.ErrHeaderTooLarge, true},
		{"header at set limit", form(2, 100), formdata.Options{MaxHeaderBytes: 100}, 2, nil, false},
		{"header over set limit", form(2, 101), formdata.Options{MaxHeaderBytes: 100}, 0, formdata.ErrHeaderTooLarge, true},
		{"header over buffer size", form(1, 100<<10), formdata.Options{MaxHeaderBytes: 100 << 10, BufferSize: 1}, 1, nil, false},
		{"parts at default limit", form(formdata.DefaultMaxParts, 100), formdata.Options{}, formdata.DefaultMaxParts, nil, false},
		{"parts over default limit", form(formdata.DefaultMaxParts+1, 100), formdata.Options{}, formdata.DefaultMaxParts, formdata.ErrTooManyParts, true},
		{"parts over set limit", form(3, 100), formdata.Options{MaxParts: 2}, 2, formdata.ErrTooManyParts, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mr := formdata.NewReader(strings.NewReader(tt.body), "B", tt.opts)
			parts, err, inNext := readAll(mr, 0)
			if len(parts) != tt.parts || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) || inNext != tt.errFromNext {
				t.Fatalf("%d parts, error %v (from NextPart: %v); want %d, %v", len(parts), err, inNext, tt.parts, tt.err)
			}
			if _, again := mr.NextPart(); err != nil && again != err {
				t.Fatalf("NextPart after %v: %v, want the same error", err, again)
			}
		})
	}
}

// failingReader returns its data, then err (with the last bytes if
// withData).
type failingReader struct {
	data     []byte
	err      error
	withData bool
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	if len(f.data) == 0 && f.withData {
		return n, f.err
	}
	return n, nil
}

var errSource = errors.New("source failed")

func TestSourceErrorsUnchanged(t *testing.T) {
	head := crlf("--B\n" + disp + "name=a\n\n")
	for _, withData := range []bool{false, true} {
		for _, cut := range []string{"", head[:5], head, head + "hello", head + "hello\r\n--B"} {
			src := &failingReader{data: []byte(cut), err: errSource, withData: withData}
			mr := formdata.NewReader(src, "B", formdata.Options{})
			_, err, _ := readAll(mr, 0)
			if err != errSource {
				t.Errorf("cut after %q (data with error: %v): %v, want the source's error itself", cut, withData, err)
			}
			if _, again := mr.NextPart(); again != errSource {
				t.Errorf("cut after %q: then NextPart: %v, want the same error", cut, again)
			}
		}
	}
}

// emptyReader never makes progress.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestNoProgress(t *testing.T) {
	_, err := formdata.NewReader(emptyReader{}, "B", formdata.Options{}).NextPart()
	if err != io.ErrNoProgress {
		t.Fatalf("%v, want io.ErrNoProgress", err)
	}
}

// countingReader counts the reads made of it.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

func TestLargeReads(t *testing.T) {
	const size = 4 << 20
	data := bytes.Repeat([]byte("0123456789abcdef\r\n--"), size/20)
	body := crlf("--B\n"+disp+"name=f; filename=x\n\n") + string(data) + "\r\n--B--\r\n"
	src := &countingReader{r: strings.NewReader(body)}
	p, err := formdata.NewReader(src, "B", formdata.Options{BufferSize: 1 << 20}).NextPart()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2<<20)
	n, err := p.Read(buf)
	if err != nil || n < 1<<20-100 {
		t.Fatalf("first Read: %d bytes, %v; want the buffer's worth", n, err)
	}
	rest, err := io.ReadAll(p)
	if err != nil || !bytes.Equal(append(buf[:n], rest...), data) {
		t.Fatalf("data differs (%d+%d bytes, want %d), %v", n, len(rest), len(data), err)
	}
	if src.reads > size/(1<<20)+3 {
		t.Errorf("%d reads of the source for %d bytes through a 1 MiB buffer", src.reads, size)
	}
}

// limitedWriter accepts max bytes, then fails or writes short.
type limitedWriter struct {
	bytes.Buffer
	max   int
	short bool
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	room := w.max - w.Len()
	if len(p) <= room {
		return w.Buffer.Write(p)
	}
	w.Buffer.Write(p[:room])
	if w.short {
		return room, nil
	}
	return room, errSource
}

func TestWriteTo(t *testing.T) {
	data := strings.Repeat("z\r\n-", 100<<10)
	body := crlf("--B\n"+disp+"name=f\n\n") + data + crlf("\n--B\n"+disp+"name=g\n\ng\n--B--\n")
	tests := []struct {
		name string
		w    *limitedWriter
		err  error
	}{
		{"all", &limitedWriter{max: len(data)}, nil},
		{"writer error", &limitedWriter{max: 1000}, errSource},
		{"short write", &limitedWriter{max: 1000, short: true}, io.ErrShortWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mr := formdata.NewReader(strings.NewReader(body), "B", formdata.Options{BufferSize: 64 << 10})
			p, err := mr.NextPart()
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(tt.w, p)
			if err != tt.err || n != int64(tt.w.Len()) || tt.w.String() != data[:tt.w.Len()] {
				t.Fatalf("copied %d (%d written), %v; want %v", n, tt.w.Len(), err, tt.err)
			}
			// The reader is still good: the rest of the part is skipped.
			if g, err := mr.NextPart(); err != nil || g.FormName() != "g" {
				t.Fatalf("next part: %v", err)
			}
		})
	}
}

func TestNextPartSkipsUnread(t *testing.T) {
	body := crlf("--B\n"+disp+"name=a\n\n") + strings.Repeat("a", 1<<20) + crlf("\n--B\n"+disp+"name=b\n\nbee\n--B--\n")
	mr := formdata.NewReader(strings.NewReader(body), "B", formdata.Options{})
	a, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	b, err := mr.NextPart()
	if err != nil || b.FormName() != "b" {
		t.Fatalf("second part: %v", err)
	}
	if n, err := a.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Fatalf("read of a passed part: %d, %v; want 0, EOF", n, err)
	}
	if data, err := io.ReadAll(b); string(data) != "bee" || err != nil {
		t.Fatalf("second part's data %q, %v", data, err)
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Fatalf("after the last part: %v, want io.EOF", err)
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Fatalf("again: %v, want io.EOF", err)
	}
}

func TestBufferOption(t *testing.T) {
	buf := make([]byte, 64<<10)
	mr := formdata.NewReader(strings.NewReader(crlf("--B\n"+disp+"name=a\n\nhello\n--B--\n")), "B", formdata.Options{BufferSize: len(buf), Buffer: buf})
	parts, err, _ := readAll(mr, 0)
	if err != nil || len(parts) != 1 {
		t.Fatal(parts, err)
	}
	if !bytes.Contains(buf, []byte("hello")) {
		t.Fatal("the given buffer was not used")
	}
}

// TestHTTP reads forms that Go's mime/multipart.Writer streams over a real
// socket, and sees the server's body limit as an *http.MaxBytesError.
func TestHTTP(t *testing.T) {
	file := bytes.Repeat([]byte{0, 1, 2, '\r', '\n', '-', '-'}, 300<<10)
	type result struct {
		parts []got
		err   error
	}
	results := make(chan result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		boundary, err := formdata.Boundary(r.Header.Get("Content-Type"))
		if err != nil {
			results <- result{err: err}
			return
		}
		body := http.MaxBytesReader(w, r.Body, int64(len(file)))
		parts, err, _ := readAll(formdata.NewReader(body, boundary, formdata.Options{}), 0)
		results <- result{parts, err}
	}))
	defer srv.Close()

	for _, tt := range []struct {
		name     string
		fileSize int
		tooLarge bool
	}{{"fits", len(file) - 1000, false}, {"over the limit", len(file), true}} {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			mw := multipart.NewWriter(pw)
			go func() {
				mw.WriteField("uploadPath", "images/x")
				fw, _ := mw.CreateFormFile("file", `a "quoted" name.bin`)
				fw.Write(file[:tt.fileSize])
				pw.CloseWithError(mw.Close())
			}()
			resp, err := http.Post(srv.URL, mw.FormDataContentType(), pr)
			if err == nil {
				resp.Body.Close()
			}
			res := <-results
			if tt.tooLarge {
				var mbe *http.MaxBytesError
				if !errors.As(res.err, &mbe) {
					t.Fatalf("error %v, want an *http.MaxBytesError", res.err)
				}
				return
			}
			want := []got{{name: "uploadPath", data: "images/x"},
				{name: "file", file: `a "quoted" name.bin`, hasFile: true, contentType: "application/octet-stream", data: string(file[:tt.fileSize])}}
			if res.err != nil || !equalParts(res.parts, want) {
				t.Fatalf("parts %d, error %v", len(res.parts), res.err)
			}
		})
	}
}
