// Package reqframe watches the bytes an HTTP/1.1 server reads from a
// connection and tells, for each request, whether its head carried both
// Transfer-Encoding and Content-Length. That is the shape of a request
// smuggling attempt: a front-end that frames the request by its
// Content-Length and a back-end that frames it by Transfer-Encoding see
// two different requests. net/http accepts such a request (it removes the
// Content-Length) and keeps the connection open; RFC 9112 §6.3 says the
// server must close the connection after responding, and a server may
// reject the request. net/http leaves no trace of the removed header, so
// the only place to see it is the connection itself.
//
// A Conn follows the request framing as a stream (request line and
// headers, then a Content-Length or chunked body) without buffering more
// than one header line, and gives up (reporting nothing more) on anything
// it cannot follow, which net/http then rejects on its own. It never
// changes or delays the bytes.
package reqframe

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"sync"
)

// maxLine bounds one header line (net/http's own limit on the whole head
// is Server.MaxHeaderBytes, 1 MiB by default).
const maxLine = 1 << 20

// Listener wraps every connection ln accepts in a Conn.
func Listener(ln net.Listener) net.Listener { return listener{ln} }

type listener struct{ net.Listener }

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &Conn{Conn: c}, nil
}

// Conn is a connection whose request framing is followed as it is read.
type Conn struct {
	net.Conn
	mu sync.Mutex
	p  parser
}

// Read reads from the connection and follows the framing of what it read.
func (c *Conn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.mu.Lock()
		c.p.feed(b[:n])
		c.mu.Unlock()
	}
	return n, err
}

// ReadFrom writes what r holds to the connection through the wrapped
// connection's own ReadFrom, so that a response copied from a file still
// goes out with sendfile(2) on a TCP connection. Only reads are followed;
// writes need nothing from Conn.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// Ambiguous reports whether the head of the connection's request number
// n (0 for the first) carried both Transfer-Encoding and Content-Length.
// It reports false for a request whose head has not been read, or once
// the framing could not be followed.
func (c *Conn) Ambiguous(n int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, i := range c.p.flagged {
		if i == n {
			return true
		}
	}
	return false
}

type state int

const (
	inHead state = iota
	inBody
	inChunkSize
	inChunkData
	inChunkEnd
	inTrailer
	lost
)

// parser follows request framing over a stream of bytes.
type parser struct {
	st      state
	line    []byte // the current line, without its end
	heads   int    // request heads completed
	first   bool   // the current line is a head's request line
	te, cl  bool   // the current head has the header
	length  int64  // Content-Length of the current head
	left    int64  // body or chunk bytes still to skip
	flagged []int  // heads that had both headers (at most a few: the server closes)
}

func (p *parser) feed(b []byte) {
	for len(b) > 0 && p.st != lost {
		switch p.st {
		case inBody, inChunkData:
			b = p.skip(b)
		default:
			b = p.lineOf(b)
		}
	}
}

// skip passes over body bytes.
func (p *parser) skip(b []byte) []byte {
	k := int64(len(b))
	if k > p.left {
		k = p.left
	}
	p.left -= k
	if p.left == 0 {
		if p.st == inBody {
			p.st = inHead
		} else {
			p.st = inChunkEnd
		}
	}
	return b[k:]
}

// lineOf collects a line and handles it once complete.
func (p *parser) lineOf(b []byte) []byte {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		p.line = append(p.line, b...)
		if len(p.line) > maxLine {
			p.st = lost
		}
		return nil
	}
	p.line = append(p.line, b[:i]...)
	line := bytes.TrimSuffix(p.line, []byte("\r"))
	p.handle(line)
	p.line = p.line[:0]
	return b[i+1:]
}

func (p *parser) handle(line []byte) {
	switch p.st {
	case inHead:
		p.headLine(line)
	case inChunkSize:
		p.chunkSize(line)
	case inChunkEnd:
		if len(line) != 0 {
			p.st = lost
			return
		}
		p.st = inChunkSize
	case inTrailer:
		if len(line) == 0 {
			p.st = inHead
		}
	}
}

// headLine handles a line of a request head.
func (p *parser) headLine(line []byte) {
	if !p.first {
		if len(line) == 0 {
			return // blank lines between requests
		}
		p.first, p.te, p.cl, p.length = true, false, false, 0
		return // the request line
	}
	if len(line) > 0 {
		p.header(line)
		return
	}
	// The end of the head.
	p.first = false
	if p.te && p.cl {
		p.flagged = append(p.flagged, p.heads)
	}
	p.heads++
	switch {
	case p.te:
		p.st = inChunkSize
	case p.length > 0:
		p.st, p.left = inBody, p.length
	}
}

func (p *parser) header(line []byte) {
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		p.st = lost
		return
	}
	switch {
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		p.te = true
	case bytes.EqualFold(name, []byte("Content-Length")):
		n, err := strconv.ParseInt(string(bytes.TrimSpace(value)), 10, 64)
		if err != nil || n < 0 {
			p.st = lost
			return
		}
		p.cl, p.length = true, n
	}
}

// chunkSize handles a chunk-size line: hex digits, then extensions.
func (p *parser) chunkSize(line []byte) {
	hex, _, _ := bytes.Cut(line, []byte(";"))
	n, err := strconv.ParseInt(string(bytes.TrimSpace(hex)), 16, 64)
	if err != nil || n < 0 {
		p.st = lost
		return
	}
	if n == 0 {
		p.st = inTrailer
		return
	}
	p.st, p.left = inChunkData, n
}
