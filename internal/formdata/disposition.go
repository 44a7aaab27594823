package formdata

import (
	"fmt"
	"mime"
	"strings"
	"unicode"
)

// disposition returns the form name and file name of a
// Content-Disposition value, parsed with mime.ParseMediaType. A value it
// rejects has neither, as in mime/multipart.
func disposition(v string) (name, fileName string, hasFileName bool) {
	typ, params, err := mime.ParseMediaType(v)
	if err != nil {
		return "", "", false
	}
	if strings.IndexByte(v, '*') >= 0 {
		// ParseMediaType lets RFC 2231 parameters (name*, filename*0...)
		// override the plain ones; RFC 7578 has no use for them.
		params = plainParams(v)
	}
	if typ == "form-data" {
		name = params["name"]
	}
	fileName, hasFileName = params["filename"]
	return name, decodeFileName(fileName), hasFileName
}

// browserEscapes undoes the escapes of the WHATWG HTML multipart/form-data
// encoding algorithm.
var browserEscapes = strings.NewReplacer("%22", `"`, "%0D", "\r", "%0A", "\n")

func decodeFileName(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	return browserEscapes.Replace(s)
}

// plainParams returns the parameters of a media type value that
// mime.ParseMediaType accepted, leaving out RFC 2231 ones (with a "*" in
// their name). It follows ParseMediaType's grammar step for step.
func plainParams(v string) map[string]string {
	params := make(map[string]string)
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[i:]
	} else {
		v = ""
	}
	for {
		key, value, rest, ok := consumeParam(v)
		if !ok {
			return params
		}
		if _, dup := params[key]; !dup && strings.IndexByte(key, '*') < 0 {
			params[key] = value
		}
		v = rest
	}
}

// consumeParam consumes `; key=value` as mime.ParseMediaType does.
func consumeParam(v string) (key, value, rest string, ok bool) {
	rest = strings.TrimLeftFunc(v, unicode.IsSpace)
	if rest, ok = strings.CutPrefix(rest, ";"); !ok {
		return "", "", v, false
	}
	key, rest = consumeToken(strings.TrimLeftFunc(rest, unicode.IsSpace))
	if key == "" {
		return "", "", v, false
	}
	rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
	if rest, ok = strings.CutPrefix(rest, "="); !ok {
		return "", "", v, false
	}
	value, rest, ok = consumeValue(strings.TrimLeftFunc(rest, unicode.IsSpace))
	return strings.ToLower(key), value, rest, ok
}

// consumeToken splits v after its leading RFC 2045 token characters:
// visible ASCII but tspecials.
func consumeToken(v string) (token, rest string) {
	i := 0
	for i < len(v) && v[i] > ' ' && v[i] < 0x7f && !isTSpecial(v[i]) {
		i++
	}
	return v[:i], v[i:]
}

// consumeValue consumes a token or a quoted string, undoing a backslash
// only before a tspecial character, as mime.ParseMediaType does.
func consumeValue(v string) (value, rest string, ok bool) {
	if v == "" || v[0] != '"' {
		value, rest = consumeToken(v)
		return value, rest, value != ""
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			return b.String(), v[i+1:], true
		case c == '\\' && i+1 < len(v) && isTSpecial(v[i+1]):
			b.WriteByte(v[i+1])
			i++
		case c == '\r' || c == '\n':
			return "", v, false
		default:
			b.WriteByte(c)
		}
	}
	return "", v, false
}

// isTSpecial reports whether c is an RFC 2045 tspecial.
func isTSpecial(c byte) bool {
	return strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0
}

// Boundary returns the boundary of a multipart/form-data Content-Type,
// checked against RFC 2046: 1 to 70 characters among letters, digits,
// "'()+_,-./:=?" and space, not ending in a space. It returns
// [ErrNotFormData] for another media type and [ErrBadBoundary] for a
// missing or invalid boundary.
func Boundary(contentType string) (string, error) {
	typ, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotFormData, err)
	}
	if typ != "multipart/form-data" {
		return "", fmt.Errorf("%w: %q", ErrNotFormData, truncate(typ, 64))
	}
	b, ok := params["boundary"]
	if !ok {
		return "", fmt.Errorf("%w: no boundary parameter", ErrBadBoundary)
	}
	if err := checkBoundary(b); err != nil {
		return "", err
	}
	return b, nil
}

// checkBoundary checks a boundary against RFC 2046.
func checkBoundary(b string) error {
	if len(b) < 1 || len(b) > 70 {
		return fmt.Errorf("%w: length %d, not 1 to 70", ErrBadBoundary, len(b))
	}
	if b[len(b)-1] == ' ' {
		return fmt.Errorf("%w: ends in a space", ErrBadBoundary)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && strings.IndexByte("'()+_,-./:=? ", c) < 0 {
			return fmt.Errorf("%w: character %q", ErrBadBoundary, c)
		}
	}
	return nil
}
