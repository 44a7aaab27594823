package jsonstream_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/fileup/fileup/internal/jsonstream"
)

// fuzzOptions are small limits, so that the fuzzer reaches them, and the
// smallest buffer, so that values cross its end.
var fuzzOptions = jsonstream.Options{BufferSize: 1, MaxNameBytes: 32, MaxMediaTypeBytes: 32}

// ofield is what encoding/json makes of one field.
type ofield struct {
	name     string
	isString bool
	value    string
}

// oracle decodes doc with encoding/json: its fields in order, duplicates
// included, or ok false if it is not one JSON object.
func oracle(doc []byte) (fields []ofield, ok bool) {
	if !json.Valid(doc) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			panic(err) // json.Valid said it was valid
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			panic(err)
		}
		f := ofield{name: tok.(string)}
		if raw = bytes.TrimSpace(raw); raw[0] == '"' {
			f.isString = json.Unmarshal(raw, &f.value) == nil
		}
		fields = append(fields, f)
	}
	return fields, true
}

// oracleBase64 decodes a string by the documented rules with
// encoding/base64: a data URL header, then padded or unpadded standard
// base64.
func oracleBase64(s string, maxMedia int) (data []byte, mediaType string, err error) {
	if len(s) >= 5 && strings.ToLower(s[:5]) == "data:" && isASCII(s[:5]) {
		head, rest, err := dataURLHeader(s[5:], maxMedia)
		if err != nil {
			return nil, "", err
		}
		if len(head) < 7 || strings.ToLower(head[len(head)-7:]) != ";base64" {
			return nil, "", jsonstream.ErrInvalidBase64
		}
		mediaType, s = head[:len(head)-7], rest
	}
	if data, err = base64.StdEncoding.DecodeString(s); err != nil {
		data, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, "", jsonstream.ErrInvalidBase64
	}
	return data, mediaType, nil
}

