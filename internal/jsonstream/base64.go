package jsonstream

import (
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// errStale: a Base64 reader read after Next moved past its value.
var errStale = errors.New("jsonstream: base64 value read after Next")

// Base64 returns the current field's value, a string, decoded as base64
// while it is read, and the media type of a data URL.
//
// The string is either plain base64 or a data URL,
// "data:<mediatype>;base64,<base64>" (the scheme and the base64 marker in
// any case), whose media type (at most [Options.MaxMediaTypeBytes], printable
// ASCII, not otherwise checked) is returned for information. The
// standard alphabet is accepted with or without padding, and line ends
// (CR and LF, sent as \r and \n escapes) anywhere in it are ignored; any
// other byte is an [ErrInvalidBase64] at its offset. JSON escapes are
// undone on the fly.
//
// Read the returned reader to io.EOF, which it returns once the closing
// quote has arrived and the base64 is complete; then call Next. Calling
// Next earlier skips the rest of the string, checked as JSON but not as
// base64. A value that is not a string is [ErrNotString].
func (r *Reader) Base64() (data io.Reader, mediaType string, err error) {
	if err := r.openString(); err != nil {
		return nil, "", err
	}
	b := &base64Reader{r: r, gen: r.gen}
	mediaType, err = b.prefix()
	if err != nil {
		return nil, "", r.valueError(err)
	}
	return b, mediaType, nil
}

// valueError stops the Reader for an error of the stream, and leaves it
// usable for an error of the value alone.
func (r *Reader) valueError(err error) error {
	if errors.Is(err, ErrInvalidBase64) || errors.Is(err, ErrTooLong) {
		return err
	}
	return r.stop(err)
}

// base64Reader decodes the current string value as base64.
type base64Reader struct {
	r         *Reader
	gen       int
	quad      [4]byte // alphabet values of an incomplete quantum
	nq        int     // how many quad holds
	pads      int     // padding characters seen
	padsTo    int     // padding characters that complete the quantum
	out       [3]byte // decoded bytes not yet returned: out[outI:outN]
	outI      int
	outN      int
	runEnd    int64      // document offset of the quote or backslash ending the current run
	slowUntil int64      // document offset before which to decode one by one
	stage     [4096]byte // characters gathered across escapes
	done      bool       // the closing quote is consumed
	err       error
}

// decodeMap maps a base64 character to its value, and anything else to
// 0xff.
var decodeMap = func() (m [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range m {
		m[i] = 0xff
	}
	for i := range len(alphabet) {
		m[alphabet[i]] = byte(i)
	}
	return m
}()

// Read decodes the value into p.
func (b *base64Reader) Read(p []byte) (int, error) {
	if b.gen != b.r.gen {
		return 0, errStale
	}
	n := b.flush(p)
	for n < len(p) && b.err == nil && !b.done {
		k, err := b.decode(p[n:], n == 0)
		n += k
		n += b.flush(p[n:])
		if err == errWouldBlock {
			break
		}
		if err != nil {
			b.err = b.r.valueError(err)
		}
	}
	switch {
	case n > 0:
		return n, nil
	case b.err != nil:
		return 0, b.err
	case b.done && b.outI == b.outN:
		return 0, io.EOF
	}
	return 0, nil
}

// errWouldBlock: decode needs more input, and the caller has data to
// return first.
var errWouldBlock = errors.New("would block")

// flush moves decoded bytes held in b.out into p.
func (b *base64Reader) flush(p []byte) int {
	n := copy(p, b.out[b.outI:b.outN])
	b.outI += n
	if b.outI == b.outN {
		b.outI, b.outN = 0, 0
	}
	return n
}

// decode decodes what the window holds of the value into dst (or b.out),
// reading more input only if mayRead.
func (b *base64Reader) decode(dst []byte, mayRead bool) (int, error) {
	r := b.r
	if r.r == r.w {
		if !mayRead {
			return 0, errWouldBlock
		}
		return 0, r.more()
	}
	if n := b.bulk(dst); n > 0 {
		return n, nil
	}
	switch r.buf[r.r] {
	case '"':
		r.r++
		r.state = stateAfter
		b.done = true
		return 0, b.finish()
	case '\\':
		return 0, b.escape()
	}
	return b.slowRun(dst)
}

// bulkMin is the shortest run of raw characters decoded straight from the
// window; shorter ones, cut by escapes, are gathered first.
const bulkMin = 512

// bulk decodes whole quanta into dst with encoding/base64: straight from
// the window for a long run of raw characters, else gathered across \/,
// \r and \n escapes. It returns 0 when it cannot, and then marks a block
// that encoding/base64 refused (padding, a raw line end, an invalid
// character) for decoding one character at a time.
func (b *base64Reader) bulk(dst []byte) int {
	r := b.r
	if b.nq != 0 || b.pads != 0 || r.offset() < b.slowUntil {
		return 0
	}
	limit := len(dst) / 3 * 4
	src, span := b.direct(limit)
	if span == 0 {
		src, span = b.gather(min(limit, len(b.stage)))
	}
	if len(src) == 0 {
		return 0
	}
	n, err := base64.StdEncoding.Decode(dst, src)
	if err != nil || n != len(src)/4*3 { // less: it skipped a raw CR or LF, or met padding
		b.slowUntil = r.offset() + int64(span)
		return 0
	}
	r.r += span
	return n
}

// direct returns the whole quanta, at most limit characters, of the run
// of raw characters at the window's start, if it is long.
func (b *base64Reader) direct(limit int) ([]byte, int) {
	run := b.rawRun()
	if len(run) < bulkMin && len(run) < limit {
		return nil, 0
	}
	m := min(len(run), limit) &^ 3
	return run[:m], m
}

// gather copies characters from the window's start into b.stage, undoing
// \/ and dropping \r and \n escapes, up to limit characters, and stops
// before another escape, a quote or the window's end. It returns the
// whole quanta gathered and the length of input they come from.
func (b *base64Reader) gather(limit int) (src []byte, span int) {
	win := b.r.window()
	n, pos := 0, 0 // characters gathered, input read
	cutN := 0      // characters gathered at the last quantum boundary
gathering:
	for n < limit && pos < len(win) {
		switch c := win[pos]; {
		case c == '"', c == '\\' && pos+1 == len(win):
			break gathering
		case c == '\\':
			switch win[pos+1] {
			case '/':
				b.stage[n] = '/'
				n++
			case 'r', 'n':
			default:
				break gathering
			}
			pos += 2
		default:
			seg := min(quoteOrBackslash(win[pos:]), limit-n)
			copy(b.stage[n:], win[pos:pos+seg])
			if q := (n + seg) &^ 3; q >= n && q > cutN {
				cutN, span = q, pos+q-n
			}
			n, pos = n+seg, pos+seg
			continue
		}
		if n&3 == 0 {
			cutN, span = n, pos
		}
	}
	return b.stage[:cutN], span
}

// rawRun returns the raw characters at the window's start, up to a quote
// or backslash.
func (b *base64Reader) rawRun() []byte {
	r := b.r
	if b.runEnd <= r.offset() {
		b.runEnd = r.offset() + int64(quoteOrBackslash(r.window()))
	}
	return r.window()[:b.runEnd-r.offset()]
}

// slowRun decodes the raw characters at the window's start one by one,
// up to a quote or backslash, until dst is full or bulk decoding may
// resume.
func (b *base64Reader) slowRun(dst []byte) (int, error) {
	r := b.r
	k := 0
	for _, c := range b.rawRun() {
		if c < 0x20 {
			return k, r.syntax("control character in string")
		}
		if err := b.feed(c, r.offset()); err != nil {
			return k, err
		}
		r.r++
		k += b.flush(dst[k:])
		if b.outN > 0 || b.nq == 0 && b.pads == 0 && r.offset() >= b.slowUntil {
			return k, nil // dst is full, or bulk may resume
		}
	}
	return k, nil
}

// escape decodes a JSON escape inside the base64 string.
func (b *base64Reader) escape() error {
	r := b.r
	off := r.offset()
	c, n, err := r.escape()
	if err != nil {
		return err
	}
	r.r += n
	if c >= utf8.RuneSelf {
		return invalidBase64(off, "character outside the base64 alphabet")
	}
	return b.feed(byte(c), off)
}

// feed decodes one character at document offset off. A completed quantum
// goes to b.out.
func (b *base64Reader) feed(c byte, off int64) error {
	switch v := decodeMap[c]; {
	case v != 0xff:
		if b.pads > 0 {
			return invalidBase64(off, "data after padding")
		}
		b.quad[b.nq] = v
		b.nq++
		if b.nq == 4 {
			b.emit(3)
		}
	case c == '=':
		if b.pads == 0 {
			if b.nq < 2 {
				return invalidBase64(off, "misplaced padding")
			}
			b.padsTo = 4 - b.nq
			b.emit(b.nq - 1)
		}
		b.pads++
		if b.pads > b.padsTo {
			return invalidBase64(off, "too much padding")
		}
	case c == '\r' || c == '\n':
	default:
		return invalidBase64(off, "character outside the base64 alphabet")
	}
	return nil
}

// emit decodes the n bytes that the quantum in b.quad holds into b.out.
func (b *base64Reader) emit(n int) {
	q := uint(b.quad[0])<<18 | uint(b.quad[1])<<12 | uint(b.quad[2])<<6 | uint(b.quad[3])
	b.out = [3]byte{byte(q >> 16), byte(q >> 8), byte(q)}
	b.outI, b.outN = 0, n
	b.quad, b.nq = [4]byte{}, 0
}

// finish checks the end of the base64 data, after its closing quote: a
// quantum cut short needs two or three characters, and padding must be
// complete.
func (b *base64Reader) finish() error {
	off := b.r.offset() - 1
	switch {
	case b.pads > 0 && b.pads < b.padsTo:
		return invalidBase64(off, "incomplete padding")
	case b.nq == 1:
		return invalidBase64(off, "truncated base64 quantum")
	case b.nq > 1:
		b.emit(b.nq - 1)
	}
	return nil
}

// lower is c in lower case, if it is an ASCII letter.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func invalidBase64(off int64, detail string) error {
	return &Error{Offset: off, Err: ErrInvalidBase64, Detail: detail}
}

// prefix reads a data URL's "data:<mediatype>;base64," and returns the
// media type; what it reads of a plain base64 string is decoded.
func (b *base64Reader) prefix() (string, error) {
	const scheme = "data:"
	var head [len(scheme)]byte
	var offs [len(scheme)]int64
	n := 0
	for ; n < len(scheme); n++ {
		c, off, end, err := b.char()
		if err != nil {
			return "", err
		}
		if end || lower(c) != scheme[n] {
			// Not a data URL: decode what was read.
			for i := range n {
				if err := b.feed(head[i], offs[i]); err != nil {
					return "", err
				}
			}
			return "", b.afterPrefix(c, off, end)
		}
		head[n], offs[n] = c, off
	}
	return b.mediaType()
}

// afterPrefix decodes the character that told a plain string from a data
// URL, or ends the string.
func (b *base64Reader) afterPrefix(c byte, off int64, end bool) error {
	if end {
		b.done = true
		return b.finish()
	}
	return b.feed(c, off)
}

// mediaType reads the rest of a data URL's header, after "data:", to its
// comma.
func (b *base64Reader) mediaType() (string, error) {
	const marker = ";base64"
	var head []byte
	for {
		c, off, end, err := b.char()
		switch {
		case err != nil:
			return "", err
		case end:
			return "", invalidBase64(off, "data URL without a comma")
		case c == ',':
			if len(head) < len(marker) || !strings.EqualFold(string(head[len(head)-len(marker):]), marker) {
				return "", invalidBase64(off, "data URL is not base64")
			}
			return string(head[:len(head)-len(marker)]), nil
		case c < 0x20 || c > 0x7e:
			return "", invalidBase64(off, "data URL media type is not printable ASCII")
		case len(head) == b.r.maxMedia+len(marker):
			return "", &Error{Offset: off, Err: ErrTooLong, Detail: "data URL media type too long"}
		}
		head = append(head, c)
	}
}

// char reads one character of the string: a raw byte or a decoded escape
// (non-ASCII ones as 0xff), with its document offset; end reports the
// closing quote, which it consumes.
func (b *base64Reader) char() (c byte, off int64, end bool, err error) {
	r := b.r
	if c, err = r.peek(); err != nil {
		return 0, 0, false, err
	}
	off = r.offset()
	switch {
	case c == '"':
		r.r++
		r.state = stateAfter
		return 0, off, true, nil
	case c == '\\':
		e, n, err := r.escape()
		if err != nil {
			return 0, off, false, err
		}
		r.r += n
		if e >= utf8.RuneSelf {
			e = 0xff
		}
		return byte(e), off, false, nil
	case c < 0x20:
		return 0, off, false, r.syntax("control character in string")
	}
	r.r++
	return c, off, false, nil
}
