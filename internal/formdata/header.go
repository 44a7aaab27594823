package formdata

import (
	"bytes"
	"fmt"
	"strings"
)

// header is what the Reader keeps of a part's header block: the first
// value of each header it uses, as net/textproto would give it.
type header struct {
	disposition, contentType, encoding   string
	hasDisposition, hasType, hasEncoding bool
}

// readHeader reads the header block that follows a delimiter line and
// returns the part it starts.
func (mr *Reader) readHeader() (*Part, error) {
	scanned := 0 // bytes of the window already seen to hold no blank line
	for {
		win := mr.window()
		limit := min(len(win), mr.maxHdr)
		end, next := headerEnd(win[:limit], scanned)
		if end >= 0 {
			h, err := parseHeader(win[:end])
			if err != nil {
				return nil, err
			}
			mr.r += end
			return newPart(mr, h)
		}
		if limit == mr.maxHdr {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrHeaderTooLarge, mr.maxHdr)
		}
		scanned = next
		if err := mr.more(); err != nil {
			return nil, err
		}
	}
}

// headerEnd returns the length of the header block at the start of b,
// blank line included, or -1 if b does not hold all of it; then next is
// where the line that b ends inside starts, to resume from there.
func headerEnd(b []byte, from int) (end, next int) {
	for pos := from; ; {
		i := bytes.IndexByte(b[pos:], '\n')
		if i < 0 {
			return -1, pos
		}
		line := b[pos : pos+i]
		pos += i + 1
		if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
			return pos, pos
		}
	}
}

// parseHeader parses a header block, blank line included, with the rules
// of net/textproto's ReadMIMEHeader (which mime/multipart uses): lines end
// in LF or CRLF, a line starting with a space or tab continues the
// previous one, field names are tokens (or hold spaces, and then match no
// header), values hold no control characters but tab.
func parseHeader(block []byte) (header, error) {
	var h header
	if len(block) > 0 && (block[0] == ' ' || block[0] == '\t') {
		return h, malformed("part header starts with white space", block)
	}
	line, rest := nextLine(block)
	for len(line) > 0 {
		if bytes.IndexByte(line, ':') < 0 {
			return h, malformed("part header line without colon", line)
		}
		kv, joined := trimLWSP(line), false
		for {
			line, rest = nextLine(rest)
			if len(line) == 0 || line[0] != ' ' && line[0] != '\t' {
				break
			}
			// A continuation: joined with one space, in a copy (not in
			// block, which the next lines are read from).
			if !joined {
				kv, joined = append(make([]byte, 0, 2*len(kv)), kv...), true
			}
			kv = append(append(kv, ' '), trimLWSP(line)...)
		}
		if err := h.add(kv); err != nil {
			return h, err
		}
	}
	return h, nil
}

// add records a "name: value" header line.
func (h *header) add(kv []byte) error {
	k, v, _ := bytes.Cut(kv, []byte(":"))
	canonical := len(k) > 0
	for _, c := range k {
		switch {
		case c == ' ':
			canonical = false // accepted, but matches no header
		case !isFieldByte(c):
			return malformed("invalid part header name", kv)
		}
	}
	if len(k) == 0 {
		return malformed("empty part header name", kv)
	}
	for _, c := range v {
		if !isValueByte(c) {
			return malformed("invalid byte in part header value", kv)
		}
	}
	if !canonical {
		return nil
	}
	value := func() string { return string(bytes.TrimLeft(v, " \t")) }
	switch key := string(k); {
	case !h.hasDisposition && strings.EqualFold(key, "Content-Disposition"):
		h.disposition, h.hasDisposition = value(), true
	case !h.hasType && strings.EqualFold(key, "Content-Type"):
		h.contentType, h.hasType = value(), true
	case !h.hasEncoding && strings.EqualFold(key, "Content-Transfer-Encoding"):
		h.encoding, h.hasEncoding = value(), true
	}
	return nil
}

// nextLine splits off the first line of b, without its LF or CRLF.
func nextLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	line, rest = b[:i], b[i+1:]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, rest
}

// trimLWSP removes leading and trailing spaces and tabs.
func trimLWSP(b []byte) []byte {
	return bytes.TrimRight(b[lwspLen(b):], " \t")
}

// isFieldByte reports whether c may appear in a header name (an RFC 9110
// token character).
func isFieldByte(c byte) bool {
	return isTokenChar(c)
}

// isValueByte reports whether c may appear in a header value: visible
// ASCII, space, tab and any byte of 0x80 and above.
func isValueByte(c byte) bool {
	return c == '\t' || c >= 0x20 && c != 0x7f
}

// isTokenChar reports whether c is an RFC 9110 tchar:
// "!#$%&'*+-.^_`|~", digits and letters.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c < 0x80 && strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// malformed is an ErrMalformed error that quotes the start of the input
// that caused it.
func malformed(what string, input []byte) error {
	const quote = 64
	if len(input) > quote {
		input = input[:quote]
	}
	return fmt.Errorf("%w: %s: %q", ErrMalformed, what, input)
}