// dataURLHeader splits a data URL after "data:" at its comma, checking
// the header's bytes in order as documented.
func dataURLHeader(s string, maxMedia int) (head, rest string, err error) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ',':
			return s[:i], s[i+1:], nil
		case c < 0x20 || c > 0x7e:
			return "", "", jsonstream.ErrInvalidBase64
		case i == maxMedia+len(";base64"):
			return "", "", jsonstream.ErrTooLong
		}
	}
	return "", "", jsonstream.ErrInvalidBase64
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// FuzzDocument compares jsonstream with encoding/json and encoding/base64
// on any document, read three ways: skipping every value, reading every
// value as a string, and as base64. Where encoding/json accepts the
// document, the fields, strings and decoded bytes are the same, or
// jsonstream refuses it for a documented limit (name length, depth);
// where encoding/json refuses it, so does jsonstream.
func FuzzDocument(f *testing.F) {
	for _, tt := range docTests {
		f.Add([]byte(tt.doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		want, ok := oracle(doc)
		names, err := readNames(doc)
		switch {
		case !ok:
			if err == nil {
				t.Fatalf("accepted what encoding/json refuses: %v", names)
			}
			return
		case err != nil:
			checkLimit(t, doc, want, err)
			return
		}
		if len(names) != len(want) {
			t.Fatalf("%d fields, encoding/json %d", len(names), len(want))
		}
		for i := range want {
			if names[i] != want[i].name {
				t.Fatalf("field %d: name %q, encoding/json %q", i, names[i], want[i].name)
			}
		}
		checkStrings(t, doc, want)
		checkBase64(t, doc, want)
	})
}

// readNames reads the names of doc's fields, skipping every value.
func readNames(doc []byte) ([]string, error) {
	r := jsonstream.NewReader(bytes.NewReader(doc), fuzzOptions)
	var names []string
	for {
		name, err := r.Next()
		if err == io.EOF {
			return names, nil
		}
		if err != nil {
			return names, err
		}
		names = append(names, name)
	}
}

// checkLimit checks that jsonstream refused a document encoding/json
// accepts for a documented limit.
func checkLimit(t *testing.T, doc []byte, want []ofield, err error) {
	t.Helper()
	switch {
	case errors.Is(err, jsonstream.ErrTooDeep):
		if bytes.Count(doc, []byte("["))+bytes.Count(doc, []byte("{")) < jsonstream.MaxDepth {
			t.Fatalf("%v, but the document is not that deep", err)
		}
	case errors.Is(err, jsonstream.ErrTooLong):
		for _, f := range want {
			if len(f.name) > fuzzOptions.MaxNameBytes {
				return
			}
		}
		t.Fatalf("%v, but no name is that long", err)
	default:
		t.Fatalf("refused what encoding/json accepts: %v", err)
	}
}

// checkStrings reads every value with String.
func checkStrings(t *testing.T, doc []byte, want []ofield) {
	t.Helper()
	r := jsonstream.NewReader(bytes.NewReader(doc), fuzzOptions)
	for i, w := range want {
		if _, err := r.Next(); err != nil {
			t.Fatalf("field %d: %v", i, err)
		}
		got, err := r.String(3 * len(doc)) // U+FFFD for an invalid byte is 3 bytes
		switch {
		case !w.isString && !errors.Is(err, jsonstream.ErrNotString):
			t.Fatalf("field %d: String of a non-string: %q, %v", i, got, err)
		case w.isString && (err != nil || got != w.value):
			t.Fatalf("field %d: String %q, %v; encoding/json %q", i, got, err, w.value)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the fields: %v", err)
	}
}

// checkBase64 reads every string value with Base64.
func checkBase64(t *testing.T, doc []byte, want []ofield) {
	t.Helper()
	r := jsonstream.NewReader(bytes.NewReader(doc), fuzzOptions)
	for i, w := range want {
		if _, err := r.Next(); err != nil {
			t.Fatalf("field %d: %v", i, err)
		}
		data, mediaType, err := r.Base64()
		var got []byte
		if err == nil {
			got, err = io.ReadAll(data)
		}
		if !w.isString {
			if !errors.Is(err, jsonstream.ErrNotString) {
				t.Fatalf("field %d: Base64 of a non-string: %v", i, err)
			}
			continue
		}
		wantData, wantType, wantErr := oracleBase64(w.value, fuzzOptions.MaxMediaTypeBytes)
		if wantErr != nil {
			if !errors.Is(err, wantErr) {
				t.Fatalf("field %d (%q): %v, want %v", i, w.value, err, wantErr)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, wantData) || mediaType != wantType {
			t.Fatalf("field %d (%q): %q %q, %v; encoding/base64 %q %q", i, w.value, mediaType, got, err, wantType, wantData)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the fields: %v", err)
	}
}

// FuzzReadPatterns checks that how the underlying reader splits the
// document, and how the caller reads base64 values, change nothing: the
// fields and the error (its offset included) are those of one plain
// read.
func FuzzReadPatterns(f *testing.F) {
	for i, tt := range docTests {
		f.Add([]byte(tt.doc), uint64(i))
	}
	f.Fuzz(func(t *testing.T, doc []byte, seed uint64) {
		want, wantErr := readDoc(jsonstream.NewReader(bytes.NewReader(doc), jsonstream.Options{}), 0)
		rng := rand.New(rand.NewPCG(seed, seed>>32))
		readers := map[string]io.Reader{
			"OneByte": iotest.OneByteReader(bytes.NewReader(doc)),
			"Half":    iotest.HalfReader(bytes.NewReader(doc)),
			"DataErr": iotest.DataErrReader(bytes.NewReader(doc)),
			"Random":  &chunkReader{data: doc, rng: rng},
		}
		for name, src := range readers {
			readSize := 1 + rng.IntN(16)
			got, err := readDoc(jsonstream.NewReader(src, jsonstream.Options{BufferSize: 1}), readSize)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) || fmt.Sprint(got) != fmt.Sprint(want) {
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
	n := min(len(p), len(c.data), c.rng.IntN(40))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}
