package reqframe

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	get     = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	withCL  = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
	chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nTrailer: t\r\n\r\n"
	both    = "POST / HTTP/1.1\r\nHost: x\r\ncontent-length: 3\r\nTRANSFER-ENCODING: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
	lfOnly  = "POST / HTTP/1.1\nHost: x\nContent-Length: 2\nTransfer-Encoding: chunked\n\n2\nhi\n0\n\n"
)

func TestFraming(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		heads  int
		want   []int
	}{
		{"one get", get, 1, nil},
		{"pipelined", get + withCL + chunked + get, 4, nil},
		{"both headers", both, 1, []int{0}},
		{"both after others", get + withCL + chunked + both + get, 5, []int{3}},
		{"LF line endings", lfOnly + get, 2, []int{0}},
		{"a body that looks like a head", "POST / HTTP/1.1\r\nContent-Length: 61\r\n\r\n" + "GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: x\r\n\r\n" + get, 2, nil},
		{"blank lines between requests", get + "\r\n" + both, 2, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunk := range []int{len(tt.stream), 1, 2, 3, 7} {
				var p parser
				for b := []byte(tt.stream); len(b) > 0; {
					k := min(chunk, len(b))
					p.feed(b[:k])
					b = b[k:]
				}
				if p.st == lost || p.heads != tt.heads || !slices.Equal(p.flagged, tt.want) {
					t.Errorf("chunks of %d: lost=%v heads=%d flagged=%v; want heads=%d flagged=%v", chunk, p.st == lost, p.heads, p.flagged, tt.heads, tt.want)
				}
			}
		})
	}
}

// What cannot be followed stops the parser, which then reports nothing:
// net/http rejects such input on its own.
func TestFramingGivesUp(t *testing.T) {
	for _, s := range []string{
		"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n" + both,
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + both,
		"POST / HTTP/1.1\r\nno colon here\r\n\r\n" + both,
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiXX0\r\n\r\n" + both,
		"GET / HTTP/1.1\r\nX: " + strings.Repeat("a", maxLine+1),
	} {
		var p parser
		p.feed([]byte(s))
		if p.st != lost || len(p.flagged) != 0 {
			t.Errorf("%.60q: lost=%v flagged=%v", s, p.st == lost, p.flagged)
		}
	}
}

func FuzzFraming(f *testing.F) {
	for _, s := range []string{get, withCL, chunked, both, lfOnly, get + both} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, b []byte, chunk uint8) {
		var whole, pieces parser
		whole.feed(b)
		step := int(chunk%16) + 1
		for rest := b; len(rest) > 0; {
			k := min(step, len(rest))
			pieces.feed(rest[:k])
			rest = rest[k:]
		}
		// The split of the stream into reads never changes what is seen.
		if whole.st != pieces.st || whole.heads != pieces.heads || !slices.Equal(whole.flagged, pieces.flagged) {
			t.Fatalf("whole: %v %d %v; in pieces of %d: %v %d %v", whole.st, whole.heads, whole.flagged, step, pieces.st, pieces.heads, pieces.flagged)
		}
		if len(whole.line) > maxLine+len(b) {
			t.Fatalf("line buffer of %d bytes", len(whole.line))
		}
	})
}

// Over a real socket, net/http serves a request with both headers; the
// handler can tell which request it is and close the connection.
func TestConnWithNetHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	type seqKey struct{}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := r.Context().Value(seqKey{}).(*counted)
			n := c.n
			c.n++
			io.Copy(io.Discard, r.Body)
			if c.c.Ambiguous(n) {
				w.Header().Set("Connection", "close")
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, "request %d", n)
		}),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, seqKey{}, &counted{c: c.(*Conn)})
		},
	}
	go srv.Serve(Listener(ln))
	t.Cleanup(func() { srv.Close() })

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, get+withCL+both+get)
	br := bufio.NewReader(conn)
	var statuses []int
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	if !slices.Equal(statuses, []int{200, 200, 400}) {
		t.Errorf("statuses %v, want 200, 200, 400 and the connection closed", statuses)
	}
}

type counted struct {
	c *Conn
	n int
}

func BenchmarkFeed(b *testing.B) {
	var s strings.Builder
	for s.Len() < 1<<20 {
		s.WriteString(withCL + chunked + get)
	}
	data := []byte(s.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var p parser
		p.feed(data)
	}
}

// readFromConn records whether its ReadFrom was used.
type readFromConn struct {
	net.Conn
	used bool
	got  strings.Builder
}

func (c *readFromConn) ReadFrom(r io.Reader) (int64, error) {
	c.used = true
	return io.Copy(&c.got, r)
}

// plainConn has Write but no ReadFrom.
type plainConn struct {
	net.Conn
	got strings.Builder
}

func (c *plainConn) Write(b []byte) (int, error) { return c.got.Write(b) }

// TestReadFrom: a response copied into a Conn reaches the wrapped
// connection's ReadFrom (on a *net.TCPConn, sendfile), and still arrives
// whole over a connection that has none.
func TestReadFrom(t *testing.T) {
	rf := &readFromConn{}
	var w io.Writer = &Conn{Conn: rf}
	if _, ok := w.(io.ReaderFrom); !ok {
		t.Fatal("*Conn is not an io.ReaderFrom")
	}
	if n, err := io.Copy(w, struct{ io.Reader }{strings.NewReader("hello")}); err != nil || n != 5 || !rf.used || rf.got.String() != "hello" {
		t.Errorf("through ReadFrom: n=%d err=%v used=%v got %q", n, err, rf.used, rf.got.String())
	}
	pc := &plainConn{}
	if n, err := io.Copy(&Conn{Conn: pc}, struct{ io.Reader }{strings.NewReader("world")}); err != nil || n != 5 || pc.got.String() != "world" {
		t.Errorf("without ReadFrom: n=%d err=%v got %q", n, err, pc.got.String())
	}
}
