package jsonstream_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/fileup/fileup/internal/jsonstream"
)

// field is what a test reads of one field: a String, or a Base64 value
// (b64) with its media type.
type field struct {
	name, value string
	b64         bool
	mediaType   string
}

func (f field) String() string {
	if f.b64 {
		return fmt.Sprintf("%s=b64(%q,%q)", f.name, f.mediaType, f.value)
	}
	return fmt.Sprintf("%s=%q", f.name, f.value)
}

// readDoc reads every field of doc: as base64 those whose name starts
// with "b", as strings (at most 1 MiB) those whose name starts with "s",
// and skips the others. It stops at the first error.
func readDoc(r *jsonstream.Reader, readSize int) ([]field, error) {
	var fields []field
	for {
		name, err := r.Next()
		if err == io.EOF {
			return fields, nil
		}
		if err != nil {
			return fields, err
		}
		f := field{name: name}
		switch {
		case strings.HasPrefix(name, "b"):
			f.b64 = true
			var data io.Reader
			if data, f.mediaType, err = r.Base64(); err == nil {
				var b []byte
				b, err = readAllSized(data, readSize)
				f.value = string(b)
			}
		case strings.HasPrefix(name, "s"):
			f.value, err = r.String(1 << 20)
		default:
			continue
		}
		if err != nil {
			return fields, err
		}
		fields = append(fields, f)
	}
}

