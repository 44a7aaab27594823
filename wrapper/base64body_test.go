package wrapper_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fileup/fileup/wrapper"
)

// decodeBase64Body parses a Base64 body with encoding/json, as a server
// would, and returns its string fields and the data URL's type and bytes.
func decodeBase64Body(t *testing.T, raw []byte, dataField string) (fields map[string]string, mediaType string, data []byte) {
	t.Helper()
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("not a JSON object of strings: %v\n%.200q", err, raw)
	}
	v, ok := fields[dataField]
	if !ok {
		t.Fatalf("no %s field in %v", dataField, fields)
	}
	delete(fields, dataField)
	head, b64, ok := strings.Cut(v, ",")
	mediaType, isB64 := strings.CutSuffix(strings.TrimPrefix(head, "data:"), ";base64")
	if !ok || !strings.HasPrefix(head, "data:") || !isB64 {
		t.Fatalf("data is not a base64 data URL: %.80q", v)
	}
	data, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		t.Fatalf("base64: %v", err)
	}
	return fields, mediaType, data
}

func TestBase64BodySources(t *testing.T) {
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
		{"read seeker only", wrapper.ReadSeeker(seekOnly{bytes.NewReader(data)}, "data.bin"), true, true},
	}
	fields := []wrapper.Field{{"uploadPath", "a/b"}, {"fileName", `x "1".bin`}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := wrapper.NewBase64Body(tt.src, fields, wrapper.BodyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for round := range 2 {
				raw := drain(t, b)
				if tt.known && b.Len() != int64(len(raw)) {
					t.Errorf("Len = %d, body has %d bytes", b.Len(), len(raw))
				}
				if !tt.known && b.Len() != -1 {
					t.Errorf("Len = %d for an unknown size", b.Len())
				}
				if b.ContentType() != "application/json" || b.Boundary() != "" {
					t.Errorf("Content-Type %q, boundary %q", b.ContentType(), b.Boundary())
				}
				got, mt, back := decodeBase64Body(t, raw, "base64Data")
				if len(got) != 2 || got["uploadPath"] != "a/b" || got["fileName"] != `x "1".bin` {
					t.Errorf("fields %v", got)
				}
				if mt != "text/plain;charset=utf-8" || !bytes.Equal(back, data) {
					t.Errorf("round %d: type %q, %d bytes back, equal %v", round, mt, len(back), bytes.Equal(back, data))
				}
				if !tt.replays {
					if _, err := b.GetBody(); err == nil {
						t.Error("a one-shot source replayed")
					}
					break
				}
				rc, err := b.GetBody()
				if err != nil {
					t.Fatal(err)
				}
				b = rc.(*wrapper.Body)
			}
			b.Close()
		})
	}
}

// Every length modulo 3 (the padding cases) and lengths around the
// encoder's chunks, read in odd-sized pieces, decode back exactly.
func TestBase64BodyLengths(t *testing.T) {
	const chunk = 24 << 10
	for _, n := range []int{0, 1, 2, 3, 4, 5, 511, 512, 513, chunk - 1, chunk, chunk + 1, 3*chunk + 2} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + i/251)
		}
		for _, read := range []int{1, 5, 4096, 100_000} {
			b, err := wrapper.NewBase64Body(wrapper.ReaderAt(bytes.NewReader(data), "x", int64(n)), nil,
				wrapper.BodyOptions{ContentType: "application/octet-stream", FileField: "base64_data"})
			if err != nil {
				t.Fatal(err)
			}
			var raw []byte
			buf := make([]byte, read)
			for {
				k, err := b.Read(buf)
				raw = append(raw, buf[:k]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if int64(len(raw)) != b.Len() {
				t.Errorf("%d bytes in %d-byte reads: Len %d, body %d bytes", n, read, b.Len(), len(raw))
			}
			fields, mt, back := decodeBase64Body(t, raw, "base64_data")
			if len(fields) != 0 || mt != "application/octet-stream" || !bytes.Equal(back, data) {
				t.Errorf("%d bytes in %d-byte reads: fields %v, type %q, %d bytes back, equal %v", n, read, fields, mt, len(back), bytes.Equal(back, data))
			}
		}
	}
}

func TestBase64BodyDataURLType(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n rest of the image")
	tests := []struct {
		ct   string
		data []byte
		want string // "" for an error
	}{
		{"", png, "image/png"},
		{"", []byte("hello"), "text/plain;charset=utf-8"},
		{"image/webp", png, "image/webp"},
		{"Text/HTML; Charset=UTF-8", png, "text/html;charset=UTF-8"},
		{`application/x-custom; name="a,b"; v=1`, png, "application/x-custom;v=1"},
		{"image/png; " + strings.Repeat("p", 300) + "=1", png, "image/png"},
		{"not a type", png, ""},
		{"image/" + strings.Repeat("x", 300), png, ""},
	}
	for _, tt := range tests {
		b, err := wrapper.NewBase64Body(wrapper.ReaderAt(bytes.NewReader(tt.data), "x", int64(len(tt.data))), nil, wrapper.BodyOptions{ContentType: tt.ct})
		if tt.want == "" {
			if err == nil {
				t.Errorf("Content-Type %.40q accepted", tt.ct)
			}
			continue
		}
		if err != nil {
			t.Errorf("Content-Type %.40q: %v", tt.ct, err)
			continue
		}
		if _, mt, back := decodeBase64Body(t, drain(t, b), "base64Data"); mt != tt.want || !bytes.Equal(back, tt.data) {
			t.Errorf("Content-Type %.40q: data URL type %q, want %q", tt.ct, mt, tt.want)
		}
	}
}

