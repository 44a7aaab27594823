package formdata_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/fileup/fileup/internal/formdata"
)

// got is what a test keeps of one part.
type got struct {
	name, file  string
	hasFile     bool
	contentType string
	data        string
}

func (g got) String() string {
	return fmt.Sprintf("{name=%q file=%q(%v) type=%q data=%q}", g.name, g.file, g.hasFile, g.contentType, g.data)
}

// readAll reads every part with reads of at most readSize bytes (0:
// io.ReadAll). It returns the parts read whole, the error that stopped it
// (nil after a clean io.EOF) and whether that error came from NextPart.
func readAll(mr *formdata.Reader, readSize int) (parts []got, err error, inNext bool) {
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return parts, nil, false
		}
		if err != nil {
			return parts, err, true
		}
		g := got{name: p.FormName(), contentType: p.ContentType()}
		g.file, g.hasFile = p.FileName()
		data, err := readPart(p, readSize)
		if err != nil {
			return parts, err, false
		}
		g.data = string(data)
		parts = append(parts, g)
	}
}

func readPart(r io.Reader, readSize int) ([]byte, error) {
	if readSize <= 0 {
		return io.ReadAll(r)
	}
	var out []byte
	buf := make([]byte, readSize)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// crlf turns the LF line ends of a readable test body into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

const disp = "Content-Disposition: form-data; "

var hello = []got{{name: "a", data: "hello"}}

// partTests are bodies with boundary "B" and what formdata makes of them.
// They also seed FuzzReader, which compares them with mime/multipart.
var partTests = []struct {
	name  string
	body  string
	parts []got
	err   error
}{
	{"simple", crlf("--B\n" + disp + "name=a\n\nhello\n--B--\n"), hello, nil},
	{"no final line end", crlf("--B\n"+disp+"name=a\n\nhello\n") + "--B--", hello, nil},
	{"LF only", "--B\n" + disp + "name=a\n\nhello\n--B--\n", hello, nil},
	{"LF only, CRLF inside data", "--B\n" + disp + "name=a\n\nhel\r\n--B-lo\r\n--Bx\r\n--B--\n", []got{{name: "a", data: "hel\r\n--B-lo\r\n--Bx\r"}}, nil},
	{"preamble", crlf("ignored\n--B-not\n--B--x\n--B\n" + disp + "name=a\n\nhello\n--B--\n"), hello, nil},
	{"preamble LF", "pre\n--B\n" + disp + "name=a\n\nhello\n--B--\n", hello, nil},
	{"epilogue", crlf("--B\n"+disp+"name=a\n\nhello\n--B--\n") + "junk\r\n--B\r\nx", hello, nil},
	{"transport padding", "--B \t\r\n" + disp + "name=a\r\n\r\nhello\r\n--B\t \r\n" + disp + "name=b\r\n\r\n\r\n--B--  \r\n",
		[]got{{name: "a", data: "hello"}, {name: "b"}}, nil},
	{"padding before EOF", crlf("--B\n"+disp+"name=a\n\nhello\n") + "--B-- \t", hello, nil},
	{"no parts", "--B--\r\n", nil, nil},
	{"no parts at EOF", "--B--", nil, nil},
	{"no headers", crlf("--B\n\nhello\n--B--\n"), []got{{data: "hello"}}, nil},
	{"empty data", crlf("--B\n" + disp + "name=a\n\n\n--B\n" + disp + "name=b\n\nx\n--B--\n"),
		[]got{{name: "a"}, {name: "b", data: "x"}}, nil},
	{"no data, blank line shared", crlf("--B\n" + disp + "name=a\n\n--B\n" + disp + "name=b\n\nx\n--B--\n"),
		[]got{{name: "a"}, {name: "b", data: "x"}}, nil},
	{"data starting with dash boundary", crlf("--B\n" + disp + "name=a\n\n--Bx\n--B--\n"), []got{{name: "a", data: "--Bx"}}, nil},
	{"data with near delimiters", crlf("--B\n"+disp+"name=a\n\n") + "x\r\n--Bx\r\n--B-y\r\n-B\n--B\r\n\r\n--B--",
		[]got{{name: "a", data: "x\r\n--Bx\r\n--B-y\r\n-B\n--B\r\n"}}, nil},
	{"binary data", crlf("--B\n"+disp+"name=a\n\n") + "\x00\xff\r\r\n\n--\r\n--B--", []got{{name: "a", data: "\x00\xff\r\r\n\n--"}}, nil},
	{"folded header", crlf("--B\nContent-Disposition: form-data;\n \tname=a\nContent-Type:\n text/plain \n\nhello\n--B--\n"),
		[]got{{name: "a", contentType: "text/plain", data: "hello"}}, nil},
	{"header names any case", crlf("--B\ncontent-disposition: form-data; name=a\nCONTENT-TYPE: x/y\n\nhello\n--B--\n"),
		[]got{{name: "a", contentType: "x/y", data: "hello"}}, nil},
	{"first header wins", crlf("--B\n" + disp + "name=a\n" + disp + "name=b\nContent-Type: x/1\nContent-Type: x/2\n\nhello\n--B--\n"),
		[]got{{name: "a", contentType: "x/1", data: "hello"}}, nil},
	{"name with space matches nothing", crlf("--B\nContent-Disposition : form-data; name=a\n\nhello\n--B--\n"), []got{{data: "hello"}}, nil},
	{"file", crlf("--B\n" + disp + "name=\"f\"; filename=\"a b.png\"\nContent-Type: image/png\n\nPNG\n--B--\n"),
		[]got{{name: "f", file: "a b.png", hasFile: true, contentType: "image/png", data: "PNG"}}, nil},
	{"empty file name", crlf("--B\n" + disp + "name=f; filename=\"\"\n\n\n--B--\n"), []got{{name: "f", hasFile: true}}, nil},
	{"path kept", crlf("--B\n" + disp + "name=f; filename=\"../x/y.txt\"\n\n\n--B--\n"), []got{{name: "f", file: "../x/y.txt", hasFile: true}}, nil},
	{"browser escapes", crlf("--B\n" + disp + "name=f; filename=\"a%22b%0D%0Ac%0d%41.txt\"\n\n\n--B--\n"),
		[]got{{name: "f", file: "a\"b\r\nc%0d%41.txt", hasFile: true}}, nil},
	{"backslash escapes", crlf("--B\n" + disp + `name=f; filename="a\"b\\c\d.txt"` + "\n\n\n--B--\n"),
		[]got{{name: "f", file: `a"b\c\d.txt`, hasFile: true}}, nil},
	{"UTF-8 file name", crlf("--B\n" + disp + "name=f; filename=\"résumé.pdf\"\n\n\n--B--\n"),
		[]got{{name: "f", file: "résumé.pdf", hasFile: true}}, nil},
	{"filename* ignored", crlf("--B\n" + disp + "name=f; filename=\"plain.txt\"; filename*=UTF-8''star.txt\n\n\n--B--\n"),
		[]got{{name: "f", file: "plain.txt", hasFile: true}}, nil},
	{"filename* alone", crlf("--B\n" + disp + "name=f; filename*=UTF-8''star.txt\n\n\n--B--\n"), []got{{name: "f"}}, nil},
	{"name* ignored", crlf("--B\n" + disp + "name*=UTF-8''x; filename=\"a*b\"\n\n\n--B--\n"), []got{{file: "a*b", hasFile: true}}, nil},
	{"star in value", crlf("--B\n" + disp + "name=a*b; filename=c*\n\n\n--B--\n"), []got{{name: "a*b", file: "c*", hasFile: true}}, nil},
	{"not form-data", crlf("--B\nContent-Disposition: attachment; name=a; filename=f\n\n\n--B--\n"), []got{{file: "f", hasFile: true}}, nil},
	{"invalid disposition", crlf("--B\nContent-Disposition: form-data; name=a; filename\n\n\n--B--\n"), []got{{}}, nil},
	{"identity encoding", crlf("--B\n" + disp + "name=a\nContent-Transfer-Encoding: Binary\n\nhello\n--B--\n"), hello, nil},

	{"bad boundary line after data", crlf("--B\n" + disp + "name=a\n\nhello\n--B\tx\n"), nil, formdata.ErrMalformed},
	{"final line then junk", crlf("--B\n" + disp + "name=a\n\nhello\n--B--x\n"), nil, formdata.ErrMalformed},
	{"CRLF body, LF final line", crlf("--B\n"+disp+"name=a\n\nhello\n") + "--B--\n", nil, formdata.ErrMalformed},
	{"header without colon", crlf("--B\nnot a header\n\nhello\n--B--\n"), nil, formdata.ErrMalformed},
	{"header starts with space", crlf("--B\n " + disp + "name=a\n\nhello\n--B--\n"), nil, formdata.ErrMalformed},
	{"empty header name", crlf("--B\n: x\n\nhello\n--B--\n"), nil, formdata.ErrMalformed},
	{"bad header name", crlf("--B\nA(b: x\n\nhello\n--B--\n"), nil, formdata.ErrMalformed},
	{"control in header value", crlf("--B\n" + disp + "name=a\x00\n\nhello\n--B--\n"), nil, formdata.ErrMalformed},
	{"quoted-printable", crlf("--B\n" + disp + "name=a\nContent-Transfer-Encoding: quoted-printable\n\nhello\n--B--\n"), nil, formdata.ErrTransferEncoding},
	{"padding too long", crlf("--B" + strings.Repeat(" ", 5000) + "\n\nhello\n--B--\n"), nil, formdata.ErrMalformed},

	{"empty body", "", nil, io.ErrUnexpectedEOF},
	{"preamble only", "hello\r\n--C\r\n", nil, io.ErrUnexpectedEOF},
	{"ends in data", crlf("--B\n" + disp + "name=a\n\nhello"), nil, io.ErrUnexpectedEOF},
	{"ends in delimiter", crlf("--B\n" + disp + "name=a\n\nhello\n--B"), nil, io.ErrUnexpectedEOF},
	{"ends in final line", crlf("--B\n" + disp + "name=a\n\nhello\n--B-"), nil, io.ErrUnexpectedEOF},
	{"ends before line end", crlf("--B\n" + disp + "name=a\n\nhello\n--B\r"), nil, io.ErrUnexpectedEOF},
	{"ends in header", crlf("--B\n"+disp+"name=a\n\nhello\n--B\n") + disp + "name=b", hello, io.ErrUnexpectedEOF},
	{"ends after header line", crlf("--B\n"+disp+"name=a\n\nhello\n--B\n") + disp + "name=b\r\n", hello, io.ErrUnexpectedEOF},
	{"ends after boundary line", crlf("--B\n" + disp + "name=a\n\nhello\n--B\n"), hello, io.ErrUnexpectedEOF},
}

func TestParts(t *testing.T) {
	for _, tt := range partTests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err, _ := readAll(formdata.NewReader(strings.NewReader(tt.body), "B", formdata.Options{}), 0)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if fmt.Sprint(parts) != fmt.Sprint(tt.parts) {
				t.Errorf("parts\n%v\nwant\n%v", parts, tt.parts)
			}
		})
	}
}