func readAllSized(r io.Reader, size int) ([]byte, error) {
	if size <= 0 {
		return io.ReadAll(r)
	}
	var out []byte
	buf := make([]byte, size)
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

func s(name, value string) field { return field{name: name, value: value} }
func b(name, mediaType, value string) field {
	return field{name: name, value: value, b64: true, mediaType: mediaType}
}

// docTests are documents and what readDoc makes of them. They also seed
// FuzzDocument, which compares them with encoding/json.
var docTests = []struct {
	name   string
	doc    string
	fields []field
	err    error
}{
	{"empty object", `{}`, nil, nil},
	{"white space", " \t\r\n{ \n\"s\" :\t\"x\" ,\r\n \"b\"\n:\"QQ==\" }\n\t ", []field{s("s", "x"), b("b", "", "A")}, nil},
	{"field order", `{"b":"QUJD","s1":"one","x":"skipped","s2":"two"}`, []field{b("b", "", "ABC"), s("s1", "one"), s("s2", "two")}, nil},
	{"duplicates as they come", `{"s":"1","s":"2"}`, []field{s("s", "1"), s("s", "2")}, nil},
	{"escapes", `{"s":"\"\\\/\b\f\n\r\t\u00e9\u20AC"}`, []field{s("s", "\"\\/\b\f\n\r\t\u00e9\u20ac")}, nil},
	{"surrogate pair", `{"s":"\uD83D\uDE00"}`, []field{s("s", "\U0001F600")}, nil},
	{"lone surrogates", `{"s":"\uD800x\uDC00\uD800\u0041\uD800"}`, []field{s("s", "\uFFFDx\uFFFD\uFFFDA\uFFFD")}, nil},
	{"raw UTF-8 and invalid bytes", "{\"s\":\"é\xff\xe2\x82\"}", []field{s("s", "é\uFFFD\uFFFD\uFFFD")}, nil},
	{"escaped name", `{"\u0073\/":"x"}`, []field{s("s/", "x")}, nil},
	{"skipped values", `{"n":-0.5e+10,"t":true,"f":false,"z":null,"a":[1,[],{},"x",[{"y":[0]}]],"o":{"k":{"l":1E3}},"s":"end"}`, []field{s("s", "end")}, nil},

	{"padding", `{"b1":"QQ==","b2":"QUI=","b3":"QUJD","b4":""}`, []field{b("b1", "", "A"), b("b2", "", "AB"), b("b3", "", "ABC"), b("b4", "", "")}, nil},
	{"no padding", `{"b1":"QQ","b2":"QUI","b3":"QUJDRA"}`, []field{b("b1", "", "A"), b("b2", "", "AB"), b("b3", "", "ABCD")}, nil},
	{"line ends", `{"b":"\r\nQU\nJD\r\u000aRA=\r\n=\n"}`, []field{b("b", "", "ABCD")}, nil},
	{"only line ends", `{"b":"\r\n\n"}`, []field{b("b", "", "")}, nil},
	{"line ends, then other escapes", `{"b":"\r\n\u0051UJD\r\n\u0051UJD"}`, []field{b("b", "", "ABCABC")}, nil},
	{"escaped alphabet", `{"b":"\u0051\/\/\/\u002b\/8="}`, []field{b("b", "", "C\xff\xff\xfb\xff")}, nil},
	{"lenient trailing bits", `{"b":"QR=="}`, []field{b("b", "", "A")}, nil},
	{"data URL", `{"b":"data:image/png;base64,iVBORw=="}`, []field{b("b", "image/png", "\x89PNG")}, nil},
	{"data URL, escaped", `{"b":"\u0064ata:image\/svg+xml;charset=utf-8;base64,PHN2Zz4="}`, []field{b("b", "image/svg+xml;charset=utf-8", "<svg>")}, nil},
	{"data URL, upper case", `{"b":"DATA:Text/Plain;BASE64,aGk"}`, []field{b("b", "Text/Plain", "hi")}, nil},
	{"data URL, no media type", `{"b":"data:;base64,"}`, []field{b("b", "", "")}, nil},
	{"short plain", `{"b1":"dat","b2":"daQ="}`, []field{b("b1", "", "u\xab"), b("b2", "", "u\xa4")}, nil},

	{"not base64", `{"b":"QU JD"}`, nil, jsonstream.ErrInvalidBase64},
	{"one char", `{"b":"Q"}`, nil, jsonstream.ErrInvalidBase64},
	{"incomplete padding", `{"b":"QQ="}`, nil, jsonstream.ErrInvalidBase64},
	{"too much padding", `{"b":"QUI=="}`, nil, jsonstream.ErrInvalidBase64},
	{"misplaced padding", `{"b":"Q==="}`, nil, jsonstream.ErrInvalidBase64},
	{"data after padding", `{"b":"QQ==QQ=="}`, nil, jsonstream.ErrInvalidBase64},
	{"URL alphabet", `{"b":"-_-_"}`, nil, jsonstream.ErrInvalidBase64},
	{"non-ASCII escape", `{"b":"QUJ\u00e9"}`, nil, jsonstream.ErrInvalidBase64},
	{"tab escape", `{"b":"QU\tJD"}`, nil, jsonstream.ErrInvalidBase64},
	{"data URL not base64", `{"b":"data:text/plain,hello"}`, nil, jsonstream.ErrInvalidBase64},
	{"data URL without comma", `{"b":"data:text/plain;base64"}`, nil, jsonstream.ErrInvalidBase64},
	{"data URL control", `{"b":"data:text\n;base64,QQ=="}`, nil, jsonstream.ErrInvalidBase64},
	{"data URL media type too long", `{"b":"data:` + strings.Repeat("x", 257) + `;base64,QQ=="}`, nil, jsonstream.ErrTooLong},
	{"data URL media type at limit", `{"b":"data:` + strings.Repeat("x", 256) + `;base64,QQ=="}`, []field{b("b", strings.Repeat("x", 256), "A")}, nil},
	{"not a string", `{"s":1}`, nil, jsonstream.ErrNotString},
	{"null is not a string", `{"b":null}`, nil, jsonstream.ErrNotString},
	{"name too long", `{"` + strings.Repeat("n", 257) + `":1}`, nil, jsonstream.ErrTooLong},
	{"name at limit", `{"` + strings.Repeat("n", 256) + `":1}`, nil, nil},
	{"nesting at limit", `{"a":` + strings.Repeat("[", jsonstream.MaxDepth-1) + strings.Repeat("]", jsonstream.MaxDepth-1) + `}`, nil, nil},
	{"nesting too deep", `{"a":` + strings.Repeat("[", jsonstream.MaxDepth) + strings.Repeat("]", jsonstream.MaxDepth) + `}`, nil, jsonstream.ErrTooDeep},

	{"empty document", ``, nil, io.ErrUnexpectedEOF},
	{"cut in base64", `{"b":"QUJD`, nil, io.ErrUnexpectedEOF},
	{"cut in escape", `{"b":"QUJD\u00`, nil, io.ErrUnexpectedEOF},
	{"cut before brace", `{"s":"x"`, []field{s("s", "x")}, io.ErrUnexpectedEOF},
	{"cut in skipped number", `{"n":12`, nil, io.ErrUnexpectedEOF},

	{"array", `[]`, nil, jsonstream.ErrSyntax},
	{"string", `"x"`, nil, jsonstream.ErrSyntax},
	{"no colon", `{"s" "x"}`, nil, jsonstream.ErrSyntax},
	{"trailing comma", `{"s":"x",}`, []field{s("s", "x")}, jsonstream.ErrSyntax},
	{"leading comma", `{,"s":"x"}`, nil, jsonstream.ErrSyntax},
	{"missing comma", `{"s":"x" "t":"y"}`, []field{s("s", "x")}, jsonstream.ErrSyntax},
	{"unquoted name", `{s:"x"}`, nil, jsonstream.ErrSyntax},
	{"single quotes", `{'s':'x'}`, nil, jsonstream.ErrSyntax},
	{"leading zero", `{"n":01}`, nil, jsonstream.ErrSyntax},
	{"bare minus", `{"n":-}`, nil, jsonstream.ErrSyntax},
	{"bare fraction", `{"n":1.}`, nil, jsonstream.ErrSyntax},
	{"bare exponent", `{"n":1e}`, nil, jsonstream.ErrSyntax},
	{"plus sign", `{"n":+1}`, nil, jsonstream.ErrSyntax},
	{"bad literal", `{"n":tru}`, nil, jsonstream.ErrSyntax},
	{"bad escape", `{"s":"\x"}`, nil, jsonstream.ErrSyntax},
	{"bad unicode escape", `{"s":"\u12G4"}`, nil, jsonstream.ErrSyntax},
	{"raw control in string", "{\"s\":\"a\tb\"}", nil, jsonstream.ErrSyntax},
	{"raw line end in base64", "{\"b\":\"QU\nJD\"}", nil, jsonstream.ErrSyntax},
	{"raw line end in long base64", "{\"b\":\"" + strings.Repeat("QUJD", 100) + "\r\nQUJD\"}", nil, jsonstream.ErrSyntax},
	{"unclosed array", `{"a":[1}`, nil, jsonstream.ErrSyntax},
	{"mismatched close", `{"a":{"b":1]}`, nil, jsonstream.ErrSyntax},
	{"garbage after base64 value", `{"b":"QQ==" x}`, []field{b("b", "", "A")}, jsonstream.ErrSyntax},
	{"second object", `{"s":"x"}{}`, []field{s("s", "x")}, jsonstream.ErrSyntax},
	{"garbage after object", `{"s":"x"} x`, []field{s("s", "x")}, jsonstream.ErrSyntax},
	{"extra brace", `{"s":"x"}}`, []field{s("s", "x")}, jsonstream.ErrSyntax},
	{"byte order mark", "\ufeff{}", nil, jsonstream.ErrSyntax},
}

func TestDocuments(t *testing.T) {
	for _, tt := range docTests {
		t.Run(tt.name, func(t *testing.T) {
			fields, err := readDoc(jsonstream.NewReader(strings.NewReader(tt.doc), jsonstream.Options{}), 0)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if fmt.Sprint(fields) != fmt.Sprint(tt.fields) {
				t.Errorf("fields\n%v\nwant\n%v", fields, tt.fields)
			}
		})
	}
}

// TestTruncation cuts a document at every position: every proper prefix
// is io.ErrUnexpectedEOF, the whole document reads.
func TestTruncation(t *testing.T) {
	doc := `{"s":"a\u00e9\uD83D\uDE00","n":[1.5e-3,true,{"k":null}],"b":"data:image\/png;base64,QU\r\nJD\/w=="}`
	for i := range len(doc) {
		_, err := readDoc(jsonstream.NewReader(strings.NewReader(doc[:i]), jsonstream.Options{}), 0)
		if err != io.ErrUnexpectedEOF {
			t.Errorf("cut at %d (%q): %v, want io.ErrUnexpectedEOF", i, doc[:i], err)
		}
	}
	fields, err := readDoc(jsonstream.NewReader(strings.NewReader(doc), jsonstream.Options{}), 0)
	want := []field{s("s", "aé\U0001F600"), b("b", "image/png", "ABC\xff")}
	if err != nil || fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Fatalf("whole: %v, %v", fields, err)
	}
}

