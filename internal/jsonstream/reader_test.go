package jsonstream_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fileup/fileup/internal/jsonstream"
)

// TestValueErrorsLeaveReaderUsable: after ErrNotString, ErrTooLong from
// String and ErrInvalidBase64, Next skips the rest of the value.
func TestValueErrorsLeaveReaderUsable(t *testing.T) {
	doc := `{"n":{"x":[1]},"long":"abcdef","bad":"QU!D` + strings.Repeat("QUJD", 100) + `","url":"data:image/x-long;base64,QQ","ok":"fine"}`
	r := jsonstream.NewReader(strings.NewReader(doc), jsonstream.Options{MaxMediaTypeBytes: 4})
	steps := []struct {
		name string
		read func() error
		err  error
	}{
		{"n", func() error { _, err := r.String(10); return err }, jsonstream.ErrNotString},
		{"long", func() error { _, err := r.String(3); return err }, jsonstream.ErrTooLong},
		{"bad", func() error {
			data, _, err := r.Base64()
			if err == nil {
				_, err = io.ReadAll(data)
			}
			return err
		}, jsonstream.ErrInvalidBase64},
		{"url", func() error { _, _, err := r.Base64(); return err }, jsonstream.ErrTooLong},
		{"ok", func() error {
			if v, err := r.String(10); v != "fine" {
				return errors.New("value " + v)
			} else {
				return err
			}
		}, nil},
	}
	for _, st := range steps {
		name, err := r.Next()
		if err != nil || name != st.name {
			t.Fatalf("Next: %q, %v; want %q", name, err, st.name)
		}
		if err := st.read(); !errors.Is(err, st.err) || (err == nil) != (st.err == nil) {
			t.Fatalf("%s: %v, want %v", st.name, err, st.err)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestStreamErrorsAreSticky(t *testing.T) {
	for _, doc := range []string{`{"a":1,}`, `{"` + strings.Repeat("n", 300) + `":1}`, `{"a":"x"`} {
		r := jsonstream.NewReader(strings.NewReader(doc), jsonstream.Options{})
		var err error
		for err == nil {
			_, err = r.Next()
		}
		if _, again := r.Next(); again != err {
			t.Errorf("%q: Next after %v: %v", doc, err, again)
		}
		if _, again := r.String(10); again != err {
			t.Errorf("%q: String after %v: %v", doc, err, again)
		}
	}
}

func TestNextSkipsUnreadBase64(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 10000)
	doc := `{"b":"` + base64.StdEncoding.EncodeToString(payload) + `","s":"after"}`
	r := jsonstream.NewReader(strings.NewReader(doc), jsonstream.Options{})
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	data, _, err := r.Base64()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(data, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if name, err := r.Next(); name != "s" || err != nil {
		t.Fatalf("Next: %q, %v", name, err)
	}
	if _, err := data.Read(make([]byte, 10)); err == nil {
		t.Fatal("the passed value's reader still reads")
	}
	if v, err := r.String(10); v != "after" || err != nil {
		t.Fatalf("String: %q, %v", v, err)
	}
}

func TestCallsOutOfOrder(t *testing.T) {
	r := jsonstream.NewReader(strings.NewReader(`{"s":"x"}`), jsonstream.Options{})
	if _, err := r.String(10); err == nil {
		t.Fatal("String before Next succeeded")
	}
	r.Next()
	r.String(10)
	if _, _, err := r.Base64(); err == nil {
		t.Fatal("Base64 of a value already read succeeded")
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("Next: %v, want io.EOF", err)
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
	doc := `{"s":"x","b":"data:a/b;base64,QUJD","c":1}`
	for i := range len(doc) {
		for _, withData := range []bool{false, true} {
			src := &failingReader{data: []byte(doc[:i]), err: errSource, withData: withData}
			_, err := readDoc(jsonstream.NewReader(src, jsonstream.Options{}), 0)
			if err != errSource {
				t.Errorf("error after %q (with data: %v): %v, want the source's error itself", doc[:i], withData, err)
			}
		}
	}
}

func TestNoProgress(t *testing.T) {
	_, err := jsonstream.NewReader(emptyReader{}, jsonstream.Options{}).Next()
	if err != io.ErrNoProgress {
		t.Fatalf("%v, want io.ErrNoProgress", err)
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

// servedReader counts the bytes it has served.
type servedReader struct {
	r      io.Reader
	served int
}

func (s *servedReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.served += n
	return n, err
}

// TestStreams: decoded bytes come out while most of the document is still
// unread.
func TestStreams(t *testing.T) {
	payload := bytes.Repeat([]byte{0xfa, 0xce}, 1<<20)
	doc := `{"b":"` + base64.StdEncoding.EncodeToString(payload) + `"}`
	src := &servedReader{r: strings.NewReader(doc)}
	r := jsonstream.NewReader(src, jsonstream.Options{})
	r.Next()
	data, _, err := r.Base64()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := data.Read(make([]byte, 4<<20)); n == 0 || err != nil || src.served > 2*jsonstream.DefaultBufferSize {
		t.Fatalf("first Read: %d bytes, %v, with %d of %d document bytes read", n, err, src.served, len(doc))
	}
}

// TestHTTP reads a document over a real socket, and sees the server's
// body limit as an *http.MaxBytesError.
func TestHTTP(t *testing.T) {
	payload := bytes.Repeat([]byte("payload!"), 100<<10)
	encoded := base64.StdEncoding.EncodeToString(payload)
	type result struct {
		data []byte
		err  error
	}
	results := make(chan result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r := jsonstream.NewReader(http.MaxBytesReader(w, req.Body, int64(len(encoded))), jsonstream.Options{})
		var res result
		for res.err == nil {
			var name string
			if name, res.err = r.Next(); name == "base64Data" {
				var data io.Reader
				if data, _, res.err = r.Base64(); res.err == nil {
					res.data, res.err = io.ReadAll(data)
				}
			}
		}
		if res.err == io.EOF {
			res.err = nil
		}
		results <- res
	}))
	defer srv.Close()

	for _, tt := range []struct {
		name     string
		doc      string
		tooLarge bool
	}{
		{"fits", `{"base64Data":"` + encoded[:len(encoded)-100] + `","fileName":"a.bin"}`, false},
		{"over the limit", `{"fileName":"a.bin","base64Data":"` + encoded + `"}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL, "application/json", strings.NewReader(tt.doc))
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
			want, _ := base64.StdEncoding.DecodeString(encoded[:len(encoded)-100])
			if res.err != nil || !bytes.Equal(res.data, want) {
				t.Fatalf("%d bytes, %v; want %d", len(res.data), res.err, len(want))
			}
		})
	}
}
