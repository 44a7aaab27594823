package jsonstream

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// scanString reads the rest of a string whose opening quote is consumed,
// passing its content to sink (nil: discard) in pieces, and consumes the
// closing quote. Raw bytes go to sink as they are, invalid UTF-8 included;
// escapes go decoded, as UTF-8.
func (r *Reader) scanString(sink func([]byte) error) error {
	for {
		win := r.window()
		if len(win) == 0 {
			if err := r.more(); err != nil {
				return err
			}
			continue
		}
		piece := win[:rawLen(win)]
		consumed := len(piece)
		switch {
		case len(piece) > 0:
		case win[0] == '"':
			r.r++
			if r.state == stateString {
				r.state = stateAfter
			}
			return nil
		case win[0] == '\\':
			c, n, err := r.escape()
			if err != nil {
				return err
			}
			piece, consumed = utf8.AppendRune(r.esc[:0], c), n
		default:
			return r.syntax("control character in string")
		}
		if sink != nil {
			if err := sink(piece); err != nil {
				return err
			}
		}
		r.r += consumed
	}
}

// rawLen is the length of the raw string content b starts with: the bytes
// before a quote, a backslash or a control character.
func rawLen(b []byte) int {
	end := quoteOrBackslash(b)
	for i, c := range b[:end] {
		if c < 0x20 {
			return i
		}
	}
	return end
}

// quoteOrBackslash is the index of the first quote or backslash in b, or
// len(b). Each search stops at the first match, so a short run costs
// little however large the window.
func quoteOrBackslash(b []byte) int {
	end := len(b)
	if i := bytes.IndexByte(b, '\\'); i >= 0 {
		end = i
	}
	if i := bytes.IndexByte(b[:end], '"'); i >= 0 {
		end = i
	}
	return end
}

// escape decodes the escape at the window's start without consuming it,
// and returns its length. As in encoding/json, a \u escape of a UTF-16
// surrogate that does not pair with the next one is U+FFFD.
func (r *Reader) escape() (c rune, n int, err error) {
	if ok, err := r.ensure(2); err != nil || !ok {
		return 0, 0, eofOr(err)
	}
	switch e := r.buf[r.r+1]; e {
	case '"', '\\', '/':
		return rune(e), 2, nil
	case 'b':
		return '\b', 2, nil
	case 'f':
		return '\f', 2, nil
	case 'n':
		return '\n', 2, nil
	case 'r':
		return '\r', 2, nil
	case 't':
		return '\t', 2, nil
	case 'u':
		return r.unicodeEscape()
	}
	return 0, 0, r.syntax("invalid escape in string")
}

// unicodeEscape decodes the \uXXXX escape at the window's start, and the
// next one too if they make a surrogate pair.
func (r *Reader) unicodeEscape() (rune, int, error) {
	if ok, err := r.ensure(6); err != nil || !ok {
		return 0, 0, eofOr(err)
	}
	u, ok := hex4(r.buf[r.r+2 : r.r+6])
	if !ok {
		return 0, 0, r.syntax("invalid \\u escape in string")
	}
	if !utf16.IsSurrogate(u) {
		return u, 6, nil
	}
	ok, err := r.ensure(12)
	if err != nil {
		return 0, 0, err
	}
	if next := r.buf[r.r+6 : r.w]; ok && next[0] == '\\' && next[1] == 'u' {
		if u2, ok := hex4(next[2:6]); ok {
			if pair := utf16.DecodeRune(u, u2); pair != utf8.RuneError {
				return pair, 12, nil
			}
		}
	}
	return utf8.RuneError, 6, nil
}

// hex4 parses four hexadecimal digits.
func hex4(b []byte) (rune, bool) {
	var v rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | rune(c)
	}
	return v, true
}

// eofOr is err, or io.ErrUnexpectedEOF if there is none (the input ended).
func eofOr(err error) error {
	if err == nil {
		return io.ErrUnexpectedEOF
	}
	return err
}

// toValidUTF8 is b as a string, each byte of invalid UTF-8 replaced by
// U+FFFD, as encoding/json does.
func toValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var s strings.Builder
	s.Grow(len(b) + 8)
	for len(b) > 0 {
		c, n := utf8.DecodeRune(b)
		if c == utf8.RuneError && n == 1 {
			s.WriteRune(utf8.RuneError)
		} else {
			s.Write(b[:n])
		}
		b = b[n:]
	}
	return s.String()
}
