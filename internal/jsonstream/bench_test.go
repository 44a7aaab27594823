package jsonstream_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
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
		doc := document(benchPayload(), enc)
		b.Run(enc, func(b *testing.B) {
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				if n, err := decodeDoc(doc, buf); n != benchSize || err != nil {
					b.Fatal(n, err)
				}
			}
		})
	}
	doc := document(benchPayload(), "plain")
	b.Run("encoding-json", func(b *testing.B) {
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