func TestBase64BodyInvalidUTF8Field(t *testing.T) {
	_, err := wrapper.NewBase64Body(wrapper.ReaderAt(strings.NewReader("x"), "x", 1), []wrapper.Field{{"uploadPath", "bad\xff"}}, wrapper.BodyOptions{})
	if err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("error %v", err)
	}
}

// A read error mid-stream is returned, and the body never parses as a
// complete JSON document.
func TestBase64BodyReadErrorNeverCompletes(t *testing.T) {
	boom := errors.New("disk on fire")
	for _, size := range []int64{-1, 200_000} {
		b, err := wrapper.NewBase64Body(wrapper.Reader(&failingReader{data: make([]byte, 100_000), err: boom}, "x.bin", size), nil, wrapper.BodyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(b)
		if se, ok := errors.AsType[*wrapper.SourceError](err); !ok || !errors.Is(se, boom) {
			t.Fatalf("size %d: error %v, want the source's error as *SourceError", size, err)
		}
		if json.Valid(raw) || bytes.HasSuffix(raw, []byte(`"}`)) {
			t.Errorf("size %d: a truncated body is complete JSON", size)
		}
	}
}

func TestBase64BodySizeMismatch(t *testing.T) {
	for _, tt := range []struct{ declared, actual int }{{100, 50}, {100, 150}} {
		b, err := wrapper.NewBase64Body(wrapper.Reader(bytes.NewReader(make([]byte, tt.actual)), "x", int64(tt.declared)), nil, wrapper.BodyOptions{ContentType: "image/png"})
		if err != nil {
			t.Fatal(err)
		}
		if raw, err := io.ReadAll(b); !errors.Is(err, wrapper.ErrSourceSize) || json.Valid(raw) {
			t.Errorf("declared %d, actual %d: error %v, valid JSON %v", tt.declared, tt.actual, err, json.Valid(raw))
		}
	}
}

// Progress counts file bytes, as their encoding is handed over: monotone,
// at a bounded rate, ending at the file size.
func TestBase64BodyProgress(t *testing.T) {
	data := make([]byte, 1<<20+2)
	var calls [][2]int64
	b, err := wrapper.NewBase64Body(wrapper.ReaderAt(bytes.NewReader(data), "x", int64(len(data))), nil, wrapper.BodyOptions{
		Progress: func(sent, total int64) { calls = append(calls, [2]int64{sent, total}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var handed int64
	buf := make([]byte, 4096)
	for {
		k, err := b.Read(buf)
		handed += int64(k)
		if len(calls) > 0 && calls[len(calls)-1][0] > handed*3/4 {
			t.Fatalf("progress %d file bytes after %d body bytes: ahead of the transport", calls[len(calls)-1][0], handed)
		}
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if len(calls) < 4 || len(calls) > 40 {
		t.Errorf("%d progress calls for 1 MiB; want a bounded rate", len(calls))
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

// FuzzBase64BodyRoundTrip: whatever the field values and bytes, the body
// is JSON that encoding/json reads back to exactly what went in, and its
// length is Len.
func FuzzBase64BodyRoundTrip(f *testing.F) {
	f.Add("images/base64", "a.png", []byte("\x89PNG\r\n\x1a\nxxxx"), true)
	f.Add(`quote" back\slash`, "</script>\u2028", []byte(""), false)
	f.Add("line\r\nbreak\x00", "ünï名前", bytes.Repeat([]byte{0xff}, 1000), true)
	f.Fuzz(func(t *testing.T, path, name string, data []byte, known bool) {
		if !utf8.ValidString(path) || !utf8.ValidString(name) {
			t.Skip("JSON carries valid UTF-8 only; NewBase64Body refuses the rest")
		}
		size := int64(-1)
		if known {
			size = int64(len(data))
		}
		b, err := wrapper.NewBase64Body(wrapper.Reader(bytes.NewReader(data), "x", size), []wrapper.Field{{"uploadPath", path}, {"fileName", name}}, wrapper.BodyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		raw := drain(t, b)
		if known && int64(len(raw)) != b.Len() {
			t.Fatalf("Len %d, %d bytes", b.Len(), len(raw))
		}
		fields, _, back := decodeBase64Body(t, raw, "base64Data")
		if fields["uploadPath"] != path || fields["fileName"] != name {
			t.Fatalf("fields %q %q came back as %v", path, name, fields)
		}
		if !bytes.Equal(back, data) {
			t.Fatalf("data changed: %d bytes in, %d out", len(data), len(back))
		}
	})
}
