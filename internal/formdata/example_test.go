package formdata_test

import (
	"fmt"
	"io"
	"strings"

	"github.com/fileup/fileup/internal/formdata"
)

// A server reads an upload form part by part: text fields bounded, the
// file streamed to where it is stored.
func Example() {
	contentType := "multipart/form-data; boundary=xyz"
	body := strings.NewReader("--xyz\r\n" +
		"Content-Disposition: form-data; name=\"uploadPath\"\r\n\r\nimages\r\n" +
		"--xyz\r\n" +
		"Content-Disposition: form-data; name=\"file\"; filename=\"my %22best%22.png\"\r\n" +
		"Content-Type: image/png\r\n\r\n\x89PNG...\r\n" +
		"--xyz--\r\n")

	boundary, err := formdata.Boundary(contentType)
	if err != nil {
		fmt.Println(err)
		return
	}
	mr := formdata.NewReader(body, boundary, formdata.Options{})
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err) // io.ErrUnexpectedEOF, ErrHeaderTooLarge, the body's own error...
			return
		}
		if name, ok := p.FileName(); ok {
			n, err := io.Copy(io.Discard, p) // Part.WriteTo: no copy
			fmt.Printf("file %q (%s): %d bytes, %v\n", name, p.ContentType(), n, err)
			continue
		}
		value, err := io.ReadAll(io.LimitReader(p, 4<<10))
		fmt.Printf("field %s = %q, %v\n", p.FormName(), value, err)
	}
	// Output:
	// field uploadPath = "images", <nil>
	// file "my \"best\".png" (image/png): 7 bytes, <nil>
}
