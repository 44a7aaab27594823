package wrapper_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/fileup/fileup/wrapper"
)

// parseForm parses a body the way a Go server would and returns the text
// fields in order and the file part.
func parseForm(t *testing.T, contentType string, raw []byte) (fields []wrapper.Field, fileName, fileType string, data []byte) {
	t.Helper()
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("part %s: %v", p.FormName(), err)
		}
		if p.FileName() != "" || p.FormName() == "file" {
			if data != nil {
				t.Fatal("two file parts")
			}
			_, dp, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
			fileName, fileType, data = dp["filename"], p.Header.Get("Content-Type"), b
			continue
		}
		if data != nil {
			t.Fatalf("field %s after the file part", p.FormName())
		}
		fields = append(fields, wrapper.Field{Name: p.FormName(), Value: string(b)})
	}
}

func drain(t *testing.T, b *wrapper.Body) []byte {
	t.Helper()
	raw, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestBodySources(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 10_000)
	path := filepath.Join(t.TempDir(), "data.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	rs := bytes.NewReader(append([]byte("skip"), data...))
	rs.Seek(4, io.SeekStart)
	tests := []struct {
		name    string
		src     wrapper.Source
		known   bool
		replays bool
	}{
		{"file", wrapper.File(path), true, true},
		{"reader known size", wrapper.Reader(bytes.NewReader(data), "data.bin", int64(len(data))), true, false},
		{"reader unknown size", wrapper.Reader(bytes.NewReader(data), "data.bin", -1), false, false},
		{"reader at", wrapper.ReaderAt(bytes.NewReader(data), "data.bin", int64(len(data))), true, true},
		{"read seeker from its offset", wrapper.ReadSeeker(rs, "data.bin"), true, true},
	}
	fields := []wrapper.Field{{"uploadPath", "a/b"}, {"fileName", "x.bin"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.src.Replayable() != tt.replays {
				t.Errorf("Replayable = %v", tt.src.Replayable())
			}
			for round := range 2 {
				b, err := wrapper.NewBody(tt.src, fields, wrapper.BodyOptions{})
				if !tt.replays && round == 1 {
					if err == nil {
						t.Error("a one-shot source opened twice")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				raw := drain(t, b)
				b.Close()
				if tt.known && b.Len() != int64(len(raw)) {
					t.Errorf("Len = %d, body has %d bytes", b.Len(), len(raw))
				}
				if !tt.known && b.Len() != -1 {
					t.Errorf("Len = %d for an unknown size", b.Len())
				}
				gotFields, name, ct, got := parseForm(t, b.ContentType(), raw)
				if len(gotFields) != 2 || gotFields[0] != fields[0] || gotFields[1] != fields[1] {
					t.Errorf("fields = %v", gotFields)
				}
				if name != "data.bin" || ct != "text/plain; charset=utf-8" || !bytes.Equal(got, data) {
					t.Errorf("file %q %q, %d bytes, equal=%v", name, ct, len(got), bytes.Equal(got, data))
				}
			}
		})
	}
}

func TestBodyFileNamesAndTypes(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n rest of the image")
	tests := []struct {
		name, ct, wantType string
		data               []byte
	}{
		{`plain.png`, "", "image/png", png},
		{`quote"and\backslash.png`, "", "image/png", png},
		{"crlf\r\ninjected: header.txt", "", "text/plain; charset=utf-8", []byte("hello")},
		{"del\x7f tab\t nul\x00.txt", "", "text/plain; charset=utf-8", []byte("hello")},
		{"ünïcödé 名前.png", "", "image/png", png},
		{"explicit.bin", "application/x-custom", "application/x-custom", png},
		{"empty.txt", "", "text/plain; charset=utf-8", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := wrapper.NewBody(wrapper.ReaderAt(bytes.NewReader(tt.data), tt.name, int64(len(tt.data))), nil, wrapper.BodyOptions{ContentType: tt.ct})
			if err != nil {
				t.Fatal(err)
			}
			_, name, ct, got := parseForm(t, b.ContentType(), drain(t, b))
			wantName := percentControls(tt.name)
			if name != wantName || ct != tt.wantType || !bytes.Equal(got, tt.data) {
				t.Errorf("name %q (want %q), type %q (want %q), data equal %v", name, wantName, ct, tt.wantType, bytes.Equal(got, tt.data))
			}
		})
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// A read error mid-stream is returned, and the bytes produced so far never
// parse as a complete form.
func TestBodyReadErrorNeverCompletes(t *testing.T) {
	boom := errors.New("disk on fire")
	for _, size := range []int64{-1, 200_000} {
		b, err := wrapper.NewBody(wrapper.Reader(&failingReader{data: make([]byte, 100_000), err: boom}, "x.bin", size), []wrapper.Field{{"uploadPath", "p"}}, wrapper.BodyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(b)
		var se *wrapper.SourceError
		if !errors.Is(err, boom) || !errors.As(err, &se) {
			t.Fatalf("size %d: error %v, want the source's error as *SourceError", size, err)
		}
		if n, err2 := b.Read(make([]byte, 10)); n != 0 || !errors.Is(err2, boom) {
			t.Errorf("the error must stick: %d, %v", n, err2)
		}
		_, params, _ := mime.ParseMediaType(b.ContentType())
		if bytes.Contains(raw, []byte("--"+params["boundary"]+"--")) {
			t.Fatal("closing boundary written after a read error")
		}
		mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
		complete := true
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				complete = false
				break
			}
			if _, err := io.Copy(io.Discard, p); err != nil {
				complete = false
				break
			}
		}
		if complete {
			t.Errorf("size %d: a truncated body parsed as a complete form", size)
		}
	}
}

func TestBodySizeMismatch(t *testing.T) {
	for _, tt := range []struct {
		declared, actual int
	}{{100, 50}, {100, 150}} {
		b, err := wrapper.NewBody(wrapper.Reader(bytes.NewReader(make([]byte, tt.actual)), "x", int64(tt.declared)), nil, wrapper.BodyOptions{ContentType: "application/octet-stream"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(b); !errors.Is(err, wrapper.ErrSourceSize) {
			t.Errorf("declared %d, actual %d: error %v, want ErrSourceSize", tt.declared, tt.actual, err)
		}
	}
}

func TestBodyProgress(t *testing.T) {
	data := make([]byte, 1<<20+123)
	var calls [][2]int64
	b, err := wrapper.NewBody(wrapper.ReaderAt(bytes.NewReader(data), "x", int64(len(data))), nil, wrapper.BodyOptions{
		Progress: func(sent, total int64) { calls = append(calls, [2]int64{sent, total}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	// Read in small chunks, as a transport would.
	buf := make([]byte, 4096)
	for {
		if _, err := b.Read(buf); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if len(calls) < 4 || len(calls) > 40 {
		t.Errorf("%d progress calls for 1 MiB in 4 KiB reads; want a bounded rate (every 64 KiB)", len(calls))
	}
	last := int64(-1)
	for _, c := range calls {
		if c[0] < last || c[1] != int64(len(data)) {
			t.Fatalf("progress went %v", calls)
		}
		last = c[0]
	}
	if last != int64(len(data)) {
		t.Errorf("final progress %d, want %d", last, len(data))
	}
}

// Allocations per body, multipart or Base64, do not depend on the file
// size. `make test` runs this test a second time without the race
// detector, which adds its own allocations, a few more or less on each
// run.
func TestBodyAllocsConstant(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts include the race runtime's; measured by the run without -race")
	}
	for _, kind := range []struct {
		name string
		open func(wrapper.Source, []wrapper.Field, wrapper.BodyOptions) (*wrapper.Body, error)
	}{{"multipart", wrapper.NewBody}, {"base64", wrapper.NewBase64Body}} {
		// allocs returns the allocations and bytes allocated per body.
		allocs := func(size int64) (float64, uint64) {
			src := wrapper.ReaderAt(zeroReaderAt{}, "zeros.bin", size)
			buf := make([]byte, 32<<10)
			send := func() {
				b, err := kind.open(src, []wrapper.Field{{"uploadPath", "p"}}, wrapper.BodyOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if n, err := io.CopyBuffer(io.Discard, onlyReader{b}, buf); err != nil || n != b.Len() {
					t.Fatalf("%d bytes of %d: %v", n, b.Len(), err)
				}
			}
			n := testing.AllocsPerRun(5, send)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			send()
			runtime.ReadMemStats(&after)
			return n, after.TotalAlloc - before.TotalAlloc
		}
		small, smallBytes := allocs(1 << 20)
		large, largeBytes := allocs(64 << 20)
		if large > small+2 || largeBytes > smallBytes+16<<10 {
			t.Errorf("%s: %v allocs, %d bytes for 1 MiB; %v allocs, %d bytes for 64 MiB: memory grows with the file",
				kind.name, small, smallBytes, large, largeBytes)
		}
		t.Logf("%s: %v allocs, %d bytes for 1 MiB; %v allocs, %d bytes for 64 MiB", kind.name, small, smallBytes, large, largeBytes)
	}
}

type zeroReaderAt struct{}

func (zeroReaderAt) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	return len(p), nil
}

// onlyReader hides WriterTo/ReaderFrom so io.Copy uses the given buffer.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func BenchmarkBody(b *testing.B) {
	for _, kind := range []struct {
		name string
		open func(wrapper.Source, []wrapper.Field, wrapper.BodyOptions) (*wrapper.Body, error)
	}{{"multipart", wrapper.NewBody}, {"base64", wrapper.NewBase64Body}} {
		for _, size := range []struct {
			name string
			n    int64
		}{{"1KiB", 1 << 10}, {"1MiB", 1 << 20}, {"64MiB", 64 << 20}} {
			b.Run(kind.name+"/"+size.name, func(b *testing.B) {
				src := wrapper.ReaderAt(zeroReaderAt{}, "zeros.bin", size.n)
				buf := make([]byte, 32<<10)
				b.SetBytes(size.n)
				b.ReportAllocs()
				for b.Loop() {
					body, err := kind.open(src, []wrapper.Field{{"uploadPath", "p"}, {"fileName", "z"}}, wrapper.BodyOptions{})
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.CopyBuffer(io.Discard, onlyReader{body}, buf); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// FuzzBodyRoundTrip: whatever the field values, file name and bytes, the
// body parses back with mime/multipart to exactly what went in.
func FuzzBodyRoundTrip(f *testing.F) {
	f.Add("images/user-uploads", "photo.png", []byte("\x89PNG\r\n\x1a\nxxxx"), true)
	f.Add("", `a"b\c`, []byte(""), false)
	f.Add("line\r\nbreak", "crlf\r\n.txt", []byte("--not-a-boundary\r\n"), true)
	f.Add("ünï", "名前.bin", bytes.Repeat([]byte{0}, 1000), false)
	f.Fuzz(func(t *testing.T, value, name string, data []byte, known bool) {
		if name == "" || !isUTF8(name) {
			t.Skip("not a file name a client sends")
		}
		size := int64(-1)
		if known {
			size = int64(len(data))
		}
		b, err := wrapper.NewBody(wrapper.Reader(bytes.NewReader(data), name, size), []wrapper.Field{{"v", value}}, wrapper.BodyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		raw := drain(t, b)
		if known && int64(len(raw)) != b.Len() {
			t.Fatalf("Len %d, %d bytes", b.Len(), len(raw))
		}
		fields, gotName, _, got := parseForm(t, b.ContentType(), raw)
		if len(fields) != 1 || fields[0].Value != value {
			t.Fatalf("field %q came back as %v", value, fields)
		}
		if want := percentControls(name); gotName != want {
			t.Fatalf("file name %q came back as %q", want, gotName)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("data changed: %d bytes in, %d out", len(data), len(got))
		}
	})
}

func isUTF8(s string) bool {
	return strings.ToValidUTF8(s, "\uFFFD") == s && !strings.ContainsRune(s, '\uFFFD')
}

// percentControls is the file name a server reads back: control
// characters percent-encoded, everything else unchanged.
func percentControls(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
