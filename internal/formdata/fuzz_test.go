package formdata_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/fileup/fileup/internal/formdata"
)

// fuzzOptions are small limits, so that the fuzzer reaches them.
var fuzzOptions = formdata.Options{MaxHeaderBytes: 512, MaxParts: 8, BufferSize: 1}

// theirs is what mime/multipart makes of a part.
type theirs struct {
	got
	disposition string // the raw Content-Disposition header
}

// readMime reads body with mime/multipart, as readAll does with formdata.
func readMime(body []byte, boundary string) ([]theirs, error) {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var parts []theirs
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return parts, err
		}
		th := theirs{
			got:         got{name: p.FormName(), file: p.FileName(), contentType: p.Header.Get("Content-Type")},
			disposition: p.Header.Get("Content-Disposition"),
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return parts, err
		}
		th.data = string(data)
		parts = append(parts, th)
	}
}

// seedBodies are bodies as clients send them, and corner cases.
func seedBodies() []string {
	var bodies []string
	for _, tt := range partTests {
		bodies = append(bodies, tt.body)
	}
	return append(bodies,
		crlf("--B\n"+disp+"name=\"uploadPath\"\n\nimages\n--B\n"+disp+"name=\"file\"; filename=\"a.png\"\nContent-Type: image/png\n\n\x89PNG\r\n\x1a\n\x00\n--B--\n"),
		"--B\n"+disp+"name=a\n\nhello\n--B--\n",
		crlf("pre\n--B \t\n"+disp+"name=a\n\n--B\n\nx\n--B-- \nepilogue"),
		crlf("--B\n"+disp+"name=f; filename=\"a%22b%0A.txt\"; filename*=UTF-8''x\nContent-Transfer-Encoding: quoted-printable\n\na=3Db\n--B--\n"),
		crlf("--B\nContent-Disposition: form-data;\n name=\"a\\\"b\"\n\n\n--B\n\n--B--"),
		crlf("--B\n"+disp+"name=a\n\nx\n--Bx\n--B-\n--B--"),
	)
}

// FuzzReader checks formdata against mime/multipart on any body: where
// both accept it, the parts (names, file names, types, bytes) are the
// same; where only formdata refuses it, the reason is one of the
// documented stricter rules; where only mime/multipart refuses it, the
// reason is its line buffer. Parts both read whole before refusing agree.
func FuzzReader(f *testing.F) {
	for _, b := range seedBodies() {
		f.Add("B", []byte(b))
	}
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		ours, oursErr, inNext := readAll(formdata.NewReader(bytes.NewReader(body), boundary, fuzzOptions), 0)
		if !validBoundary(boundary) {
			if !errors.Is(oursErr, formdata.ErrBadBoundary) {
				t.Fatalf("boundary %q: error %v, want ErrBadBoundary", boundary, oursErr)
			}
			return
		}
		them, theirErr := readMime(body, boundary)
		for i := range min(len(ours), len(them)) {
			comparePart(t, i, ours[i], them[i])
		}
		switch {
		case oursErr == nil && theirErr == nil:
			if len(ours) != len(them) {
				t.Fatalf("%d parts, mime/multipart %d", len(ours), len(them))
			}
		case oursErr != nil && theirErr == nil:
			checkStricter(t, body, ours, them, oursErr, inNext)
		case oursErr == nil && theirErr != nil:
			if !errors.Is(theirErr, bufio.ErrBufferFull) {
				t.Fatalf("accepted what mime/multipart refuses with %v", theirErr)
			}
		}
	})
}

func comparePart(t *testing.T, i int, o got, th theirs) {
	t.Helper()
	if o.data != th.data || o.contentType != th.contentType {
		t.Fatalf("part %d: %v, mime/multipart %v", i, o, th.got)
	}
	starred := strings.Contains(strings.ToLower(th.disposition), "name*")
	if o.name != th.name && !starred {
		t.Fatalf("part %d: name %q, mime/multipart %q", i, o.name, th.name)
	}
	// mime/multipart applies filepath.Base and no browser unescaping.
	want := browserDecode(th.file)
	if o.file == "" && want != "" || o.file != "" && filepath.Base(o.file) != want {
		if !starred {
			t.Fatalf("part %d: file name %q, mime/multipart %q", i, o.file, th.file)
		}
	}
	if o.file != "" && !o.hasFile {
		t.Fatalf("part %d: file name %q reported absent", i, o.file)
	}
}