func TestErrorOffsets(t *testing.T) {
	tests := []struct {
		doc    string
		offset int64
		err    error
	}{
		{`{"b":"QU!D"}`, 8, jsonstream.ErrInvalidBase64},
		{`{"b":"` + strings.Repeat("QUJD", 5000) + `QU!D"}`, 6 + 20000 + 2, jsonstream.ErrInvalidBase64},
		{`{"b":"QUJD\u00e9"}`, 10, jsonstream.ErrInvalidBase64},
		{`{"b":"QQ==QQ=="}`, 10, jsonstream.ErrInvalidBase64},
		{`{"b":"QQ="}`, 9, jsonstream.ErrInvalidBase64},
		{`{"b":"data:x,QQ"}`, 12, jsonstream.ErrInvalidBase64},
		{`{"s":"x" "t":1}`, 9, jsonstream.ErrSyntax},
		{`{"n":[1,2,}`, 10, jsonstream.ErrSyntax},
	}
	for _, tt := range tests {
		_, err := readDoc(jsonstream.NewReader(strings.NewReader(tt.doc), jsonstream.Options{BufferSize: 512}), 0)
		var e *jsonstream.Error
		if !errors.As(err, &e) || e.Offset != tt.offset || !errors.Is(err, tt.err) {
			t.Errorf("%.40q: %v, want %v at offset %d", tt.doc, err, tt.err, tt.offset)
		}
	}
}
