package formdata

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Part is one part of a multipart/form-data body: its headers' values
// and, through Read or WriteTo, its data. A Part is valid until the next
// call to [Reader.NextPart], which skips its unread data.
type Part struct {
	mr          *Reader
	name        string
	fileName    string
	hasFileName bool
	contentType string

	avail   int  // bytes at mr.buf[mr.r:] that are data for certain
	found   bool // the boundary line starts right after those bytes
	skip    int  // length of the line end before that line's "--"
	atStart bool // no data consumed yet
	done    bool // the boundary line after the data has been consumed
}

// newPart returns the part whose header block was h.
func newPart(mr *Reader, h header) (*Part, error) {
	if h.hasEncoding && !identityEncoding(h.encoding) {
		return nil, fmt.Errorf("%w: %q", ErrTransferEncoding, truncate(h.encoding, 64))
	}
	p := &Part{mr: mr, contentType: h.contentType, atStart: true}
	p.name, p.fileName, p.hasFileName = disposition(h.disposition)
	return p, nil
}

// identityEncoding reports whether a Content-Transfer-Encoding leaves the
// data as it is.
func identityEncoding(cte string) bool {
	for _, e := range []string{"binary", "8bit", "7bit"} {
		if strings.EqualFold(cte, e) {
			return true
		}
	}
	return false
}

// FormName returns the name parameter of the part's Content-Disposition
// if its type is form-data, or "", as mime/multipart's Part.FormName
// does (but see [Part.FileName] on RFC 2231 parameters). The name is
// returned as sent.
func (p *Part) FormName() string { return p.name }

// FileName returns the filename parameter of the part's
// Content-Disposition and whether it has one: ("", true) is a file name
// sent empty, ("", false) no file name.
//
// The name is returned as sent (no directory is stripped), but for the
// escapes browsers apply (the WHATWG HTML multipart/form-data encoding
// algorithm): "%22", "%0D" and "%0A" decode to a double quote, CR and LF.
// Browsers leave "%" itself alone, so a file literally named "a%22b" is
// indistinguishable from one named `a"b` and comes back as the latter.
// Backslash escapes in a quoted value are undone as mime.ParseMediaType
// does (as mime/multipart writes them; a backslash before any other
// character stays, for old browsers' Windows paths).
//
// RFC 2231 parameters (filename*, name*) are ignored, as RFC 7578
// section 4.2 asks; mime/multipart prefers them.
func (p *Part) FileName() (string, bool) { return p.fileName, p.hasFileName }

// ContentType returns the part's Content-Type header as sent, or "".
func (p *Part) ContentType() string { return p.contentType }

// Read reads the part's data. It returns [io.EOF] once the data and the
// boundary line after it have been read, [io.ErrUnexpectedEOF] if the
// body ends first, and the underlying reader's errors unchanged. A Read
// may return as much as the Reader's buffer holds.
func (p *Part) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if err := p.ready(); err != nil {
		return 0, err
	}
	n := copy(b, p.data())
	p.consume(n)
	return n, nil
}

// WriteTo writes the part's data to w straight from the Reader's buffer,
// with no copy, until the end of the part or an error. io.Copy uses it.
func (p *Part) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if err := p.ready(); err != nil {
			if err == io.EOF {
				return total, nil
			}
			return total, err
		}
		data := p.data()
		n, err := w.Write(data)
		if n < 0 || n > len(data) {
			return total, errInvalidWrite
		}
		p.consume(n)
		total += int64(n)
		if err != nil {
			return total, err
		}
		if n < len(data) {
			return total, io.ErrShortWrite
		}
	}
}

// errInvalidWrite: a Writer reported an impossible count.
var errInvalidWrite = errors.New("formdata: invalid write result")

// data is the part's data known to be in the window.
func (p *Part) data() []byte { return p.mr.buf[p.mr.r : p.mr.r+p.avail] }

// consume marks n bytes of data as read.
func (p *Part) consume(n int) {
	p.mr.r += n
	p.avail -= n
	if n > 0 {
		p.atStart = false
	}
}

// ready makes data available (p.avail > 0), or returns io.EOF at the end
// of the part, or the error that stops the body.
func (p *Part) ready() error {
	for p.avail == 0 {
		if p.done {
			return io.EOF
		}
		if err := p.mr.err; err != nil {
			return err
		}
		if err := p.advance(); err != nil {
			return p.mr.fail(err)
		}
	}
	return nil
}

// drain skips the rest of the part.
func (p *Part) drain() error {
	for {
		switch err := p.ready(); err {
		case nil:
			p.consume(p.avail)
		case io.EOF:
			return nil
		default:
			return err
		}
	}
}

// advance scans the window for more of the part's data or, when the
// boundary line is next, consumes it. It reads input as needed.
func (p *Part) advance() error {
	mr := p.mr
	for !p.found {
		n, found, skip := mr.scanBody(mr.window(), p.atStart)
		if n > 0 || found {
			p.avail, p.found, p.skip = n, found, skip
			if n > 0 {
				return nil
			}
			break
		}
		if err := mr.more(); err != nil {
			return err
		}
	}
	return p.end()
}

// end consumes the boundary line that ends the part.
func (p *Part) end() error {
	mr := p.mr
	for {
		kind, n, err := mr.boundaryLine(mr.window()[p.skip:], false)
		switch {
		case err != nil:
			return err
		case kind == lineMore:
			if err := mr.fill(); err != nil {
				return err
			}
			continue
		case kind == lineOther:
			return malformed("invalid boundary line", mr.window()[p.skip:])
		}
		mr.r += p.skip + n
		p.found, p.done = false, true
		mr.state = stateHeader
		if kind == lineFinal {
			mr.state = stateDone
		}
		return nil
	}
}

// truncate shortens s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