// checkStricter checks that formdata refused a body mime/multipart accepts
// for a documented reason.
func checkStricter(t *testing.T, body []byte, ours []got, them []theirs, err error, inNext bool) {
	t.Helper()
	switch {
	case errors.Is(err, formdata.ErrTooManyParts):
		if len(them) <= fuzzOptions.MaxParts {
			t.Fatalf("%v with %d parts", err, len(them))
		}
	case errors.Is(err, formdata.ErrHeaderTooLarge):
		if len(body) < fuzzOptions.MaxHeaderBytes {
			t.Fatalf("%v in a body of %d bytes", err, len(body))
		}
	case errors.Is(err, formdata.ErrTransferEncoding):
		// (mime/multipart deletes the header when it decodes.)
		if !bytes.Contains(bytes.ToLower(body), []byte("content-transfer-encoding")) {
			t.Fatalf("%v, but the body has no such header", err)
		}
	case err == io.ErrUnexpectedEOF:
		// mime/multipart reports a body cut inside a header block as
		// a clean end.
		if !inNext || len(ours) != len(them) {
			t.Fatalf("%v after %d parts (in NextPart: %v); mime/multipart read %d", err, len(ours), inNext, len(them))
		}
	default:
		t.Fatalf("refused with %v what mime/multipart accepts (%d parts)", err, len(them))
	}
}

// browserDecode undoes the three escapes browsers apply to file names.
func browserDecode(s string) string {
	for _, r := range [][2]string{{"%22", `"`}, {"%0D", "\r"}, {"%0A", "\n"}} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}

// validBoundary is RFC 2046's rule, written independently of formdata's.
func validBoundary(b string) bool {
	const bchars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? "
	if len(b) == 0 || len(b) > 70 || strings.HasSuffix(b, " ") {
		return false
	}
	for _, c := range []byte(b) {
		if strings.IndexByte(bchars, c) < 0 {
			return false
		}
	}
	return true
}

// FuzzReadPatterns checks that how the underlying reader splits the body,
// and how the caller reads parts, change nothing: the parts and the
// error are those of one plain read.
func FuzzReadPatterns(f *testing.F) {
	for i, b := range seedBodies() {
		f.Add([]byte(b), uint64(i))
	}
	f.Fuzz(func(t *testing.T, body []byte, seed uint64) {
		want, wantErr, _ := readAll(formdata.NewReader(bytes.NewReader(body), "B", fuzzOptions), 0)
		rng := rand.New(rand.NewPCG(seed, seed>>32))
		readers := map[string]io.Reader{
			"OneByte": iotest.OneByteReader(bytes.NewReader(body)),
			"Half":    iotest.HalfReader(bytes.NewReader(body)),
			"DataErr": iotest.DataErrReader(bytes.NewReader(body)),
			"Random":  &chunkReader{data: body, rng: rng},
		}
		for name, src := range readers {
			readSize := 1 + rng.IntN(64)
			got, err, _ := readAll(formdata.NewReader(src, "B", fuzzOptions), readSize)
			if !sameError(err, wantErr) || !equalParts(got, want) {
				t.Fatalf("%s reader, reads of %d: %v, %v; one read: %v, %v", name, readSize, got, err, want, wantErr)
			}
		}
	})
}

// chunkReader returns its data in chunks of random sizes, sometimes none.
type chunkReader struct {
	data []byte
	rng  *rand.Rand
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.data), c.rng.IntN(300))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// sameError reports whether a and b are the same kind of error. (The
// input an ErrMalformed quotes depends on what was buffered.)
func sameError(a, b error) bool {
	for _, e := range []error{formdata.ErrMalformed, formdata.ErrHeaderTooLarge, formdata.ErrTooManyParts,
		formdata.ErrTransferEncoding, formdata.ErrBadBoundary, io.ErrUnexpectedEOF} {
		if errors.Is(a, e) != errors.Is(b, e) {
			return false
		}
	}
	return (a == nil) == (b == nil)
}

func equalParts(a, b []got) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
