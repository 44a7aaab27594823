package jsonstream_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/fileup/fileup/internal/jsonstream"
)

const benchSize = 64 << 20

// encodings are the ways clients write the base64 field: plain, as a data
// URL, with "/" escaped as JSON encoders such as PHP's do, and in MIME
// lines of 76 characters joined by escaped CRLF.
var encodings = []string{"plain", "data-url", "escaped-slashes", "mime-lines"}

// document returns a base64 upload document of payload, encoded as named.
func document(payload []byte, encoding string) []byte {
	b64 := base64.StdEncoding.EncodeToString(payload)
	switch encoding {
	case "data-url":
		b64 = "data:application/octet-stream;base64," + b64
	case "escaped-slashes":
		b64 = strings.ReplaceAll(b64, "/", `\/`)
	case "mime-lines":
		var b strings.Builder
		for len(b64) > 76 {
			b.WriteString(b64[:76] + `\r\n`)
			b64 = b64[76:]
		}
		b64 = b.String() + b64
	}
	return []byte(`{"fileName":"x.bin","uploadPath":"files","base64Data":"` + b64 + `"}`)
}

// decodeDoc reads the base64Data field of doc through buf and returns how
// many bytes it decoded.
func decodeDoc(doc, buf []byte) (int, error) {
	r := jsonstream.NewReader(bytes.NewReader(doc), jsonstream.Options{})
	total := 0
	for {
		name, err := r.Next()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		if name != "base64Data" {
			continue
		}
		data, _, err := r.Base64()
		if err != nil {
			return total, err
		}
		for {
			n, err := data.Read(buf)
			total += n
			if err == io.EOF {
				break
			}
			if err != nil {
				return total, err
			}
		}
	}
}

var benchPayload = sync.OnceValue(func() []byte {
	p := make([]byte, benchSize)
	rand.NewChaCha8([32]byte{2}).Read(p)
	return p
})

// BenchmarkBase64 decodes a 64 MiB payload (MB/s of decoded bytes) from
// each encoding, through a 256 KiB buffer; encoding/json, which holds the
// whole document and payload, is the baseline.
func BenchmarkBase64(b *testing.B) {
	buf := make([]byte, 256<<10)
	for _, enc := range encodings {
		b.Run(enc, func(b *testing.B) {
			doc := document(benchPayload(), enc) // before b.Loop: not timed
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				if n, err := decodeDoc(doc, buf); n != benchSize || err != nil {
					b.Fatal(n, err)
				}
			}
		})
	}
	b.Run("encoding-json", func(b *testing.B) {
		doc := document(benchPayload(), "plain")
		b.SetBytes(benchSize)
		b.ReportAllocs()
		for b.Loop() {
			var v struct{ Base64Data []byte }
			if err := json.Unmarshal(doc, &v); err != nil || len(v.Base64Data) != benchSize {
				b.Fatal(err)
			}
		}
	})
}

// TestAllocsConstant: decoding allocates the same whatever the payload
// size, for every encoding.
func TestAllocsConstant(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts include the race runtime's; measured by the run without -race")
	}
	buf := make([]byte, 32<<10)
	for _, enc := range encodings {
		allocs := func(size int) float64 {
			doc := document(benchPayload()[:size], enc)
			return testing.AllocsPerRun(3, func() {
				if n, err := decodeDoc(doc, buf); n != size || err != nil {
					t.Fatal(n, err)
				}
			})
		}
		if small, large := allocs(1<<20), allocs(16<<20); large > small {
			t.Errorf("%s: %v allocs for 1 MiB, %v for 16 MiB: memory grows with the payload", enc, small, large)
		}
	}
}

// TestEncodings decodes payloads of many sizes from every encoding, with
// reads of many sizes and two buffer sizes, so that runs, escapes and
// padding fall at every place relative to quanta and buffer ends.
func TestEncodings(t *testing.T) {
	payload := benchPayload()
	for _, enc := range append(encodings, "unicode-escapes") {
		for _, size := range []int{0, 1, 2, 3, 4, 5, 100, 5000, 70001} {
			doc := document(payload[:size], enc)
			if enc == "unicode-escapes" { // every 50th character as \u00XX
				doc = unicodeEscapes(doc)
			}
			for _, bufSize := range []int{512, 64 << 10} {
				for _, readSize := range []int{1, 2, 3, 7, 4096, 1 << 20} {
					r := jsonstream.NewReader(bytes.NewReader(doc), jsonstream.Options{BufferSize: bufSize})
					fields, err := readDocField(r, "base64Data", readSize)
					if err != nil || !bytes.Equal(fields, payload[:size]) {
						t.Fatalf("%s, %d bytes, buffer %d, reads of %d: %d bytes, %v", enc, size, bufSize, readSize, len(fields), err)
					}
				}
			}
		}
	}
}

// unicodeEscapes writes every 50th character of the base64Data value as a
// \u00XX escape.
func unicodeEscapes(doc []byte) []byte {
	head, value, _ := bytes.Cut(doc, []byte(`"base64Data":"`))
	value = value[:len(value)-2]
	var b bytes.Buffer
	b.Write(head)
	b.WriteString(`"base64Data":"`)
	for i, c := range value {
		if i%50 == 0 && c != '\\' && (i == 0 || value[i-1] != '\\') {
			fmt.Fprintf(&b, `\u%04X`, c)
		} else {
			b.WriteByte(c)
		}
	}
	b.WriteString(`"}`)
	return b.Bytes()
}

// readDocField returns the decoded bytes of the field name, read with
// reads of readSize bytes.
func readDocField(r *jsonstream.Reader, name string, readSize int) ([]byte, error) {
	var out []byte
	for {
		n, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if n != name {
			continue
		}
		data, _, err := r.Base64()
		if err != nil {
			return out, err
		}
		if out, err = readAllSized(data, readSize); err != nil {
			return out, err
		}
	}
}
