package jsonstream_test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"strings"

	"github.com/fileup/fileup/internal/jsonstream"
)

// A server reads a base64 upload: the fields in any order, the file
// decoded as it streams.
func Example() {
	body := strings.NewReader(`{"base64Data": "data:text/plain;base64,aGVsbG8sIHdvcmxk", "fileName": "hello.txt"}`)

	r := jsonstream.NewReader(body, jsonstream.Options{})
	for {
		name, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err) // *jsonstream.Error with an offset, io.ErrUnexpectedEOF, the body's own error...
			return
		}
		switch name {
		case "fileName":
			v, err := r.String(255)
			fmt.Printf("fileName = %q, %v\n", v, err)
		case "base64Data":
			data, mediaType, err := r.Base64()
			if err != nil {
				fmt.Println(err)
				return
			}
			h := sha256.New()
			n, err := io.Copy(h, data) // to the store, in practice
			fmt.Printf("file (%s): %d bytes, sha256 %x..., %v\n", mediaType, n, h.Sum(nil)[:4], err)
		}
		// Other fields are skipped by the next Next.
	}
	// Output:
	// file (text/plain): 12 bytes, sha256 09ca7e4e..., <nil>
	// fileName = "hello.txt", <nil>
}
